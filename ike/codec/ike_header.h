// The fixed 28-octet IKE header (RFC 7296 §3.1) as a value.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "common/iana.h"

namespace natgate::ike {

// An IKE SA SPI: 8 opaque octets chosen by one peer (RFC 7296 §2.6). Zero means "not yet known"
// (SPIr in the first IKE_SA_INIT request).
struct IkeSpi {
  std::array<std::uint8_t, 8> bytes{};

  static IkeSpi from_u64(std::uint64_t v);
  std::uint64_t to_u64() const;  // big-endian reading of the octets, for tables and logs
  bool is_zero() const { return to_u64() == 0; }
  std::string to_string() const;  // 16 hex digits
  friend auto operator<=>(const IkeSpi&, const IkeSpi&) = default;
};

// RFC 7296 §2.2: requests and responses are matched and windowed by this counter.
struct MessageId {
  std::uint32_t value = 0;
  friend auto operator<=>(const MessageId&, const MessageId&) =
      default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 false positive on defaulted <=>
};

// The IKE header minus the two fields the wire derives from the rest of the message: "Next Payload"
// is the type of the first payload and "Length" the encoded size. Keeping them out means a decoded
// header can never disagree with the payloads it came with; encode_message computes both.
struct IkeHeader {
  IkeSpi spi_i;
  IkeSpi spi_r;
  std::uint8_t major_version = 2;
  std::uint8_t minor_version = 0;
  iana::ExchangeType exchange = iana::ExchangeType::IkeSaInit;
  std::uint8_t flags = 0;  // raw octet; see the accessors for the three defined bits
  MessageId message_id;

  static constexpr std::size_t kSize = 28;

  // RFC 7296 §3.1 flag bits.
  bool initiator() const { return (flags & iana::kFlagInitiator) != 0; }  // sent by the original initiator
  bool response() const { return (flags & iana::kFlagResponse) != 0; }
  bool higher_version() const { return (flags & iana::kFlagVersion) != 0; }
  void set_initiator(bool on) { set_flag(iana::kFlagInitiator, on); }
  void set_response(bool on) { set_flag(iana::kFlagResponse, on); }

  friend bool operator==(const IkeHeader&, const IkeHeader&) = default;

 private:
  void set_flag(std::uint8_t bit, bool on) {
    flags = static_cast<std::uint8_t>(on ? (flags | bit) : (flags & ~bit));
  }
};

}  // namespace natgate::ike

template <>
struct std::hash<natgate::ike::IkeSpi> {
  std::size_t operator()(const natgate::ike::IkeSpi& s) const noexcept {
    return std::hash<std::uint64_t>{}(s.to_u64());
  }
};
