// Internal to the codec: big-endian appends and length back-patching.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>

#include "common/bytes.h"

namespace natgate::ike::detail {

class ByteWriter {
 public:
  explicit ByteWriter(Bytes& out) : out_(out) {}

  std::size_t size() const { return out_.size(); }
  void u8(std::uint8_t v) { out_.push_back(v); }
  void u16(std::uint16_t v) {
    out_.push_back(static_cast<std::uint8_t>(v >> 8));
    out_.push_back(static_cast<std::uint8_t>(v));
  }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
  }
  void zeros(std::size_t n) { out_.insert(out_.end(), n, 0); }
  void bytes(ByteView v) { out_.insert(out_.end(), v.begin(), v.end()); }

  // Writes a 16-bit placeholder; patch_u16 fills it once the structure's size is known.
  std::size_t placeholder_u16() {
    std::size_t at = out_.size();
    u16(0);
    return at;
  }
  void patch_u16(std::size_t at, std::size_t value) {
    assert(value <= 0xffff && "structure exceeds a 16-bit length field");
    out_[at] = static_cast<std::uint8_t>(value >> 8);
    out_[at + 1] = static_cast<std::uint8_t>(value);
  }
  // Patches with the number of octets written since `start`.
  void patch_length_since(std::size_t at, std::size_t start) { patch_u16(at, out_.size() - start); }

 private:
  Bytes& out_;
};

}  // namespace natgate::ike::detail
