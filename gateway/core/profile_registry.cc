#include "gateway/core/profile_registry.h"

namespace natgate::gateway::core {

namespace {

// 2: the configured address is the peer's; 1: the connection accepts any address; 0: no match.
int address_match(const ConnectionProfile& p, const IpAddress& peer) {
  if (p.config.remote.accepts_any_address()) return 1;
  return *p.config.remote.address == peer ? 2 : 0;
}

}  // namespace

void ProfileRegistry::assign(std::vector<std::shared_ptr<const ConnectionProfile>> in_order) {
  profiles_ = std::move(in_order);
}

std::shared_ptr<const ConnectionProfile> ProfileRegistry::find(const std::string& name) const {
  for (const auto& p : profiles_)
    if (p->config.name == name) return p;
  return nullptr;
}

std::shared_ptr<const ike::IkeSaConfig> ProfileRegistry::ike_config(const Endpoint&,
                                                                    const Endpoint& remote) const {
  const ConnectionProfile* best = nullptr;
  int best_score = 0;
  for (const auto& p : profiles_) {
    int score = address_match(*p, remote.address);
    if (score > best_score) {
      best = p.get();
      best_score = score;
    }
  }
  return best ? best->ike : nullptr;
}

std::shared_ptr<const ike::PeerConfig> ProfileRegistry::peer_config(
    const ike::Identity& peer_id, const std::optional<ike::Identity>& wanted_local_id, const Endpoint&,
    const Endpoint& remote) const {
  const ConnectionProfile* best = nullptr;
  int best_score = 0;
  for (const auto& p : profiles_) {
    // A connection naming this identity beats one that accepts any identity.
    const bool named = p->peer->remote_id.has_value();
    if (named && *p->peer->remote_id != peer_id) continue;
    // §3.5: IDr in IKE_AUTH names whom the initiator wants to talk to.
    if (wanted_local_id && *wanted_local_id != p->peer->local_id) continue;
    int score = address_match(*p, remote.address);
    if (score == 0) continue;
    score += named ? 4 : 0;
    if (score > best_score) {
      best = p.get();
      best_score = score;
    }
  }
  if (!best) return nullptr;
  auto own_key = identity_secrets_.find(peer_id);
  if (best->peer->remote_id && own_key == identity_secrets_.end()) return best->peer;
  // Any identity (or a peer with a key of its own): this peer's copy, naming it, with its key.
  auto peer = std::make_shared<ike::PeerConfig>(*best->peer);
  peer->remote_id = peer_id;
  if (own_key != identity_secrets_.end()) peer->psk = own_key->second;
  return peer;
}

}  // namespace natgate::gateway::core
