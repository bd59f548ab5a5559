// TCP MSS clamping on SYN and SYN-ACK (RFC 879 §7, RFC 6691): lowers the MSS option so that
// segments of the connection fit the tunnel without fragmentation or PMTU discovery, in both
// directions, as strongSwan's and Linux's TCPMSS targets do.
#pragma once

#include <cstddef>
#include <cstdint>

#include "esp/inner/inner_packet.h"

namespace natgate::esp {

// If pkt is a TCP SYN with an MSS option above max_mss, writes max_mss there and returns true.
// checksum_partial: the TCP checksum field holds a pseudo-header sum to be completed later over
// the data (TUN CHECKSUM_PARTIAL), so it must not be updated; otherwise it is fixed incrementally.
bool clamp_mss(std::uint8_t* pkt, const InnerPacket& info, std::uint16_t max_mss, bool checksum_partial);

// The largest MSS for a tunnel whose inner MTU is inner_mtu: minus the IP and TCP headers
// (RFC 6691 §2: no IP or TCP options counted).
inline std::uint16_t mss_for_mtu(std::size_t inner_mtu, IpFamily family) {
  const std::size_t headers = family == IpFamily::V4 ? 40 : 60;
  return static_cast<std::uint16_t>(inner_mtu > headers ? inner_mtu - headers : 0);
}

}  // namespace natgate::esp
