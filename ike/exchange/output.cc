#include "ike/exchange/output.h"

#include <iterator>

namespace natgate::ike {

const char* to_string(TimerKind kind) {
  switch (kind) {
    case TimerKind::Retransmit:
      return "retransmit";
    case TimerKind::HalfOpen:
      return "half-open";
    case TimerKind::Dpd:
      return "dpd";
    case TimerKind::RekeyedOld:
      return "rekeyed-old";
  }
  return "?";
}

const char* to_string(InputError::Kind kind) {
  switch (kind) {
    case InputError::Kind::Malformed:
      return "malformed";
    case InputError::Kind::WrongSa:
      return "wrong SA";
    case InputError::Kind::UnexpectedMessageId:
      return "unexpected message ID";
    case InputError::Kind::UnexpectedExchange:
      return "unexpected exchange";
    case InputError::Kind::IntegrityCheckFailed:
      return "integrity check failed";
    case InputError::Kind::NotProtected:
      return "not encrypted";
    case InputError::Kind::Unsupported:
      return "unsupported";
  }
  return "?";
}

const char* to_string(DeleteReason reason) {
  switch (reason) {
    case DeleteReason::LocalRequest:
      return "deleted locally";
    case DeleteReason::PeerDeleted:
      return "deleted by peer";
    case DeleteReason::Timeout:
      return "peer unreachable";
    case DeleteReason::HalfOpenTimeout:
      return "half-open timeout";
    case DeleteReason::AuthenticationFailed:
      return "authentication failed";
    case DeleteReason::NegotiationFailed:
      return "negotiation failed";
    case DeleteReason::Rekeyed:
      return "rekeyed";
  }
  return "?";
}

void Output::append(Output&& other) {
  std::move(other.datagrams.begin(), other.datagrams.end(), std::back_inserter(datagrams));
  std::move(other.timers.begin(), other.timers.end(), std::back_inserter(timers));
  std::move(other.events.begin(), other.events.end(), std::back_inserter(events));
  if (!rejected) rejected = std::move(other.rejected);
}

}  // namespace natgate::ike
