#include "ike/codec/ike_header.h"

#include "common/bytes.h"

namespace natgate::ike {

IkeSpi IkeSpi::from_u64(std::uint64_t v) {
  IkeSpi s;
  for (int i = 7; i >= 0; --i, v >>= 8) s.bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
  return s;
}

std::uint64_t IkeSpi::to_u64() const {
  std::uint64_t v = 0;
  for (auto b : bytes) v = (v << 8) | b;
  return v;
}

std::string IkeSpi::to_string() const { return to_hex(bytes); }

}  // namespace natgate::ike
