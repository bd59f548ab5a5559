// Builds XFRM policy requests (NEWPOLICY/UPDPOLICY/DELPOLICY) with libnl-xfrm's xfrmnl_sp:
// selector, direction, priority, XFRM_INF lifetimes and one ESP template (reqid, mode, and in
// tunnel mode the outer addresses).
#pragma once

#include <cstdint>

#include "common/expected.h"
#include "dataplane/sa_backend.h"
#include "xfrm/netlink_message.h"

namespace natgate::xfrm {

// Lower values win in XFRM. The default puts more specific selectors first (longer prefixes,
// then a protocol, then ports), the ordering RFC 4301 §4.4.1 asks of an SPD, and stays well
// above 0 so an operator's own policies can outrank natgate's.
std::uint32_t default_policy_priority(const dataplane::PolicySpec& policy);

// XFRM_MSG_NEWPOLICY, or XFRM_MSG_UPDPOLICY when `replace`. Priority 0 in the spec means
// default_policy_priority().
Expected<NetlinkMessage> build_policy_add(const dataplane::PolicySpec& policy, bool replace);
// XFRM_MSG_DELPOLICY by selector and direction.
Expected<NetlinkMessage> build_policy_delete(const dataplane::PolicySpec& policy);

}  // namespace natgate::xfrm
