#include "xfrm/xfrm_algorithms.h"

namespace natgate::xfrm {

namespace {

bool valid_aes_bits(std::uint16_t bits) { return bits == 128 || bits == 192 || bits == 256; }

Expected<KernelAuth> kernel_auth(iana::IntegId integ) {
  // RFC 4868 §2.3 (SHA-2: ICV is half the output), RFC 2404 (SHA-1: 96 bits). Keys are the
  // full hash output length (RFC 4868 §2.1.1, RFC 2404 §3).
  switch (integ) {
    case iana::IntegId::HmacSha1_96:
      return KernelAuth{"hmac(sha1)", 160, 96};
    case iana::IntegId::HmacSha2_256_128:
      return KernelAuth{"hmac(sha256)", 256, 128};
    case iana::IntegId::HmacSha2_384_192:
      return KernelAuth{"hmac(sha384)", 384, 192};
    case iana::IntegId::HmacSha2_512_256:
      return KernelAuth{"hmac(sha512)", 512, 256};
    default:
      return unexpected("integrity algorithm " + std::to_string(static_cast<unsigned>(integ)) +
                        " has no kernel ESP mapping");
  }
}

}  // namespace

Expected<KernelAlgorithms> kernel_algorithms(const dataplane::EspTransform& t) {
  KernelAlgorithms algs;
  switch (t.encr) {
    case iana::EncrId::AesGcm16:
      if (!valid_aes_bits(t.encr_key_bits)) {
        return unexpected("AES-GCM key of " + std::to_string(t.encr_key_bits) +
                          " bits (need 128, 192 or 256)");
      }
      algs.aead = KernelAead{"rfc4106(gcm(aes))", std::uint32_t{t.encr_key_bits} + 32, 128};
      break;
    case iana::EncrId::ChaCha20Poly1305:
      if (t.encr_key_bits != 256) {
        return unexpected("ChaCha20-Poly1305 key of " + std::to_string(t.encr_key_bits) + " bits (need 256)");
      }
      algs.aead = KernelAead{"rfc7539esp(chacha20,poly1305)", 256 + 32, 128};
      break;
    case iana::EncrId::AesCbc:
      if (!valid_aes_bits(t.encr_key_bits)) {
        return unexpected("AES-CBC key of " + std::to_string(t.encr_key_bits) +
                          " bits (need 128, 192 or 256)");
      }
      algs.cipher = KernelCipher{"cbc(aes)", t.encr_key_bits};
      break;
    default:
      return unexpected("encryption algorithm " + std::to_string(static_cast<unsigned>(t.encr)) +
                        " has no kernel ESP mapping in natgate");
  }
  if (algs.aead) {
    // RFC 4106 §8 / RFC 7634 §2: combined-mode algorithms carry their own integrity.
    if (t.integ != iana::IntegId::None)
      return unexpected(std::string("an AEAD transform takes no integrity algorithm"));
    return algs;
  }
  if (t.integ == iana::IntegId::None) {
    // RFC 4303 §3.2.2 allows it, but RFC 8221 §5 forbids ENCR without integrity.
    return unexpected(std::string("AES-CBC needs an integrity algorithm"));
  }
  auto auth = kernel_auth(t.integ);
  if (!auth) return unexpected(auth.error());
  algs.auth = *auth;
  return algs;
}

Expected<KernelAlgorithms> kernel_algorithms(const dataplane::EspTransform& t, const SecretBytes& encr_key,
                                             const SecretBytes& integ_key) {
  auto algs = kernel_algorithms(t);
  if (!algs) return algs;
  const std::uint32_t encr_bits = algs->aead ? algs->aead->key_bits : algs->cipher->key_bits;
  if (encr_key.size() * 8 != encr_bits) {
    return unexpected("encryption key is " + std::to_string(encr_key.size()) + " bytes, " +
                      (algs->aead ? algs->aead->name : algs->cipher->name) + " needs " +
                      std::to_string(encr_bits / 8));
  }
  const std::uint32_t integ_bits = algs->auth ? algs->auth->key_bits : 0;
  if (integ_key.size() * 8 != integ_bits) {
    return unexpected("integrity key is " + std::to_string(integ_key.size()) + " bytes, " +
                      (algs->auth ? algs->auth->name : std::string("an AEAD transform")) + " needs " +
                      std::to_string(integ_bits / 8));
  }
  return algs;
}

}  // namespace natgate::xfrm
