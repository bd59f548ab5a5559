// Linux capabilities of the calling thread (capget/capset(2), no libcap): natgated keeps only what
// it needs once its sockets, TUN and netlink sockets are open, and threads that never need any
// (the ESP engine's workers) give up all of theirs.
#pragma once

#include <cstdint>
#include <string>

#include "common/expected.h"

namespace natgate {

using CapabilityMask = std::uint64_t;  // bit N = capability N (linux/capability.h)
constexpr CapabilityMask capability_bit(int cap) { return CapabilityMask{1} << cap; }

struct ThreadCapabilities {
  CapabilityMask effective = 0;
  CapabilityMask permitted = 0;
  CapabilityMask inheritable = 0;
};
Expected<ThreadCapabilities> current_capabilities();

// Sets effective = permitted = keep ∩ permitted and inheritable = 0 for the calling thread.
// Capabilities can only be given up here, never gained.
Status limit_thread_capabilities(CapabilityMask keep);

// No capabilities and no_new_privs for the calling thread; for worker threads that only move
// packets on descriptors opened before them. Failures are ignored (nothing to give up then).
void drop_all_thread_capabilities() noexcept;

// "cap_net_admin,cap_net_raw", "none".
std::string capability_names(CapabilityMask mask);

}  // namespace natgate
