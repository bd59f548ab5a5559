// IKEv2 key exchange (RFC 7296 §1.2, §3.4): MODP groups 14/15 (RFC 3526), NIST curves
// 19/20/21 (RFC 5903) and X25519/X448 (RFC 8031). Public values and shared secrets use
// IKE's encodings, so callers put public_value() into a KE payload as is and feed
// shared_secret() straight into SKEYSEED.
//
// DhKeyPair is our key pair in one such group (a "Diffie-Hellman group", transform type 4 of
// RFC 7296 §3.3.2, whichever the math); ike::KeyExchange is the KE payload carrying its public value.
#pragma once

#include <cstddef>
#include <memory>

#include "common/bytes.h"
#include "common/expected.h"
#include "common/iana.h"
#include "common/secret_bytes.h"
#include "crypto/openssl_handles.h"
#include "crypto/random.h"

namespace natgate::crypto {

class DhKeyPair {
 public:
  static bool supported(iana::DhGroup group);
  // Length of the KE payload's key exchange data for this group (RFC 7296 §3.4: MODP the
  // prime's length; RFC 5903 §7: ECP x||y; RFC 8031 §2: 32 or 56), or 0 if unsupported.
  static std::size_t public_value_size(iana::DhGroup group);

  // The checks shared_secret() makes on a peer's public value that need no key pair of ours
  // (length, MODP range, ECP point on the curve): a responder makes them before generating one.
  static Status check_peer_value(iana::DhGroup group, ByteView peer_public);

  // A fresh key pair whose private key is drawn from `random`, so a test with a
  // DeterministicRandom gets the same keys every run. MODP exponents are 512 bits
  // (at least twice the groups' strength, NIST SP 800-56A r3 §5.6.1.1.4); ECP scalars are
  // uniform in [1, n-1]; X25519/X448 take raw random bytes (clamped by the algorithm).
  static Expected<DhKeyPair> generate(iana::DhGroup group, RandomSource& random);

  // A key pair from a known private key, for published test vectors: a big-endian
  // exponent (MODP) or scalar (ECP), or the raw RFC 7748 private key (X25519/X448).
  static Expected<DhKeyPair> from_private(iana::DhGroup group, ByteView private_key);

  iana::DhGroup group() const { return group_; }
  ByteView public_value() const { return public_value_; }

  // g^ir for the peer's public value, checked first: wrong length, MODP y outside
  // 1 < y < p-1, an ECP point not on the curve, or an all-zero X25519/X448 result (a
  // low-order peer point) are errors. MODP secrets are padded to the prime's length
  // (RFC 7296 §2.14); ECP secrets are the x coordinate only (RFC 5903 §7).
  Expected<SecretBytes> shared_secret(ByteView peer_public) const;

  // Computes shared_secret(peer_public) now and keeps it, so that a later shared_secret() of
  // the same value returns it without the work: the key exchange of an IKE_SA_INIT done on
  // another thread before the IKE thread gets to it (KeyPairPool::prepare, issue 13). A value
  // shared_secret refuses is not kept (the later call refuses it again). Same result either way.
  Status precompute_shared_secret(ByteView peer_public);
  bool has_precomputed_secret() const { return precomputed_ != nullptr; }

 private:
  DhKeyPair(iana::DhGroup group, detail::PkeyPtr key, Bytes public_value)
      : group_(group), key_(std::move(key)), public_value_(std::move(public_value)) {}
  Expected<SecretBytes> compute_shared_secret(ByteView peer_public) const;

  struct Precomputed {
    Bytes peer_public;
    SecretBytes secret;
  };

  iana::DhGroup group_;
  detail::PkeyPtr key_;  // holds the private key; freed (and wiped) by OpenSSL
  Bytes public_value_;
  std::unique_ptr<Precomputed> precomputed_;  // set by precompute_shared_secret only
};

}  // namespace natgate::crypto
