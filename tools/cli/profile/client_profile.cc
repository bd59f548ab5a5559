#include "tools/cli/profile/client_profile.h"

#include <openssl/objects.h>
#include <openssl/x509.h>

#include <array>

#include "gateway/config/auth_settings.h"
#include "ike/auth/identity_match.h"
#include "ike/auth/x509_certificate.h"

namespace natgate::cli {

namespace {

using gateway::AuthMode;
using gateway::ConfiguredIdentity;

std::string common_name(const ike::X509Certificate& cert) {
  std::array<char, 256> cn{};
  int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert.native()), NID_commonName, cn.data(),
                                    static_cast<int>(cn.size()));
  return n > 0 ? std::string(cn.data(), static_cast<std::size_t>(n)) : std::string();
}

// The CA among the gateway's trust anchors that signed its certificate: what a client must
// trust to accept the gateway (RFC 7296 §2.15 with certificates, §2.16 with EAP).
Status find_gateway_ca(const gateway::Config& config, const gateway::ConnectionConfig& conn,
                       ClientProfile& out) {
  if (!conn.local.auth.cert)
    return unexpected("connection '" + conn.name +
                      "' authenticates the gateway with a certificate but names none (local.cert)");
  auto chain = ike::X509Certificate::load_file(*conn.local.auth.cert);
  if (!chain) return unexpected(*conn.local.auth.cert + ": " + chain.error());
  const auto& gw = chain->front();
  std::vector<std::string> anchors = config.daemon.trust.ca;
  anchors.insert(anchors.end(), conn.remote.auth.trust.ca.begin(), conn.remote.auth.trust.ca.end());
  // The certificate the gateway sends last in its chain is the one the anchor must have signed.
  const auto& top = chain->back();
  for (const auto& path : anchors) {
    auto cas = ike::X509Certificate::load_file(path);
    if (!cas) return unexpected(path + ": " + cas.error());
    for (const auto& ca : *cas) {
      if (top.signed_by(ca) || gw.signed_by(ca)) {
        out.ca_der = ca.der();
        out.ca_common_name = common_name(ca);
        return {};
      }
    }
  }
  return unexpected("none of the gateway's CA files (daemon.ca, remote.ca) signed its certificate " +
                    *conn.local.auth.cert + " (" + gw.issuer() +
                    "): the client would not know whom to trust");
}

bool platform_supports(ProfilePlatform p, ClientAuth a, std::string* why) {
  switch (p) {
    case ProfilePlatform::Natgate:
      return true;
    case ProfilePlatform::Windows:
      if (a == ClientAuth::Psk) {
        *why =
            "Windows' built-in IKEv2 client has no pre-shared key option for users (only EAP and "
            "machine certificates): give the connection `auth: eap-mschapv2` or certificates";
        return false;
      }
      if (a == ClientAuth::EapTls) {
        *why = "EAP-TLS profiles for Windows are not generated yet (use certificates: `auth: pubkey`)";
        return false;
      }
      return true;
    case ProfilePlatform::Apple:
      if (a == ClientAuth::EapTls) {
        *why = "EAP-TLS profiles for Apple are not generated yet (use certificates: `auth: pubkey`)";
        return false;
      }
      return true;
    case ProfilePlatform::Android:
      if (a == ClientAuth::Psk) {
        *why =
            "strongSwan's Android client does not offer pre-shared keys for users: give the "
            "connection `auth: eap-mschapv2` or certificates";
        return false;
      }
      return true;
  }
  return false;
}

ClientAuth client_auth_of(AuthMode remote) {
  switch (remote) {
    case AuthMode::Psk:
      return ClientAuth::Psk;
    case AuthMode::EapMschapv2:
      return ClientAuth::EapMschapv2;
    case AuthMode::EapTls:
      return ClientAuth::EapTls;
    case AuthMode::Pubkey:
      break;
  }
  return ClientAuth::Certificate;
}

template <typename Spec>
Status parse_all(iana::ProtocolId protocol, const std::vector<std::string>& texts, std::vector<Spec>& out) {
  for (const auto& text : texts) {
    auto spec = ike::parse_proposal(protocol, text);
    if (!spec) return unexpected(spec.error());
    out.push_back(*spec);
  }
  return {};
}

}  // namespace

std::optional<ProfilePlatform> parse_profile_platform(std::string_view text) {
  if (text == "windows") return ProfilePlatform::Windows;
  if (text == "apple") return ProfilePlatform::Apple;
  if (text == "android") return ProfilePlatform::Android;
  if (text == "natgate") return ProfilePlatform::Natgate;
  return std::nullopt;
}

std::string to_string(ProfilePlatform p) {
  switch (p) {
    case ProfilePlatform::Windows:
      return "windows";
    case ProfilePlatform::Apple:
      return "apple";
    case ProfilePlatform::Android:
      return "android";
    case ProfilePlatform::Natgate:
      return "natgate";
  }
  return "?";
}

std::string to_string(ClientAuth a) {
  switch (a) {
    case ClientAuth::Psk:
      return "psk";
    case ClientAuth::EapMschapv2:
      return "eap-mschapv2";
    case ClientAuth::EapTls:
      return "eap-tls";
    case ClientAuth::Certificate:
      return "pubkey";
  }
  return "?";
}

