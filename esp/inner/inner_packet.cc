#include "esp/inner/inner_packet.h"

#include <cstring>

#include "esp/wire/fields.h"

namespace natgate::esp {

namespace {

void read_ports(InnerPacket& r, const std::uint8_t* p, std::size_t len) {
  if (r.later_fragment) return;
  const std::uint8_t* l4 = p + r.l4_offset;
  const std::size_t avail = len - r.l4_offset;
  switch (r.protocol) {
    case kProtoTcp:
    case kProtoUdp:
    case 132:  // SCTP
    case 136:  // UDP-Lite
      if (avail < 4) return;
      r.src_port = wire::be16(l4);
      r.dst_port = wire::be16(l4 + 2);
      r.has_ports = true;
      return;
    case kProtoIcmp:
    case kProtoIcmpv6:
      if (avail < 2) return;
      r.src_port = r.dst_port = static_cast<std::uint16_t>(l4[0] << 8 | l4[1]);
      r.has_ports = true;
      return;
    default:
      return;
  }
}

bool address_in(const TrafficSelector& ts, const std::uint8_t* a, std::size_t n) {
  return std::memcmp(ts.start.bytes().data(), a, n) <= 0 && std::memcmp(a, ts.end.bytes().data(), n) <= 0;
}

}  // namespace

IpAddress InnerPacket::source() const { return IpAddress::from_bytes(family, ByteView(src, addr_len())); }
IpAddress InnerPacket::destination() const {
  return IpAddress::from_bytes(family, ByteView(dst, addr_len()));
}

std::optional<InnerPacket> parse_inner(const std::uint8_t* p, std::size_t len) {
  if (len < 1) return std::nullopt;
  InnerPacket r;
  const unsigned version = p[0] >> 4;
  if (version == 4) {
    if (len < 20) return std::nullopt;
    const std::size_t ihl = std::size_t{p[0] & 0x0Fu} * 4;
    const std::size_t total = wire::be16(p + 2);
    if (ihl < 20 || total < ihl || total > len) return std::nullopt;
    r.family = IpFamily::V4;
    r.total_len = total;
    r.l4_offset = ihl;
    r.protocol = p[9];
    r.src = p + 12;
    r.dst = p + 16;
    const std::uint16_t frag = wire::be16(p + 6);
    r.dont_fragment = (frag & 0x4000) != 0;
    r.is_fragment = (frag & 0x3FFF) != 0;
    r.later_fragment = (frag & 0x1FFF) != 0;
    read_ports(r, p, total);
    return r;
  }
  if (version == 6) {
    if (len < 40) return std::nullopt;
    const std::size_t total = 40 + std::size_t{wire::be16(p + 4)};
    if (total > len) return std::nullopt;
    r.family = IpFamily::V6;
    r.total_len = total;
    r.src = p + 8;
    r.dst = p + 24;
    std::uint8_t next = p[6];
    std::size_t off = 40;
    // Walk the extension headers that can precede the transport header (RFC 8200 §4), bounded.
    for (int hops = 0; hops < 8; ++hops) {
      if (next == 0 || next == 43 || next == 60) {  // hop-by-hop, routing, destination options
        if (off + 8 > total) return std::nullopt;
        const std::size_t hlen = (std::size_t{p[off + 1]} + 1) * 8;
        if (off + hlen > total) return std::nullopt;
        next = p[off];
        off += hlen;
      } else if (next == 44) {  // fragment header
        if (off + 8 > total) return std::nullopt;
        const std::uint16_t fo = wire::be16(p + off + 2);
        r.is_fragment = true;
        r.later_fragment = (fo & 0xFFF8) != 0;
        next = p[off];
        off += 8;
      } else {
        break;
      }
    }
    r.l4_offset = off;
    r.protocol = next;
    read_ports(r, p, total);
    return r;
  }
  return std::nullopt;
}

bool selector_admits(const TrafficSelector& ts, const InnerPacket& pkt, bool use_src) {
  if (ts.family() != pkt.family) return false;
  if (!address_in(ts, use_src ? pkt.src : pkt.dst, pkt.addr_len())) return false;
  if (ts.ip_protocol != 0 && ts.ip_protocol != pkt.protocol) return false;
  if (ts.start_port == 0 && ts.end_port == 65535) return true;
  // A port-restricted selector cannot admit a packet whose ports are unknown (RFC 4301 §7.2:
  // non-initial fragments of such traffic need their own OPAQUE handling).
  if (!pkt.has_ports) return false;
  return ts.contains_port(use_src ? pkt.src_port : pkt.dst_port);
}

bool selectors_admit(std::span<const TrafficSelector> local_ts, std::span<const TrafficSelector> remote_ts,
                     const InnerPacket& pkt) {
  bool src_ok = false;
  for (const auto& ts : remote_ts)
    if (selector_admits(ts, pkt, true)) {
      src_ok = true;
      break;
    }
  if (!src_ok) return false;
  for (const auto& ts : local_ts)
    if (selector_admits(ts, pkt, false)) return true;
  return false;
}

}  // namespace natgate::esp
