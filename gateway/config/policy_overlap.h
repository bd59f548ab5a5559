// Connections whose CHILD SA policies would name the same traffic. Both data planes name a
// policy by its selectors and direction (natgate sets no XFRM if_id or mark that could tell two
// apart), so only one owner — a connection, and for `remote.id: any` one peer identity — can
// hold a given subnet pair at a time; the next CHILD SA for it is refused with TS_UNACCEPTABLE
// (RFC 7296 §3.10.1). `natgated --check` reports each such pair, and why.
#pragma once

#include <string>
#include <vector>

#include "gateway/config/config.h"

namespace natgate::gateway {

// One line per conflict, naming the connections and the overlapping subnets. Connections whose
// remote side is dynamic (a pool's virtual IPs, or the peer's own address) are never in
// conflict by configuration: each peer brings its own selectors.
std::vector<std::string> policy_overlap_warnings(const Config& config);

}  // namespace natgate::gateway