Expected<ClientProfile> build_client_profile(const gateway::Config& config, const ProfileRequest& request) {
  const auto* conn = config.find_connection(request.connection);
  if (!conn) {
    std::string names;
    for (const auto& c : config.connections) names += (names.empty() ? "" : ", ") + c.name;
    return unexpected("no connection '" + request.connection + "' in " + config.source +
                      " (it has: " + names + ")");
  }
  if (!conn->remote.accepts_any_address() || !conn->remote.accepts_many_ids())
    return unexpected("connection '" + conn->name +
                      "' is not for road warriors: it needs `remote: { address: any, id: any }` (or an id "
                      "pattern such as *@example.net)");
  if (!conn->pool)
    return unexpected("connection '" + conn->name +
                      "' gives clients no virtual IP (no `pool:`): clients behind NAT need one");
  if (conn->mediation_server) return unexpected("connection '" + conn->name + "' is a mediation server");

  ClientProfile p;
  p.connection = conn->name;
  p.gateway_id = conn->local.id;
  const AuthMode remote_mode = gateway::remote_auth_mode(conn->auth, conn->local.auth, conn->remote.auth);
  const AuthMode local_mode = gateway::local_auth_mode(conn->auth, conn->local.auth);
  p.auth = client_auth_of(remote_mode);
  if (std::string why; !platform_supports(request.platform, p.auth, &why)) return unexpected(why);
  if (p.auth != ClientAuth::Psk && local_mode != AuthMode::Pubkey)
    return unexpected("connection '" + conn->name + "': clients use " + to_string(p.auth) +
                      " but the gateway does not authenticate with a certificate; road-warrior profiles "
                      "need the gateway's certificate (RFC 7296 §2.16)");
  if (p.auth == ClientAuth::Psk && local_mode != AuthMode::Psk)
    return unexpected("connection '" + conn->name +
                      "' mixes a PSK client with a certificate gateway: no client platform takes that");

  // Who the client is, and whether this connection would take it.
  if (!request.user.empty()) {
    std::string why;
    auto id = ConfiguredIdentity::parse(request.user, &why);
    if (!id)
      return unexpected("--user '" + request.user + "' is not an identity" + (why.empty() ? "" : ": " + why));
    if (!conn->remote.any_id) {
      if (!ike::identity_matches(conn->remote.id.id_type(), conn->remote.id.id_data(), id->id_type(),
                                 id->id_data()))
        return unexpected("connection '" + conn->name + "' accepts only " + conn->remote.id.text() +
                          ", not " + request.user);
    }
    p.client_id = *id;
  }
  switch (p.auth) {
    case ClientAuth::Psk: {
      const SecretBytes* key = p.client_id ? config.psk_for_identity(*p.client_id) : nullptr;
      if (!key) key = config.psk_for(conn->name);
      if (!key || key->empty())
        return unexpected("no pre-shared key for connection '" + conn->name + "'" +
                          (p.client_id ? " or identity " + request.user : ""));
      p.psk = *key;
      if (!p.client_id && request.platform == ProfilePlatform::Apple)
        return unexpected("Apple devices need their own identity with a pre-shared key: add --user ID");
      break;
    }
    case ClientAuth::EapMschapv2: {
      if (!p.client_id)
        return unexpected("EAP users need --user EAP-IDENTITY (one of the config's eap_users)");
      auto user = config.eap_users.find(request.user);
      if (user == config.eap_users.end())
        return unexpected("no EAP user '" + request.user + "' in " + config.source + " (eap_users)");
      p.eap_password = user->second;
      break;
    }
    case ClientAuth::EapTls:
    case ClientAuth::Certificate:
      if (!request.credential)
        return unexpected(
            "certificate users need --cert FILE and --key FILE (the client's certificate and key)");
      if (!p.client_id)
        return unexpected("certificate users need --user ID (the identity their certificate holds)");
      p.credential = request.credential;
      break;
  }
  if (p.auth != ClientAuth::Psk) {
    if (Status found = find_gateway_ca(config, *conn, p); !found) return unexpected(found.error());
  }

  // Where clients dial: the operator knows (the router's public address, a DNS name); the
  // gateway's FQDN identity is the usual answer, and what Windows checks the certificate for.
  p.server = request.server;
  if (p.server.empty()) {
    if (conn->local.id.kind() == ConfiguredIdentity::Kind::Fqdn && !conn->local.id.is_wildcard())
      p.server = conn->local.id.text();
    else if (conn->local.id.kind() == ConfiguredIdentity::Kind::Ipv4 ||
             conn->local.id.kind() == ConfiguredIdentity::Kind::Ipv6)
      p.server = conn->local.id.address().to_string();
    else
      return unexpected("say where clients dial with --server HOST (the gateway's id " +
                        conn->local.id.text() + " is not a host name or address)");
  }

  // It lands in scripts and XML on the client: only a host name or an address, nothing else.
  if (!gateway::is_valid_hostname(p.server) && !IpAddress::parse(p.server))
    return unexpected("--server '" + p.server + "' is neither a host name nor an IP address");

  p.gateway_subnets = conn->local.subnets;
  const auto& pool = config.pools.at(*conn->pool);
  p.dns = pool.dns;
  for (const auto& range : pool.addresses) (range.address.is_v4() ? p.pool_has_ipv4 : p.pool_has_ipv6) = true;
  p.ike_proposal_text = conn->ike_proposals;
  p.esp_proposal_text = conn->esp_proposals;
  if (Status s = parse_all(iana::ProtocolId::Ike, conn->ike_proposals, p.ike_proposals); !s)
    return unexpected(s.error());
  if (Status s = parse_all(iana::ProtocolId::Esp, conn->esp_proposals, p.esp_proposals); !s)
    return unexpected(s.error());
  p.dpd = conn->dpd;
  p.keepalive = conn->natt.keepalive;
  p.lifetimes = conn->lifetimes;
  return p;
}

}  // namespace natgate::cli
