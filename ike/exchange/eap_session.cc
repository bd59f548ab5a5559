#include "ike/exchange/eap_session.h"

#include "ike/auth/eap_mschapv2_client.h"
#include "ike/auth/eap_mschapv2_server.h"
#include "ike/auth/eap_tls.h"
#include "ike/exchange/eap_identity.h"

namespace natgate::ike {

namespace {

class MschapServer final : public EapSession {
 public:
  MschapServer(const AuthConfig& config, crypto::RandomSource& random, const Identity& peer_id)
      : server_(config.eap_user_hash, random,
                EapMschapv2Server::Config{config.eap_ask_identity, "natgate", "Welcome"}) {
    server_.restrict_names([peer_id](std::string_view name) { return eap_name_binds(name, peer_id); });
  }
  Eap start() override { return server_.start(); }
  eap::Step process(const Eap& packet) override { return server_.process(packet); }
  bool done() const override { return server_.done(); }
  const SecretBytes& msk() const override { return server_.msk(); }
  const std::string& failure_reason() const override { return server_.failure_reason(); }
  std::string user() const override { return server_.peer_name(); }

 private:
  EapMschapv2Server server_;
};

class MschapClient final : public EapSession {
 public:
  explicit MschapClient(EapMschapv2Client client) : client_(std::move(client)) {}
  Eap start() override { return eap::failure(0); }  // a client never starts
  eap::Step process(const Eap& packet) override { return client_.process(packet); }
  bool done() const override { return client_.done(); }
  const SecretBytes& msk() const override { return client_.msk(); }
  const std::string& failure_reason() const override { return client_.failure_reason(); }

 private:
  EapMschapv2Client client_;
};

class Tls final : public EapSession {
 public:
  explicit Tls(std::unique_ptr<EapTls> tls) : tls_(std::move(tls)) {}
  Eap start() override { return tls_->start(); }
  eap::Step process(const Eap& packet) override { return tls_->process(packet); }
  bool done() const override { return tls_->done(); }
  const SecretBytes& msk() const override { return tls_->msk(); }
  const std::string& failure_reason() const override { return tls_->failure_reason(); }
  std::optional<X509Certificate> peer_certificate() const override { return tls_->peer_certificate(); }

 private:
  std::unique_ptr<EapTls> tls_;
};

Expected<std::unique_ptr<EapSession>> make_tls(const AuthConfig& config, EapTls::Role role) {
  if (!config.certificate || !config.key)
    return unexpected(std::string("EAP-TLS needs our certificate and key"));
  if (!config.trust) return unexpected(std::string("EAP-TLS needs a CA trust store"));
  EapTlsConfig tls{config.certificate->end_entity,
                   config.certificate->chain,
                   *config.key,
                   config.trust,
                   config.wall_clock(),
                   1024,
                   config.eap_identity};
  auto session = EapTls::create(role, std::move(tls));
  if (!session) return unexpected(session.error());
  return std::unique_ptr<EapSession>(std::make_unique<Tls>(std::move(*session)));
}

}  // namespace

Expected<std::unique_ptr<EapSession>> EapSession::server(const AuthConfig& config,
                                                         crypto::RandomSource& random,
                                                         const Identity& peer_id) {
  switch (config.remote) {
    case AuthKind::EapMschapv2:
      if (!config.eap_user_hash)
        return unexpected(std::string("EAP-MSCHAPv2 without any EAP users configured"));
      return std::unique_ptr<EapSession>(std::make_unique<MschapServer>(config, random, peer_id));
    case AuthKind::EapTls:
      return make_tls(config, EapTls::Role::Server);
    default:
      return unexpected(std::string("the peer is not configured for EAP"));
  }
}

Expected<std::unique_ptr<EapSession>> EapSession::client(const AuthConfig& config,
                                                         crypto::RandomSource& random) {
  switch (config.local) {
    case AuthKind::EapMschapv2: {
      std::string_view password(reinterpret_cast<const char*>(config.eap_password.view().data()),
                                config.eap_password.view().size());
      auto client = EapMschapv2Client::create(config.eap_identity, password, random);
      if (!client) return unexpected(client.error());
      return std::unique_ptr<EapSession>(std::make_unique<MschapClient>(std::move(*client)));
    }
    case AuthKind::EapTls:
      return make_tls(config, EapTls::Role::Peer);
    default:
      return unexpected(std::string("we are not configured for EAP"));
  }
}

const char* to_string(AuthKind kind) {
  switch (kind) {
    case AuthKind::Psk:
      return "psk";
    case AuthKind::PublicKey:
      return "pubkey";
    case AuthKind::EapMschapv2:
      return "eap-mschapv2";
    case AuthKind::EapTls:
      return "eap-tls";
  }
  return "?";
}

}  // namespace natgate::ike
