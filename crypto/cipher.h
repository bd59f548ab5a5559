// AES-CBC without padding (ENCR_AES_CBC, RFC 3602): IKE's SK payload and ESP both pad
// themselves (RFC 7296 §3.14, RFC 4303 §2.4), so the caller hands in whole blocks.
#pragma once

#include <cstddef>

#include "common/bytes.h"
#include "common/expected.h"
#include "crypto/openssl_handles.h"

namespace natgate::crypto {

class Cipher {
 public:
  static constexpr std::size_t kBlockSize = 16;
  static constexpr std::size_t kIvSize = 16;

  // AES-128/192/256-CBC by key length (16, 24 or 32 bytes).
  static Expected<Cipher> create_aes_cbc(ByteView key);

  std::size_t key_size() const { return key_size_; }

  // in.size() must be a multiple of kBlockSize and out.size() == in.size(); out may be the
  // same buffer as in (in place), but must not partially overlap it.
  Status encrypt(ByteView iv, ByteView in, MutableByteView out);
  Status decrypt(ByteView iv, ByteView in, MutableByteView out);

 private:
  Cipher(std::size_t key_size, detail::CipherCtxPtr enc, detail::CipherCtxPtr dec)
      : key_size_(key_size), enc_(std::move(enc)), dec_(std::move(dec)) {}
  Status run(EVP_CIPHER_CTX* ctx, ByteView iv, ByteView in, MutableByteView out);

  std::size_t key_size_;
  detail::CipherCtxPtr enc_;  // keyed once; only the IV changes per call
  detail::CipherCtxPtr dec_;
};

}  // namespace natgate::crypto
