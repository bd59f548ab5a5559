// IKEv2 pseudo-random functions (RFC 7296 §2.13, §3.3.2 transform type 2) and prf+.
// Only the HMAC PRFs: their key may have any length, which the SKEYSEED rule relies on.
#pragma once

#include <cstddef>
#include <initializer_list>

#include "common/bytes.h"
#include "common/expected.h"
#include "common/iana.h"
#include "common/secret_bytes.h"
#include "crypto/hash.h"
#include "crypto/hmac.h"

namespace natgate::crypto {

// PRF_HMAC_SHA1 / SHA2_256 / 384 / 512 → the digest inside.
Expected<Digest> prf_digest(iana::PrfId id);

class Prf {
 public:
  static Expected<Prf> create(Digest digest, ByteView key);
  static Expected<Prf> create(iana::PrfId id, ByteView key);

  // Output length; also the "preferred key length" of RFC 7296 §2.14 for HMAC PRFs
  // (RFC 4868 §2.3 for SHA-2), i.e. the size of SK_d, SK_pi and SK_pr.
  std::size_t output_size() const { return hmac_.output_size(); }

  // prf(K, S) over the concatenation of the parts.
  SecretBytes compute(std::initializer_list<ByteView> parts);

  // prf+ (RFC 7296 §2.13): T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n), output the
  // first `length` bytes of T1 | T2 | ... Fails past 255 blocks (the counter is one octet).
  Expected<SecretBytes> plus(ByteView seed, std::size_t length);

 private:
  explicit Prf(Hmac hmac) : hmac_(std::move(hmac)) {}

  Hmac hmac_;
};

}  // namespace natgate::crypto
