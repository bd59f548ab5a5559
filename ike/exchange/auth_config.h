// How each side of an IKE SA authenticates in IKE_AUTH (RFC 7296 §2.15, §2.16; RFC 7427), beyond
// the PSK of PeerConfig: certificates with a private key, a CA trust store with CRLs, EAP-MSCHAPv2
// or EAP-TLS. The gateway loads keys, certificates and CRLs at configuration time (ike/ does no
// file I/O per packet) and hands them in here, shared and immutable.
//
// The two directions are independent, as in strongSwan's local/remote auth rounds: a gateway
// typically signs with its certificate (local = PublicKey) while the road warrior proves itself
// with EAP-MSCHAPv2 (remote = EapMschapv2).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/secret_bytes.h"
#include "ike/auth/cert_payloads.h"
#include "ike/auth/private_key.h"
#include "ike/auth/trust_store.h"

namespace natgate::ike {

enum class AuthKind : std::uint8_t {
  Psk,          // AUTH method 2 with PeerConfig::psk (§2.15)
  PublicKey,    // RFC 7427 digital signature (method 14), classic 1/9/10/11 accepted from peers
  EapMschapv2,  // §2.16: EAP, then AUTH keyed with the MSK
  EapTls,       // §2.16 with RFC 5216
};
const char* to_string(AuthKind kind);

struct AuthConfig {
  // How we prove who we are, and how the peer must.
  AuthKind local = AuthKind::Psk;
  AuthKind remote = AuthKind::Psk;

  // Ours, for local = PublicKey (and EAP-TLS): the certificate, the intermediates above it, the key.
  std::optional<CertificateChain> certificate;
  std::optional<PrivateKey> key;

  // The peer's certificates are verified against these anchors and CRLs (remote = PublicKey or
  // EapTls); its identity must then be in the end-entity certificate's SAN or subject DN.
  std::shared_ptr<const TrustStore> trust;
  // Accept SHA-1 signatures from the peer (AUTH method 1, RFC 7427 with SHA-1); off by default.
  bool allow_sha1 = false;
  // Wall-clock time for certificate validity; ike/ reads no clock itself (tests pin it).
  std::function<std::chrono::system_clock::time_point()> wall_clock = [] {
    return std::chrono::system_clock::now();
  };

  // EAP-MSCHAPv2 client (local = EapMschapv2): our EAP identity (RFC 3748 §5.1) and password.
  std::string eap_identity;
  SecretBytes eap_password;
  // EAP-MSCHAPv2 server (remote = EapMschapv2): the NT hash of a user's password, nullopt for
  // an unknown user.
  std::function<std::optional<SecretBytes>(std::string_view user)> eap_user_hash;
  // Server: the EAP identity must be one of the users (EAP-Identity round first, as strongSwan's
  // eap_id = %any does).
  bool eap_ask_identity = true;
};

}  // namespace natgate::ike
