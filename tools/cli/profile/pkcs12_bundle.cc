#include "tools/cli/profile/pkcs12_bundle.h"

#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include <memory>

#include "crypto/random.h"
#include "ike/auth/private_key.h"
#include "ike/auth/x509_certificate.h"

namespace natgate::cli {

namespace {

struct Pkcs12Free {
  void operator()(PKCS12* p) const { PKCS12_free(p); }
};
struct X509StackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};

// 20 characters from a 62-letter alphabet: ~119 bits, typed by hand on a phone if need be.
SecretBytes random_password() {
  static constexpr std::string_view kAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  crypto::SystemRandom random;
  SecretBytes out(20);
  for (std::size_t i = 0; i < out.size();) {
    std::uint8_t b = 0;
    random.fill(MutableByteView(&b, 1));
    // Rejection sampling keeps every letter equally likely.
    if (b >= 256 - (256 % kAlphabet.size())) continue;
    out.data()[i++] = static_cast<std::uint8_t>(kAlphabet[b % kAlphabet.size()]);
  }
  return out;
}

}  // namespace

Expected<Pkcs12Bundle> make_pkcs12(const std::string& cert_path, const std::string& key_path, ByteView ca_der,
                                   const std::string& friendly_name) {
  auto certs = ike::X509Certificate::load_file(cert_path);
  if (!certs) return unexpected(cert_path + ": " + certs.error());
  auto key = ike::PrivateKey::load_file(key_path);
  if (!key) return unexpected(key_path + ": " + key.error());
  if (X509_check_private_key(certs->front().native(), key->native()) != 1)
    return unexpected(key_path + " is not the key of " + cert_path);

  std::unique_ptr<STACK_OF(X509), X509StackFree> extra(sk_X509_new_null());
  if (!extra) return unexpected(std::string("out of memory"));
  auto push = [&](X509* c) { return c && sk_X509_push(extra.get(), c) > 0; };
  for (std::size_t i = 1; i < certs->size(); ++i)
    if (!push(X509_dup((*certs)[i].native()))) return unexpected(std::string("out of memory"));
  if (!ca_der.empty()) {
    auto ca = ike::X509Certificate::from_der(ca_der);
    if (!ca) return unexpected("the gateway's CA: " + ca.error());
    if (!push(X509_dup(ca->native()))) return unexpected(std::string("out of memory"));
  }

  Pkcs12Bundle bundle;
  bundle.password = random_password();
  std::string pass(reinterpret_cast<const char*>(bundle.password.data()), bundle.password.size());
  std::unique_ptr<PKCS12, Pkcs12Free> p12(PKCS12_create(pass.c_str(), friendly_name.c_str(), key->native(),
                                                        certs->front().native(), extra.get(), 0, 0, 0, 0, 0));
  OPENSSL_cleanse(pass.data(), pass.size());
  if (!p12) return unexpected(std::string("PKCS12_create failed"));
  unsigned char* der = nullptr;
  int len = i2d_PKCS12(p12.get(), &der);
  if (len <= 0) return unexpected(std::string("i2d_PKCS12 failed"));
  bundle.der.assign(der, der + len);
  OPENSSL_free(der);
  return bundle;
}

}  // namespace natgate::cli
