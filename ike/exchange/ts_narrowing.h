// Traffic selector negotiation (RFC 7296 §2.9). The responder narrows what the initiator
// proposed to what its policy allows; the initiator checks that the answer stays inside what it
// asked for.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "common/ip_address.h"
#include "common/traffic_selector.h"
#include "ike/exchange/identity.h"

namespace natgate::ike {

// The responder's narrowing of one side (TSi or TSr): every non-empty intersection of an allowed
// selector with a proposed one, in the order of `allowed` (our policy's order), without
// duplicates. Empty means nothing is acceptable: TS_UNACCEPTABLE.
std::vector<TrafficSelector> narrow_selectors(const std::vector<TrafficSelector>& proposed,
                                              const std::vector<TrafficSelector>& allowed);

// The initiator's check of the responder's answer: each returned selector must lie within one
// that was proposed (§2.9: the responder may only narrow). An empty answer is not acceptable.
bool selectors_within(const std::vector<TrafficSelector>& returned,
                      const std::vector<TrafficSelector>& proposed);

// A selector covering exactly one address (any protocol and ports): what transport mode needs.
bool is_single_host(const TrafficSelector& ts, const IpAddress& address);

// A configured selector list, with the empty list standing for the SA's own address
// (strongSwan's "dynamic" selector).
std::vector<TrafficSelector> resolve_selectors(const std::vector<TrafficSelector>& configured,
                                               const IpAddress& own_address);

// Responder: whether the data plane may carry a CHILD SA of the connection (peer config) named
// `connection` with these selectors for `peer` (no other connection or identity holds that
// traffic; the connection's other children hold theirs under the same owner). An error is the reason; the
// request is then answered with TS_UNACCEPTABLE.
using SelectorCheck = std::function<Status(const std::string& connection, const Identity& peer,
                                           const std::vector<TrafficSelector>& local_ts,
                                           const std::vector<TrafficSelector>& remote_ts)>;

}  // namespace natgate::ike
