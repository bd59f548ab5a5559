#include "ike/suite/message_protector.h"

#include <algorithm>
#include <string>

namespace natgate::ike {

namespace {

std::size_t round_up(std::size_t n, std::size_t block) { return (n + block - 1) / block * block; }

}  // namespace

Expected<MessageProtector> MessageProtector::create(const CryptoSuite& suite, const SecretBytes& sk_e,
                                                    const SecretBytes& sk_a) {
  if (auto ok = suite.validate(); !ok) return unexpected(ok.error());
  if (sk_e.size() != suite.encr_keymat_size()) {
    return unexpected("SK_e is " + std::to_string(sk_e.size()) + " octets, the suite needs " +
                      std::to_string(suite.encr_keymat_size()));
  }
  if (sk_a.size() != suite.integ_key_size()) {
    return unexpected("SK_a is " + std::to_string(sk_a.size()) + " octets, the suite needs " +
                      std::to_string(suite.integ_key_size()));
  }
  MessageProtector p;
  p.iv_size_ = static_cast<std::uint8_t>(suite.iv_size());
  p.icv_size_ = static_cast<std::uint8_t>(suite.icv_size());
  p.block_size_ = static_cast<std::uint8_t>(suite.block_size());
  if (suite.is_aead()) {
    auto alg = crypto::aead_algorithm(suite.encr.id, suite.encr.key_bits);
    if (!alg) return unexpected(alg.error());
    // KEYMAT for AEADs is key || salt (RFC 5282 §7.1, RFC 7634 §2).
    const std::size_t key_len = suite.encr_key_size();
    // Keyed once here so that a key OpenSSL refuses fails now, not at the first message.
    auto aead = crypto::Aead::create(*alg, sk_e.view().first(key_len), crypto::AeadUse::SealOnly);
    if (!aead) return unexpected(aead.error());
    p.aead_ = *alg;
    p.aead_keymat_ = sk_e;
    p.aead_key_size_ = static_cast<std::uint8_t>(key_len);
  } else {
    auto cipher = crypto::Cipher::create_aes_cbc(sk_e.view());
    if (!cipher) return unexpected(cipher.error());
    auto mac = crypto::Mac::create(suite.integ, sk_a.view());
    if (!mac) return unexpected(mac.error());
    p.cbc_ = std::make_unique<Cbc>(Cbc{std::move(*cipher), std::move(*mac)});
  }
  return p;
}

std::size_t MessageProtector::sealed_size(std::size_t plaintext_size) const {
  // +1: the Pad Length octet always follows the padding.
  return iv_size_ + round_up(plaintext_size + 1, block_size_) + icv_size_;
}

std::size_t MessageProtector::max_plaintext_size(std::size_t body_budget) const {
  if (body_budget < std::size_t{iv_size_} + icv_size_ + block_size_) return 0;
  const std::size_t encrypted = (body_budget - iv_size_ - icv_size_) / block_size_ * block_size_;
  return encrypted - 1;
}

Expected<Bytes> MessageProtector::seal(ByteView aad, ByteView plaintext, crypto::RandomSource& random) {
  const std::size_t encrypted_len = round_up(plaintext.size() + 1, block_size_);
  const std::size_t pad_len = encrypted_len - plaintext.size() - 1;
  Bytes out(iv_size_ + encrypted_len + icv_size_);
  MutableByteView iv(out.data(), iv_size_);
  MutableByteView encrypted(out.data() + iv_size_, encrypted_len);
  MutableByteView icv(out.data() + iv_size_ + encrypted_len, icv_size_);

  // RFC 7296 §3.14: payloads || padding (any value; zeros here) || Pad Length.
  std::copy(plaintext.begin(), plaintext.end(), encrypted.begin());
  encrypted.back() = static_cast<std::uint8_t>(pad_len);

  if (aead_) {
    if (!iv_started_) {
      std::uint8_t start[8];
      random.fill(start);
      next_iv_ = 0;
      for (std::uint8_t b : start) next_iv_ = (next_iv_ << 8) | b;
      iv_started_ = true;
    }
    const std::uint64_t counter = next_iv_++;
    for (std::size_t i = 0; i < 8; ++i) iv[i] = static_cast<std::uint8_t>(counter >> (56 - 8 * i));
    std::uint8_t nonce[crypto::Aead::kNonceSize];
    std::copy_n(aead_keymat_.data() + aead_key_size_, 4, nonce);
    std::copy(iv.begin(), iv.end(), nonce + 4);
    auto aead =
        crypto::Aead::create(*aead_, aead_keymat_.view().first(aead_key_size_), crypto::AeadUse::SealOnly);
    if (!aead) return unexpected(aead.error());
    auto ok = aead->seal_in_place(ByteView(nonce, sizeof nonce), aad, encrypted, icv);
    if (!ok) return unexpected(ok.error());
    return out;
  }

  random.fill(iv);
  auto ok = cbc_->cipher.encrypt(iv, encrypted, encrypted);
  if (!ok) return unexpected(ok.error());
  cbc_->mac.compute({aad, ByteView(iv), ByteView(encrypted)}, icv);
  return out;
}

Expected<Bytes> MessageProtector::open(ByteView aad, ByteView body) {
  if (body.size() < std::size_t{iv_size_} + block_size_ + icv_size_) {
    return unexpected("SK payload body of " + std::to_string(body.size()) +
                      " octets is too short for this suite");
  }
  ByteView iv = body.first(iv_size_);
  ByteView encrypted = body.subspan(iv_size_, body.size() - iv_size_ - icv_size_);
  ByteView icv = body.last(icv_size_);
  if (encrypted.size() % block_size_ != 0) {
    return unexpected("SK payload ciphertext is not a whole number of cipher blocks");
  }

  Bytes plain(encrypted.size());
  if (aead_) {
    std::uint8_t nonce[crypto::Aead::kNonceSize];
    std::copy_n(aead_keymat_.data() + aead_key_size_, 4, nonce);
    std::copy(iv.begin(), iv.end(), nonce + 4);
    std::copy(encrypted.begin(), encrypted.end(), plain.begin());
    auto aead =
        crypto::Aead::create(*aead_, aead_keymat_.view().first(aead_key_size_), crypto::AeadUse::OpenOnly);
    if (!aead) return unexpected(aead.error());
    if (!aead->open_in_place(ByteView(nonce, sizeof nonce), aad, plain, icv)) {
      return unexpected("SK payload integrity check failed");
    }
  } else {
    // Verify before decrypting (RFC 7296 §3.14: the ICV covers header through ciphertext).
    if (!cbc_->mac.verify({aad, iv, encrypted}, icv)) return unexpected("SK payload integrity check failed");
    auto ok = cbc_->cipher.decrypt(iv, encrypted, plain);
    if (!ok) return unexpected(ok.error());
  }

  const std::size_t pad_len = plain.back();
  if (pad_len + 1 > plain.size()) {
    return unexpected("SK payload Pad Length " + std::to_string(pad_len) + " exceeds the " +
                      std::to_string(plain.size()) + "-octet plaintext");
  }
  plain.resize(plain.size() - pad_len - 1);
  return plain;
}

}  // namespace natgate::ike
