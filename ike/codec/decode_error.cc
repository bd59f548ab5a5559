#include "ike/codec/decode_error.h"

#include "ike/codec/describe.h"
#include "ike/codec/payloads.h"

namespace natgate::ike {

const char* to_string(DecodeError::Kind kind) {
  switch (kind) {
    case DecodeError::Kind::Truncated:
      return "Truncated";
    case DecodeError::Kind::BadLength:
      return "BadLength";
    case DecodeError::Kind::TrailingData:
      return "TrailingData";
    case DecodeError::Kind::BadVersion:
      return "BadVersion";
    case DecodeError::Kind::UnsupportedCriticalPayload:
      return "UnsupportedCriticalPayload";
    case DecodeError::Kind::Malformed:
      return "Malformed";
    case DecodeError::Kind::TooLarge:
      return "TooLarge";
  }
  return "?";
}

std::string DecodeError::to_string() const {
  std::string s = ike::to_string(kind);
  s += " at offset " + std::to_string(offset);
  s += where == iana::PayloadType::None ? std::string(" in IKE header") : " in " + payload_name(where);
  s += ": " + what;
  return s;
}

Notify notify_for(const DecodeError& error) {
  switch (error.kind) {
    case DecodeError::Kind::UnsupportedCriticalPayload:
      return Notify::make(iana::NotifyType::UnsupportedCriticalPayload,
                          {static_cast<std::uint8_t>(error.where)});
    case DecodeError::Kind::BadVersion:
      return Notify::make(iana::NotifyType::InvalidMajorVersion);
    default:
      return Notify::make(iana::NotifyType::InvalidSyntax);
  }
}

}  // namespace natgate::ike
