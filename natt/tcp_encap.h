// RFC 9329 TCP encapsulation of IKE and ESP: the wire format and the encoder, sans-I/O.
// One TCP connection carries a byte stream that
//   - starts with the six ASCII bytes "IKETCP", sent once, by the TCP originator only (§4);
//   - then holds frames: a 16-bit big-endian Length that counts itself (§3), followed by
//       * four zero bytes (the non-ESP marker) and an IKE message (§3.1), or
//       * an ESP packet, whose first four bytes are its non-zero SPI (§3.2), or
//       * the single byte 0xFF: a NAT-keepalive, which a receiver drops silently and natgate never
//         sends since TCP mappings outlive UDP ones (§6.7).
// The incremental reader of that stream is natt/tcp_stream_decoder.h. Sockets, connection setup and
// re-establishment (§6) belong to the daemon and the data plane (issue 15's next step).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "common/bytes.h"

namespace natgate::natt::tcp {

// §4: "IKETCP" as ASCII, no terminator.
inline constexpr std::array<std::uint8_t, 6> kStreamPrefix = {'I', 'K', 'E', 'T', 'C', 'P'};
// §3: the Length field is 2 octets and includes itself, so a frame is never longer than this.
inline constexpr std::size_t kLengthFieldBytes = 2;
inline constexpr std::size_t kMaxFrameBytes = 65535;
// §3.1: the non-ESP marker is four zero octets, where an ESP SPI (never 0, RFC 4303 §2.1) would be.
inline constexpr std::size_t kNonEspMarkerBytes = 4;
// An IKE message is at least its 28-byte header (RFC 7296 §3.1).
inline constexpr std::size_t kMinIkeBytes = 28;
// An ESP packet is at least SPI + sequence number (RFC 4303 §2); the SA checks the rest.
inline constexpr std::size_t kMinEspBytes = 8;
inline constexpr std::uint8_t kKeepaliveByte = 0xFF;
// §6.7: a NAT-keepalive is Length = 3 (itself plus one octet) and the octet 0xFF.
inline constexpr std::array<std::uint8_t, 3> kKeepaliveFrame = {0x00, 0x03, kKeepaliveByte};
// The smallest Length any frame can carry: the keepalive's (§3, §6.7). Anything below is a broken
// stream, not a short message.
inline constexpr std::size_t kMinFrameBytes = kKeepaliveFrame.size();

// The largest header write_frame_header produces: Length + non-ESP marker.
inline constexpr std::size_t kMaxFrameHeaderBytes = kLengthFieldBytes + kNonEspMarkerBytes;

enum class FrameKind : std::uint8_t {
  Ike,        // payload = the IKE message, marker stripped
  Esp,        // payload = the whole ESP packet (SPI first); spi set
  Keepalive,  // payload empty; dropped by the receiver (§6.7)
};

// Length of the frame that carries `payload_bytes` of this kind (header included), or 0 when
// it would not fit the 16-bit Length (§3) or the kind's minimum is not met.
std::size_t frame_size(FrameKind kind, std::size_t payload_bytes);

// Writes only the header (Length, plus the non-ESP marker for IKE) of a frame whose payload has
// `payload_bytes`, so a caller can send header and payload with one writev and no copy. Returns
// the header's length (2 or 6), or 0 when out is too small or frame_size() is 0.
std::size_t write_frame_header(FrameKind kind, std::size_t payload_bytes, MutableByteView out);

// Whole frames into a caller's buffer: Length || marker || IKE message (§3.1) and
// Length || ESP packet (§3.2). Return the frame's length, or 0 (nothing meaningful written) when
// out is too small, the frame would exceed 65535 bytes, the IKE message is shorter than its header
// or the ESP packet shorter than SPI + sequence number or its SPI is 0 (it would read as a marker).
std::size_t write_ike_frame(ByteView ike_message, MutableByteView out);
std::size_t write_esp_frame(ByteView esp_packet, MutableByteView out);

// Appends Length || ESP packet (§3.2) to `out` (one copy of the packet, no zero-fill first), for
// a sender that batches frames into one buffer. False, with nothing appended, when
// write_esp_frame would refuse the packet.
bool append_esp_frame(ByteView esp_packet, Bytes& out);

// Conveniences for tests and tools (allocate; the data paths use the writers above).
Bytes ike_frame(ByteView ike_message);
Bytes esp_frame(ByteView esp_packet);

}  // namespace natgate::natt::tcp
