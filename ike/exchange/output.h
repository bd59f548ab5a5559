// What one call into an IKE SA produces (docs/design.md, "The sans-I/O contract"): datagrams to send, timers
// to arm or cancel, and events. The caller does the I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/ip_address.h"
#include "ike/codec/decode_error.h"
#include "ike/exchange/events.h"
#include "ike/exchange/time.h"

namespace natgate::ike {

// An IKE message to send. With natt set it goes out of the NAT-T socket and the caller prefixes
// the four-octet non-ESP marker (RFC 3948 §2.2); bytes start at the IKE header either way.
struct Datagram {
  Bytes bytes;
  Endpoint local;
  Endpoint remote;
  bool natt = false;
};

// An IKE message as received: bytes start at the IKE header (natt/ has stripped the marker).
struct ReceivedDatagram {
  ByteView bytes;
  Endpoint local;   // where it arrived
  Endpoint remote;  // where it came from
  bool natt = false;
};

// One timer per kind and SA: arming replaces the previous deadline of that kind.
enum class TimerKind : std::uint8_t {
  Retransmit,  // our request is unanswered (RFC 7296 §2.1)
  HalfOpen,    // responder: IKE_AUTH has not arrived
  Dpd,         // liveness check due (RFC 7296 §2.4)
  RekeyedOld,  // the old SA of an IKE rekey: the peer has not deleted it in time, end it (§2.8)
};
const char* to_string(TimerKind kind);

struct TimerAction {
  TimerKind kind = TimerKind::Retransmit;
  std::optional<TimePoint> deadline;  // nullopt: cancel
};

// Why a datagram was dropped without changing any state. Counted, never fatal.
struct InputError {
  enum class Kind : std::uint8_t {
    Malformed,             // the codec refused it; `decode` says what and where
    WrongSa,               // SPIs or initiator flag do not belong to this SA
    UnexpectedMessageId,   // not the response we wait for, nor the next or the last request
    UnexpectedExchange,    // an exchange this SA cannot take in its current state
    IntegrityCheckFailed,  // the SK payload did not verify (RFC 7296 §2.21.2: drop silently)
    NotProtected,          // a message that must be encrypted was not
    Unsupported,           // well-formed but beyond what natgate implements
  };
  Kind kind = Kind::Malformed;
  std::optional<DecodeError> decode;
  std::string what;
};
const char* to_string(InputError::Kind kind);

struct Output {
  std::vector<Datagram> datagrams;
  std::vector<TimerAction> timers;
  std::vector<Event> events;
  std::optional<InputError> rejected;  // set when the input datagram was dropped

  void arm(TimerKind kind, TimePoint at) { timers.push_back({kind, at}); }
  void cancel(TimerKind kind) { timers.push_back({kind, std::nullopt}); }
  void append(Output&& other);
};

}  // namespace natgate::ike
