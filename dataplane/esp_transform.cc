#include "dataplane/sa_spec.h"

namespace natgate::dataplane {

std::size_t EspTransform::encr_keymat_bytes() const {
  switch (encr) {
    case iana::EncrId::AesGcm16:
      return encr_key_bits / 8 + 4;  // RFC 4106 §8.1: key then 4-byte salt
    case iana::EncrId::ChaCha20Poly1305:
      return 32 + 4;  // RFC 7634 §2: 256-bit key then 4-byte salt
    default:
      return encr_key_bits / 8;
  }
}

std::size_t EspTransform::integ_keymat_bytes() const {
  switch (integ) {
    case iana::IntegId::HmacSha1_96:
      return 20;
    case iana::IntegId::HmacSha2_256_128:
      return 32;
    case iana::IntegId::HmacSha2_384_192:
      return 48;
    case iana::IntegId::HmacSha2_512_256:
      return 64;
    default:
      return 0;
  }
}

}  // namespace natgate::dataplane
