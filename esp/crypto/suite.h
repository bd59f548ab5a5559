// What one ESP SA's transform means for the packet layout: key, salt, IV, padding alignment and ICV
// sizes. Derived from the negotiated dataplane::EspTransform; the only other way in is the benchmark-only
// null suite, which no negotiation can produce.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/expected.h"
#include "dataplane/sa_backend.h"

namespace natgate::esp {

enum class CipherKind : std::uint8_t {
  AesGcm16,          // RFC 4106, 16-byte ICV
  ChaCha20Poly1305,  // RFC 7634
  AesCbc,            // RFC 3602, with a separate HMAC
  NullForBenchmark,  // no confidentiality, no integrity: measuring the TUN path only, never negotiable
};

enum class IntegrityKind : std::uint8_t {
  None,            // AEAD suites (and the benchmark null suite)
  HmacSha1_96,     // RFC 2404: only what `legacy_proposals: windows-default` lets in
  HmacSha256_128,  // RFC 4868
  HmacSha384_192,
  HmacSha512_256,
};

struct Suite {
  CipherKind cipher = CipherKind::AesGcm16;
  std::uint16_t key_bits = 256;
  IntegrityKind integrity = IntegrityKind::None;
  bool esn = false;  // RFC 4304

  // The negotiated transform, or an error naming what this engine does not implement.
  static Expected<Suite> from_transform(const dataplane::EspTransform& t);
  // Names as in strongSwan proposals: aes128gcm16, aes256gcm16, chacha20poly1305, aes128-sha256,
  // aes256-sha384, aes256-sha512, ...; "null" only when allow_null (the static benchmark tool).
  static Expected<Suite> parse(std::string_view name, bool allow_null = false);

  bool is_aead() const { return cipher == CipherKind::AesGcm16 || cipher == CipherKind::ChaCha20Poly1305; }
  // Encryption KEYMAT: key plus the 4-byte salt for AEAD (RFC 4106 §8.1, RFC 7634 §2).
  std::size_t encr_key_bytes() const;
  std::size_t salt_bytes() const { return is_aead() ? 4 : 0; }
  std::size_t integ_key_bytes() const;
  // Explicit IV carried in each packet: 8 for AEAD (RFC 4106 §3.1, RFC 7634 §2), 16 for CBC.
  std::size_t iv_bytes() const;
  // Payload + padding + pad length + next header ends on this boundary (RFC 4303 §2.4).
  std::size_t pad_alignment() const { return cipher == CipherKind::AesCbc ? 16 : 4; }
  std::size_t icv_bytes() const;
  // ESP header + IV: where the inner packet starts.
  std::size_t header_bytes() const { return 8 + iv_bytes(); }
  // Whole ESP packet (header .. ICV) for an inner packet of inner_len bytes.
  std::size_t sealed_bytes(std::size_t inner_len) const;
  // Largest inner packet whose ESP packet fits in esp_budget bytes (0 if none does).
  std::size_t max_inner_bytes(std::size_t esp_budget) const;
  std::string name() const;
};

}  // namespace natgate::esp
