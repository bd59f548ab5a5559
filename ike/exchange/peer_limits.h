// What one authenticated peer may make an IKE SA hold (daemon.limits, docs/security.md). The
// daemon owns one PeerLimits and points every IkeSa's Environment at it, so a reload changes the
// limits of running SAs too. A peer that asks for more is refused with the notify RFC 7296
// §3.10.1 names for it; the IKE SA and its other CHILD SAs stay as they are.
#pragma once

#include <cstdint>

namespace natgate::ike {

struct PeerLimits {
  // Traffic selectors in one TSi or TSr payload (each pair becomes data-plane policies):
  // more → TS_UNACCEPTABLE, before any narrowing work.
  std::uint32_t selectors_per_ts = 32;
  // CHILD SAs one IKE SA holds (rekeys replace one and do not count): more → NO_ADDITIONAL_SAS.
  std::uint32_t child_sas_per_ike_sa = 32;
  // Rekeys (IKE and CHILD) the peer may ask for in any 60 s on one IKE SA and its successors:
  // more → TEMPORARY_FAILURE (§2.25: "try again later").
  std::uint32_t rekeys_per_minute = 30;
};

}  // namespace natgate::ike
