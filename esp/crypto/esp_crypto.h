// Packet protection for one ESP SA in one direction (RFC 4303 §3.3 outbound, §3.4 inbound):
// header, explicit IV, padding, trailer and ICV, encrypted and verified in place.
//
// Written straight on OpenSSL EVP rather than on crypto::Aead because this is the per-packet hot
// path: a context is keyed once and a packet only sets its IV/nonce. Measured
// here (docs/performance.md), about half of the ~580 ns per 1400-byte AES-GCM packet
// is fixed EVP call overhead, so the path avoids everything but the IV set, the AAD and data
// updates, the final and one prepared OSSL_PARAM for the tag; no allocation, no name lookups.
//
// Contexts on demand (Keying::Lazy): a keyed AES-GCM context is about 1 KiB, two per road warrior,
// while most road warriors of a large gateway are idle (their NAT keepalives are not ESP). A lazy
// EspCrypto keeps only the key bytes (SecretBytes: wiped, never dumped) and builds its contexts
// on the first packet; release() frees them again (the data plane worker does so for SAs idle for
// a while, esp/sa/idle_contexts.h) and the next packet builds them anew, a few microseconds.
// docs/performance.md, "Scale: memory per road warrior".
//
// Not thread-safe: one SA direction is driven by one data-plane worker, which is also the only
// one that keys up or releases its contexts.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/bytes.h"
#include "common/expected.h"
#include "common/secret_bytes.h"
#include "esp/crypto/suite.h"
#include "esp/wire/types.h"

namespace natgate::esp {

class EspCrypto {
 public:
  enum class Role : std::uint8_t { Seal, Open };
  enum class OpenError : std::uint8_t {
    Malformed,       // too short, or not a whole number of cipher blocks
    Authentication,  // ICV mismatch: tampered, wrong key, or a guessed ESN high half that was wrong
    BadPadding,      // pad length beyond the payload, or pad bytes not 1, 2, 3, ... (RFC 4303 §2.4)
  };
  struct Opened {
    std::size_t inner_offset = 0;  // from the start of the ESP header
    std::size_t inner_len = 0;
    std::uint8_t next_header = 0;
  };

  // How AEAD suites reach the cipher. Fastest: AES-GCM-128/256 with natgate's own VAES code when
  // the CPU has it (esp/crypto/gcm_vaes.h), otherwise as OpenSsl. OpenSsl: the provider's own
  // functions when they can be found (see esp_crypto.cc), otherwise EVP. EvpOnly: always through
  // EVP. Tests and benchmarks compare the three.
  enum class AeadPath : std::uint8_t { Fastest, OpenSsl, EvpOnly };
  // Eager: keyed at once and until destroyed. Lazy: checked by keying once at create (so a suite
  // OpenSSL cannot do fails at install, not at the first packet), then released until used.
  enum class Keying : std::uint8_t { Eager, Lazy };

  // encr_keymat includes the 4-byte salt for AEAD suites; integ_key is empty for them.
  static Expected<std::unique_ptr<EspCrypto>> create(const Suite& suite, const SecretBytes& encr_keymat,
                                                     const SecretBytes& integ_key, Role role,
                                                     AeadPath path = AeadPath::Fastest,
                                                     Keying keying = Keying::Eager);
  ~EspCrypto();
  EspCrypto(const EspCrypto&) = delete;
  EspCrypto& operator=(const EspCrypto&) = delete;

  const Suite& suite() const { return suite_; }
  // True when AEAD packets bypass EVP (provider dispatch found); false while not keyed.
  bool uses_provider_dispatch() const;
  // True when AES-GCM runs on natgate's own VAES code (esp/crypto/gcm_vaes.h); false while not keyed.
  bool uses_own_gcm() const;
  // Whether the cipher (and HMAC) contexts exist now. seal() and open() key up when they do not.
  bool keyed() const { return evp_ != nullptr; }
  // Builds the contexts from the kept keys; false when OpenSSL fails (nothing is logged).
  bool key_up();
  // Frees the contexts (OpenSSL wipes their key schedules); the keys stay for the next key_up().
  void release();
  // ESP header plus explicit IV: where the inner packet starts.
  std::size_t header_bytes() const { return kEspHeaderBytes + iv_len_; }
  // Whole ESP packet (header .. ICV) for an inner packet of inner_len bytes.
  std::size_t sealed_bytes(std::size_t inner_len) const {
    return kEspHeaderBytes + iv_len_ + (inner_len + 2 + align_ - 1) / align_ * align_ + icv_len_;
  }
  // Largest inner packet whose ESP packet fits in esp_budget bytes (0 if none does).
  std::size_t max_inner_bytes(std::size_t esp_budget) const { return suite_.max_inner_bytes(esp_budget); }

