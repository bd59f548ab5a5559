#include "common/log_escape.h"

namespace natgate {

namespace {

std::string escape(ByteView bytes, bool backslash) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size());
  for (std::uint8_t b : bytes) {
    if (b == '\\' && backslash) {
      out += "\\\\";
    } else if (b >= 0x20 && b <= 0x7e) {
      out += static_cast<char>(b);
    } else {
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 0x0f];
    }
  }
  return out;
}

}  // namespace

std::string escape_for_log(ByteView bytes) { return escape(bytes, true); }
std::string escape_for_log(std::string_view text) { return escape(as_bytes(text), true); }
std::string escape_nonprintable(std::string_view text) { return escape(as_bytes(text), false); }

}  // namespace natgate
