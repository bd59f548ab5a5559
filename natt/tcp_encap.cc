#include "natt/tcp_encap.h"

#include <array>
#include <cstring>

namespace natgate::natt::tcp {
namespace {

std::size_t header_bytes(FrameKind kind) {
  return kind == FrameKind::Ike ? kLengthFieldBytes + kNonEspMarkerBytes : kLengthFieldBytes;
}

std::uint32_t read_u32(ByteView b) {
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
         std::uint32_t{b[3]};
}

std::size_t write_frame(FrameKind kind, ByteView payload, MutableByteView out) {
  const std::size_t header = write_frame_header(kind, payload.size(), out);
  if (header == 0 || out.size() < header + payload.size()) return 0;
  if (!payload.empty()) std::memcpy(out.data() + header, payload.data(), payload.size());
  return header + payload.size();
}

Bytes frame_bytes(FrameKind kind, ByteView payload, std::size_t (*writer)(ByteView, MutableByteView)) {
  const std::size_t n = frame_size(kind, payload.size());
  if (n == 0) return {};
  Bytes out(n);
  writer(payload, out);
  return out;
}

}  // namespace

std::size_t frame_size(FrameKind kind, std::size_t payload_bytes) {
  std::size_t minimum = 1;
  switch (kind) {
    case FrameKind::Ike:
      minimum = kMinIkeBytes;
      break;
    case FrameKind::Esp:
      minimum = kMinEspBytes;
      break;
    case FrameKind::Keepalive:
      // §6.7: exactly one octet, 0xFF.
      return payload_bytes == 1 ? kKeepaliveFrame.size() : 0;
  }
  if (payload_bytes < minimum) return 0;
  // §3: the 16-bit Length counts the whole frame, itself and the marker included.
  if (payload_bytes > kMaxFrameBytes - header_bytes(kind)) return 0;
  return header_bytes(kind) + payload_bytes;
}

std::size_t write_frame_header(FrameKind kind, std::size_t payload_bytes, MutableByteView out) {
  const std::size_t total = frame_size(kind, payload_bytes);
  const std::size_t header = header_bytes(kind);
  if (total == 0 || out.size() < header) return 0;
  out[0] = static_cast<std::uint8_t>(total >> 8);
  out[1] = static_cast<std::uint8_t>(total & 0xFF);
  if (kind == FrameKind::Ike) std::memset(out.data() + kLengthFieldBytes, 0, kNonEspMarkerBytes);
  return header;
}

std::size_t write_ike_frame(ByteView ike_message, MutableByteView out) {
  return write_frame(FrameKind::Ike, ike_message, out);
}

std::size_t write_esp_frame(ByteView esp_packet, MutableByteView out) {
  // §3.2: the receiver tells ESP from IKE by a non-zero first word; an SPI of 0 is reserved
  // (RFC 4303 §2.1) and would be read back as the non-ESP marker.
  if (esp_packet.size() < kMinEspBytes || read_u32(esp_packet) == 0) return 0;
  return write_frame(FrameKind::Esp, esp_packet, out);
}

bool append_esp_frame(ByteView esp_packet, Bytes& out) {
  if (esp_packet.size() < kMinEspBytes || read_u32(esp_packet) == 0) return false;
  std::array<std::uint8_t, kLengthFieldBytes> header{};
  if (write_frame_header(FrameKind::Esp, esp_packet.size(), header) != header.size()) return false;
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), esp_packet.begin(), esp_packet.end());
  return true;
}

Bytes ike_frame(ByteView ike_message) { return frame_bytes(FrameKind::Ike, ike_message, write_ike_frame); }

Bytes esp_frame(ByteView esp_packet) {
  if (esp_packet.size() < kMinEspBytes || read_u32(esp_packet) == 0) return {};
  return frame_bytes(FrameKind::Esp, esp_packet, write_esp_frame);
}

}  // namespace natgate::natt::tcp
