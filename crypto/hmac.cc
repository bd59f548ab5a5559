#include "crypto/hmac.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <string>

namespace natgate::crypto {

namespace {

EVP_MAC* fetched_hmac() {
  static const detail::MacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  return mac.get();
}

}  // namespace

Expected<Hmac> Hmac::create(Digest digest, ByteView key) {
  if (fetched_hmac() == nullptr) return unexpected(detail::openssl_error("HMAC is not available"));
  detail::MacCtxPtr ctx(EVP_MAC_CTX_new(fetched_hmac()));
  if (!ctx) return unexpected(detail::openssl_error("EVP_MAC_CTX_new"));
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest_name(digest)), 0),
      OSSL_PARAM_construct_end(),
  };
  // A null key pointer means "keep the previous key" to EVP_MAC_init, so an empty key
  // still needs a valid address.
  static const std::uint8_t kNoKey = 0;
  const std::uint8_t* key_ptr = key.empty() ? &kNoKey : key.data();
  if (EVP_MAC_init(ctx.get(), key_ptr, key.size(), params) != 1) {
    return unexpected(detail::openssl_error(std::string("HMAC-") + digest_name(digest) + " init"));
  }
  return Hmac(digest, std::move(ctx));
}

void Hmac::compute(std::initializer_list<ByteView> parts, MutableByteView out) {
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> full{};
  std::size_t len = 0;
  // Re-initialising without a key restarts from the stored key schedule.
  bool ok = out.size() <= output_size() && EVP_MAC_init(ctx_.get(), nullptr, 0, nullptr) == 1;
  for (ByteView part : parts) ok = ok && EVP_MAC_update(ctx_.get(), part.data(), part.size()) == 1;
  ok = ok && EVP_MAC_final(ctx_.get(), full.data(), &len, full.size()) == 1 && len == output_size();
  // Only a caller bug (oversized out) or allocation failure gets here: stop rather than
  // hand back an unauthenticated or predictable value.
  if (!ok) std::abort();
  std::copy_n(full.begin(), out.size(), out.begin());
  OPENSSL_cleanse(full.data(), full.size());
}

}  // namespace natgate::crypto
