#include "ike/exchange/message_window.h"

namespace natgate::ike {

std::optional<MessageId> RequestWindow::in_flight_id() const {
  if (!in_flight_) return std::nullopt;
  return in_flight_->id;
}

std::optional<TimePoint> RequestWindow::deadline() const {
  if (!in_flight_) return std::nullopt;
  return in_flight_->deadline;
}

TimePoint RequestWindow::sent(MessageId id, std::vector<Datagram> datagrams, TimePoint now) {
  in_flight_ = InFlight{id, std::move(datagrams), 0, now + policy_.timeout(0)};
  return in_flight_->deadline;
}

void RequestWindow::completed() {
  if (!in_flight_) return;
  next_id_ = in_flight_->id.value + 1;
  in_flight_.reset();
}

RequestWindow::TimerOutcome RequestWindow::on_timer(TimePoint now) {
  TimerOutcome out;
  if (!in_flight_) return out;  // answered meanwhile: nothing to re-arm
  if (now < in_flight_->deadline) {
    out.next = in_flight_->deadline;
    return out;
  }
  if (in_flight_->attempts >= policy_.retransmits) {
    out.kind = TimerOutcome::Kind::GiveUp;
    in_flight_.reset();
    return out;
  }
  ++in_flight_->attempts;
  in_flight_->deadline = now + policy_.timeout(in_flight_->attempts);
  out.kind = TimerOutcome::Kind::Retransmit;
  out.resend = in_flight_->datagrams;
  out.next = in_flight_->deadline;
  return out;
}

ResponseWindow::Verdict ResponseWindow::classify(MessageId id) const {
  if (id.value == expected_) return Verdict::New;
  if (last_answered_ && id.value == *last_answered_) return Verdict::Retransmit;
  return Verdict::Invalid;
}

void ResponseWindow::answered(MessageId id, std::vector<Datagram> response) {
  last_answered_ = id.value;
  expected_ = id.value + 1;
  cached_ = std::move(response);
}

}  // namespace natgate::ike
