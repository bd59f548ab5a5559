#include "crypto/hash.h"

#include <cstdlib>

#include "crypto/openssl_handles.h"

namespace natgate::crypto {

namespace {

// Fetched once and kept: an explicit fetch avoids OpenSSL's per-call implicit lookup.
const EVP_MD* fetched_md(Digest digest) {
  static const detail::MdPtr sha1(EVP_MD_fetch(nullptr, "SHA1", nullptr));
  static const detail::MdPtr sha256(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  static const detail::MdPtr sha384(EVP_MD_fetch(nullptr, "SHA384", nullptr));
  static const detail::MdPtr sha512(EVP_MD_fetch(nullptr, "SHA512", nullptr));
  const EVP_MD* md = nullptr;
  switch (digest) {
    case Digest::Sha1:
      md = sha1.get();
      break;
    case Digest::Sha256:
      md = sha256.get();
      break;
    case Digest::Sha384:
      md = sha384.get();
      break;
    case Digest::Sha512:
      md = sha512.get();
      break;
  }
  // The default provider always has these; without them nothing in natgate can work.
  if (md == nullptr) std::abort();
  return md;
}

}  // namespace

std::size_t digest_size(Digest digest) {
  switch (digest) {
    case Digest::Sha1:
      return 20;
    case Digest::Sha256:
      return 32;
    case Digest::Sha384:
      return 48;
    case Digest::Sha512:
      return 64;
  }
  return 0;
}

const char* digest_name(Digest digest) {
  switch (digest) {
    case Digest::Sha1:
      return "SHA1";
    case Digest::Sha256:
      return "SHA256";
    case Digest::Sha384:
      return "SHA384";
    case Digest::Sha512:
      return "SHA512";
  }
  return "?";
}

Bytes hash(Digest digest, std::initializer_list<ByteView> parts) {
  detail::MdCtxPtr ctx(EVP_MD_CTX_new());
  Bytes out(digest_size(digest));
  unsigned int len = 0;
  bool ok = ctx && EVP_DigestInit_ex2(ctx.get(), fetched_md(digest), nullptr) == 1;
  for (ByteView part : parts) ok = ok && EVP_DigestUpdate(ctx.get(), part.data(), part.size()) == 1;
  ok = ok && EVP_DigestFinal_ex(ctx.get(), out.data(), &len) == 1 && len == out.size();
  // Only allocation failure makes a digest fail; there is no sensible value to return.
  if (!ok) std::abort();
  return out;
}

}  // namespace natgate::crypto
