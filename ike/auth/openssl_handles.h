// Internal to ike/auth/: owning pointers for the OpenSSL X.509 and key objects this folder uses,
// and OpenSSL error text. Callers outside ike/auth/ use the classes, never these.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/bytes.h"

namespace natgate::ike::detail {

template <auto FreeFn>
struct OsslFree {
  template <typename T>
  void operator()(T* p) const {
    FreeFn(p);
  }
};

using X509Ptr = std::unique_ptr<X509, OsslFree<X509_free>>;
using X509CrlPtr = std::unique_ptr<X509_CRL, OsslFree<X509_CRL_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, OsslFree<X509_NAME_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, OsslFree<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OsslFree<X509_STORE_CTX_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OsslFree<GENERAL_NAMES_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, OsslFree<EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OsslFree<EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, OsslFree<EVP_MD_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, OsslFree<BIO_free_all>>;

// "<what>: <first queued OpenSSL error>", clearing the queue so the next call starts clean.
std::string ossl_error(std::string_view what);
void clear_ossl_errors();

// One-line DN in the order it is encoded, as strongSwan prints it: "C=CH, O=Example, CN=moon".
std::string name_to_string(const X509_NAME* name);

// i2d_* of any OpenSSL object into Bytes; empty on failure.
template <typename T, typename F>
Bytes to_der(const T* obj, F i2d) {
  int n = i2d(obj, nullptr);
  if (n <= 0) return {};
  Bytes out(static_cast<std::size_t>(n));
  unsigned char* p = out.data();
  if (i2d(obj, &p) != n) return {};
  return out;
}

}  // namespace natgate::ike::detail
