// The one set of owning pointers for OpenSSL objects, and OpenSSL error text. Used inside crypto/
// and by ike/auth/ (X.509, keys, signatures); other layers never see OpenSSL types, they use the
// classes in crypto/ and ike/auth/.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>

namespace natgate::crypto::detail {

template <auto FreeFn>
struct OsslDeleter {
  template <typename T>
  void operator()(T* p) const {
    FreeFn(p);
  }
};

using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, OsslDeleter<EVP_CIPHER_CTX_free>>;
using CipherPtr = std::unique_ptr<EVP_CIPHER, OsslDeleter<EVP_CIPHER_free>>;
using MacPtr = std::unique_ptr<EVP_MAC, OsslDeleter<EVP_MAC_free>>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, OsslDeleter<EVP_MAC_CTX_free>>;
using MdPtr = std::unique_ptr<EVP_MD, OsslDeleter<EVP_MD_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, OsslDeleter<EVP_MD_CTX_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, OsslDeleter<EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OsslDeleter<EVP_PKEY_CTX_free>>;
// Private scalars live in BIGNUMs briefly: BN_clear_free wipes them.
using BignumPtr = std::unique_ptr<BIGNUM, OsslDeleter<BN_clear_free>>;
using BnCtxPtr = std::unique_ptr<BN_CTX, OsslDeleter<BN_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, OsslDeleter<BIO_free_all>>;
// X.509 certificates, CRLs and their stores (ike/auth/).
using X509Ptr = std::unique_ptr<X509, OsslDeleter<X509_free>>;
using X509CrlPtr = std::unique_ptr<X509_CRL, OsslDeleter<X509_CRL_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, OsslDeleter<X509_NAME_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, OsslDeleter<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OsslDeleter<X509_STORE_CTX_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OsslDeleter<GENERAL_NAMES_free>>;

// "<what>: <first queued OpenSSL error>" and clears OpenSSL's error queue, so a failure
// in one call is never blamed on the next.
std::string openssl_error(std::string_view what);

// Drops whatever OpenSSL queued (after an expected failure such as a bad tag).
void clear_openssl_errors();

}  // namespace natgate::crypto::detail
