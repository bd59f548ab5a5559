// Signature schemes for AUTH payloads: RFC 7427 "Digital Signature" (Auth Method 14), whose AUTH
// data starts with the scheme's ASN.1 AlgorithmIdentifier, and the hash negotiation through the
// SIGNATURE_HASH_ALGORITHMS notify (RFC 7427 §4) that decides which schemes a peer accepts.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "common/bytes.h"
#include "common/expected.h"
#include "common/iana.h"
#include "ike/auth/public_key.h"
#include "ike/codec/payloads.h"

namespace natgate::ike {

enum class SignatureScheme {
  RsaPkcs1Sha1,  // only for the classic RSA method 1 (RFC 7296 §3.8), never offered in method 14
  RsaPkcs1Sha256,
  RsaPkcs1Sha384,
  RsaPkcs1Sha512,
  RsaPssSha256,  // MGF1 with the same hash, salt as long as the hash (RFC 7427 A.4.3)
  RsaPssSha384,
  RsaPssSha512,
  EcdsaSha256,
  EcdsaSha384,
  EcdsaSha512,
  Ed25519,    // RFC 8420: hash "Identity"
  EcdsaSha1,  // only recognised in received method-14 AUTH, where SHA-1 is refused unless allowed
};

const char* to_string(SignatureScheme scheme);  // "RSASSA-PSS with SHA-256", ...
KeyType key_type_for(SignatureScheme scheme);
// The RFC 7427 §7 hash the scheme uses (Identity for Ed25519).
iana::HashAlgorithm hash_algorithm_of(SignatureScheme scheme);

// The DER AlgorithmIdentifier that precedes the signature in method-14 AUTH data (RFC 7427 §3,
// encodings of Appendix A; RFC 8420 §2 for Ed25519). Empty for RsaPkcs1Sha1, which natgate does not
// send with method 14.
ByteView algorithm_identifier(SignatureScheme scheme);
// The scheme a received AlgorithmIdentifier names, if natgate implements it (exact DER match).
std::optional<SignatureScheme> scheme_for_algorithm_identifier(ByteView der);
// sha1WithRSAEncryption or ecdsa-with-SHA1 (RFC 7427 A.1.1, A.3): never sent or announced by
// natgate; a peer's AUTH that uses one is refused unless the connection allows SHA-1.
std::optional<SignatureScheme> sha1_scheme_for_algorithm_identifier(ByteView der);

// What natgate announces in SIGNATURE_HASH_ALGORITHMS: SHA2-256, SHA2-384, SHA2-512, Identity
// (the same list strongSwan sends).
std::vector<iana::HashAlgorithm> supported_hash_algorithms();

// RFC 7427 §4: Notification Data is a list of 2-octet hash algorithm identifiers.
Notify signature_hash_algorithms_notify(std::span<const iana::HashAlgorithm> hashes);
Notify signature_hash_algorithms_notify();  // with supported_hash_algorithms()
// Unknown identifiers are kept (the caller ignores what it does not know); an odd length is an error.
Expected<std::vector<iana::HashAlgorithm>> parse_signature_hash_algorithms(ByteView notify_data);

// Picks the method-14 scheme for signing with a key of `type`/`bits` given the hashes the peer
// announced (RFC 7427 §4: only those may be used). ECDSA prefers the hash matching its curve
// (P-256/SHA-256, P-384/SHA-384, P-521/SHA-512), RSA prefers SHA-256 then SHA-384 and SHA-512;
// prefer_pss selects RSASSA-PSS instead of PKCS#1 v1.5. Error if nothing fits (the caller may then
// fall back to a classic method, RFC 7427 §4).
Expected<SignatureScheme> choose_signature_scheme(KeyType type, int bits,
                                                  std::span<const iana::HashAlgorithm> peer_hashes,
                                                  bool prefer_pss = false);

}  // namespace natgate::ike
