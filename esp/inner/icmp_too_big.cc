#include "esp/inner/icmp_too_big.h"

#include <algorithm>
#include <cstring>

#include "esp/inner/checksum.h"
#include "esp/wire/fields.h"

namespace natgate::esp {

bool may_send_icmp_error_about(const std::uint8_t* pkt, const InnerPacket& info) {
  if (info.later_fragment) return false;
  const std::uint8_t* s = info.src;
  if (info.family == IpFamily::V4) {
    if (s[0] == 0 || s[0] >= 224 || (s[0] == 255 && s[1] == 255 && s[2] == 255 && s[3] == 255)) return false;
    if (info.protocol == kProtoIcmp && info.l4_offset < info.total_len) {
      const std::uint8_t type = pkt[info.l4_offset];
      // Only queries (echo, timestamp, ...) may provoke an error; errors never do.
      if (type == 3 || type == 4 || type == 5 || type == 11 || type == 12) return false;
    }
    return true;
  }
  static const std::uint8_t kZero[16] = {};
  if (s[0] == 0xFF || std::memcmp(s, kZero, 16) == 0) return false;
  if (info.protocol == kProtoIcmpv6 && info.l4_offset < info.total_len && pkt[info.l4_offset] < 128)
    return false;
  return true;
}

std::size_t build_frag_needed_v4(const std::uint8_t* pkt, const InnerPacket& info, std::uint16_t next_hop_mtu,
                                 const std::uint8_t source[4], std::uint8_t* out, std::size_t capacity) {
  const std::size_t quote = std::min<std::size_t>(info.total_len, 576 - 20 - 8);
  const std::size_t len = 20 + 8 + quote;
  if (capacity < len) return 0;
  std::memset(out, 0, 28);
  out[0] = 0x45;
  wire::put_be16(out + 2, static_cast<std::uint16_t>(len));
  out[8] = 64;  // TTL
  out[9] = kProtoIcmp;
  std::memcpy(out + 12, source, 4);
  std::memcpy(out + 16, info.src, 4);
  Checksum ip;
  ip.add(out, 20);
  ip.store(out + 10);
  std::uint8_t* icmp = out + 20;
  icmp[0] = 3;  // destination unreachable
  icmp[1] = 4;  // fragmentation needed and DF set
  wire::put_be16(icmp + 6, next_hop_mtu);
  std::memcpy(icmp + 8, pkt, quote);
  Checksum c;
  c.add(icmp, 8 + quote);
  c.store(icmp + 2);
  return len;
}

std::size_t build_packet_too_big_v6(const std::uint8_t* pkt, const InnerPacket& info, std::uint32_t mtu,
                                    const std::uint8_t source[16], std::uint8_t* out, std::size_t capacity) {
  const std::size_t quote = std::min<std::size_t>(info.total_len, 1280 - 40 - 8);
  const std::size_t len = 40 + 8 + quote;
  if (capacity < len) return 0;
  std::memset(out, 0, 48);
  out[0] = 0x60;
  wire::put_be16(out + 4, static_cast<std::uint16_t>(8 + quote));
  out[6] = kProtoIcmpv6;
  out[7] = 64;  // hop limit
  std::memcpy(out + 8, source, 16);
  std::memcpy(out + 24, info.src, 16);
  std::uint8_t* icmp = out + 40;
  icmp[0] = 2;  // Packet Too Big
  icmp[1] = 0;
  wire::put_be32(icmp + 4, mtu);
  std::memcpy(icmp + 8, pkt, quote);
  Checksum c;
  c.add_pseudo_header(out + 8, out + 24, 16, kProtoIcmpv6, static_cast<std::uint32_t>(8 + quote));
  c.add(icmp, 8 + quote);
  c.store(icmp + 2);
  return len;
}

}  // namespace natgate::esp
