// Byte containers and hex helpers shared by every layer.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace natgate {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;
using MutableByteView = std::span<std::uint8_t>;

// Lower-case hex, no separators. For logs and tests; never pass secrets here.
std::string to_hex(ByteView bytes);

// Parses hex (whitespace and ':' ignored). Returns false on odd length or a non-hex digit.
bool from_hex(std::string_view hex, Bytes& out);

// Test and tooling convenience: aborts on malformed input.
Bytes hex_bytes(std::string_view hex);

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

inline void append(Bytes& out, ByteView in) { out.insert(out.end(), in.begin(), in.end()); }

}  // namespace natgate
