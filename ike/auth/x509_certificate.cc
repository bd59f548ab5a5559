#include "ike/auth/x509_certificate.h"

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <iterator>

#include "crypto/hash.h"
#include "crypto/openssl_handles.h"
#include "ike/auth/x509_text.h"

namespace natgate::ike {

namespace {

std::chrono::system_clock::time_point to_time_point(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return {};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

template <typename F>
void for_each_san(X509* cert, F f) {
  crypto::detail::GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) f(sk_GENERAL_NAME_value(names.get(), i));
}

std::string ia5_to_string(const ASN1_IA5STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(ASN1_STRING_length(s)));
}

}  // namespace

std::string format_date(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  struct tm tm {};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return buf;
}

Expected<X509Certificate> X509Certificate::from_der(ByteView der) {
  const unsigned char* p = der.data();
  X509* raw = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (raw == nullptr) return unexpected(crypto::detail::openssl_error("certificate: not X.509 DER"));
  std::shared_ptr<X509> cert(raw, X509_free);
  if (p != der.data() + der.size())
    return unexpected(std::string("certificate: trailing octets after the DER"));
  return X509Certificate(std::move(cert), Bytes(der.begin(), der.end()));
}

Expected<std::vector<X509Certificate>> X509Certificate::from_pem(std::string_view pem) {
  crypto::detail::BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return unexpected(crypto::detail::openssl_error("certificate"));
  std::vector<X509Certificate> out;
  while (true) {
    X509* raw = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (raw == nullptr) break;
    std::shared_ptr<X509> cert(raw, X509_free);
    Bytes der = detail::to_der(raw, i2d_X509);
    out.push_back(X509Certificate(std::move(cert), std::move(der)));
  }
  crypto::detail::clear_openssl_errors();  // the loop always ends on "no start line"
  if (out.empty()) return unexpected(std::string("no PEM certificate found"));
  return out;
}

Expected<std::vector<X509Certificate>> X509Certificate::load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return unexpected("certificate " + path + ": cannot open");
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (content.find("-----BEGIN") != std::string::npos) {
    auto certs = from_pem(content);
    if (!certs) return unexpected(path + ": " + certs.error());
    return certs;
  }
  auto cert = from_der(as_bytes(content));
  if (!cert) return unexpected(path + ": " + cert.error());
  return std::vector<X509Certificate>{std::move(*cert)};
}

std::string X509Certificate::subject() const {
  return detail::name_to_string(X509_get_subject_name(native()));
}
std::string X509Certificate::issuer() const { return detail::name_to_string(X509_get_issuer_name(native())); }

Bytes X509Certificate::subject_der() const {
  return detail::to_der(X509_get_subject_name(native()), i2d_X509_NAME);
}
Bytes X509Certificate::issuer_der() const {
  return detail::to_der(X509_get_issuer_name(native()), i2d_X509_NAME);
}

std::string X509Certificate::serial_hex() const {
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(native()), nullptr);
  if (bn == nullptr) return "?";
  char* hex = BN_bn2hex(bn);
  std::string out = hex != nullptr ? hex : "?";
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

std::chrono::system_clock::time_point X509Certificate::not_before() const {
  return to_time_point(X509_get0_notBefore(native()));
}
std::chrono::system_clock::time_point X509Certificate::not_after() const {
  return to_time_point(X509_get0_notAfter(native()));
}

bool X509Certificate::is_ca() const { return X509_check_ca(native()) != 0; }

bool X509Certificate::is_self_signed() const { return X509_self_signed(native(), 1) == 1; }

std::vector<std::string> X509Certificate::dns_names() const {
  std::vector<std::string> out;
  for_each_san(native(), [&](const GENERAL_NAME* gn) {
    if (gn->type == GEN_DNS) out.push_back(ia5_to_string(gn->d.dNSName));
  });
  return out;
}

std::vector<std::string> X509Certificate::email_addresses() const {
  std::vector<std::string> out;
  for_each_san(native(), [&](const GENERAL_NAME* gn) {
    if (gn->type == GEN_EMAIL) out.push_back(ia5_to_string(gn->d.rfc822Name));
  });
  return out;
}

std::vector<Bytes> X509Certificate::ip_addresses() const {
  std::vector<Bytes> out;
  for_each_san(native(), [&](const GENERAL_NAME* gn) {
    if (gn->type != GEN_IPADD) return;
    const unsigned char* p = ASN1_STRING_get0_data(gn->d.iPAddress);
    out.emplace_back(p, p + ASN1_STRING_length(gn->d.iPAddress));
  });
  return out;
}

Expected<PublicKey> X509Certificate::public_key() const {
  EVP_PKEY* key = X509_get0_pubkey(native());
  if (key == nullptr)
    return unexpected(
        crypto::detail::openssl_error("certificate for " + subject() + ": no usable public key"));
  return PublicKey::from_native(key);
}

Bytes X509Certificate::public_key_info_der() const {
  return detail::to_der(X509_get_X509_PUBKEY(native()), i2d_X509_PUBKEY);
}

Bytes X509Certificate::public_key_info_sha1() const {
  return crypto::hash(crypto::Digest::Sha1, public_key_info_der());
}

Status X509Certificate::check_end_entity_usage() const {
  X509* cert = native();
  const std::uint32_t flags = X509_get_extension_flags(cert);
  if ((flags & EXFLAG_INVALID) != 0)
    return unexpected("certificate for " + subject() + " has a malformed extension");
  if ((flags & EXFLAG_KUSAGE) != 0 &&
      (X509_get_key_usage(cert) & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)) == 0)
    return unexpected("certificate for " + subject() +
                      " has a keyUsage without digitalSignature or nonRepudiation (RFC 4945 §5.1.3.2): it "
                      "may not sign AUTH");
  if ((flags & EXFLAG_XKUSAGE) == 0) return {};
  std::unique_ptr<EXTENDED_KEY_USAGE, crypto::detail::OsslDeleter<EXTENDED_KEY_USAGE_free>> eku(
      static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(cert, NID_ext_key_usage, nullptr, nullptr)));
  if (!eku) return unexpected("certificate for " + subject() + " has a malformed extendedKeyUsage");
  static constexpr std::string_view kAccepted[] = {
      "1.3.6.1.5.5.7.3.17",  // id-kp-ipsecIKE (RFC 4945 §5.1.3.12)
      "2.5.29.37.0",         // anyExtendedKeyUsage
      "1.3.6.1.5.5.7.3.1",   // id-kp-serverAuth
      "1.3.6.1.5.5.7.3.2",   // id-kp-clientAuth
      "1.3.6.1.5.5.8.2.2",   // iKEIntermediate
  };
  std::string seen;
  for (int i = 0; i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
    char oid[80];
    if (OBJ_obj2txt(oid, sizeof oid, sk_ASN1_OBJECT_value(eku.get(), i), 1) <= 0) continue;
    for (std::string_view ok : kAccepted)
      if (ok == oid) return {};
    seen += (seen.empty() ? "" : ", ") + std::string(oid);
  }
  return unexpected("certificate for " + subject() + " has an extendedKeyUsage (" +
                    (seen.empty() ? "empty" : seen) +
                    ") without ipsecIKE, serverAuth, clientAuth, iKEIntermediate or anyExtendedKeyUsage "
                    "(RFC 4945 §5.1.3.12)");
}

bool X509Certificate::signed_by(const X509Certificate& issuer) const {
  EVP_PKEY* key = X509_get0_pubkey(issuer.native());
  const bool ok = key != nullptr && X509_verify(native(), key) == 1;
  crypto::detail::clear_openssl_errors();
  return ok;
}

}  // namespace natgate::ike
