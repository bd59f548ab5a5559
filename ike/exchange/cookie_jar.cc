#include "ike/exchange/cookie_jar.h"

#include <openssl/crypto.h>

#include "crypto/hash.h"

namespace natgate::ike {

CookieJar::CookieJar(crypto::RandomSource& random, Duration rotation)
    : random_(random), rotation_(rotation) {}

void CookieJar::rotate_if_due(TimePoint now) {
  if (started_ && now - rotated_at_ < rotation_) return;
  previous_ = std::move(current_);
  current_.version = started_ ? previous_.version + 1 : 1;
  current_.value = SecretBytes(32);
  random_.fill(current_.value.mutable_view());
  if (!started_) previous_ = Secret{};  // nothing issued before the first secret
  rotated_at_ = now;
  started_ = true;
}

Bytes CookieJar::compute(const Secret& secret, ByteView nonce_i, const IpAddress& ip, const IkeSpi& spi_i) {
  Bytes out = {static_cast<std::uint8_t>(secret.version >> 24),
               static_cast<std::uint8_t>(secret.version >> 16),
               static_cast<std::uint8_t>(secret.version >> 8), static_cast<std::uint8_t>(secret.version)};
  append(out, crypto::hash(crypto::Digest::Sha256, {nonce_i, ip.bytes(), spi_i.bytes, secret.value.view()}));
  return out;
}

Bytes CookieJar::make(ByteView nonce_i, const IpAddress& ip, const IkeSpi& spi_i, TimePoint now) {
  rotate_if_due(now);
  return compute(current_, nonce_i, ip, spi_i);
}

bool CookieJar::verify(ByteView cookie, ByteView nonce_i, const IpAddress& ip, const IkeSpi& spi_i,
                       TimePoint now) {
  rotate_if_due(now);
  if (cookie.size() != kSize) return false;
  const std::uint32_t version = (std::uint32_t{cookie[0]} << 24) | (std::uint32_t{cookie[1]} << 16) |
                                (std::uint32_t{cookie[2]} << 8) | cookie[3];
  const Secret* secret = nullptr;
  if (version == current_.version) secret = &current_;
  if (!previous_.value.empty() && version == previous_.version) secret = &previous_;
  if (!secret) return false;
  Bytes expected = compute(*secret, nonce_i, ip, spi_i);
  return CRYPTO_memcmp(expected.data(), cookie.data(), kSize) == 0;
}

}  // namespace natgate::ike
