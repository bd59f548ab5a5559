// AUTH payloads signed with a private key (RFC 7296 §2.15) and checked with the peer's public key.
//
// Method 14, Digital Signature (RFC 7427 §3): AUTH data =
//   length of the AlgorithmIdentifier (1 octet) | AlgorithmIdentifier (DER) | signature
// where an ECDSA signature is the DER Ecdsa-Sig-Value (RFC 7427 Appendix A.3).
// Classic methods, kept for older peers: 1 = RSA PKCS#1 v1.5 with SHA-1 (RFC 7296 §3.8), and
// 9/10/11 = ECDSA with SHA-256/P-256, SHA-384/P-384, SHA-512/P-521 whose signature is r | s, each
// zero-padded to the curve's size (RFC 4754 §7).
//
// Typical use, with `octets` from auth_signed_octets():
//   ours:   auto scheme = choose_signature_scheme(key.type(), key.bits(), peer_hashes);
//           auto auth   = scheme ? sign_auth(key, *scheme, octets) : sign_classic_auth(key, octets);
//   theirs: Status ok   = verify_auth(*received_auth, peer_cert.public_key().value(), octets);
#pragma once

#include <vector>

#include "common/bytes.h"
#include "common/expected.h"
#include "ike/auth/private_key.h"
#include "ike/auth/public_key.h"
#include "ike/auth/signature_scheme.h"
#include "ike/codec/payloads.h"

namespace natgate::ike {

// Raw signatures over `data` in the scheme's own encoding (ECDSA: DER Ecdsa-Sig-Value).
Expected<Bytes> sign_data(const PrivateKey& key, SignatureScheme scheme, ByteView data);
Status verify_data(const PublicKey& key, SignatureScheme scheme, ByteView data, ByteView signature);

// Method 14 AUTH payload with the scheme's AlgorithmIdentifier.
Expected<Authentication> sign_auth(const PrivateKey& key, SignatureScheme scheme, ByteView signed_octets);
// Method 1 for an RSA key, 9/10/11 for an ECDSA P-256/P-384/P-521 key.
Expected<Authentication> sign_classic_auth(const PrivateKey& key, ByteView signed_octets);

// What a received signature AUTH may use.
struct SignaturePolicy {
  // Method-14 schemes accepted: by default every one whose hash natgate announces (no SHA-1).
  std::vector<SignatureScheme> accepted = {
      SignatureScheme::RsaPkcs1Sha256, SignatureScheme::RsaPkcs1Sha384, SignatureScheme::RsaPkcs1Sha512,
      SignatureScheme::RsaPssSha256,   SignatureScheme::RsaPssSha384,   SignatureScheme::RsaPssSha512,
      SignatureScheme::EcdsaSha256,    SignatureScheme::EcdsaSha384,    SignatureScheme::EcdsaSha512,
      SignatureScheme::Ed25519,
  };
  bool accept_classic = true;  // methods 1, 9, 10, 11
  // SHA-1 signatures: classic method 1 (RSA with SHA-1) and method 14 with sha1WithRSAEncryption
  // or ecdsa-with-SHA1. Refused unless the connection opts in (remote.auth_sha1: allow): SHA-1
  // collisions are practical (SHAttered, 2017), and RFC 8247 §3.2 marks method 1 SHOULD NOT.
  bool accept_sha1 = false;
};

// Checks a received AUTH payload of method 1, 9, 10, 11 or 14 against the peer's key. The error
// says what did not fit: "AUTH method 14 (ECDSA with SHA-384) does not verify with the peer's ECDSA
// P-256 key", "AUTH method 14 names an unknown signature algorithm 300b...".
Status verify_auth(const Authentication& auth, const PublicKey& key, ByteView signed_octets,
                   const SignaturePolicy& policy = {});

}  // namespace natgate::ike
