// Adds and removes an address on a network interface over rtnetlink (RTM_NEWADDR/RTM_DELADDR),
// in the current network namespace: how a road warrior puts its virtual IP on the TUN.
#pragma once

#include <string>

#include "common/expected.h"
#include "common/ip_address.h"

namespace natgate::gateway::core {

// A host address (/32 or /128). Adding one that is there already is not an error.
Status add_interface_address(const std::string& interface, const IpAddress& address);
Status remove_interface_address(const std::string& interface, const IpAddress& address);

}  // namespace natgate::gateway::core
