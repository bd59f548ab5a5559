#include "ike/mediation/connectivity_checks.h"

#include <algorithm>
#include <cmath>

#include "ike/codec/message_codec.h"

namespace natgate::ike::mediation {
namespace {

bool has_address(const std::vector<Candidate>& list, const Endpoint& address) {
  return std::any_of(list.begin(), list.end(), [&](const Candidate& c) { return c.address == address; });
}

const Candidate* by_address(const std::vector<Candidate>& list, const Endpoint& address) {
  auto it = std::find_if(list.begin(), list.end(), [&](const Candidate& c) { return c.address == address; });
  return it == list.end() ? nullptr : &*it;
}

std::string describe_pair(const CandidatePair& p) {
  return "pair " + std::to_string(p.id) + " " + p.path.local.to_string() + " - " + p.path.remote.to_string();
}

}  // namespace

Duration retransmission_timeout(const CheckTiming& t, std::uint32_t n) {
  if (n <= t.boost) return t.interval;
  double ms = static_cast<double>(t.interval.count()) * std::pow(t.backoff, static_cast<double>(n - t.boost));
  return Duration(static_cast<Duration::rep>(ms));  // truncated, as strongSwan does
}

const char* to_string(PairState s) {
  switch (s) {
    case PairState::Waiting:
      return "waiting";
    case PairState::InProgress:
      return "in progress";
    case PairState::Succeeded:
      return "succeeded";
    case PairState::Failed:
      return "failed";
  }
  return "?";
}

const char* to_string(ChecklistState s) {
  switch (s) {
    case ChecklistState::Waiting:
      return "waiting";
    case ChecklistState::InProgress:
      return "in progress";
    case ChecklistState::Succeeded:
      return "succeeded";
    case ChecklistState::Failed:
      return "failed";
  }
  return "?";
}

ConnectivityChecks::ConnectivityChecks(ChecklistConfig config) : config_(std::move(config)) {
  if (config_.local.size() > kMaxCandidates) config_.local.resize(kMaxCandidates);
  if (config_.remote.size() > kMaxCandidates) config_.remote.resize(kMaxCandidates);
}

ChecksOutput ConnectivityChecks::start(TimePoint now) {
  ChecksOutput out;
  for (const CandidatePair& p :
       form_pairs(config_.local, config_.remote, config_.initiator, config_.max_pairs))
    slots_.push_back(Slot{PairStatus{p, PairState::Waiting, 0}, {}, std::nullopt});
  if (slots_.empty()) {
    state_ = ChecklistState::Failed;
    finish(out);
    return out;
  }
  pace(now, out);  // the first check leaves at once
  return out;
}

std::vector<PairStatus> ConnectivityChecks::pairs() const {
  std::vector<PairStatus> out;
  out.reserve(slots_.size());
  for (const Slot& s : slots_) out.push_back(s.status);
  return out;
}

std::optional<CandidatePair> ConnectivityChecks::best_valid_pair() const {
  for (const Slot& s : slots_)
    if (s.status.state == PairState::Succeeded) return s.status.pair;
  return std::nullopt;
}

std::optional<TimePoint> ConnectivityChecks::next_deadline() const {
  if (finished_) return std::nullopt;
  std::optional<TimePoint> next = pace_at_;
  auto consider = [&](const std::optional<TimePoint>& t) {
    if (t && (!next || *t < *next)) next = t;
  };
  consider(finish_at_);
  for (const Slot& s : slots_) consider(s.retransmit_at);
  return next;
}

ConnectivityChecks::Slot* ConnectivityChecks::find_by_id(std::uint32_t id) {
  for (Slot& s : slots_)
    if (s.status.pair.id == id) return &s;
  return nullptr;
}

ConnectivityChecks::Slot* ConnectivityChecks::find_by_path(const EndpointPair& path) {
  for (Slot& s : slots_)
    if (s.status.pair.path == path) return &s;
  return nullptr;
}

void ConnectivityChecks::insert_by_priority(Slot slot) {
  // After every pair of equal or higher priority, like the initial ordering.
  auto it = std::find_if(slots_.begin(), slots_.end(),
                         [&](const Slot& s) { return s.status.pair.priority < slot.status.pair.priority; });
  slots_.insert(it, std::move(slot));
}

void ConnectivityChecks::send_request(Slot& slot, TimePoint now, ChecksOutput& out) {
  // The request's ME_ENDPOINT is PEER_REFLEXIVE without an address, at that type's priority.
  MeEndpoint endpoint{candidate_priority(MeEndpointType::PeerReflexive, kTopLocalPreference),
                      MeEndpointType::PeerReflexive, std::nullopt};
  slot.request =
      encode_message(build_check(true, slot.status.pair.id, config_.connect_id, endpoint, config_.our_key));
  slot.status.state = PairState::InProgress;
  slot.status.retransmitted = 0;
  slot.retransmit_at = now + retransmission_timeout(config_.timing, 1);
  out.sends.push_back({slot.status.pair.path, slot.request});
  ++counters_.checks_sent;
}

void ConnectivityChecks::pace(TimePoint now, ChecksOutput& out) {
  pace_at_.reset();
  Slot* next = nullptr;
  while (!triggered_.empty() && !next) {
    Slot* s = find_by_id(triggered_.front());
    triggered_.pop_front();
    if (s && s->status.state == PairState::Waiting) next = s;
  }
  if (!next) {
    auto it = std::find_if(slots_.begin(), slots_.end(),
                           [](const Slot& s) { return s.status.state == PairState::Waiting; });
    if (it == slots_.end()) return;  // idle until a check is triggered
    next = &*it;
  }
  send_request(*next, now, out);
  pace_at_ = now + config_.timing.interval;
}

void ConnectivityChecks::retransmit(Slot& slot, TimePoint now, ChecksOutput& out) {
  slot.retransmit_at.reset();
  if (slot.status.state != PairState::InProgress) return;
  if (++slot.status.retransmitted > config_.timing.max_retransmissions) {
    slot.status.state = PairState::Failed;
    return;
  }
  out.sends.push_back({slot.status.pair.path, slot.request});
  ++counters_.retransmissions;
  slot.retransmit_at = now + retransmission_timeout(config_.timing, slot.status.retransmitted + 1);
}

void ConnectivityChecks::queue_triggered(Slot& slot, TimePoint now) {
  slot.status.state = PairState::Waiting;
  triggered_.push_back(slot.status.pair.id);
  if (!pace_at_) pace_at_ = now + config_.timing.interval;
}

ChecksOutput ConnectivityChecks::on_timer(TimePoint now) {
  ChecksOutput out;
  if (finished_) return out;
  bool any = false;
  for (Slot& s : slots_) {
    if (s.retransmit_at && *s.retransmit_at <= now) {
      retransmit(s, now, out);
      any = true;
    }
  }
  if (pace_at_ && *pace_at_ <= now) {
    pace(now, out);
    any = true;
  }
  if (any) update_state(now, out);
  if (!finished_ && finish_at_ && *finish_at_ <= now) finish(out);
  return out;
}

ChecksOutput ConnectivityChecks::on_check(const Check& check, const EndpointPair& path, TimePoint now) {
  ChecksOutput out;
  if (finished_) {
    ++counters_.after_finish;
    return out;
  }
  if (check.connect_id != config_.connect_id || !verify_check(check, config_.peer_key)) {
    ++counters_.bad_auth;
    return out;
  }
  if (check.request) {
    on_request(check, path, now, out);
  } else {
    on_response(check, path, now, out);
  }
  return out;
}

void ConnectivityChecks::on_request(const Check& check, const EndpointPair& path, TimePoint now,
                                    ChecksOutput& out) {
  // RFC 5245 §7.2.1.3: a source we did not know is a peer-reflexive candidate of the peer, with the
  // priority its request carried.
  Candidate learnt{MeEndpointType::PeerReflexive, path.remote, path.remote, check.endpoint.priority};
  if (!has_address(config_.remote, path.remote) && config_.remote.size() < kMaxCandidates)
    config_.remote.push_back(learnt);
  const Candidate* remote = by_address(config_.remote, path.remote);
  if (!remote) remote = &learnt;

  if (Slot* slot = find_by_path(path)) {
    switch (slot->status.state) {
      case PairState::InProgress:
        slot->status.retransmitted = config_.timing.max_retransmissions;  // the triggered check replaces it
        [[fallthrough]];
      case PairState::Waiting:
      case PairState::Failed:
        queue_triggered(*slot, now);
        break;
      case PairState::Succeeded:
        break;
    }
  } else if (slots_.size() >= config_.max_pairs) {
    ++counters_.pair_limit;
  } else {
    // RFC 5245 §7.2.1.4: a pair for the path the request came in on, our end as a host candidate.
    std::uint32_t local_priority = candidate_priority(MeEndpointType::Host, kTopLocalPreference);
    std::uint64_t prio = config_.initiator ? pair_priority(local_priority, remote->priority)
                                           : pair_priority(remote->priority, local_priority);
    auto id = static_cast<std::uint32_t>(slots_.size() + 1);
    insert_by_priority(
        Slot{PairStatus{CandidatePair{id, prio, path}, PairState::Waiting, 0}, {}, std::nullopt});
    queue_triggered(*find_by_id(id), now);
  }

  MeEndpoint seen{check.endpoint.priority, MeEndpointType::PeerReflexive, path.remote};
  out.sends.push_back({path, encode_message(build_check(false, check.message_id, config_.connect_id, seen,
                                                        config_.our_key))});
  ++counters_.responses_sent;
}

void ConnectivityChecks::on_response(const Check& check, const EndpointPair& path, TimePoint now,
                                     ChecksOutput& out) {
  Slot* slot = find_by_id(check.message_id);
  if (!slot) {
    ++counters_.unknown_pair;
    return;
  }
  // Valid only if it came back on the path the request took (RFC 5245 §7.1.2.2).
  if (slot->status.pair.path == path) {
    slot->status.state = PairState::Succeeded;
    slot->retransmit_at.reset();
  }
  // What the peer saw as our source is a local peer-reflexive candidate (RFC 5245 §7.1.2.2.1).
  if (check.endpoint.address && !has_address(config_.local, *check.endpoint.address) &&
      config_.local.size() < kMaxCandidates)
    config_.local.push_back({MeEndpointType::PeerReflexive, *check.endpoint.address,
                             slot->status.pair.path.local, check.endpoint.priority});
  update_state(now, out);
}

void ConnectivityChecks::update_state(TimePoint now, ChecksOutput& out) {
  bool in_progress = false;
  bool succeeded = false;
  for (const Slot& s : slots_) {
    if (s.status.state == PairState::Waiting) return;  // the list is still waiting
    in_progress |= s.status.state == PairState::InProgress;
    succeeded |= s.status.state == PairState::Succeeded;
  }
  if (config_.initiator && succeeded && !finishing_) {
    finishing_ = true;  // give better pairs still in progress a last chance
    finish_at_ = now + config_.timing.wait_to_finish;
  }
  state_ = in_progress ? ChecklistState::InProgress
           : succeeded ? ChecklistState::Succeeded
                       : ChecklistState::Failed;
  if (state_ != ChecklistState::InProgress) finish(out);
}

void ConnectivityChecks::stop() {
  finished_ = true;
  pace_at_.reset();
  finish_at_.reset();
  triggered_.clear();
  for (Slot& s : slots_) s.retransmit_at.reset();
}

void ConnectivityChecks::finish(ChecksOutput& out) {
  if (!config_.initiator || finished_) return;
  stop();
  Nomination n;
  n.pair = best_valid_pair();
  if (n.pair) {
    n.reason = describe_pair(*n.pair) + " succeeded";
    state_ = ChecklistState::Succeeded;
  } else if (slots_.empty()) {
    n.reason = "no candidate pairs (no address family in common)";
  } else {
    n.reason = "all " + std::to_string(slots_.size()) + " pairs failed";
  }
  out.finished = std::move(n);
}

}  // namespace natgate::ike::mediation
