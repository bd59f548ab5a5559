#include "esp/inner/tcp_coalescer.h"

#include <cstring>

#include "esp/inner/checksum.h"
#include "esp/wire/fields.h"

namespace natgate::esp {

namespace {

constexpr std::uint8_t kAck = 0x10;
constexpr std::uint8_t kPsh = 0x08;
// Headers and the bound on what one super-packet may carry: the IPv4 total length (and the IPv6
// payload length) is 16 bits, and a TUN write takes at most 64 KB.
constexpr std::size_t kMaxSuperPacket = 65535;
constexpr std::uint16_t kMaxSegments = 64;
// How far back add() looks for the flow's open group; packets of a flow further back than this
// simply start a new group (order is still kept, only fewer segments are joined).
constexpr std::size_t kFlowSearchDepth = 16;

// A segment may start or join a super-packet only with plain ACK (or ACK|PSH) and no IPv4
// options/fragmentation, DF set (so IDs carry no meaning, RFC 6864), or IPv6 without extensions.
bool coalescable(const std::uint8_t* pkt, const InnerPacket& info, std::size_t& tcp_len) {
  if (info.protocol != kProtoTcp || info.is_fragment) return false;
  if (info.family == IpFamily::V4) {
    if (info.l4_offset != 20 || !info.dont_fragment) return false;
  } else if (info.l4_offset != 40) {
    return false;
  }
  if (info.l4_offset + 20 > info.total_len) return false;
  const std::uint8_t* tcp = pkt + info.l4_offset;
  tcp_len = static_cast<std::size_t>(tcp[12] >> 4) * 4;
  if (tcp_len < 20 || info.l4_offset + tcp_len >= info.total_len) return false;  // needs payload
  const std::uint8_t flags = tcp[13];
  return (flags & ~kPsh) == kAck;
}

}  // namespace

TcpCoalescer::TcpCoalescer(std::size_t max_packets, bool enabled)
    : enabled_(enabled), groups_(max_packets), pieces_(max_packets), iov_(kMaxSegments + 2) {}

bool TcpCoalescer::same_flow(const Group& g, const std::uint8_t* pkt, const InnerPacket& info) const {
  if (!g.tcp_flow || g.v4 != (info.family == IpFamily::V4) || info.protocol != kProtoTcp) return false;
  const std::size_t addr = g.v4 ? 8 : 32;  // source and destination are adjacent in both headers
  const std::size_t at = g.v4 ? 12 : 8;
  if (std::memcmp(g.head + at, pkt + at, addr) != 0) return false;
  if (info.l4_offset + 4 > info.total_len) return false;
  return std::memcmp(g.head + g.ip_len, pkt + info.l4_offset, 4) == 0;  // ports
}

bool TcpCoalescer::can_extend(const Group& g, const std::uint8_t* pkt, const InnerPacket& info,
                              std::size_t payload) const {
  if (!g.open || g.segments >= kMaxSegments || payload > g.gso_size) return false;
  if (g.total_len + payload > kMaxSuperPacket) return false;
  if (info.l4_offset != g.ip_len) return false;
  const std::uint8_t* h = g.head;
  if (g.v4) {
    // Version/IHL, TOS (incl. ECN), DF, TTL, protocol must match.
    if (h[0] != pkt[0] || h[1] != pkt[1] || h[6] != pkt[6] || h[8] != pkt[8]) return false;
  } else {
    // Version, traffic class, flow label, next header, hop limit.
    if (std::memcmp(h, pkt, 4) != 0 || h[6] != pkt[6] || h[7] != pkt[7]) return false;
  }
  const std::uint8_t* ht = h + g.ip_len;
  const std::uint8_t* pt = pkt + info.l4_offset;
  if (wire::be32(pt + 4) != g.next_seq) return false;
  if (std::memcmp(ht + 8, pt + 8, 4) != 0) return false;  // ACK number
  if (static_cast<std::size_t>(pt[12] >> 4) * 4 != g.tcp_len) return false;
  // Same options (timestamps included), as GRO requires.
  return std::memcmp(ht + 20, pt + 20, g.tcp_len - 20) == 0;
}

void TcpCoalescer::add(std::uint8_t* pkt, const InnerPacket& info) {
  if (full()) return;  // caller broke the contract; drop rather than overrun
  ++packets_in_;
  std::size_t tcp_len = 0;
  const bool candidate = enabled_ && coalescable(pkt, info, tcp_len);
  if (candidate) {
    const std::size_t payload = info.total_len - info.l4_offset - tcp_len;
    const std::size_t stop = used_ > kFlowSearchDepth ? used_ - kFlowSearchDepth : 0;
    for (std::size_t i = used_; i-- > stop;) {
      Group& g = groups_[i];
      if (!same_flow(g, pkt, info)) continue;
      // The newest group of this flow decides: join it, or start a new one after it.
      if (can_extend(g, pkt, info, payload)) {
        Piece& p = pieces_[pieces_used_];
        p = Piece{pkt + info.l4_offset + tcp_len, payload, -1};
        const int idx = static_cast<int>(pieces_used_++);
        if (g.last_piece >= 0)
          pieces_[static_cast<std::size_t>(g.last_piece)].next = idx;
        else
          g.first_piece = idx;
        g.last_piece = idx;
        ++g.segments;
        g.total_len += payload;
        g.next_seq += static_cast<std::uint32_t>(payload);
        g.last_psh = (pkt[info.l4_offset + 13] & kPsh) != 0;
        if (payload < g.gso_size || g.last_psh) g.open = false;
        return;
      }
      g.open = false;
      break;
    }
  }
  Group& g = groups_[used_++];
  g = Group{};
  g.head = pkt;
  g.head_len = info.total_len;
  g.total_len = info.total_len;
  g.v4 = info.family == IpFamily::V4;
  g.ip_len = static_cast<std::uint16_t>(info.l4_offset);
  if (info.protocol == kProtoTcp && info.l4_offset + 20 <= info.total_len) {
    g.tcp_flow = true;  // even non-candidates: later segments of the flow must not jump ahead
  }
  if (candidate) {
    const std::uint8_t* tcp = pkt + info.l4_offset;
    const std::size_t payload = info.total_len - info.l4_offset - tcp_len;
    g.tcp_len = static_cast<std::uint16_t>(tcp_len);
    g.gso_size = static_cast<std::uint16_t>(payload);
    g.next_seq = wire::be32(tcp + 4) + static_cast<std::uint32_t>(payload);
    g.last_psh = (tcp[13] & kPsh) != 0;
    g.open = !g.last_psh;
  }
}

void TcpCoalescer::write_group(Group& g, TunSink& sink) {
  VirtioNetHdr vh;
  int n = 0;
  iov_[n++] = iovec{&vh, sizeof vh};
  iov_[n++] = iovec{g.head, g.head_len};
  if (g.segments > 1) {
    std::uint8_t* h = g.head;
    if (g.v4) {
      wire::put_be16(h + 2, static_cast<std::uint16_t>(g.total_len));
      h[10] = h[11] = 0;
      Checksum ip;
      ip.add(h, g.ip_len);
      ip.store(h + 10);
    } else {
      wire::put_be16(h + 4, static_cast<std::uint16_t>(g.total_len - 40));
    }
    std::uint8_t* tcp = h + g.ip_len;
    if (g.last_psh) tcp[13] |= kPsh;
    // CHECKSUM_PARTIAL: the field holds the pseudo-header sum over the whole segment length; the
    // kernel's GSO finishes each segment's checksum when it cuts the super-packet.
    Checksum pseudo;
    const std::size_t addr = g.v4 ? 4 : 16;
    pseudo.add_pseudo_header(h + (g.v4 ? 12 : 8), h + (g.v4 ? 16 : 24), addr, kProtoTcp,
                             static_cast<std::uint32_t>(g.total_len - g.ip_len));
    pseudo.store_partial(tcp + 16);
    vh.flags = kVnetFlagNeedsCsum;
    vh.gso_type = g.v4 ? kVnetGsoTcpV4 : kVnetGsoTcpV6;
    vh.hdr_len = static_cast<std::uint16_t>(g.ip_len + g.tcp_len);
    vh.gso_size = g.gso_size;
    vh.csum_start = g.ip_len;
    vh.csum_offset = 16;
    for (int p = g.first_piece; p >= 0; p = pieces_[static_cast<std::size_t>(p)].next) {
      const Piece& piece = pieces_[static_cast<std::size_t>(p)];
      iov_[n++] = iovec{const_cast<std::uint8_t*>(piece.data), piece.len};
    }
  }
  sink.write_packet(iov_.data(), n);
  ++writes_out_;
}

void TcpCoalescer::flush(TunSink& sink) {
  for (std::size_t i = 0; i < used_; ++i) write_group(groups_[i], sink);
  used_ = 0;
  pieces_used_ = 0;
}

}  // namespace natgate::esp
