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

// RFC 9329 TCP encapsulation: what stands before an ESP packet in an outer packet when the SA's
// peer is on a stream. TCP re-segments the stream at its own MSS, so an ESP packet never has to
// fit one outer packet (nothing is lost when it does not), but an ESP frame that exceeds one
// full-size segment is sent as a full segment plus a runt whenever a write holds a single frame
// (a flow below the batching rate: TCP_NODELAY sends what the write has). Sizing the inner
// packets so that one frame fills at most one segment avoids that:
//   outer IPv4 header                          20  (IPv6: 40)
//   TCP header                                 20
//   TCP timestamps option (Linux's default)    12  (RFC 7323 §3: 10 bytes, padded to 12)
//   the frame's Length field (RFC 9329 §3)      2
//   = 54 bytes (IPv6: 74), against 28 (48) for ESP in UDP (20 + the 8-byte UDP header, RFC 3948).
// For a 1500-byte path and AES-GCM-16 (8 ESP header + 8 IV + 16 ICV, payload + 2 padded to 4):
// UDP: 1500 - 28 = 1472 -> (1472 - 32) / 4 * 4 - 2 = 1438 inner bytes, MSS 1398;
// TCP: 1500 - 54 = 1446 -> (1446 - 32) / 4 * 4 - 2 = 1410 inner bytes, MSS 1370.
inline std::size_t stream_header_bytes(IpFamily outer) {
  return (outer == IpFamily::V4 ? 20 : 40) + 20 + 12 + 2;
}

// Largest inner packet whose ESP frame fills at most one full-size TCP segment on path_mtu.
std::size_t stream_inner_mtu(std::size_t path_mtu, const Suite& suite, IpFamily outer);

// The TUN MTU: the smallest inner MTU over `suites` (all implemented suites when empty), with
// UDP encapsulation and the given outer family.
std::size_t tun_mtu_for(std::size_t path_mtu, const std::vector<Suite>& suites, IpFamily outer);

}  // namespace natgate::esp
