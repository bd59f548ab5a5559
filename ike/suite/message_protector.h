// The SK payload's cryptography (RFC 7296 §3.14; RFC 5282 for AES-GCM, RFC 7634 for
// ChaCha20-Poly1305) for one direction of one IKE SA. It never parses IKE: the caller (codec +
// exchanges) hands in the bytes before the SK body and gets back the body, or the plaintext.
//
//   sending:   body = seal(aad, payload_chain, random)   where aad = IKE header .. SK payload
//              header, whose lengths were written using sealed_size(payload_chain.size())
//   receiving: payload_chain = open(aad, body)
//
// AES-CBC + HMAC: body = IV(16, random) || AES-CBC(chain || pad || pad_len) || ICV, the ICV a
//   truncated HMAC over aad || IV || ciphertext.
// AEAD: body = IV(8) || ciphertext || tag(16), nonce = salt(4) || IV, associated data = aad.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "common/bytes.h"
#include "common/expected.h"
#include "common/secret_bytes.h"
#include "crypto/aead.h"
#include "crypto/cipher.h"
#include "crypto/mac.h"
#include "crypto/random.h"
#include "ike/suite/crypto_suite.h"

namespace natgate::ike {

class MessageProtector {
 public:
  // sk_e / sk_a are one direction's SK_e* (key || salt for AEAD) and SK_a* (empty for AEAD):
  // SK_ei/SK_ai protect what the original initiator sends, SK_er/SK_ar the other direction.
  static Expected<MessageProtector> create(const CryptoSuite& suite, const SecretBytes& sk_e,
                                           const SecretBytes& sk_a);

  std::size_t iv_size() const { return iv_size_; }
  std::size_t icv_size() const { return icv_size_; }

  // SK body length (IV || encrypted padded plaintext || ICV) for a payload chain of n octets.
  // Padding is the minimum: none beyond the Pad Length octet for AEADs, up to the 16-octet
  // block for AES-CBC.
  std::size_t sealed_size(std::size_t plaintext_size) const;
  // The longest payload chain whose sealed body fits in `body_budget` octets (0 if none does):
  // for sizing IKE fragments (RFC 7383 §2.5.1).
  std::size_t max_plaintext_size(std::size_t body_budget) const;

  // Encrypts and authenticates; the result is exactly sealed_size(plaintext.size()) octets.
  // AES-CBC IVs come from `random` (they must be unpredictable, RFC 7296 §3.14). AEAD IVs are
  // a counter started at a random value on first use, so no IV repeats under this key.
  Expected<Bytes> seal(ByteView aad, ByteView plaintext, crypto::RandomSource& random);

  // Verifies and decrypts a received SK body; returns the payload chain without padding.
  // Any modification of aad or body fails ("integrity check failed"); so does a body too
  // short for the suite or with an impossible Pad Length.
  Expected<Bytes> open(ByteView aad, ByteView body);

 private:
  MessageProtector() = default;

  // Held inline twice in every IKE SA (one per direction), so kept small: 160 bytes with each
  // size a size_t, an optional around the IV counter, key and salt in two secrets and the
  // CBC objects inline; 64 now (docs/performance.md, "Scale: memory per road warrior").
  // AEAD suites: key || salt (RFC 5282 §7.1, RFC 7634 §2) in one secret, and a cipher context
  // keyed for one message at a time. An IKE SA exchanges a few messages an hour once up, and a
  // keyed AES-GCM context is about 1 KiB, so holding two per SA direction cost a road warrior
  // 4.5 KiB; keying one per message costs about a microsecond.
  SecretBytes aead_keymat_;
  std::uint64_t next_iv_ = 0;
  // AES-CBC + HMAC suites (none for AEADs):
  struct Cbc {
    crypto::Cipher cipher;
    crypto::Mac mac;
  };
  std::unique_ptr<Cbc> cbc_;
  std::optional<crypto::AeadAlgorithm> aead_;
  bool iv_started_ = false;  // next_iv_ starts at a random value on the first seal
  // IV ≤ 16, ICV ≤ 32, block ≤ 16, AEAD key ≤ 32 octets for every suite (crypto_suite.h).
  std::uint8_t iv_size_ = 0;
  std::uint8_t icv_size_ = 0;
  std::uint8_t block_size_ = 1;
  std::uint8_t aead_key_size_ = 0;
};

}  // namespace natgate::ike
