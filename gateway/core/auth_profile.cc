#include "gateway/core/auth_profile.h"

#include <map>
#include <string>

#include "ike/auth/mschapv2.h"

namespace natgate::gateway::core {

namespace {

ike::AuthKind to_kind(AuthMode m) {
  switch (m) {
    case AuthMode::Psk:
      return ike::AuthKind::Psk;
    case AuthMode::Pubkey:
      return ike::AuthKind::PublicKey;
    case AuthMode::EapMschapv2:
      return ike::AuthKind::EapMschapv2;
    case AuthMode::EapTls:
      return ike::AuthKind::EapTls;
  }
  return ike::AuthKind::Psk;
}

std::string as_text(const SecretBytes& s) {
  return std::string(reinterpret_cast<const char*>(s.view().data()), s.view().size());
}

}  // namespace

Expected<std::shared_ptr<const ike::AuthConfig>> build_auth_config(const Config& config,
                                                                   const ConnectionConfig& c) {
  auto a = std::make_shared<ike::AuthConfig>();
  a->local = to_kind(local_auth_mode(c.auth, c.local.auth));
  a->remote = to_kind(remote_auth_mode(c.auth, c.local.auth, c.remote.auth));
  a->allow_sha1 = c.remote.auth.allow_sha1;
  if (a->local == ike::AuthKind::Psk && a->remote == ike::AuthKind::Psk)
    return std::shared_ptr<const ike::AuthConfig>();
  const std::string& name = c.name;

  if (c.local.auth.cert) {
    auto certs = ike::X509Certificate::load_file(*c.local.auth.cert);
    if (!certs) return unexpected(name + ": local.cert: " + certs.error());
    ike::CertificateChain chain{certs->front(), {}};
    chain.chain.assign(certs->begin() + 1, certs->end());
    a->certificate = std::move(chain);
  }
  if (c.local.auth.key) {
    auto key = ike::PrivateKey::load_file(*c.local.auth.key);
    if (!key) return unexpected(name + ": local.key: " + key.error());
    a->key = std::move(*key);
  }

  auto trust = std::make_shared<ike::TrustStore>();
  // Errors returned from inside the loops are appended into one string, no temporary per `+`.
  for (const auto* files : {&config.daemon.trust, &c.remote.auth.trust}) {
    for (const auto& f : files->ca)
      if (Status s = trust->add_ca_file(f); !s)
        return unexpected(std::string(name).append(": CA ").append(f).append(": ").append(s.error()));
    for (const auto& f : files->crl)
      if (Status s = trust->add_crl_file(f); !s)
        return unexpected(std::string(name).append(": CRL ").append(f).append(": ").append(s.error()));
  }
  a->trust = std::move(trust);

  // EAP-MSCHAPv2 server: only NT hashes stay in memory (RFC 2759 §8.3), not the passwords.
  if (a->remote == ike::AuthKind::EapMschapv2) {
    auto hashes = std::make_shared<std::map<std::string, SecretBytes, std::less<>>>();
    for (const auto& [user, password] : config.eap_users) {
      auto h = ike::mschapv2::nt_password_hash(as_text(password));
      if (!h)
        return unexpected(
            std::string(name).append(": eap_users.").append(user).append(": ").append(h.error()));
      hashes->emplace(user, std::move(*h));
    }
    a->eap_user_hash = [hashes](std::string_view user) -> std::optional<SecretBytes> {
      // MS-CHAPv2 names may come as DOMAIN\user (RFC 2759 §4); the config lists plain names.
      auto it = hashes->find(user);
      if (it == hashes->end()) {
        auto slash = user.rfind('\\');
        if (slash != std::string_view::npos) it = hashes->find(user.substr(slash + 1));
      }
      if (it == hashes->end()) return std::nullopt;
      return it->second;
    };
  }
  if (c.local.auth.eap_id) {
    a->eap_identity = *c.local.auth.eap_id;
    auto it = config.eap_users.find(*c.local.auth.eap_id);
    if (a->local == ike::AuthKind::EapMschapv2) {
      if (it == config.eap_users.end())
        return unexpected(name + ": no password for EAP identity " + a->eap_identity);
      a->eap_password = it->second;
    }
  }
  return std::shared_ptr<const ike::AuthConfig>(std::move(a));
}

}  // namespace natgate::gateway::core
