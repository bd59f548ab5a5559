#include "ike/mediation/mediation_registry.h"

#include <algorithm>

#include "common/log_escape.h"

namespace natgate::ike::mediation {
namespace {

constexpr Duration kSweepInterval{60'000};

template <typename Map, typename Key>
TokenBucket& bucket_for(Map& buckets, const Key& key, std::uint32_t burst, Duration refill, TimePoint now) {
  auto it = buckets.find(key);
  if (it == buckets.end()) it = buckets.emplace(key, TokenBucket(burst, refill, now)).first;
  return it->second;
}

}  // namespace

std::string PeerId::to_string() const {
  return std::to_string(static_cast<unsigned>(type)) + ":" + escape_for_log(ByteView(data));
}

std::vector<Forward> MediationRegistry::peer_online(const PeerId& id, SaHandle sa,
                                                    std::optional<Endpoint> server_reflexive) {
  Peer& peer = peers_[id];
  if (peer.sa) by_sa_.erase(*peer.sa);  // a newer mediation SA of the same identity replaces it
  peer.sa = sa;
  peer.server_reflexive = server_reflexive;
  by_sa_[sa] = id;

  std::vector<Forward> callbacks;
  for (const PeerId& requester : peer.waiting) {
    auto it = peers_.find(requester);
    if (it == peers_.end() || !it->second.sa) continue;  // went offline meanwhile
    callbacks.push_back(Forward{*it->second.sa, make_callback(id.to_id_peer())});
    ++counters_.callbacks_sent;
  }
  peer.waiting.clear();
  return callbacks;
}

void MediationRegistry::peer_offline(SaHandle sa) {
  auto at = by_sa_.find(sa);
  if (at == by_sa_.end()) return;
  PeerId id = at->second;
  by_sa_.erase(at);
  // Nobody is to call it back any more; drop entries that hold nothing else.
  for (auto it = peers_.begin(); it != peers_.end();) {
    auto& waiting = it->second.waiting;
    waiting.erase(std::remove(waiting.begin(), waiting.end(), id), waiting.end());
    bool is_it = it->first == id;
    if (is_it) {
      it->second.sa.reset();
      it->second.server_reflexive.reset();
    }
    if (!it->second.sa && it->second.waiting.empty()) {
      it = peers_.erase(it);
    } else {
      ++it;
    }
  }
}

bool MediationRegistry::online(const PeerId& id) const {
  auto it = peers_.find(id);
  return it != peers_.end() && it->second.sa;
}

std::optional<PeerId> MediationRegistry::peer_of(SaHandle sa) const {
  auto it = by_sa_.find(sa);
  if (it == by_sa_.end()) return std::nullopt;
  return it->second;
}

std::optional<Endpoint> MediationRegistry::server_reflexive(const PeerId& id) const {
  auto it = peers_.find(id);
  if (it == peers_.end()) return std::nullopt;
  return it->second.server_reflexive;
}

std::size_t MediationRegistry::waits_of(const PeerId& requester) const {
  std::size_t n = 0;
  for (const auto& [target, peer] : peers_)
    n += static_cast<std::size_t>(std::count(peer.waiting.begin(), peer.waiting.end(), requester));
  return n;
}

void MediationRegistry::forget_idle_buckets(TimePoint now) {
  if (last_sweep_ && now - *last_sweep_ < kSweepInterval) return;
  last_sweep_ = now;
  std::erase_if(sender_buckets_, [&](auto& entry) { return entry.second.full(now); });
  std::erase_if(pair_buckets_, [&](auto& entry) { return entry.second.full(now); });
}

ConnectDecision MediationRegistry::on_me_connect(SaHandle from, const std::vector<Payload>& payloads,
                                                 TimePoint now) {
  forget_idle_buckets(now);
  auto sender_at = by_sa_.find(from);
  if (sender_at == by_sa_.end()) {
    ++counters_.unknown_sender;
    return Refuse{me_notify::kConnectFailed, "ME_CONNECT on an IKE SA that is not a registered peer"};
  }
  const PeerId sender = sender_at->second;

  auto request = parse_me_connect(payloads, Reader::Server, decode_counters_);
  if (!request) {
    ++counters_.invalid;
    return Refuse{iana::NotifyType::InvalidSyntax, to_string(request.error())};
  }
  if (!bucket_for(sender_buckets_, sender, limits_.sender_burst, limits_.sender_refill, now).take(now)) {
    ++counters_.sender_limited;
    return Refuse{me_notify::kConnectFailed, "rate limit: too many ME_CONNECTs from " + sender.to_string()};
  }

  PeerId target = PeerId::of(request->peer);
  auto target_at = peers_.find(target);
  if (target_at == peers_.end() || !target_at->second.sa) {
    ++counters_.target_offline;
    if (request->callback && target != sender) {
      Peer& waiting_for = peers_[target];
      bool already = std::find(waiting_for.waiting.begin(), waiting_for.waiting.end(), sender) !=
                     waiting_for.waiting.end();
      if (already) {
        // nothing to add
      } else if (waiting_for.waiting.size() >= limits_.max_waiting_per_target ||
                 waits_of(sender) >= limits_.max_waits_per_requester) {
        ++counters_.callbacks_dropped;
      } else {
        waiting_for.waiting.push_back(sender);
      }
      if (!waiting_for.sa && waiting_for.waiting.empty()) peers_.erase(target);
    }
    return Refuse{me_notify::kConnectFailed, "peer " + target.to_string() + " is not online"};
  }
  if (!bucket_for(pair_buckets_, PairKey{sender, target}, limits_.pair_burst, limits_.pair_refill, now)
           .take(now)) {
    ++counters_.pair_limited;
    return Refuse{me_notify::kConnectFailed, "rate limit: too many ME_CONNECTs from " + sender.to_string() +
                                                 " to " + target.to_string()};
  }

  MeConnect forwarded = std::move(*request);
  forwarded.peer = sender.to_id_peer();  // the target learns who asks
  forwarded.callback = false;
  ++counters_.forwarded;
  return Forward{*target_at->second.sa, std::move(forwarded)};
}

}  // namespace natgate::ike::mediation
