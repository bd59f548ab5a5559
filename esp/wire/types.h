// Value types of the ESP wire format (RFC 4303 §2): the SPI and the 64-bit sequence number.
#pragma once

#include <compare>
#include <cstdint>

namespace natgate::esp {

// Security Parameters Index (RFC 4303 §2.1), host byte order. 0 is reserved and never names an SA;
// 1-255 are reserved by IANA for future use (RFC 4303 §2.1), so allocation avoids them too.
struct Spi {
  std::uint32_t value = 0;

  constexpr Spi() = default;
  constexpr explicit Spi(std::uint32_t v) : value(v) {}
  constexpr bool is_valid_for_sa() const { return value > 255; }
  friend constexpr auto operator<=>(const Spi&, const Spi&) = default;
};

// The full sequence number. Without ESN only the low 32 bits exist; with ESN (RFC 4304) the high
// 32 bits are implicit: never sent, but covered by the ICV (RFC 4303 §2.2.1, §3.3.2.1).
class SequenceNumber {
 public:
  constexpr SequenceNumber() = default;
  constexpr explicit SequenceNumber(std::uint64_t v) : value_(v) {}
  static constexpr SequenceNumber from_parts(std::uint32_t high, std::uint32_t low) {
    return SequenceNumber((std::uint64_t{high} << 32) | low);
  }

  constexpr std::uint64_t value() const { return value_; }
  constexpr std::uint32_t low() const { return static_cast<std::uint32_t>(value_); }
  constexpr std::uint32_t high() const { return static_cast<std::uint32_t>(value_ >> 32); }
  friend constexpr auto operator<=>(const SequenceNumber&, const SequenceNumber&) = default;

 private:
  std::uint64_t value_ = 0;
};

// Next Header values carried in the ESP trailer for tunnel mode (RFC 4303 §2.6).
inline constexpr std::uint8_t kNextHeaderIpv4 = 4;
inline constexpr std::uint8_t kNextHeaderIpv6 = 41;
inline constexpr std::uint8_t kNextHeaderNoNext = 59;  // dummy packet (RFC 4303 §2.6): discard

// SPI + sequence number.
inline constexpr std::size_t kEspHeaderBytes = 8;

}  // namespace natgate::esp
