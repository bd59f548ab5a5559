// What was wrong with untrusted IKE bytes, and where (RFC 7296 §2.5, §3).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/iana.h"

namespace natgate::ike {

struct DecodeError {
  enum class Kind : std::uint8_t {
    Truncated,     // the bytes end inside a fixed-size field or header
    BadLength,     // a length field is impossible: < its minimum, past its container, or != datagram size
    TrailingData,  // octets left over after the last payload or substructure
    BadVersion,    // IKE major version != 2: answer INVALID_MAJOR_VERSION (RFC 7296 §1.5)
    UnsupportedCriticalPayload,  // unknown type with the critical bit: `where` is that type (§2.5)
    Malformed,  // counts or types that do not add up (proposal/transform/TS counts, substructure markers)
    TooLarge,   // larger than kMaxMessageSize
  };

  Kind kind = Kind::Malformed;
  std::size_t offset = 0;  // from the start of the decoded buffer (the IKE header, or the inner chain)
  std::string what;
  // The payload being decoded (None for the IKE header). For UnsupportedCriticalPayload this is the
  // unknown type, which goes into the UNSUPPORTED_CRITICAL_PAYLOAD notify data (RFC 7296 §3.10.1).
  iana::PayloadType where = iana::PayloadType::None;

  std::string to_string() const;  // "BadLength at offset 32 in SA: proposal length 4 < 8"
  friend bool operator==(const DecodeError&, const DecodeError&) = default;
};

const char* to_string(DecodeError::Kind kind);

struct Notify;
// The error notification RFC 7296 suggests for a message that failed to decode:
// UNSUPPORTED_CRITICAL_PAYLOAD carrying the one-octet payload type (§2.5, §3.10.1),
// INVALID_MAJOR_VERSION (§2.5), and INVALID_SYNTAX for everything else (§3.10.1). Whether to send
// it at all is the exchange's call (§2.21: never in answer to an unauthenticated message, except
// the IKE_SA_INIT cases).
Notify notify_for(const DecodeError& error);

}  // namespace natgate::ike
