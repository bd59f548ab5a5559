// The exchange driver of one IKE SA (strongSwan's task_manager_v2): it queues the tasks we want
// to run, groups them into exchanges, numbers and frames the messages, retransmits our requests,
// answers the peer's requests with the tasks the exchange calls for, and caches the answer for
// retransmitted requests (RFC 7296 §2.1, §2.2). It ends the SA when a task fails.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "ike/exchange/ike_sa_context.h"
#include "ike/exchange/message_window.h"
#include "ike/exchange/task.h"

namespace natgate::ike {

struct ExchangeCounters {
  std::uint64_t requests_sent = 0;
  std::uint64_t retransmissions = 0;  // our requests sent again after a timeout
  std::uint64_t responses_sent = 0;
  std::uint64_t cached_responses_resent = 0;  // answers to retransmitted requests (§2.1)
};

class ExchangeDriver {
 public:
  explicit ExchangeDriver(IkeSaContext& ctx);

  void queue(std::unique_ptr<Task> task);
  void clear_queue() { queued_.clear(); }
  bool has_queued() const { return !queued_.empty(); }
  bool busy() const { return requests_.busy(); }
  std::optional<iana::ExchangeType> in_flight_exchange() const;
  const RequestWindow& requests() const { return requests_; }
  const ResponseWindow& responses() const { return responses_; }
  const ExchangeCounters& counters() const { return counters_; }

  // Starts the next queued exchange unless one is in flight (window size 1).
  void initiate(TimePoint now);
  // The response to our request in flight (the caller checked its ID and exchange).
  void on_response(const InboundMessage& response, TimePoint now);
  // A new request from the peer. Returns false, changing nothing, if this SA cannot take that
  // exchange in its current state.
  bool on_request(const InboundMessage& request, bool natt, TimePoint now);
  // The peer sent its last request again: the same answer again, to where the answer went the
  // first time (RFC 7296 §2.23: a replay from elsewhere is not reflected, nor moves anything).
  void resend_response();
  void on_retransmit_timer(TimePoint now);

  // Ends the SA: CHILD SAs and the IKE SA are reported deleted, timers cancelled.
  void close(DeleteReason reason);

 private:
  std::vector<std::unique_ptr<Task>> passive_tasks(const InboundMessage& request, TimePoint now);
  // daemon.limits.rekeys_per_minute: records the peer's rekey at `now`, or says it is one too many.
  bool admit_peer_rekey(TimePoint now);
  std::optional<std::vector<Datagram>> encode(const OutboundMessage& message, bool natt);
  // `only`: the index of the one task that builds this message (a later IKE_AUTH round).
  void send_request(TimePoint now, std::optional<std::size_t> only = std::nullopt);
  void flush_one_shots();
  void queue_follow_ups();
  Output& out() { return *ctx_.out; }

  IkeSaContext& ctx_;
  RequestWindow requests_;
  ResponseWindow responses_;
  // A vector, not a deque: a few tasks at most, and an empty std::deque already holds a
  // 576-byte block (libstdc++), per IKE SA.
  std::vector<std::unique_ptr<Task>> queued_;
  std::vector<std::unique_ptr<Task>> active_;  // the tasks of our request in flight
  iana::ExchangeType active_exchange_ = iana::ExchangeType::IkeSaInit;
  // Responder: the IKE_AUTH tasks while EAP takes more rounds (RFC 7296 §2.16).
  std::vector<std::unique_ptr<Task>> auth_tasks_;
  // Responder: the first IKE_AUTH request while EAP runs; the tasks after authentication (CP,
  // CHILD SA) read it only once the last round has authenticated the peer.
  // Behind a pointer: 96 bytes inline in every IKE SA, used only by EAP rounds.
  std::unique_ptr<InboundMessage> first_auth_request_;
  ExchangeCounters counters_;
};

}  // namespace natgate::ike
