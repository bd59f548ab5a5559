// HMAC (RFC 2104) keyed once and reused: the key schedule is computed at construction and
// every compute() only re-initialises from it. The building block of Mac and Prf.
#pragma once

#include <cstddef>
#include <initializer_list>

#include "common/bytes.h"
#include "common/expected.h"
#include "crypto/hash.h"
#include "crypto/openssl_handles.h"

namespace natgate::crypto {

class Hmac {
 public:
  // Any key length (RFC 2104 §2: longer keys are hashed first).
  static Expected<Hmac> create(Digest digest, ByteView key);

  Digest digest() const { return digest_; }
  std::size_t output_size() const { return digest_size(digest_); }

  // HMAC over the concatenation of `parts`; writes the first out.size() bytes of the
  // output (out.size() <= output_size(), the truncation of RFC 2104 §5). Not thread-safe:
  // the object carries one OpenSSL context.
  void compute(std::initializer_list<ByteView> parts, MutableByteView out);

 private:
  Hmac(Digest digest, detail::MacCtxPtr ctx) : digest_(digest), ctx_(std::move(ctx)) {}

  Digest digest_;
  detail::MacCtxPtr ctx_;
};

}  // namespace natgate::crypto
