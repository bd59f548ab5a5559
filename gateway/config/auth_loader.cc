#include "gateway/config/auth_loader.h"

#include <openssl/crypto.h>

#include "gateway/config/config.h"
#include "gateway/config/secret_file_mode.h"
#include "ike/auth/identity_match.h"
#include "ike/auth/private_key.h"
#include "ike/auth/trust_store.h"
#include "ike/auth/x509_certificate.h"

namespace natgate::gateway {

namespace {
constexpr std::string_view kAuthModes = "psk | pubkey | eap-mschapv2 | eap-tls";
}

std::string AuthLoader::resolve(const std::string& f) const {
  return (!f.empty() && f.front() == '/') ? f : base_dir_ + "/" + f;
}

std::optional<std::string> AuthLoader::file(const YAML::Node& node, const std::string& path) {
  auto text = read_.scalar(node, path, "a file path");
  if (!text) return std::nullopt;
  if (text->empty()) {
    diags_.error(node.Mark(), path, "is empty (expected a file path)");
    return std::nullopt;
  }
  return resolve(*text);
}

std::optional<AuthMode> AuthLoader::auth_mode(const YAML::Node& node, const std::string& path) {
  auto text = read_.scalar(node, path, "one of " + std::string(kAuthModes));
  if (!text) return std::nullopt;
  if (*text == "psk") return AuthMode::Psk;
  if (*text == "pubkey") return AuthMode::Pubkey;
  if (*text == "eap-mschapv2") return AuthMode::EapMschapv2;
  if (*text == "eap-tls") return AuthMode::EapTls;
  diags_.error(node.Mark(), path,
               quoted(*text) + " is not allowed here (expected one of " + std::string(kAuthModes) + ")");
  return std::nullopt;
}

void AuthLoader::local(const MapFields& m, const std::string& path,
                       const std::optional<ConfiguredIdentity>& id, LocalAuthConfig& out) {
  if (auto n = m.get("auth")) out.auth = auth_mode(*n, join_path(path, "auth"));
  std::optional<ike::X509Certificate> cert;
  if (auto n = m.get("cert")) {
    const std::string p = join_path(path, "cert");
    if (auto f = file(*n, p)) {
      auto certs = ike::X509Certificate::load_file(*f);
      if (!certs) {
        diags_.error(n->Mark(), p, "cannot load " + quoted(*f) + ": " + certs.error());
      } else {
        out.cert = *f;
        cert = certs->front();
        if (auto pub = cert->public_key(); pub) {
          if (Status strong = ike::check_key_strength(pub->type(), pub->bits()); !strong)
            diags_.error(n->Mark(), p, quoted(*f) + ": the certificate's key " + strong.error());
        }
        // RFC 4945 §3.1: the peer checks our ID against this certificate; say so now, not at
        // the first connection.
        if (id) {
          if (auto s = ike::match_identity(*cert, id->id_type(), id->id_data()); !s)
            diags_.error(n->Mark(), p,
                         quoted(*f) + " does not carry local.id " + id->text() + ": " + s.error() +
                             " (expected a subjectAltName equal to the id)");
        }
      }
    }
  }
  if (auto n = m.get("key")) {
    const std::string p = join_path(path, "key");
    if (auto f = file(*n, p)) {
      auto key = ike::PrivateKey::load_file(*f);
      if (!key) {
        diags_.error(n->Mark(), p, "cannot load " + quoted(*f) + ": " + key.error());
      } else {
        out.key = *f;
        // A key others can read is no longer secret; a weak one is not worth keeping secret.
        if (auto why = loose_secret_file(*f, "a private key"))
          diags_.error(n->Mark(), p, quoted(*f) + ": " + *why);
        if (Status strong = ike::check_key_strength(key->type(), key->bits()); !strong)
          diags_.error(n->Mark(), p, quoted(*f) + ": " + strong.error());
        if (cert) {
          auto pub = cert->public_key();
          if (!pub || pub->spki_der() != key->public_key().spki_der())
            diags_.error(n->Mark(), p,
                         quoted(*f) + " is not the key of the certificate in " + quoted(*out.cert) +
                             " (expected the private key the certificate was issued for)");
        }
      }
    }
  }
  if (auto n = m.get("eap_id")) {
    const std::string p = join_path(path, "eap_id");
    if (auto text = read_.scalar(*n, p, "an EAP identity like carol")) {
      if (text->empty())
        diags_.error(n->Mark(), p, "is empty (expected an EAP identity like carol)");
      else
        out.eap_id = *text;
    }
  }
}

void AuthLoader::remote(const MapFields& m, const std::string& path, RemoteAuthConfig& out) {
  if (auto n = m.get("auth")) out.auth = auth_mode(*n, join_path(path, "auth"));
  // SHA-1 in the peer's signature AUTH (classic method 1, or RFC 7427 with SHA-1): refused unless
  // a connection to an old peer opts in.
  if (auto n = m.get("auth_sha1")) {
    const std::string p = join_path(path, "auth_sha1");
    if (auto text = read_.scalar(*n, p, "allow or refuse")) {
      if (*text == "allow" || *text == "refuse")
        out.allow_sha1 = *text == "allow";
      else
        diags_.error(n->Mark(), p, quoted(*text) + " is not allowed here (expected allow or refuse)");
    }
  }
  trust(m, path, out.trust);
}

void AuthLoader::trust(const MapFields& m, const std::string& path, TrustFiles& out) {
  auto files = [&](std::string_view key, std::vector<std::string>& into, bool crl) {
    auto n = m.get(key);
    if (!n) return;
    const std::string p = join_path(path, key);
    auto items = read_.list(*n, p, crl ? "CRL files" : "CA certificate files");
    if (!items) return;
    for (std::size_t i = 0; i < items->size(); ++i) {
      const std::string ip = index_path(p, i);
      auto f = file((*items)[i], ip);
      if (!f) continue;
      ike::TrustStore probe;
      Status s = crl ? probe.add_crl_file(*f) : probe.add_ca_file(*f);
      if (!s) {
        diags_.error((*items)[i].Mark(), ip, "cannot use " + quoted(*f) + ": " + s.error());
        continue;
      }
      into.push_back(*f);
    }
  };
  files("ca", out.ca, false);
  files("crl", out.crl, true);
}

void AuthLoader::eap_users(const YAML::Node& node, std::map<std::string, SecretBytes>& out) {
  auto names = read_.named_map(node, "eap_users");
  if (!names) return;
  for (const auto& entry : names->entries()) {
    const std::string path = join_path("eap_users", entry.key);
    if (!entry.value.IsMap()) {
      // Someone may have written the password itself here: never echo this value.
      diags_.error(entry.value.Mark(), path,
                   "expected a mapping like { password: \"...\" } (value not shown: it may be a password)");
      continue;
    }
    auto m = read_.map(entry.value, path, {"password"});
    if (!m) continue;
    auto n = m->get("password");
    if (!n) {
      read_.missing(*m, "password", "the user's EAP-MSCHAPv2 password");
      continue;
    }
    const std::string p = join_path(path, "password");
    auto text = read_.scalar(*n, p, "the password as a string");
    if (!text) continue;
    if (text->empty()) {
      diags_.error(n->Mark(), p, "is empty (expected a password)");
      continue;
    }
    out[entry.key] = SecretBytes(as_bytes(*text));
    OPENSSL_cleanse(text->data(), text->size());
  }
}

void AuthLoader::fragmentation(const YAML::Node& node, const std::string& path, FragmentationConfig& out) {
  auto m = read_.map(node, path, {"enabled", "size"});
  if (!m) return;
  if (auto n = m->get("enabled")) {
    if (auto b = read_.boolean(*n, join_path(path, "enabled"))) out.enabled = *b;
  }
  // RFC 7383 §2.5.1: the size of the IP datagrams fragments must fit; 576 is IPv4's minimum.
  if (auto n = m->get("size")) {
    if (auto v = read_.integer(*n, join_path(path, "size"), 576, 65535, "an IP datagram size in octets"))
      out.size = static_cast<std::uint32_t>(*v);
  }
}

void AuthLoader::check(const YAML::Mark& at, const std::string& path, const ConnectionConfig& c,
                       const Config& config) {
  const AuthMode local = local_auth_mode(c.auth, c.local.auth);
  const AuthMode remote = remote_auth_mode(c.auth, c.local.auth, c.remote.auth);
  if (is_eap(local) && is_eap(remote)) {
    diags_.error(at, path, "both sides would use EAP (expected EAP for one side only: the road warrior's)");
    return;
  }
  if (local == AuthMode::Pubkey || local == AuthMode::EapTls) {
    if (!c.local.auth.cert || !c.local.auth.key)
      diags_.error(
          at, path,
          "our side authenticates by " + to_string(local) +
              " but local.cert or local.key is missing (expected local: { cert: gw.pem, key: gw.key })");
  }
  if (is_eap(local)) {
    if (!c.local.auth.eap_id)
      diags_.error(at, path,
                   "our side authenticates by " + to_string(local) + " but local.eap_id is missing");
    else if (local == AuthMode::EapMschapv2 && !config.eap_users.count(*c.local.auth.eap_id))
      diags_.error(at, path,
                   "no password for EAP identity " + quoted(*c.local.auth.eap_id) + " (expected eap_users." +
                       *c.local.auth.eap_id + ".password)");
  }
  if (remote == AuthMode::Pubkey || remote == AuthMode::EapTls) {
    if (config.daemon.trust.ca.empty() && c.remote.auth.trust.ca.empty())
      diags_.error(at, path,
                   "the peer authenticates by " + to_string(remote) +
                       " but no CA is configured (expected remote.ca or daemon.ca: [ca.pem])");
  }
  if (remote == AuthMode::EapMschapv2 && config.eap_users.empty())
    diags_.error(at, path,
                 "the peer authenticates by eap-mschapv2 but eap_users is empty (expected eap_users: { NAME: "
                 "{ password: ... } })");
}

}  // namespace natgate::gateway
