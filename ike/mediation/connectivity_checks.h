// One check list: the connectivity checks between the two peers of one ME_CONNECT
// (draft-brunner-ikev2-mediation-00, connectivity checks; the pacing, retransmission and
// nomination rules as strongSwan 5.9.8 applies them, docs/mediation.md "How mediation works").
//
//  - One check every 25 ms per check list (ICE's Ta): a triggered check if one is queued, else the
//    highest-priority pair still Waiting. When neither exists the pacer stops until a check is
//    triggered.
//  - A check that got no answer is retransmitted; the wait before retransmission n is 25 ms for
//    n <= 2 and 25 ms * 1.8^(n-2) after that. 13 retransmissions, then the pair fails (65 s after
//    the first send).
//  - A valid request from the peer is answered at once and triggers a check on the pair it
//    arrived on (the reverse direction, RFC 5245 §7.2.1.4); a pair still in progress stops its
//    own retransmissions first. A request from an address we did not know adds a peer-reflexive
//    remote candidate and, when no pair fits, a new pair.
//  - A response whose Message ID names one of our pairs and that came back on that pair's path
//    makes the pair Succeeded; the address the peer saw becomes a local peer-reflexive candidate.
//  - The initiator (the controlling side) nominates: 1 s after a pair had succeeded and none was
//    Waiting any more, or as soon as none is Waiting or In progress, it picks the highest-priority
//    Succeeded pair and the check list ends. The responder never decides; it answers until the
//    mediated IKE SA arrives with this list's ME_CONNECTID (stop()).
//
// Sans-I/O: the caller feeds parsed checks and the clock, and sends what comes out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/endpoint_pair.h"
#include "common/secret_bytes.h"
#include "ike/exchange/time.h"
#include "ike/mediation/candidates.h"
#include "ike/mediation/check_message.h"

namespace natgate::ike::mediation {

struct CheckTiming {
  Duration interval{25};    // pacing between new checks, and the first RTOs
  std::uint32_t boost = 2;  // retransmissions sent at `interval`
  double backoff = 1.8;     // then interval * backoff^(n - boost)
  std::uint32_t max_retransmissions = 13;
  Duration wait_to_finish{1000};  // initiator: after the first success, wait for better pairs
};
// The RTO before retransmission n (1-based) of a check.
Duration retransmission_timeout(const CheckTiming& timing, std::uint32_t n);

struct ChecklistConfig {
  bool initiator = false;  // the side that sent the first ME_CONNECT: it nominates
  Bytes connect_id;
  SecretBytes our_key;   // signs what we send
  SecretBytes peer_key;  // verifies what the peer sends
  std::vector<Candidate> local;
  std::vector<Candidate> remote;
  CheckTiming timing;
  std::size_t max_pairs = kMaxPairs;
};

enum class PairState : std::uint8_t { Waiting, InProgress, Succeeded, Failed };
enum class ChecklistState : std::uint8_t { Waiting, InProgress, Succeeded, Failed };
const char* to_string(PairState state);
const char* to_string(ChecklistState state);

struct PairStatus {
  CandidatePair pair;
  PairState state = PairState::Waiting;
  std::uint32_t retransmitted = 0;
};

struct SendCheck {
  EndpointPair path;  // local: the source to send from; remote: the destination
  Bytes datagram;     // the encoded IKE message (non-ESP marker added by the transport on 4500)
};

// The initiator's decision, or why there is none.
struct Nomination {
  std::optional<CandidatePair> pair;  // the pair the mediated IKE SA is to use
  std::string reason;  // "pair 3 10.0.0.2:4500 - 198.51.100.7:4500 succeeded", "all 4 pairs failed"
};

struct ChecksOutput {
  std::vector<SendCheck> sends;
  std::optional<Nomination> finished;  // initiator only, once
};

struct ChecklistCounters {
  std::uint64_t checks_sent = 0;
  std::uint64_t retransmissions = 0;
  std::uint64_t responses_sent = 0;
  std::uint64_t bad_auth = 0;      // ME_CONNECTAUTH did not verify: dropped
  std::uint64_t unknown_pair = 0;  // a response for no pair of ours
  std::uint64_t pair_limit = 0;    // a request that would have needed a pair beyond max_pairs
  std::uint64_t after_finish = 0;  // checks that arrived after the check list ended
};

class ConnectivityChecks {
 public:
  explicit ConnectivityChecks(ChecklistConfig config);

  // Forms the pairs and sends the first check at once.
  ChecksOutput start(TimePoint now);
  // Whatever is due at `now`: the next paced check, retransmissions, the initiator's deadline.
  ChecksOutput on_timer(TimePoint now);
  // A check that parse_check accepted, received on `path` (local: our address it arrived on,
  // remote: its source). Checks for another connect ID or with a bad signature are dropped and
  // counted as bad_auth.
  ChecksOutput on_check(const Check& check, const EndpointPair& path, TimePoint now);

  // The responder's end: the mediated IKE_SA_INIT carried this list's ME_CONNECTID. Nothing is
  // sent or answered afterwards.
  void stop();

  std::optional<TimePoint> next_deadline() const;
  ChecklistState state() const { return state_; }
  bool finished() const { return finished_; }
  // Highest-priority Succeeded pair so far (what the initiator would nominate now).
  std::optional<CandidatePair> best_valid_pair() const;
  std::vector<PairStatus> pairs() const;  // highest priority first
  const std::vector<Candidate>& local_candidates() const { return config_.local; }
  const std::vector<Candidate>& remote_candidates() const { return config_.remote; }
  const ChecklistCounters& counters() const { return counters_; }
  const Bytes& connect_id() const { return config_.connect_id; }

 private:
  struct Slot {
    PairStatus status;
    Bytes request;  // the last request sent, resent verbatim
    std::optional<TimePoint> retransmit_at;
  };

  Slot* find_by_id(std::uint32_t id);
  Slot* find_by_path(const EndpointPair& path);
  void insert_by_priority(Slot slot);
  void send_request(Slot& slot, TimePoint now, ChecksOutput& out);
  void pace(TimePoint now, ChecksOutput& out);
  void retransmit(Slot& slot, TimePoint now, ChecksOutput& out);
  void queue_triggered(Slot& slot, TimePoint now);
  void on_request(const Check& check, const EndpointPair& path, TimePoint now, ChecksOutput& out);
  void on_response(const Check& check, const EndpointPair& path, TimePoint now, ChecksOutput& out);
  void update_state(TimePoint now, ChecksOutput& out);
  void finish(ChecksOutput& out);

  ChecklistConfig config_;
  std::vector<Slot> slots_;  // highest priority first
  std::deque<std::uint32_t> triggered_;
  std::optional<TimePoint> pace_at_;
  std::optional<TimePoint> finish_at_;
  ChecklistState state_ = ChecklistState::Waiting;
  bool finishing_ = false;
  bool finished_ = false;
  ChecklistCounters counters_;
};

}  // namespace natgate::ike::mediation
