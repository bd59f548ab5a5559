#include "crypto/aead.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>

#include <climits>
#include <cstring>
#include <string>

namespace natgate::crypto {

namespace {

const char* evp_name(AeadAlgorithm algorithm) {
  switch (algorithm) {
    case AeadAlgorithm::AesGcm128:
      return "AES-128-GCM";
    case AeadAlgorithm::AesGcm192:
      return "AES-192-GCM";
    case AeadAlgorithm::AesGcm256:
      return "AES-256-GCM";
    case AeadAlgorithm::ChaCha20Poly1305:
      return "ChaCha20-Poly1305";
  }
  return "?";
}

detail::CipherCtxPtr keyed_ctx(EVP_CIPHER* cipher, ByteView key, bool encrypt, std::string& error) {
  detail::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  // The default IV length of both ciphers is 12 bytes, the nonce size ESP and IKE use.
  if (!ctx || EVP_CipherInit_ex2(ctx.get(), cipher, key.data(), nullptr, encrypt ? 1 : 0, nullptr) != 1 ||
      EVP_CIPHER_CTX_get_iv_length(ctx.get()) != static_cast<int>(Aead::kNonceSize)) {
    error = detail::openssl_error(std::string(EVP_CIPHER_get0_name(cipher)) + " init");
    return nullptr;
  }
  return ctx;
}

// The fetched cipher of each algorithm, once per process (EVP_CIPHER_fetch takes the provider
// store's lock and searches it; IKE message protection keys a context per message, issue 13).
// Fetched EVP_CIPHERs are immutable and safe to share between threads.
EVP_CIPHER* fetched_cipher(AeadAlgorithm algorithm) {
  static const detail::CipherPtr gcm128(
      EVP_CIPHER_fetch(nullptr, evp_name(AeadAlgorithm::AesGcm128), nullptr));
  static const detail::CipherPtr gcm192(
      EVP_CIPHER_fetch(nullptr, evp_name(AeadAlgorithm::AesGcm192), nullptr));
  static const detail::CipherPtr gcm256(
      EVP_CIPHER_fetch(nullptr, evp_name(AeadAlgorithm::AesGcm256), nullptr));
  static const detail::CipherPtr chacha(
      EVP_CIPHER_fetch(nullptr, evp_name(AeadAlgorithm::ChaCha20Poly1305), nullptr));
  switch (algorithm) {
    case AeadAlgorithm::AesGcm128:
      return gcm128.get();
    case AeadAlgorithm::AesGcm192:
      return gcm192.get();
    case AeadAlgorithm::AesGcm256:
      return gcm256.get();
    case AeadAlgorithm::ChaCha20Poly1305:
      return chacha.get();
  }
  return nullptr;
}

}  // namespace

Expected<AeadAlgorithm> aead_algorithm(iana::EncrId id, std::uint16_t key_bits) {
  if (id == iana::EncrId::AesGcm16) {
    switch (key_bits) {
      case 128:
        return AeadAlgorithm::AesGcm128;
      case 192:
        return AeadAlgorithm::AesGcm192;
      case 256:
        return AeadAlgorithm::AesGcm256;
      default:
        return unexpected("AES-GCM key length " + std::to_string(key_bits) + " bits is not 128/192/256");
    }
  }
  if (id == iana::EncrId::ChaCha20Poly1305) {
    // RFC 7634 §3: the transform has a fixed 256-bit key and carries no key length attribute.
    if (key_bits == 0 || key_bits == 256) return AeadAlgorithm::ChaCha20Poly1305;
    return unexpected("ChaCha20-Poly1305 has a 256-bit key, not " + std::to_string(key_bits));
  }
  return unexpected("encryption transform " + std::to_string(static_cast<unsigned>(id)) + " is not an AEAD");
}

std::size_t aead_key_size(AeadAlgorithm algorithm) {
  switch (algorithm) {
    case AeadAlgorithm::AesGcm128:
      return 16;
    case AeadAlgorithm::AesGcm192:
      return 24;
    case AeadAlgorithm::AesGcm256:
    case AeadAlgorithm::ChaCha20Poly1305:
      return 32;
  }
  return 0;
}

Expected<Aead> Aead::create(AeadAlgorithm algorithm, ByteView key, AeadUse use) {
  if (key.size() != aead_key_size(algorithm)) {
    return unexpected(std::string(evp_name(algorithm)) + " key must be " +
                      std::to_string(aead_key_size(algorithm)) + " bytes, not " + std::to_string(key.size()));
  }
  EVP_CIPHER* cipher = fetched_cipher(algorithm);
  if (cipher == nullptr)
    return unexpected(detail::openssl_error(std::string(evp_name(algorithm)) + " is not available"));
  std::string error;
  detail::CipherCtxPtr seal;
  detail::CipherCtxPtr open;
  if (use != AeadUse::OpenOnly) {
    seal = keyed_ctx(cipher, key, true, error);
    if (!seal) return unexpected(error);
  }
  if (use != AeadUse::SealOnly) {
    open = keyed_ctx(cipher, key, false, error);
    if (!open) return unexpected(error);
  }
  return Aead(algorithm, std::move(seal), std::move(open));
}

Status Aead::seal(ByteView nonce, ByteView aad, ByteView plaintext, MutableByteView out) {
  if (out.size() != plaintext.size() + kTagSize)
    return unexpected("AEAD seal: output must be plaintext + 16 bytes");
  return seal_into(nonce, aad, plaintext, out.data(), out.data() + plaintext.size());
}

bool Aead::open(ByteView nonce, ByteView aad, ByteView sealed, MutableByteView out) {
  if (sealed.size() < kTagSize || out.size() != sealed.size() - kTagSize) return false;
  return open_into(nonce, aad, sealed.first(out.size()), out.data(), sealed.data() + out.size());
}

Status Aead::seal_in_place(ByteView nonce, ByteView aad, MutableByteView data, MutableByteView tag) {
  if (tag.size() != kTagSize) return unexpected("AEAD seal: tag buffer must be 16 bytes");
  return seal_into(nonce, aad, data, data.data(), tag.data());
}

bool Aead::open_in_place(ByteView nonce, ByteView aad, MutableByteView data, ByteView tag) {
  if (tag.size() != kTagSize) {
    if (!data.empty()) OPENSSL_cleanse(data.data(), data.size());
    return false;
  }
  return open_into(nonce, aad, data, data.data(), tag.data());
}

Status Aead::seal_into(ByteView nonce, ByteView aad, ByteView in, std::uint8_t* out, std::uint8_t* tag) {
  if (nonce.size() != kNonceSize) return unexpected("AEAD nonce must be 12 bytes");
  if (in.size() > INT_MAX || aad.size() > INT_MAX) return unexpected("AEAD input too large");
  if (!seal_) return unexpected("AEAD seal: this context was created for opening only");
  EVP_CIPHER_CTX* ctx = seal_.get();
  int len = 0;
  bool ok = EVP_EncryptInit_ex2(ctx, nullptr, nullptr, nonce.data(), nullptr) == 1;
  if (ok && !aad.empty())
    ok = EVP_EncryptUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) == 1;
  if (ok && !in.empty()) ok = EVP_EncryptUpdate(ctx, out, &len, in.data(), static_cast<int>(in.size())) == 1;
  // AEAD finals write no bytes, but never hand OpenSSL a null pointer for an empty message.
  std::uint8_t unused = 0;
  int final_len = 0;
  ok = ok && EVP_EncryptFinal_ex(ctx, in.empty() ? &unused : out + in.size(), &final_len) == 1 &&
       final_len == 0;
  // Asking for the tag through a prepared parameter skips EVP's ctrl-to-param translation.
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, kTagSize),
      OSSL_PARAM_construct_end(),
  };
  ok = ok && EVP_CIPHER_CTX_get_params(ctx, params) == 1;
  if (!ok) return unexpected(detail::openssl_error(std::string(evp_name(algorithm_)) + " seal"));
  return {};
}

