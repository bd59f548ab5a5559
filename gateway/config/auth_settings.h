// How a connection authenticates (RFC 7296 §2.15, §2.16; RFC 7427), and IKE fragmentation
// (RFC 7383), as read from YAML. Files are stored as resolved paths; the loader has already
// opened and checked each one (certificate, key matching it, CA, CRL), and the daemon loads them
// again when it builds the connection (docs/certificates.md).
//
//   daemon:      { ca: [ca.pem], crl: [ca.crl] }              anchors and CRLs for every connection
//   eap_users:   { carol: { password: "..." } }               EAP-MSCHAPv2 users (server and client)
//   connections.NAME:
//     auth: psk | pubkey | eap-mschapv2 | eap-tls            both directions, see below
//     local:  { id, cert: gw.pem, key: gw.key, eap_id: carol, auth: ... }
//     remote: { id, ca: [...], crl: [...], auth: ..., auth_sha1: refuse | allow }
//     fragmentation: { enabled: true, size: 1280 }
//
// `auth: eap-*` means "the road warrior uses EAP, the gateway its certificate": with local.eap_id
// we are the client (local EAP, remote pubkey), without it the gateway (local pubkey, remote EAP).
// local.auth / remote.auth override one direction (e.g. a PSK gateway with EAP clients).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace natgate::gateway {

enum class AuthMode : std::uint8_t { Psk, Pubkey, EapMschapv2, EapTls };
std::string to_string(AuthMode a);
bool is_eap(AuthMode a);

struct LocalAuthConfig {
  std::optional<AuthMode> auth;       // overrides the connection's auth for our side
  std::optional<std::string> cert;    // PEM/DER: our certificate, then intermediates
  std::optional<std::string> key;     // its private key (PEM/DER, unencrypted)
  std::optional<std::string> eap_id;  // EAP client: our EAP identity (password in eap_users)
  friend bool operator==(const LocalAuthConfig&, const LocalAuthConfig&) = default;
};

struct TrustFiles {
  std::vector<std::string> ca;   // trust anchors (CA certificates)
  std::vector<std::string> crl;  // CRLs honoured for certificates from those CAs
  friend bool operator==(const TrustFiles&, const TrustFiles&) = default;
};

struct RemoteAuthConfig {
  std::optional<AuthMode> auth;  // overrides the connection's auth for the peer's side
  TrustFiles trust;              // in addition to daemon.ca / daemon.crl
  bool allow_sha1 = false;       // auth_sha1: allow — accept SHA-1 signatures in the peer's AUTH
  friend bool operator==(const RemoteAuthConfig&, const RemoteAuthConfig&) = default;
};

// RFC 7383: advertise IKEV2_FRAGMENTATION_SUPPORTED and fragment IKE messages that would not fit
// an IP datagram of `size` octets (strongSwan's default 1280).
struct FragmentationConfig {
  bool enabled = true;
  std::uint32_t size = 1280;
  friend bool operator==(const FragmentationConfig&, const FragmentationConfig&) = default;
};

// The effective method of each direction (see the rule above).
AuthMode local_auth_mode(AuthMode connection, const LocalAuthConfig& local);
AuthMode remote_auth_mode(AuthMode connection, const LocalAuthConfig& local, const RemoteAuthConfig& remote);

}  // namespace natgate::gateway
