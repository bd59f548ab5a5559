// The connections natgated knows, as ConnectionProfiles, and the responder's lookup over them
// (ike::ConfigProvider): by the peer's address when IKE_SA_INIT arrives, by its identity in
// IKE_AUTH (RFC 7296 §2.15). A connection with `remote.address: any` matches every address; one
// with an address matches only that one and is preferred. IKE_SA_INIT offers the union of the
// IKE proposals of every connection the address matches (the best match's first); IKE_AUTH
// refuses a peer whose connection does not accept the suite so chosen.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gateway/core/connection_profile.h"
#include "ike/exchange/config.h"

namespace natgate::gateway::core {

class ProfileRegistry final : public ike::ConfigProvider {
 public:
  // Replaces every profile (start, reload); `in_order` is the config file's order.
  void assign(std::vector<std::shared_ptr<const ConnectionProfile>> in_order);
  // Keys of single peer identities (secrets with an id): a connection that accepts any identity
  // authenticates each peer with its own key when there is one (else with the connection's).
  void set_identity_secrets(std::map<ike::Identity, SecretBytes> secrets) {
    identity_secrets_ = std::move(secrets);
    own_key_configs_.clear();
  }
  std::shared_ptr<const ConnectionProfile> find(const std::string& name) const;
  const std::vector<std::shared_ptr<const ConnectionProfile>>& all() const { return profiles_; }

  std::shared_ptr<const ike::IkeSaConfig> ike_config(const Endpoint& local,
                                                     const Endpoint& remote) const override;
  std::shared_ptr<const ike::PeerConfig> peer_config(const ike::Identity& peer_id,
                                                     const std::optional<ike::Identity>& wanted_local_id,
                                                     const Endpoint& local,
                                                     const Endpoint& remote) const override;

 private:
  std::vector<std::shared_ptr<const ConnectionProfile>> profiles_;
  std::map<ike::Identity, SecretBytes> identity_secrets_;
  // The PeerConfigs of identities with keys of their own, by (connection, identity): at most one
  // per configured identity and connection, built on first use (peer_config is const).
  mutable std::map<std::pair<const ConnectionProfile*, ike::Identity>, std::shared_ptr<const ike::PeerConfig>>
      own_key_configs_;
  // IKE_SA_INIT parameters: per peer address named by some connection, and for all others.
  std::map<IpAddress, std::shared_ptr<const ike::IkeSaConfig>> ike_by_address_;
  std::shared_ptr<const ike::IkeSaConfig> ike_for_any_;
};

}  // namespace natgate::gateway::core
