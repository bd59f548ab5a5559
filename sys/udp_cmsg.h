// Control messages of UDP (and raw IP) sockets, written and read in one place:
//  - the local address of a datagram (IP_PKTINFO / IPV6_PKTINFO): read on receive to learn which
//    address a datagram was sent to, written on send to choose the source address of a socket
//    bound to the wildcard address (RFC 7296 §2.11: reply from the address the request came to);
//  - the UDP GSO segment size on send (UDP_SEGMENT) and the UDP GRO segment size on receive
//    (UDP_GRO).
// Inline: the ESP engine's recvmmsg/sendmmsg batches call these per message.
#pragma once

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "common/ip_address.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

namespace natgate::sys {

// Control bytes the local address takes (the IPv6 form is the larger one).
inline constexpr std::size_t kLocalAddressSpace = CMSG_SPACE(sizeof(in6_pktinfo));
// Control bytes of a UDP_SEGMENT (a 16-bit size) and of a UDP_GRO report (an int).
inline constexpr std::size_t kSegmentSizeSpace = CMSG_SPACE(sizeof(std::uint16_t));
inline constexpr std::size_t kGroSegmentSpace = CMSG_SPACE(sizeof(int));

// The socket option that makes the kernel report each datagram's local address.
inline const char* local_address_option(IpFamily family) {
  return family == IpFamily::V4 ? "IP_PKTINFO" : "IPV6_RECVPKTINFO";
}

// Turns that report on; false with errno set when the kernel refuses.
inline bool enable_local_address(int fd, IpFamily family) {
  const int on = 1;
  return family == IpFamily::V4 ? ::setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on) == 0
                                : ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on) == 0;
}

// Writes `source` as the datagram's source address into `c` (kLocalAddressSpace bytes of
// zeroed control room) and returns the control bytes used. IPv4 sets ipi_spec_dst, the source
// the kernel uses on send (ipi_addr is what it reports on receive).
inline std::size_t put_local_address(cmsghdr* c, const IpAddress& source) {
  if (source.is_v4()) {
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
    in_pktinfo pi{};
    std::memcpy(&pi.ipi_spec_dst, source.bytes().data(), 4);
    std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
    return CMSG_SPACE(sizeof(in_pktinfo));
  }
  c->cmsg_level = IPPROTO_IPV6;
  c->cmsg_type = IPV6_PKTINFO;
  c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
  in6_pktinfo pi{};
  std::memcpy(&pi.ipi6_addr, source.bytes().data(), 16);
  std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
  return CMSG_SPACE(sizeof(in6_pktinfo));
}

// Writes a UDP GSO segment size into `c` (kSegmentSizeSpace bytes) and returns the bytes used.
inline std::size_t put_segment_size(cmsghdr* c, std::uint16_t segment_size) {
  c->cmsg_level = IPPROTO_UDP;
  c->cmsg_type = UDP_SEGMENT;
  c->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
  std::memcpy(CMSG_DATA(c), &segment_size, sizeof segment_size);
  return CMSG_SPACE(sizeof(std::uint16_t));
}

// The address a received datagram was sent to, if the kernel reported it.
inline bool read_local_address(const msghdr& h, IpAddress& out) {
  auto& m = const_cast<msghdr&>(h);  // CMSG_NXTHDR takes non-const pointers; nothing is written
  for (cmsghdr* c = CMSG_FIRSTHDR(&m); c != nullptr; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo pi;
      std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
      out = IpAddress::from_bytes(IpFamily::V4,
                                  ByteView(reinterpret_cast<const std::uint8_t*>(&pi.ipi_addr), 4));
      return true;
    }
    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo pi;
      std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
      out = IpAddress::from_bytes(IpFamily::V6, ByteView(pi.ipi6_addr.s6_addr, 16));
      return true;
    }
  }
  return false;
}

// UDP GRO: the size of each datagram in a coalesced message (0 = the message is one datagram).
inline std::size_t read_gro_segment_size(const msghdr& h) {
  auto& m = const_cast<msghdr&>(h);
  for (cmsghdr* c = CMSG_FIRSTHDR(&m); c != nullptr; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO) {
      int seg = 0;
      std::memcpy(&seg, CMSG_DATA(c), sizeof seg);
      return seg > 0 ? static_cast<std::size_t>(seg) : 0;
    }
  }
  return 0;
}

}  // namespace natgate::sys
