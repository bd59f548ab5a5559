#include "crypto/cipher.h"

#include <climits>
#include <string>

namespace natgate::crypto {

namespace {

detail::CipherCtxPtr keyed_ctx(const char* name, ByteView key, bool encrypt, std::string& error) {
  detail::CipherPtr cipher(EVP_CIPHER_fetch(nullptr, name, nullptr));
  detail::CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!cipher || !ctx ||
      EVP_CipherInit_ex2(ctx.get(), cipher.get(), key.data(), nullptr, encrypt ? 1 : 0, nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1) {
    error = detail::openssl_error(std::string(name) + " init");
    return nullptr;
  }
  return ctx;
}

}  // namespace

Expected<Cipher> Cipher::create_aes_cbc(ByteView key) {
  const char* name = nullptr;
  switch (key.size()) {
    case 16:
      name = "AES-128-CBC";
      break;
    case 24:
      name = "AES-192-CBC";
      break;
    case 32:
      name = "AES-256-CBC";
      break;
    default:
      return unexpected("AES-CBC key must be 16, 24 or 32 bytes, not " + std::to_string(key.size()));
  }
  std::string error;
  auto enc = keyed_ctx(name, key, true, error);
  if (!enc) return unexpected(error);
  auto dec = keyed_ctx(name, key, false, error);
  if (!dec) return unexpected(error);
  return Cipher(key.size(), std::move(enc), std::move(dec));
}

Status Cipher::encrypt(ByteView iv, ByteView in, MutableByteView out) { return run(enc_.get(), iv, in, out); }
Status Cipher::decrypt(ByteView iv, ByteView in, MutableByteView out) { return run(dec_.get(), iv, in, out); }

Status Cipher::run(EVP_CIPHER_CTX* ctx, ByteView iv, ByteView in, MutableByteView out) {
  if (iv.size() != kIvSize) return unexpected("AES-CBC IV must be 16 bytes");
  if (in.size() % kBlockSize != 0) return unexpected("AES-CBC input is not a whole number of blocks");
  if (out.size() != in.size()) return unexpected("AES-CBC output buffer size differs from input");
  if (in.size() > INT_MAX) return unexpected("AES-CBC input too large");
  int len = 0;
  int final_len = 0;
  // Key and cipher stay from construction: setting only the IV restarts the chain.
  if (EVP_CipherInit_ex2(ctx, nullptr, nullptr, iv.data(), -1, nullptr) != 1 ||
      EVP_CipherUpdate(ctx, out.data(), &len, in.data(), static_cast<int>(in.size())) != 1 ||
      EVP_CipherFinal_ex(ctx, out.data() + len, &final_len) != 1 ||
      static_cast<std::size_t>(len) + static_cast<std::size_t>(final_len) != in.size()) {
    return unexpected(detail::openssl_error("AES-CBC"));
  }
  return {};
}

}  // namespace natgate::crypto
