// The header a TUN device with IFF_VNET_HDR puts before every packet (struct virtio_net_hdr,
// 10 bytes). Restated because <linux/virtio_net.h> does not compile as C++ (a field is named
// `class`). TUN uses native byte order on little-endian hosts unless TUNSETVNETBE is set.
#pragma once

#include <cstdint>

namespace natgate::esp {

struct VirtioNetHdr {
  std::uint8_t flags = 0;
  std::uint8_t gso_type = 0;
  std::uint16_t hdr_len = 0;      // Ethernet + IP + TCP headers, as the kernel counts them
  std::uint16_t gso_size = 0;     // MSS: payload bytes per segment
  std::uint16_t csum_start = 0;   // where checksumming starts (the transport header)
  std::uint16_t csum_offset = 0;  // where the checksum goes, from csum_start
};
static_assert(sizeof(VirtioNetHdr) == 10);

inline constexpr std::uint8_t kVnetFlagNeedsCsum = 1;
inline constexpr std::uint8_t kVnetGsoNone = 0;
inline constexpr std::uint8_t kVnetGsoTcpV4 = 1;
inline constexpr std::uint8_t kVnetGsoUdp = 3;
inline constexpr std::uint8_t kVnetGsoTcpV6 = 4;
inline constexpr std::uint8_t kVnetGsoUdpL4 = 5;
inline constexpr std::uint8_t kVnetGsoEcn = 0x80;

}  // namespace natgate::esp
