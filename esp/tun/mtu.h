// MTU done for the user: the TUN's MTU is the outer path MTU minus the worst-case ESP-in-UDP
// overhead of the transforms in use, so the kernel itself fragments or answers with ICMP for
// packets that could not cross, and TCP's MSS can be clamped to fit (mss_clamp.h).
#pragma once

#include <cstddef>
#include <vector>

#include "common/ip_address.h"
#include "esp/crypto/suite.h"

namespace natgate::esp {

// Outer IP header (20 / 40) plus the UDP header with encapsulation (RFC 3948).
inline std::size_t outer_header_bytes(IpFamily outer, bool udp_encap) {
  return (outer == IpFamily::V4 ? 20 : 40) + (udp_encap ? 8 : 0);
}

// Largest inner packet that one ESP packet of `suite` carries within path_mtu.
std::size_t inner_mtu(std::size_t path_mtu, const Suite& suite, IpFamily outer, bool udp_encap);

// The TUN MTU: the smallest inner MTU over `suites` (all implemented suites when empty), with
// UDP encapsulation and the given outer family.
std::size_t tun_mtu_for(std::size_t path_mtu, const std::vector<Suite>& suites, IpFamily outer);

}  // namespace natgate::esp
