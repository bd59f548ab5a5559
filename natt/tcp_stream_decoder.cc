#include "natt/tcp_stream_decoder.h"

#include <algorithm>
#include <cstring>

namespace natgate::natt::tcp {

const char* error_name(DecodeError e) {
  switch (e) {
    case DecodeError::None:
      return "none";
    case DecodeError::BadStreamPrefix:
      return "bad-stream-prefix";
    case DecodeError::LengthBelowMinimum:
      return "length-below-minimum";
    case DecodeError::LengthAboveMaximum:
      return "length-above-maximum";
    case DecodeError::PayloadTooShort:
      return "payload-too-short";
    case DecodeError::IkeTooShort:
      return "ike-too-short";
    case DecodeError::EspTooShort:
      return "esp-too-short";
  }
  return "unknown";
}

std::uint64_t DecodeCounters::of(DecodeError e) const {
  switch (e) {
    case DecodeError::None:
      return 0;
    case DecodeError::BadStreamPrefix:
      return bad_stream_prefix;
    case DecodeError::LengthBelowMinimum:
      return length_below_minimum;
    case DecodeError::LengthAboveMaximum:
      return length_above_maximum;
    case DecodeError::PayloadTooShort:
      return payload_too_short;
    case DecodeError::IkeTooShort:
      return ike_too_short;
    case DecodeError::EspTooShort:
      return esp_too_short;
  }
  return 0;
}

StreamDecoder::StreamDecoder(StreamRole role, std::size_t max_frame_bytes)
    : state_(role == StreamRole::Responder ? State::Prefix : State::Length),
      max_frame_(std::clamp(max_frame_bytes, kSmallestMaxFrame, kMaxFrameBytes)) {}

Decoded StreamDecoder::fail(DecodeError e) {
  switch (e) {
    case DecodeError::BadStreamPrefix:
      ++counters_.bad_stream_prefix;
      break;
    case DecodeError::LengthBelowMinimum:
      ++counters_.length_below_minimum;
      break;
    case DecodeError::LengthAboveMaximum:
      ++counters_.length_above_maximum;
      break;
    default:
      break;
  }
  state_ = State::Closed;
  close_reason_ = e;
  body_have_ = 0;
  // Nothing more will be read; give the buffer back.
  Bytes().swap(body_);
  return {DecodeStatus::Closed, {}, e};
}

bool StreamDecoder::accept_length(std::size_t length, Decoded& out) {
  // §3: Length counts itself; §6.7: the smallest frame is the 3-byte keepalive.
  if (length < kMinFrameBytes) {
    out = fail(DecodeError::LengthBelowMinimum);
    return false;
  }
  if (length > max_frame_) {
    out = fail(DecodeError::LengthAboveMaximum);
    return false;
  }
  body_want_ = length - kLengthFieldBytes;
  body_have_ = 0;
  state_ = State::Body;
  return true;
}

Decoded StreamDecoder::classify(ByteView body) {
  state_ = State::Length;
  body_have_ = 0;
  // §6.7: a one-octet 0xFF payload is a NAT-keepalive; receivers drop it silently.
  if (body.size() == 1 && body[0] == kKeepaliveByte) {
    ++counters_.keepalives;
    return {DecodeStatus::Frame, {FrameKind::Keepalive, {}, 0}, DecodeError::None};
  }
  // §3: the first four octets are the non-ESP marker or an SPI; shorter bodies are neither.
  if (body.size() < kNonEspMarkerBytes) {
    ++counters_.payload_too_short;
    return {DecodeStatus::Dropped, {}, DecodeError::PayloadTooShort};
  }
  const std::uint32_t first = (std::uint32_t{body[0]} << 24) | (std::uint32_t{body[1]} << 16) |
                              (std::uint32_t{body[2]} << 8) | std::uint32_t{body[3]};
  if (first == 0) {
    // §3.1: marker, then the IKE message.
    if (body.size() < kNonEspMarkerBytes + kMinIkeBytes) {
      ++counters_.ike_too_short;
      return {DecodeStatus::Dropped, {}, DecodeError::IkeTooShort};
    }
    ++counters_.ike;
    return {DecodeStatus::Frame, {FrameKind::Ike, body.subspan(kNonEspMarkerBytes), 0}, DecodeError::None};
  }
  // §3.2: the ESP packet as is, SPI first.
  if (body.size() < kMinEspBytes) {
    ++counters_.esp_too_short;
    return {DecodeStatus::Dropped, {}, DecodeError::EspTooShort};
  }
  ++counters_.esp;
  return {DecodeStatus::Frame, {FrameKind::Esp, body, first}, DecodeError::None};
}

Decoded StreamDecoder::next(ByteView& input) {
  Decoded out;
  for (;;) {
    switch (state_) {
      case State::Closed:
        return {DecodeStatus::Closed, {}, close_reason_};

      case State::Prefix:
        // §4: checked byte by byte, so a stranger's first byte already closes the stream.
        while (prefix_seen_ < kStreamPrefix.size()) {
          if (input.empty()) return {};
          if (input[0] != kStreamPrefix[prefix_seen_]) return fail(DecodeError::BadStreamPrefix);
          input = input.subspan(1);
          ++prefix_seen_;
        }
        state_ = State::Length;
        break;

      case State::Length: {
        if (input.empty()) return {};
        if (!have_length_high_ && input.size() >= kLengthFieldBytes) {
          const std::size_t length = (std::size_t{input[0]} << 8) | input[1];
          if (!accept_length(length, out)) return out;
          // The whole frame is in this read: hand it out in place, no copy.
          if (input.size() >= length) {
            const ByteView body = input.subspan(kLengthFieldBytes, body_want_);
            input = input.subspan(length);
            return classify(body);
          }
          input = input.subspan(kLengthFieldBytes);
          break;
        }
        if (!have_length_high_) {
          length_high_ = input[0];
          have_length_high_ = true;
          input = input.subspan(1);
          if (input.empty()) return {};
        }
        const std::size_t length = (std::size_t{length_high_} << 8) | input[0];
        have_length_high_ = false;
        input = input.subspan(1);
        if (!accept_length(length, out)) return out;
        break;
      }

      case State::Body: {
        if (body_have_ == 0 && input.size() >= body_want_) {
          const ByteView body = input.first(body_want_);
          input = input.subspan(body_want_);
          return classify(body);
        }
        if (input.empty()) return {};
        // Split across reads: keep what we have. body_want_ <= max_frame_ - 2, so this is bounded.
        if (body_.size() < body_want_) body_.resize(body_want_);
        const std::size_t take = std::min(input.size(), body_want_ - body_have_);
        std::memcpy(body_.data() + body_have_, input.data(), take);
        body_have_ += take;
        input = input.subspan(take);
        if (body_have_ < body_want_) return {};
        return classify(ByteView(body_.data(), body_want_));
      }
    }
  }
}

}  // namespace natgate::natt::tcp
