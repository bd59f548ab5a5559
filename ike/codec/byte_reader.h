// Internal to the codec: a bounds-checked big-endian cursor over untrusted octets.
// The first failure sticks; later reads return zeros and empty views, so decoders check ok()
// once per structure instead of after every field, and no read ever passes the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "common/bytes.h"
#include "ike/codec/decode_error.h"

namespace natgate::ike::detail {

class ByteReader {
 public:
  // base: offset of data[0] within the buffer the caller is decoding (for error offsets).
  ByteReader(ByteView data, std::size_t base, iana::PayloadType where)
      : data_(data), base_(base), where_(where) {}

  bool ok() const { return !error_; }
  const DecodeError& error() const { return *error_; }
  std::size_t offset() const { return base_ + pos_; }
  std::size_t remaining() const { return error_ ? 0 : data_.size() - pos_; }
  bool at_end() const { return remaining() == 0; }
  iana::PayloadType where() const { return where_; }

  // Ensures n more octets exist; otherwise records Truncated naming `what`.
  bool need(std::size_t n, const char* what) {
    if (error_) return false;
    if (n > data_.size() - pos_) {
      fail(DecodeError::Kind::Truncated, offset(),
           std::string(what) + " needs " + std::to_string(n) + " octets, " +
               std::to_string(data_.size() - pos_) + " left");
      return false;
    }
    return true;
  }

  std::uint8_t u8() {
    if (!need(1, "field")) return 0;
    return data_[pos_++];
  }
  std::uint16_t u16() {
    if (!need(2, "field")) return 0;
    auto v = static_cast<std::uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  std::uint32_t u32() {
    if (!need(4, "field")) return 0;
    std::uint32_t v = (std::uint32_t{data_[pos_]} << 24) | (std::uint32_t{data_[pos_ + 1]} << 16) |
                      (std::uint32_t{data_[pos_ + 2]} << 8) | std::uint32_t{data_[pos_ + 3]};
    pos_ += 4;
    return v;
  }
  void skip(std::size_t n) {
    if (need(n, "reserved")) pos_ += n;
  }
  ByteView view(std::size_t n, const char* what) {
    if (!need(n, what)) return {};
    ByteView v = data_.subspan(pos_, n);
    pos_ += n;
    return v;
  }
  Bytes bytes(std::size_t n, const char* what) {
    ByteView v = view(n, what);
    return Bytes(v.begin(), v.end());
  }
  Bytes rest() { return bytes(remaining(), "rest"); }

  // A reader over the next n octets (for a substructure with its own length field).
  std::optional<ByteReader> sub(std::size_t n, const char* what) {
    std::size_t at = offset();
    ByteView v = view(n, what);
    if (!ok()) return std::nullopt;
    return ByteReader(v, at, where_);
  }

  // Records the first error only.
  void fail(DecodeError::Kind kind, std::size_t at, std::string what) {
    if (!error_) error_ = DecodeError{kind, at, std::move(what), where_};
  }
  void fail_here(DecodeError::Kind kind, std::string what) { fail(kind, offset(), std::move(what)); }

 private:
  ByteView data_;
  std::size_t base_;
  std::size_t pos_ = 0;
  iana::PayloadType where_;
  std::optional<DecodeError> error_;
};

}  // namespace natgate::ike::detail
