#include "gateway/core/profile_registry.h"

#include <algorithm>

#include "ike/auth/identity_match.h"

namespace natgate::gateway::core {

namespace {

// 2: the configured address is the peer's; 1: the connection accepts any address; 0: no match.
int address_match(const ConnectionProfile& p, const IpAddress& peer) {
  if (p.config.remote.accepts_any_address()) return 1;
  return *p.config.remote.address == peer ? 2 : 0;
}

// The IKE_SA_INIT parameters for a peer that may belong to any of `candidates` (best address
// match first, then config order): the first one's settings, and the proposals of all of them
// in that order, so that each connection's peers find their own proposal (RFC 7296 §2.7; a
// suite is always chosen from one proposal, hence from one connection). IKE_AUTH then checks
// that the connection the peer's identity selects accepts the suite (PeerConfig::ike_proposals).
std::shared_ptr<const ike::IkeSaConfig> merged(const std::vector<const ConnectionProfile*>& candidates) {
  if (candidates.empty()) return nullptr;
  if (candidates.size() == 1) return candidates.front()->ike;
  auto out = std::make_shared<ike::IkeSaConfig>(*candidates.front()->ike);
  for (const auto* p : candidates) {
    for (const auto& spec : p->ike->proposals)
      if (std::find(out->proposals.begin(), out->proposals.end(), spec) == out->proposals.end())
        out->proposals.push_back(spec);
    // CERTREQ (§3.7): the first candidate that checks certificates names its CAs.
    if (!out->certificate_request) out->certificate_request = p->ike->certificate_request;
  }
  return out;
}

}  // namespace

void ProfileRegistry::assign(std::vector<std::shared_ptr<const ConnectionProfile>> in_order) {
  profiles_ = std::move(in_order);
  own_key_configs_.clear();
  // The union for every distinct peer address, computed once: IKE_SA_INIT is answered on the
  // unauthenticated path and must not allocate per request.
  ike_by_address_.clear();
  std::vector<const ConnectionProfile*> any;
  for (const auto& p : profiles_)
    if (p->config.remote.accepts_any_address()) any.push_back(p.get());
  ike_for_any_ = merged(any);
  for (const auto& p : profiles_) {
    if (p->config.remote.accepts_any_address()) continue;
    const IpAddress& address = *p->config.remote.address;
    if (ike_by_address_.contains(address)) continue;
    std::vector<const ConnectionProfile*> candidates;
    for (const auto& q : profiles_)
      if (!q->config.remote.accepts_any_address() && *q->config.remote.address == address)
        candidates.push_back(q.get());
    candidates.insert(candidates.end(), any.begin(), any.end());
    ike_by_address_.emplace(address, merged(candidates));
  }
}

std::shared_ptr<const ConnectionProfile> ProfileRegistry::find(const std::string& name) const {
  for (const auto& p : profiles_)
    if (p->config.name == name) return p;
  return nullptr;
}

std::shared_ptr<const ike::IkeSaConfig> ProfileRegistry::ike_config(const Endpoint&,
                                                                    const Endpoint& remote) const {
  if (auto it = ike_by_address_.find(remote.address); it != ike_by_address_.end()) return it->second;
  return ike_for_any_;
}

std::shared_ptr<const ike::PeerConfig> ProfileRegistry::peer_config(
    const ike::Identity& peer_id, const std::optional<ike::Identity>& wanted_local_id, const Endpoint&,
    const Endpoint& remote) const {
  const ConnectionProfile* best = nullptr;
  int best_score = 0;
  for (const auto& p : profiles_) {
    // A connection naming this identity beats one whose pattern matches it ("*@example.net"),
    // which beats one that accepts any identity.
    const bool named = p->peer->remote_id.has_value();
    if (named && !ike::identity_matches(*p->peer->remote_id, peer_id)) continue;
    const bool pattern =
        named && ike::identity_has_wildcard(p->peer->remote_id->type, p->peer->remote_id->data);
    // §3.5: IDr in IKE_AUTH names whom the initiator wants to talk to.
    if (wanted_local_id && *wanted_local_id != p->peer->local_id) continue;
    int score = address_match(*p, remote.address);
    if (score == 0) continue;
    score += pattern ? 2 : named ? 4 : 0;
    if (score > best_score) {
      best = p.get();
      best_score = score;
    }
  }
  if (!best) return nullptr;
  // The connection's own config, shared by all its SAs: the IKE SA keeps the peer's identity
  // itself (IkeSaContext::remote_id), so a connection that accepts any identity needs no copy
  // per peer (that copy was ~700 bytes per road warrior, docs/performance.md).
  auto own_key = identity_secrets_.find(peer_id);
  if (own_key == identity_secrets_.end()) return best->peer;
  // A peer with a key of its own: the connection's config with that key, made once per
  // (connection, identity) and shared by that identity's SAs.
  auto& slot = own_key_configs_[{best, peer_id}];
  if (!slot) {
    auto peer = std::make_shared<ike::PeerConfig>(*best->peer);
    peer->remote_id = peer_id;
    peer->psk = own_key->second;
    slot = std::move(peer);
  }
  return slot;
}

}  // namespace natgate::gateway::core
