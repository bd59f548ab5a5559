// What a data plane reports to the control plane, whichever backend it is: SA lifetimes that
// ran out and traffic that found a policy without an SA.
#pragma once

#include <cstdint>

#include "common/ip_address.h"
#include "common/traffic_selector.h"

namespace natgate::dataplane {

struct ExpireEvent {
  std::uint32_t spi = 0;
  IpAddress dst;
  std::uint32_t reqid = 0;
  bool hard = false;  // soft: rekey now; hard: the SA is gone
};

// A packet matched an outbound policy that has no SA yet (`start: on-traffic`).
struct AcquireEvent {
  std::uint32_t reqid = 0;
  TrafficSelector src;
  TrafficSelector dst;
};

}  // namespace natgate::dataplane
