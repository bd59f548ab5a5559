// Which local address a datagram to a peer leaves from. An initiator must know it before
// IKE_SA_INIT: the NAT-D source hash (RFC 7296 §2.23) covers it, and a hash over 0.0.0.0
// would make every path look NATed.
#pragma once

#include <vector>

#include "common/expected.h"
#include "common/ip_address.h"

namespace natgate::gateway::core {

// The kernel's routing decision for `remote` (a connected UDP socket's local address; nothing
// is sent). With listen addresses configured, a specific one of the family wins over routing.
Expected<IpAddress> source_address_for(const IpAddress& remote, const std::vector<IpAddress>& listen);

}  // namespace natgate::gateway::core
