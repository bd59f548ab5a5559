// The incremental reader of an RFC 9329 TCP-encapsulation stream (format: natt/tcp_encap.h).
// Fed whatever each read() returned — a frame split over any number of reads, several frames in
// one read — it yields one frame at a time with its kind. Sans-I/O: no sockets, no clock.
//
// Bounded: it holds at most one frame body (never more than the configured maximum, itself at most
// 65535 bytes, §3), grown only when a frame straddles two reads; whole frames inside one read are
// handed out as views into the caller's bytes without copying.
//
// Errors come in two classes:
//   - stream errors (a wrong "IKETCP" prefix, a Length below 3 or above the maximum): the frame
//     boundaries are lost, and a length-prefixed stream has no way to find the next frame, so the
//     connection must be closed (the decoder stays Closed). RFC 9329 §6.2 leaves re-opening to the
//     TCP originator, §6.8 re-establishes it when SAs are still alive;
//   - frame errors (a body too short for what its first bytes announce): the Length was sound, so
//     the frame is counted and dropped and the stream goes on, as a bad datagram would on UDP.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/bytes.h"
#include "natt/tcp_encap.h"

namespace natgate::natt::tcp {

// Which end of the TCP connection this decoder reads for; only the originator sends the prefix (§4).
enum class StreamRole : std::uint8_t {
  Responder,   // accepted the connection: the peer's first six bytes must be "IKETCP"
  Originator,  // opened it: the peer sends frames straight away
};

enum class DecodeError : std::uint8_t {
  None,
  // Stream errors: the connection must be closed.
  BadStreamPrefix,     // §4: the first six bytes are not "IKETCP"
  LengthBelowMinimum,  // §3: Length < 3 cannot hold even a keepalive (§6.7)
  LengthAboveMaximum,  // §3: Length beyond the configured limit (at most 65535)
  // Frame errors: the frame is dropped, the stream continues.
  PayloadTooShort,  // 1-3 bytes that are not the keepalive: neither a marker nor an SPI fits (§3)
  IkeTooShort,      // §3.1: marker, then less than an IKE header (RFC 7296 §3.1)
  EspTooShort,      // §3.2: SPI without a sequence number (RFC 4303 §2)
};

// True for the errors after which the connection must be closed.
constexpr bool must_close(DecodeError e) {
  return e == DecodeError::BadStreamPrefix || e == DecodeError::LengthBelowMinimum ||
         e == DecodeError::LengthAboveMaximum;
}

// A stable name for logs and status ("bad-stream-prefix", ...).
const char* error_name(DecodeError e);

struct Frame {
  FrameKind kind = FrameKind::Keepalive;
  ByteView payload;       // IKE: the message without marker; ESP: the whole packet; keepalive: empty
  std::uint32_t spi = 0;  // host order, Esp only
};

enum class DecodeStatus : std::uint8_t {
  NeedMore,  // the input is used up; call again with the next read
  Frame,     // `frame` is valid until the next call (or while the caller's input bytes live)
  Dropped,   // a frame error (`error`); the stream goes on
  Closed,    // a stream error (`error`, also close_reason()); close the connection
};

struct Decoded {
  DecodeStatus status = DecodeStatus::NeedMore;
  Frame frame;
  DecodeError error = DecodeError::None;
};

// What a connection's reader counts (single writer, so plain integers).
struct DecodeCounters {
  std::uint64_t ike = 0;
  std::uint64_t esp = 0;
  std::uint64_t keepalives = 0;
  std::uint64_t bad_stream_prefix = 0;
  std::uint64_t length_below_minimum = 0;
  std::uint64_t length_above_maximum = 0;
  std::uint64_t payload_too_short = 0;
  std::uint64_t ike_too_short = 0;
  std::uint64_t esp_too_short = 0;
  std::uint64_t of(DecodeError e) const;
};

class StreamDecoder {
 public:
  // The smallest maximum accepted: one minimal IKE frame (a lower one is raised to this).
  static constexpr std::size_t kSmallestMaxFrame = kMaxFrameHeaderBytes + kMinIkeBytes;

  // max_frame_bytes: the largest Length accepted (frame incl. its Length field), clamped to
  // [kSmallestMaxFrame, 65535]. §3 says implementations SHOULD keep messages to UDP datagram
  // sizes, so a deployment may lower it.
  explicit StreamDecoder(StreamRole role, std::size_t max_frame_bytes = kMaxFrameBytes);

  // Consumes bytes from the front of `input` (advancing it) until one frame, one dropped frame or
  // a stream error is found, or input is used up. Call again until NeedMore or Closed.
  Decoded next(ByteView& input);

  bool closed() const { return state_ == State::Closed; }
  DecodeError close_reason() const { return close_reason_; }
  const DecodeCounters& counters() const { return counters_; }
  std::size_t max_frame_bytes() const { return max_frame_; }
  // Bytes held for a frame not yet complete (at most max_frame_bytes() - 2).
  std::size_t buffered() const { return body_have_; }

 private:
  enum class State : std::uint8_t { Prefix, Length, Body, Closed };

  Decoded fail(DecodeError e);
  // Checks a Length; on success moves to Body with an empty body.
  bool accept_length(std::size_t length, Decoded& out);
  Decoded classify(ByteView body);

  State state_;
  std::size_t max_frame_;
  std::size_t prefix_seen_ = 0;
  std::uint8_t length_high_ = 0;
  bool have_length_high_ = false;
  std::size_t body_want_ = 0;
  std::size_t body_have_ = 0;
  Bytes body_;  // only for frames split across reads; grows to the largest such frame, bounded
  DecodeError close_reason_ = DecodeError::None;
  DecodeCounters counters_;
};

}  // namespace natgate::natt::tcp
