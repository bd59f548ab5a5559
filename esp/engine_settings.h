// What the packet paths need to know about the engine's configuration, fixed at start.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

#include "common/ip_address.h"

namespace natgate::esp {

struct EngineSettings {
  std::size_t tun_mtu = 1400;
  bool mss_clamp = true;
  bool coalesce = true;  // TUN offload on: GSO writes
  // Source of the ICMP too-big errors written back to senders; unset = the offending packet's
  // destination (the far host the sender was trying to reach). That default passes even strict
  // reverse-path filtering (the far side is routed through the TUN); an address of the gateway
  // itself does not: Linux drops packets arriving with a local source unless accept_local=1.
  std::optional<IpAddress> icmp_source_v4;
  std::optional<IpAddress> icmp_source_v6;
  unsigned icmp_per_second = 100;
  // An SA's cipher contexts are released after this long without an ESP packet (between once and
  // twice this), and built again by the next one (esp/sa/idle_contexts.h).
  std::chrono::seconds context_idle{30};  // RFC 1812 §4.3.2.8 / RFC 4443 §2.4(f): rate-limit errors
};

}  // namespace natgate::esp
