#include "natt/udp_encap.h"

#include <cstring>

namespace natgate::natt {

Classified classify(ByteView d) {
  if (d.size() == 1 && d[0] == kKeepaliveByte) return {DatagramKind::Keepalive, {}, 0};
  if (d.size() < kNonEspMarkerBytes) return {DatagramKind::TooShort, {}, 0};
  const std::uint32_t first = (std::uint32_t{d[0]} << 24) | (std::uint32_t{d[1]} << 16) |
                              (std::uint32_t{d[2]} << 8) | std::uint32_t{d[3]};
  if (first == 0) {
    // RFC 3948 §2.2: the marker is where an ESP SPI would be, and SPI 0 is reserved.
    if (d.size() < kNonEspMarkerBytes + kMinIkeBytes) return {DatagramKind::TooShort, {}, 0};
    return {DatagramKind::Ike, d.subspan(kNonEspMarkerBytes), 0};
  }
  if (d.size() < kMinEspBytes) return {DatagramKind::TooShort, {}, 0};
  return {DatagramKind::Esp, d, first};
}

std::size_t write_ike_datagram(ByteView ike_message, MutableByteView out) {
  if (out.size() < kNonEspMarkerBytes + ike_message.size()) return 0;
  std::memset(out.data(), 0, kNonEspMarkerBytes);
  if (!ike_message.empty())
    std::memcpy(out.data() + kNonEspMarkerBytes, ike_message.data(), ike_message.size());
  return kNonEspMarkerBytes + ike_message.size();
}

Bytes ike_datagram(ByteView ike_message) {
  Bytes out(kNonEspMarkerBytes + ike_message.size());
  write_ike_datagram(ike_message, out);
  return out;
}

void EncapCounters::count(DatagramKind kind) {
  switch (kind) {
    case DatagramKind::Ike:
      ++ike;
      break;
    case DatagramKind::Esp:
      ++esp;
      break;
    case DatagramKind::Keepalive:
      ++keepalives;
      break;
    case DatagramKind::TooShort:
      ++too_short;
      break;
  }
}

}  // namespace natgate::natt
