#include "esp/inner/mss_clamp.h"

#include "esp/inner/checksum.h"
#include "esp/wire/fields.h"

namespace natgate::esp {

bool clamp_mss(std::uint8_t* pkt, const InnerPacket& info, std::uint16_t max_mss, bool checksum_partial) {
  if (info.protocol != kProtoTcp || info.later_fragment || info.l4_offset + 20 > info.total_len) return false;
  std::uint8_t* tcp = pkt + info.l4_offset;
  if ((tcp[13] & 0x02) == 0) return false;  // SYN (with or without ACK)
  const std::size_t tcp_len = static_cast<std::size_t>(tcp[12] >> 4) * 4;
  if (tcp_len < 20 || info.l4_offset + tcp_len > info.total_len) return false;
  // Walk the options (RFC 9293 §3.1); every length is checked against the header.
  std::size_t i = 20;
  while (i < tcp_len) {
    const std::uint8_t kind = tcp[i];
    if (kind == 0) break;  // end of option list
    if (kind == 1) {       // no-operation
      ++i;
      continue;
    }
    if (i + 1 >= tcp_len) break;
    const std::size_t olen = tcp[i + 1];
    if (olen < 2 || i + olen > tcp_len) break;
    if (kind == 2 && olen == 4) {
      const std::uint16_t mss = wire::be16(tcp + i + 2);
      if (mss <= max_mss) return false;
      std::uint8_t old_word[2] = {tcp[i + 2], tcp[i + 3]};
      wire::put_be16(tcp + i + 2, max_mss);
      // The MSS value sits at an even offset of the TCP header, so it is one checksum word.
      if (!checksum_partial) update_checksum16(tcp + 16, old_word, tcp + i + 2);
      return true;
    }
    i += olen;
  }
  return false;
}

}  // namespace natgate::esp
