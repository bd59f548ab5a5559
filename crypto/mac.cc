#include "crypto/mac.h"

#include <openssl/crypto.h>

#include <array>
#include <cstdlib>
#include <string>

namespace natgate::crypto {

Expected<IntegParams> integ_params(iana::IntegId id) {
  switch (id) {
    case iana::IntegId::HmacSha1_96:
      return IntegParams{Digest::Sha1, 20, 12};
    case iana::IntegId::HmacSha2_256_128:
      return IntegParams{Digest::Sha256, 32, 16};
    case iana::IntegId::HmacSha2_384_192:
      return IntegParams{Digest::Sha384, 48, 24};
    case iana::IntegId::HmacSha2_512_256:
      return IntegParams{Digest::Sha512, 64, 32};
    case iana::IntegId::None:
      break;
  }
  return unexpected("unsupported integrity transform " + std::to_string(static_cast<unsigned>(id)));
}

Expected<Mac> Mac::create(Digest digest, ByteView key, std::size_t icv_size) {
  if (icv_size == 0 || icv_size > digest_size(digest)) {
    return unexpected("ICV of " + std::to_string(icv_size) + " bytes does not fit HMAC-" +
                      digest_name(digest));
  }
  auto hmac = Hmac::create(digest, key);
  if (!hmac) return unexpected(hmac.error());
  return Mac(std::move(*hmac), icv_size);
}

Expected<Mac> Mac::create(iana::IntegId id, ByteView key) {
  auto params = integ_params(id);
  if (!params) return unexpected(params.error());
  if (key.size() != params->key_size) {
    return unexpected("integrity key is " + std::to_string(key.size()) + " bytes, transform " +
                      std::to_string(static_cast<unsigned>(id)) + " needs " +
                      std::to_string(params->key_size));
  }
  return create(params->digest, key, params->icv_size);
}

void Mac::compute(std::initializer_list<ByteView> parts, MutableByteView icv) {
  // A wrong-size buffer is a caller bug; Hmac::compute aborts on oversize, so check here too.
  if (icv.size() != icv_size_) std::abort();
  hmac_.compute(parts, icv);
}

Bytes Mac::compute(std::initializer_list<ByteView> parts) {
  Bytes icv(icv_size_);
  compute(parts, icv);
  return icv;
}

bool Mac::verify(std::initializer_list<ByteView> parts, ByteView icv) {
  if (icv.size() != icv_size_) return false;
  std::array<std::uint8_t, 64> expected{};
  MutableByteView mine(expected.data(), icv_size_);
  hmac_.compute(parts, mine);
  bool ok = CRYPTO_memcmp(mine.data(), icv.data(), icv_size_) == 0;
  OPENSSL_cleanse(expected.data(), expected.size());
  return ok;
}

}  // namespace natgate::crypto
