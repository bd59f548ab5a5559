#include "esp/inner/tcp_segmenter.h"

#include <cstring>

#include "esp/inner/checksum.h"
#include "esp/wire/fields.h"

namespace natgate::esp {

namespace {
constexpr std::uint8_t kFin = 0x01;
constexpr std::uint8_t kPsh = 0x08;
constexpr std::uint8_t kCwr = 0x80;
}  // namespace

bool TcpSegmenter::init(const std::uint8_t* pkt, const InnerPacket& info, const VirtioNetHdr& h) {
  if (info.protocol != kProtoTcp || info.is_fragment || h.gso_size == 0) return false;
  const std::size_t tcp_off = info.l4_offset;
  if (tcp_off + 20 > info.total_len) return false;
  const std::size_t tcp_len = static_cast<std::size_t>(pkt[tcp_off + 12] >> 4) * 4;
  if (tcp_len < 20 || tcp_off + tcp_len > info.total_len) return false;
  pkt_ = pkt;
  v4_ = info.family == IpFamily::V4;
  ip_len_ = tcp_off;
  hdr_len_ = tcp_off + tcp_len;
  payload_len_ = info.total_len - hdr_len_;
  mss_ = h.gso_size;
  count_ = payload_len_ == 0 ? 1 : (payload_len_ + mss_ - 1) / mss_;
  if (payload_len_ == 0) mss_ = 0;
  return true;
}

std::size_t TcpSegmenter::write(std::size_t i, std::uint8_t* out) const {
  const std::size_t payload = payload_of(i);
  const std::size_t len = hdr_len_ + payload;
  std::memcpy(out, pkt_, hdr_len_);
  std::memcpy(out + hdr_len_, pkt_ + hdr_len_ + i * mss_, payload);
  if (v4_) {
    wire::put_be16(out + 2, static_cast<std::uint16_t>(len));
    // Consecutive IDs, as the kernel's own GSO assigns them.
    wire::put_be16(out + 4, static_cast<std::uint16_t>(wire::be16(pkt_ + 4) + i));
    out[10] = out[11] = 0;
    Checksum ip;
    ip.add(out, ip_len_);
    ip.store(out + 10);
  } else {
    wire::put_be16(out + 4, static_cast<std::uint16_t>(len - 40));
  }
  std::uint8_t* tcp = out + ip_len_;
  wire::put_be32(tcp + 4, static_cast<std::uint32_t>(wire::be32(pkt_ + ip_len_ + 4) + i * mss_));
  // FIN and PSH belong to the last segment only, CWR to the first only (as tcp_gso_segment does).
  if (i + 1 < count_) tcp[13] &= static_cast<std::uint8_t>(~(kFin | kPsh));
  if (i > 0) tcp[13] &= static_cast<std::uint8_t>(~kCwr);
  tcp[16] = tcp[17] = 0;
  Checksum c;
  const std::size_t addr_len = v4_ ? 4 : 16;
  c.add_pseudo_header(out + (v4_ ? 12 : 8), out + (v4_ ? 16 : 24), addr_len, kProtoTcp,
                      static_cast<std::uint32_t>(len - ip_len_));
  c.add(tcp, len - ip_len_);
  c.store(tcp + 16);
  return len;
}

}  // namespace natgate::esp
