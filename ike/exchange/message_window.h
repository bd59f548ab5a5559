// Message IDs and reliability (RFC 7296 §2.1, §2.2) with a window of one in each direction:
// RequestWindow tracks the one request we have in flight and retransmits it; ResponseWindow
// remembers which request of the peer comes next and the response we gave to the last one, so a
// retransmitted request gets the same response, not a new one.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ike/codec/ike_header.h"
#include "ike/exchange/config.h"
#include "ike/exchange/output.h"
#include "ike/exchange/time.h"

namespace natgate::ike {

class RequestWindow {
 public:
  explicit RequestWindow(RetransmitPolicy policy) : policy_(policy) {}

  MessageId next_id() const { return MessageId{next_id_}; }
  bool busy() const { return in_flight_.has_value(); }
  std::optional<MessageId> in_flight_id() const;
  std::optional<TimePoint> deadline() const;

  // A request went out (all of its datagrams, more than one when fragmented). Returns when to
  // retransmit it.
  TimePoint sent(MessageId id, std::vector<Datagram> datagrams, TimePoint now);
  // Is this the response we wait for?
  bool expects(MessageId id) const { return in_flight_ && in_flight_->id == id; }
  // The response was processed: the next request takes the next ID.
  void completed();
  // The exchange starts over under the same ID (IKE_SA_INIT after INVALID_KE_PAYLOAD or COOKIE,
  // RFC 7296 §1.2, §2.6).
  void restart() { in_flight_.reset(); }
  // Forget the request without moving on (the SA is going away).
  void abandon() { in_flight_.reset(); }

  struct TimerOutcome {
    enum class Kind : std::uint8_t { NotDue, Retransmit, GiveUp } kind = Kind::NotDue;
    std::vector<Datagram> resend;   // Retransmit: the same datagrams again
    std::optional<TimePoint> next;  // NotDue/Retransmit: the deadline to arm
  };
  // The retransmission timer fired (possibly late or early: the window checks).
  TimerOutcome on_timer(TimePoint now);

  unsigned retransmissions() const { return in_flight_ ? in_flight_->attempts : 0; }

 private:
  struct InFlight {
    MessageId id;
    std::vector<Datagram> datagrams;
    unsigned attempts = 0;  // retransmissions so far
    TimePoint deadline;
  };
  RetransmitPolicy policy_;
  std::uint32_t next_id_ = 0;
  std::optional<InFlight> in_flight_;
};

class ResponseWindow {
 public:
  enum class Verdict : std::uint8_t {
    New,         // the next request: process it
    Retransmit,  // the previous request again: resend the cached response
    Invalid,     // anything else: drop (§2.2)
  };
  Verdict classify(MessageId id) const;

  MessageId expected() const { return MessageId{expected_}; }
  // The request `id` was answered with `response`; the window moves on.
  void answered(MessageId id, std::vector<Datagram> response);
  const std::vector<Datagram>& cached() const { return cached_; }

 private:
  std::uint32_t expected_ = 0;
  std::optional<std::uint32_t> last_answered_;
  std::vector<Datagram> cached_;
};

}  // namespace natgate::ike
