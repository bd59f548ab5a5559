// Integrity transforms: HMAC truncated to an ICV (RFC 2404 HMAC-SHA1-96, RFC 4868
// HMAC-SHA2-256-128/384-192/512-256), for IKE's SK payload and ESP.
#pragma once

#include <cstddef>
#include <initializer_list>

#include "common/bytes.h"
#include "common/expected.h"
#include "common/iana.h"
#include "crypto/hash.h"
#include "crypto/hmac.h"

namespace natgate::crypto {

// The facts of one integrity transform.
struct IntegParams {
  Digest digest;
  std::size_t key_size;  // bytes; RFC 2404 §3 / RFC 4868 §2.1.1: the hash output length
  std::size_t icv_size;  // bytes after truncation
};
Expected<IntegParams> integ_params(iana::IntegId id);

class Mac {
 public:
  // HMAC-<digest> truncated to icv_size bytes (1..digest size).
  static Expected<Mac> create(Digest digest, ByteView key, std::size_t icv_size);
  // An IANA integrity transform; the key must have the transform's key length.
  static Expected<Mac> create(iana::IntegId id, ByteView key);

  std::size_t icv_size() const { return icv_size_; }

  // icv.size() must equal icv_size().
  void compute(std::initializer_list<ByteView> parts, MutableByteView icv);
  Bytes compute(std::initializer_list<ByteView> parts);
  // Constant-time comparison (CRYPTO_memcmp): timing reveals nothing about how many
  // leading bytes of a forged ICV were right. A wrong-length ICV is simply false.
  bool verify(std::initializer_list<ByteView> parts, ByteView icv);

 private:
  Mac(Hmac hmac, std::size_t icv_size) : hmac_(std::move(hmac)), icv_size_(icv_size) {}

  Hmac hmac_;
  std::size_t icv_size_;
};

}  // namespace natgate::crypto
