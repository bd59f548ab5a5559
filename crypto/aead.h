// AEAD ciphers with a 16-byte tag: AES-GCM (RFC 4106 / RFC 5282 "AES-GCM-16") and
// ChaCha20-Poly1305 (RFC 8439, used by RFC 7634). Built for the ESP per-packet path:
// the cipher is fetched and keyed once at construction, and each call only sets the
// 12-byte nonce, so no per-packet key schedule or algorithm lookup happens.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/bytes.h"
#include "common/expected.h"
#include "common/iana.h"
#include "crypto/openssl_handles.h"

namespace natgate::crypto {

enum class AeadAlgorithm { AesGcm128, AesGcm192, AesGcm256, ChaCha20Poly1305 };

// ENCR_AES_GCM_16 with 128/192/256-bit keys, or ENCR_CHACHA20_POLY1305 (key_bits 0 or 256).
Expected<AeadAlgorithm> aead_algorithm(iana::EncrId id, std::uint16_t key_bits);
// Key bytes without any salt: 16, 24, 32, 32.
std::size_t aead_key_size(AeadAlgorithm algorithm);

// Which directions an Aead is keyed for: each keyed context is about 1 KiB (AES-GCM's key
// schedule and GHASH table), so a user that only seals or only opens asks for that one.
enum class AeadUse : std::uint8_t { SealAndOpen, SealOnly, OpenOnly };

// Not thread-safe per direction: seal() calls must not overlap each other, nor open() calls
// each other. Sealing and opening use separate contexts, so one thread may seal while
// another opens.
class Aead {
 public:
  static constexpr std::size_t kNonceSize = 12;  // salt(4) || IV(8) in ESP and IKE
  static constexpr std::size_t kTagSize = 16;

  // With SealOnly, open() fails (returns false); with OpenOnly, seal() returns an error.
  static Expected<Aead> create(AeadAlgorithm algorithm, ByteView key, AeadUse use = AeadUse::SealAndOpen);

  AeadAlgorithm algorithm() const { return algorithm_; }

  // out = ciphertext || tag; out.size() must be plaintext.size() + kTagSize.
  Status seal(ByteView nonce, ByteView aad, ByteView plaintext, MutableByteView out);
  // sealed = ciphertext || tag; out.size() must be sealed.size() - kTagSize. Returns false
  // when the tag does not verify (checked in constant time by OpenSSL) or sizes are wrong;
  // out is then zeroed, so unauthenticated plaintext never escapes.
  bool open(ByteView nonce, ByteView aad, ByteView sealed, MutableByteView out);

  // In place, for the data plane: `data` is encrypted where it lies and the tag is
  // written to `tag` (kTagSize bytes), typically the bytes right after data.
  Status seal_in_place(ByteView nonce, ByteView aad, MutableByteView data, MutableByteView tag);
  // Decrypts `data` where it lies if `tag` verifies; otherwise zeroes data and returns false.
  bool open_in_place(ByteView nonce, ByteView aad, MutableByteView data, ByteView tag);

 private:
  Aead(AeadAlgorithm algorithm, detail::CipherCtxPtr seal, detail::CipherCtxPtr open)
      : algorithm_(algorithm), seal_(std::move(seal)), open_(std::move(open)) {}
  Status seal_into(ByteView nonce, ByteView aad, ByteView in, std::uint8_t* out, std::uint8_t* tag);
  bool open_into(ByteView nonce, ByteView aad, ByteView in, std::uint8_t* out, const std::uint8_t* tag);

  AeadAlgorithm algorithm_;
  detail::CipherCtxPtr seal_;
  detail::CipherCtxPtr open_;
};

}  // namespace natgate::crypto