bool Aead::open_into(ByteView nonce, ByteView aad, ByteView in, std::uint8_t* out, const std::uint8_t* tag) {
  bool ok = open_ != nullptr && nonce.size() == kNonceSize && in.size() <= INT_MAX && aad.size() <= INT_MAX;
  EVP_CIPHER_CTX* ctx = open_.get();
  int len = 0;
  ok = ok && EVP_DecryptInit_ex2(ctx, nullptr, nullptr, nonce.data(), nullptr) == 1;
  if (ok && !aad.empty())
    ok = EVP_DecryptUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) == 1;
  if (ok && !in.empty()) ok = EVP_DecryptUpdate(ctx, out, &len, in.data(), static_cast<int>(in.size())) == 1;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, const_cast<std::uint8_t*>(tag), kTagSize),
      OSSL_PARAM_construct_end(),
  };
  ok = ok && EVP_CIPHER_CTX_set_params(ctx, params) == 1;
  std::uint8_t unused = 0;
  int final_len = 0;
  // EVP_DecryptFinal_ex compares the tag in constant time and fails on mismatch.
  ok = ok && EVP_DecryptFinal_ex(ctx, in.empty() ? &unused : out + in.size(), &final_len) == 1;
  if (!ok) {
    if (!in.empty()) OPENSSL_cleanse(out, in.size());
    detail::clear_openssl_errors();
  }
  return ok;
}

}  // namespace natgate::crypto
