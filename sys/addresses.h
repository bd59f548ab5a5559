// Adds and removes an address on a network interface over rtnetlink (libnl-route), in the
// current network namespace: how a road warrior puts its virtual IP on the TUN.
#pragma once

#include <string>

#include "common/expected.h"
#include "common/ip_address.h"

namespace natgate::sys {

// A host address (/32 or /128). Adding one that is there already, or removing one that is gone,
// is not an error. Errors read "adding <address> to <interface>: <reason>" (or "removing ... from").
Status add_interface_address(const std::string& interface, const IpAddress& address);
Status remove_interface_address(const std::string& interface, const IpAddress& address);

}  // namespace natgate::sys
