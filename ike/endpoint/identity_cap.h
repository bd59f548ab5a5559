// daemon.limits.ike_sas_per_identity: how many IKE SAs one authenticated identity may hold, and
// which give way when a new one comes up. The choice follows strongSwan's uniqueids=yes (its
// default): the newcomer always stays and the identity's oldest SAs go, so a client that reconnects
// without INITIAL_CONTACT is never locked out by its own stale SAs (docs/security.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "ike/endpoint/sa_table.h"

namespace natgate::ike {

struct IdentitySa {
  SaId id = 0;
  TimePoint established{};
  bool newest = false;  // the one that just came up: never chosen
};

// The SAs to delete so that at most `cap` remain, oldest first (by establishment, then by id).
std::vector<SaId> beyond_identity_cap(std::vector<IdentitySa> held, std::uint32_t cap);

}  // namespace natgate::ike
