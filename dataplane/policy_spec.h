// A security policy (RFC 4301 §4.4.1) as the control plane hands it to a data plane.
#pragma once

#include <cstdint>

#include "common/ip_address.h"
#include "common/traffic_selector.h"
#include "dataplane/sa_spec.h"

namespace natgate::dataplane {

// A policy sends matching traffic to the SAs with its reqid (out) or requires them (in/fwd).
struct PolicySpec {
  TrafficSelector src;
  TrafficSelector dst;
  Direction direction = Direction::Out;
  std::uint32_t reqid = 0;
  Mode mode = Mode::Tunnel;
  Endpoint tunnel_src;  // outer addresses for the template
  Endpoint tunnel_dst;
  std::uint32_t priority = 0;  // 0 = backend default
  // Route-based VPN (SaSpec::if_id): only traffic the host routes into that interface takes the
  // policy, so the data plane adds no route of its own for it. 0 = none.
  std::uint32_t if_id = 0;
};

}  // namespace natgate::dataplane
