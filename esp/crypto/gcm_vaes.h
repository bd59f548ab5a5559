// AES-GCM (NIST SP 800-38D) for the ESP packet path on CPUs with VAES and VPCLMULQDQ, on 512-bit
// vectors (AVX-512) or 256-bit ones (AVX2): AES-128/256, 96-bit nonce (RFC 4106 §4: 4-byte salt || 8-byte
// IV), 16-byte tag.
//
// Why natgate carries its own GCM: on this project's test machine (AMD EPYC, AVX-512 with VAES and
// VPCLMULQDQ) the AEAD was ~29 % of the ESP engine's CPU, and Debian 12's OpenSSL 3.0 has no
// VAES path for AES-GCM: `openssl speed -evp aes-256-gcm -bytes 1400` gives ~2.1 GB/s, about
// 1.1 cycles per byte. Sixteen blocks per loop in four zmm registers (CTR with VAES, GHASH with
// VPCLMULQDQ over precomputed H^1..H^16, one reduction per 256 bytes) halve the per-packet cost:
// a 1,400-byte aes256gcm16 ESP packet took 206 ns of CPU to seal and 235 to open, against 476
// and 469 through OpenSSL, in the same natgate_esp_bench run (docs/performance.md, "Own
// AES-GCM"; ~0.3 cycles per byte). OpenSSL stays the fallback whenever the CPU lacks VAES
// (EspCrypto picks, esp_crypto.cc).
//
// CTR and GHASH are separate passes over the packet (a 1,400-byte packet stays in L1). open()
// checks the tag, in constant time, before it decrypts anything: on failure `out` is untouched.
//
// The round keys and the powers of H are secrets: wiped when the object is destroyed, never logged.
// Not thread-safe to rekey; seal/open are const and may run concurrently on one key.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace natgate::esp {

class GcmVaes {
 public:
  static constexpr std::size_t kNonceBytes = 12;
  static constexpr std::size_t kTagBytes = 16;

  // Zmm512: AVX-512F/BW/VL + VAES + VPCLMULQDQ, 16 blocks per loop, masked tails. Ymm256: AVX2 +
  // VAES + VPCLMULQDQ (e.g. CPUs without AVX-512), 8 blocks per loop. Both need AES-NI, PCLMULQDQ
  // and the OS saving the vector state.
  enum class Width : std::uint8_t { Zmm512, Ymm256 };
  // Whether this CPU can run the given width; without an argument, either. Checked once.
  static bool cpu_supported(Width width);
  static bool cpu_supported();
  // A keyed context for a 16- or 32-byte AES key on the widest vectors the CPU has (or the given
  // width: tests and benchmarks); nullptr when the CPU lacks the features or the key length is
  // neither.
  static std::unique_ptr<GcmVaes> create(const std::uint8_t* key, std::size_t key_len);
  static std::unique_ptr<GcmVaes> create(const std::uint8_t* key, std::size_t key_len, Width width);
  Width width() const { return width_; }
  ~GcmVaes();
  GcmVaes(const GcmVaes&) = delete;
  GcmVaes& operator=(const GcmVaes&) = delete;

  // CTR-encrypts (or decrypts) len bytes from in to out (equal or disjoint), bytes
  // [offset, offset + len) of the message's ciphertext; offset must be a multiple of 16, so a
  // message may be encrypted in pieces that start on block boundaries.
  void crypt_at(const std::uint8_t* nonce, std::size_t offset, const std::uint8_t* in, std::uint8_t* out,
                std::size_t len) const;
  // The tag over aad and the whole ciphertext ct.
  void tag(const std::uint8_t* nonce, const std::uint8_t* aad, std::size_t aad_len, const std::uint8_t* ct,
           std::size_t len, std::uint8_t* tag_out) const;
  void seal(const std::uint8_t* nonce, const std::uint8_t* aad, std::size_t aad_len, const std::uint8_t* in,
            std::uint8_t* out, std::size_t len, std::uint8_t* tag_out) const;
  // Verifies tag_in over aad and in (constant-time compare), then decrypts into out; false, with
  // out untouched, when the tag does not verify.
  bool open(const std::uint8_t* nonce, const std::uint8_t* aad, std::size_t aad_len, const std::uint8_t* in,
            std::uint8_t* out, std::size_t len, const std::uint8_t* tag_in) const;

 private:
  GcmVaes() = default;
  // powers_[i] = H^(16 - i) in GHASH's byte-reflected, Montgomery-scaled form (gcm_vaes.cc), so
  // 16 blocks multiply with one contiguous 256-byte load and a tail of n blocks starts at 16 - n.
  alignas(64) std::uint8_t powers_[16 * 16]{};
  alignas(16) std::uint8_t round_keys_[15 * 16]{};
  int rounds_ = 0;
  Width width_ = Width::Zmm512;
};

}  // namespace natgate::esp