  // Seals in place. The inner packet already lies at esp + header_bytes(); the header, IV, padding,
  // trailer and ICV are written around it. capacity counts from esp. Returns the ESP length, or 0
  // when capacity is too small or OpenSSL fails. The IV is the sequence number for AEAD suites
  // (unique per key, RFC 4106 §3.1 / RFC 7634 §2) and random for CBC (RFC 3602 §2.3).
  std::size_t seal(std::uint8_t* esp, std::size_t inner_len, std::size_t capacity, std::uint8_t next_header,
                   Spi spi, SequenceNumber seq);
  // The same with a caller-chosen IV (iv_bytes() long): for test vectors.
  std::size_t seal_with_iv(std::uint8_t* esp, std::size_t inner_len, std::size_t capacity,
                           std::uint8_t next_header, Spi spi, SequenceNumber seq, ByteView iv);

  // Seals an inner packet gathered from two parts, copying and encrypting in one pass: its first
  // head_len bytes already lie at esp + header_bytes() (e.g. headers the caller built there), and
  // the tail_len bytes at tail follow them; the AEAD suites encrypt straight from tail into the
  // ESP buffer instead of a memcpy followed by an in-place seal. The output bytes are those seal()
  // gives for the concatenated inner packet. tail must not overlap esp[0, capacity) (OpenSSL allows
  // only in == out or disjoint buffers): a partial overlap returns 0, like a too small capacity.
  std::size_t seal_gather(std::uint8_t* esp, std::size_t head_len, const std::uint8_t* tail,
                          std::size_t tail_len, std::size_t capacity, std::uint8_t next_header, Spi spi,
                          SequenceNumber seq);
  // The same with a caller-chosen IV: for test vectors.
  std::size_t seal_gather_with_iv(std::uint8_t* esp, std::size_t head_len, const std::uint8_t* tail,
                                  std::size_t tail_len, std::size_t capacity, std::uint8_t next_header,
                                  Spi spi, SequenceNumber seq, ByteView iv);

  // Verifies and decrypts the ESP packet esp[0, len) in place. seq is the full sequence number
  // (its high half reconstructed for ESN, RFC 4303 Appendix A2); the SPI is read from the packet.
  Expected<Opened, OpenError> open(std::uint8_t* esp, std::size_t len, SequenceNumber seq);

 private:
  struct Evp;
  EspCrypto(const Suite& suite, Role role, AeadPath path, const SecretBytes& encr_keymat,
            const SecretBytes& integ_key);
  // Contexts keyed with encr_keymat_ / integ_key_, or why not.
  Expected<std::unique_ptr<Evp>> make_evp() const;
  // The IV seal() uses for seq: the sequence number (AEAD) or a fresh random block (CBC).
  bool iv_for(SequenceNumber seq, std::uint8_t* iv);
  bool next_random_iv(std::uint8_t* out);
  // Where a gathered inner packet's parts are: [payload, payload + head_len) in place, then
  // tail_len bytes from tail (nullptr when everything is in place), then padding and trailer.
  struct Gather {
    std::size_t head_len;
    const std::uint8_t* tail;
    std::size_t tail_len;
  };
  bool aead_seal(std::uint8_t* esp, std::size_t payload_len, const Gather& in, SequenceNumber seq);
  bool aead_open(std::uint8_t* esp, std::size_t payload_len, SequenceNumber seq);
  bool cbc_seal(std::uint8_t* esp, std::size_t payload_len, SequenceNumber seq);
  bool cbc_open(std::uint8_t* esp, std::size_t payload_len, SequenceNumber seq);
  bool hmac(const std::uint8_t* data, std::size_t len, SequenceNumber seq, std::uint8_t* out);

  // Packed (small fields first, 88 bytes): one per SA, two per road warrior, and the lengths are
  // read as bytes at no cost on the packet path (docs/performance.md, "Scale: memory per road
  // warrior", sixth round).
  Suite suite_;
  Role role_;
  AeadPath aead_path_;
  // The suite's layout, looked up once (the packet path reads these for every packet).
  std::uint8_t iv_len_;
  std::uint8_t icv_len_;
  std::uint8_t align_;
  std::array<std::uint8_t, 4> salt_{};
  std::uint16_t random_used_ = kRandomPoolBytes;
  std::unique_ptr<Evp> evp_;  // null while released
  SecretBytes encr_keymat_;   // what the contexts are keyed from (key || salt for AEAD)
  SecretBytes integ_key_;
  // CBC IVs come from OpenSSL's CSPRNG in blocks, so the per-packet cost is a copy. Only CBC SAs
  // have the pool: an AEAD SA's IV is its sequence number, and a road warrior's two SAs should
  // not carry 2 KiB they never use (docs/performance.md, "Memory per road warrior").
  static constexpr std::uint16_t kRandomPoolBytes = 1024;
  using RandomPool = std::array<std::uint8_t, kRandomPoolBytes>;
  std::unique_ptr<RandomPool> random_pool_;
};

}  // namespace natgate::esp
