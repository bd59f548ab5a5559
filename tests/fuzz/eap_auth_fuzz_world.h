// The fixed credentials and sub-parser drivers of eap_auth_fuzz and its seed corpus: the parsers
// IKE_AUTH runs on what a peer sends inside SK (EAP, EAP-MSCHAPv2, EAP-TLS framing, CERT and
// CERTREQ, AUTH data, SIGNATURE_HASH_ALGORITHMS, configuration attributes, identities). Keys are
// fixed (test-only keys below), EAP state machines draw from DeterministicRandom, so a seed made by
// the generator (say, a whole successful MSCHAPv2 conversation) plays out the same in the fuzzer.
//
// Fuzz input: one octet T, then up to kMaxBodies records "length (2, big-endian) | payload body"
// (the octets after the 4-octet generic payload header, RFC 7296 §3.2), each decoded by the IKE
// codec as the payload type the target takes and dropped if it does not decode. T % 16 picks:
//   0  EAP payloads       -> eap::parse_mschapv2, and its encoding must parse back the same
//   1  EAP payloads       -> EapMschapv2Server (users alice, DOMAIN\bob); T & 0x10: no EAP-Identity
//   2  EAP payloads       -> EapMschapv2Client (alice)
//   3  EAP payloads       -> EapTls server;  T & 0x10: 100-octet fragments instead of 1024
//   4  EAP payloads       -> EapTls peer;    T & 0x10: likewise
//   5  CERT payloads      -> peer_certificates, certificate accessors, match_identity, TrustStore
//   6  CERTREQ payloads   -> requested_ca_hashes, choose_credential, certificates_to_send
//   7  AUTH payload       -> verify_auth (RSA, ECDSA, Ed25519 keys), shared-key and EAP AUTH checks
//   8  NOTIFY payload     -> parse_signature_hash_algorithms, choose_signature_scheme
//   9  CP payloads        -> parse_cfg_request, parse_cfg_reply (round trip of what was understood)
//   10 IDi payloads       -> Identity::to_string, describe_identity, match_identity
// Every call must return; invariants that break abort (listed where each target runs).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/bytes.h"
#include "crypto/random.h"
#include "ike/auth/eap_mschapv2_client.h"
#include "ike/auth/eap_mschapv2_server.h"
#include "ike/auth/eap_tls.h"
#include "ike/auth/private_key.h"
#include "ike/auth/trust_store.h"
#include "ike/auth/x509_certificate.h"
#include "ike/codec/payloads.h"

namespace natgate::ike::fuzzing {

enum Target : std::uint8_t {
  kEapPacket = 0,
  kMschapServer = 1,
  kMschapClient = 2,
  kTlsServer = 3,
  kTlsPeer = 4,
  kCert = 5,
  kCertReq = 6,
  kAuth = 7,
  kHashNotify = 8,
  kConfig = 9,
  kId = 10,
  kTargetCount = 11,
};
inline constexpr std::uint8_t kVariant = 0x10;
inline constexpr std::size_t kMaxBodies = 16;

// The credentials every run uses.
struct Credentials {
  PrivateKey root_key, inter_key, leaf_key, rsa_key, ed25519_key;
  X509Certificate root, inter, gateway, carol;
  std::shared_ptr<const TrustStore> trust;  // anchored at root
  std::chrono::system_clock::time_point now;
  static const Credentials& get();
};

// The octets AUTH payloads sign in target 7 (a stand-in for RFC 7296 §2.15's octets).
ByteView signed_octets();
// Users of the MSCHAPv2 server and the client's own credentials.
inline constexpr const char* kClientIdentity = "alice";
inline constexpr const char* kClientPassword = "alice-password";

// The state machines exactly as the fuzzer builds them.
EapMschapv2Server mschap_server(crypto::RandomSource& random, bool ask_identity);
crypto::DeterministicRandom mschap_server_random();
Expected<EapMschapv2Client> mschap_client(crypto::RandomSource& random);
crypto::DeterministicRandom mschap_client_random();
std::unique_ptr<EapTls> tls_server(std::size_t fragment_size);
std::unique_ptr<EapTls> tls_peer(std::size_t fragment_size);

// A payload's body (without the generic header), and a fuzz input made of bodies.
Bytes body_of(const Payload& p);
Bytes input_of(std::uint8_t target, const std::vector<Bytes>& bodies);

// Runs one fuzz input; aborts when an invariant breaks.
void run(ByteView input);

}  // namespace natgate::ike::fuzzing
