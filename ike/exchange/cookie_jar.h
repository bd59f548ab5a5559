// Stateless cookies (RFC 7296 §2.6):
//   Cookie = <VersionIDofSecret> | Hash(Ni | IPi | SPIi | <secret>)
// here a 4-octet version and SHA-256, 36 octets in all (the RFC allows up to 64). The secret is
// regenerated every `rotation`; cookies made with the previous secret remain valid until the
// next rotation, so a client that got one just before a rotation still gets in.
#pragma once

#include <cstdint>

#include "common/bytes.h"
#include "common/ip_address.h"
#include "common/secret_bytes.h"
#include "crypto/random.h"
#include "ike/codec/ike_header.h"
#include "ike/exchange/time.h"

namespace natgate::ike {

class CookieJar {
 public:
  CookieJar(crypto::RandomSource& random, Duration rotation);

  Bytes make(ByteView nonce_i, const IpAddress& ip, const IkeSpi& spi_i, TimePoint now);
  bool verify(ByteView cookie, ByteView nonce_i, const IpAddress& ip, const IkeSpi& spi_i, TimePoint now);

  static constexpr std::size_t kSize = 4 + 32;

 private:
  struct Secret {
    std::uint32_t version = 0;
    SecretBytes value;
  };
  void rotate_if_due(TimePoint now);
  static Bytes compute(const Secret& secret, ByteView nonce_i, const IpAddress& ip, const IkeSpi& spi_i);

  crypto::RandomSource& random_;
  Duration rotation_;
  Secret current_;
  Secret previous_;
  TimePoint rotated_at_{};
  bool started_ = false;
};

}  // namespace natgate::ike
