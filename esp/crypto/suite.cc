#include "esp/crypto/suite.h"

#include <array>

namespace natgate::esp {

namespace {

struct NamedSuite {
  std::string_view name;
  CipherKind cipher;
  std::uint16_t key_bits;
  IntegrityKind integrity;
};

constexpr std::array<NamedSuite, 17> kNames = {{
    {"aes128gcm16", CipherKind::AesGcm16, 128, IntegrityKind::None},
    {"aes192gcm16", CipherKind::AesGcm16, 192, IntegrityKind::None},
    {"aes256gcm16", CipherKind::AesGcm16, 256, IntegrityKind::None},
    {"chacha20poly1305", CipherKind::ChaCha20Poly1305, 256, IntegrityKind::None},
    {"aes128-sha1", CipherKind::AesCbc, 128, IntegrityKind::HmacSha1_96},
    {"aes256-sha1", CipherKind::AesCbc, 256, IntegrityKind::HmacSha1_96},
    {"aes128-sha256", CipherKind::AesCbc, 128, IntegrityKind::HmacSha256_128},
    {"aes192-sha256", CipherKind::AesCbc, 192, IntegrityKind::HmacSha256_128},
    {"aes256-sha256", CipherKind::AesCbc, 256, IntegrityKind::HmacSha256_128},
    {"aes128-sha384", CipherKind::AesCbc, 128, IntegrityKind::HmacSha384_192},
    {"aes192-sha384", CipherKind::AesCbc, 192, IntegrityKind::HmacSha384_192},
    {"aes256-sha384", CipherKind::AesCbc, 256, IntegrityKind::HmacSha384_192},
    {"aes128-sha512", CipherKind::AesCbc, 128, IntegrityKind::HmacSha512_256},
    {"aes192-sha512", CipherKind::AesCbc, 192, IntegrityKind::HmacSha512_256},
    {"aes256-sha512", CipherKind::AesCbc, 256, IntegrityKind::HmacSha512_256},
    {"null", CipherKind::NullForBenchmark, 0, IntegrityKind::None},
    {"aes256gcm", CipherKind::AesGcm16, 256, IntegrityKind::None},
}};

}  // namespace

Expected<Suite> Suite::from_transform(const dataplane::EspTransform& t) {
  Suite s;
  s.esn = t.esn;
  switch (t.encr) {
    case iana::EncrId::AesGcm16:
      if (t.encr_key_bits != 128 && t.encr_key_bits != 192 && t.encr_key_bits != 256)
        return unexpected("AES-GCM-16 with a " + std::to_string(t.encr_key_bits) + "-bit key");
      s.cipher = CipherKind::AesGcm16;
      s.key_bits = t.encr_key_bits;
      break;
    case iana::EncrId::ChaCha20Poly1305:
      // RFC 7634 §2: a 256-bit key and no key length attribute (0 means "not given").
      if (t.encr_key_bits != 256 && t.encr_key_bits != 0)
        return unexpected("ChaCha20-Poly1305 with a " + std::to_string(t.encr_key_bits) + "-bit key");
      s.cipher = CipherKind::ChaCha20Poly1305;
      s.key_bits = 256;
      break;
    case iana::EncrId::AesCbc:
      if (t.encr_key_bits != 128 && t.encr_key_bits != 192 && t.encr_key_bits != 256)
        return unexpected("AES-CBC with a " + std::to_string(t.encr_key_bits) + "-bit key");
      s.cipher = CipherKind::AesCbc;
      s.key_bits = t.encr_key_bits;
      break;
    default:
      return unexpected("ESP encryption transform " + std::to_string(static_cast<unsigned>(t.encr)) +
                        " is not implemented by the userspace engine");
  }
  if (s.is_aead()) {
    // RFC 4106 §4 / RFC 7634 §2: an AEAD transform carries no separate integrity algorithm.
    if (t.integ != iana::IntegId::None) return unexpected("AEAD ESP transform with an integrity algorithm");
    return s;
  }
  switch (t.integ) {
    case iana::IntegId::HmacSha1_96:
      s.integrity = IntegrityKind::HmacSha1_96;
      break;
    case iana::IntegId::HmacSha2_256_128:
      s.integrity = IntegrityKind::HmacSha256_128;
      break;
    case iana::IntegId::HmacSha2_384_192:
      s.integrity = IntegrityKind::HmacSha384_192;
      break;
    case iana::IntegId::HmacSha2_512_256:
      s.integrity = IntegrityKind::HmacSha512_256;
      break;
    case iana::IntegId::None:
      // RFC 4303 §3.2: confidentiality without integrity invites cut-and-paste attacks.
      return unexpected("AES-CBC without an integrity algorithm is refused");
    default:
      return unexpected("ESP integrity transform " + std::to_string(static_cast<unsigned>(t.integ)) +
                        " is not implemented by the userspace engine");
  }
  return s;
}

Expected<Suite> Suite::parse(std::string_view name, bool allow_null) {
  for (const auto& n : kNames) {
    if (n.name != name) continue;
    if (n.cipher == CipherKind::NullForBenchmark && !allow_null)
      return unexpected(std::string("the null ESP suite exists for benchmarks only"));
    Suite s;
    s.cipher = n.cipher;
    s.key_bits = n.key_bits;
    s.integrity = n.integrity;
    return s;
  }
  return unexpected("unknown ESP suite '" + std::string(name) +
                    "' (aes128gcm16, aes256gcm16, chacha20poly1305, aes{128,256}-sha{256,384,512})");
}

std::size_t Suite::encr_key_bytes() const {
  switch (cipher) {
    case CipherKind::AesGcm16:
      return key_bits / 8 + 4;
    case CipherKind::ChaCha20Poly1305:
      return 32 + 4;
    case CipherKind::AesCbc:
      return key_bits / 8;
    case CipherKind::NullForBenchmark:
      return 0;
  }
  return 0;
}

std::size_t Suite::integ_key_bytes() const {
  switch (integrity) {
    case IntegrityKind::None:
      return 0;
    case IntegrityKind::HmacSha1_96:
      return 20;
    case IntegrityKind::HmacSha256_128:
      return 32;
    case IntegrityKind::HmacSha384_192:
      return 48;
    case IntegrityKind::HmacSha512_256:
      return 64;
  }
  return 0;
}

std::size_t Suite::iv_bytes() const {
  switch (cipher) {
    case CipherKind::AesGcm16:
    case CipherKind::ChaCha20Poly1305:
      return 8;
    case CipherKind::AesCbc:
      return 16;
    case CipherKind::NullForBenchmark:
      return 0;
  }
  return 0;
}

std::size_t Suite::icv_bytes() const {
  if (is_aead()) return 16;
  switch (integrity) {
    case IntegrityKind::None:
      return 0;
    case IntegrityKind::HmacSha1_96:
      return 12;
    case IntegrityKind::HmacSha256_128:
      return 16;
    case IntegrityKind::HmacSha384_192:
      return 24;
    case IntegrityKind::HmacSha512_256:
      return 32;
  }
  return 0;
}

std::size_t Suite::sealed_bytes(std::size_t inner_len) const {
  const std::size_t a = pad_alignment();
  return header_bytes() + (inner_len + 2 + a - 1) / a * a + icv_bytes();
}

std::size_t Suite::max_inner_bytes(std::size_t esp_budget) const {
  const std::size_t fixed = header_bytes() + icv_bytes();
  if (esp_budget < fixed + pad_alignment()) return 0;
  const std::size_t payload = (esp_budget - fixed) / pad_alignment() * pad_alignment();
  return payload - 2;
}

std::string Suite::name() const {
  std::string n;
  for (const auto& e : kNames) {
    if (e.cipher == cipher && e.key_bits == key_bits && e.integrity == integrity) {
      n = std::string(e.name);
      break;
    }
  }
  if (cipher == CipherKind::NullForBenchmark) n = "null";
  if (esn) n += "-esn";
  return n;
}

}  // namespace natgate::esp
