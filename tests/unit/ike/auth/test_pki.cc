#include "test_pki.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>

namespace natgate::ike::testing {

namespace {

template <auto F>
struct Free {
  template <typename T>
  void operator()(T* p) const {
    F(p);
  }
};

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test PKI: ") + what);
}

X509_NAME* parse_name(const std::string& slash) {
  X509_NAME* name = X509_NAME_new();
  // "/C=CH/O=x/CN=y" or "C=CH/O=x/CN=y"
  std::string s = slash.front() == '/' ? slash.substr(1) : slash;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    std::size_t end = s.find('/', pos);
    if (end == std::string::npos) end = s.size();
    const std::string rdn = s.substr(pos, end - pos);
    const auto eq = rdn.find('=');
    check(eq != std::string::npos, "bad subject");
    check(X509_NAME_add_entry_by_txt(name, rdn.substr(0, eq).c_str(), MBSTRING_UTF8,
                                     reinterpret_cast<const unsigned char*>(rdn.c_str() + eq + 1), -1, -1,
                                     0) == 1,
          "subject entry");
    pos = end + 1;
  }
  return name;
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, Free<X509_EXTENSION_free>> ext(
      X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  check(ext != nullptr, "extension");
  check(X509_add_ext(cert, ext.get(), -1) == 1, "add extension");
}

}  // namespace

TimePoint day(int y, unsigned m, unsigned d) {
  return std::chrono::sys_days(std::chrono::year(y) / std::chrono::month(m) / std::chrono::day(d));
}

X509Certificate issue(const CertSpec& spec, const PrivateKey& subject_key, const X509Certificate* issuer,
                      const PrivateKey& issuer_key, const Usage& usage) {
  std::unique_ptr<X509, Free<X509_free>> cert(X509_new());
  check(X509_set_version(cert.get(), 2) == 1, "version");
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), spec.serial);
  check(ASN1_TIME_set(X509_getm_notBefore(cert.get()),
                      std::chrono::system_clock::to_time_t(spec.not_before)) != nullptr,
        "notBefore");
  check(ASN1_TIME_set(X509_getm_notAfter(cert.get()), std::chrono::system_clock::to_time_t(spec.not_after)) !=
            nullptr,
        "notAfter");
  std::unique_ptr<X509_NAME, Free<X509_NAME_free>> subject(parse_name(spec.subject));
  X509_set_subject_name(cert.get(), subject.get());
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer->native()) : subject.get());
  check(X509_set_pubkey(cert.get(), subject_key.native()) == 1, "pubkey");
  X509* issuer_cert = issuer ? issuer->native() : cert.get();
  add_ext(cert.get(), issuer_cert, NID_basic_constraints, spec.ca ? "critical,CA:TRUE" : "CA:FALSE");
  add_ext(cert.get(), issuer_cert, NID_subject_key_identifier, "hash");
  if (spec.ca) add_ext(cert.get(), issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  if (!spec.san.empty()) add_ext(cert.get(), issuer_cert, NID_subject_alt_name, spec.san);
  if (!spec.ca && !usage.key_usage.empty()) add_ext(cert.get(), issuer_cert, NID_key_usage, usage.key_usage);
  if (!usage.ext_key_usage.empty()) add_ext(cert.get(), issuer_cert, NID_ext_key_usage, usage.ext_key_usage);
  const EVP_MD* md = issuer_key.type() == KeyType::Ed25519 ? nullptr : EVP_sha256();
  check(X509_sign(cert.get(), issuer_key.native(), md) > 0, "sign");
  int n = i2d_X509(cert.get(), nullptr);
  Bytes der(static_cast<std::size_t>(n));
  unsigned char* p = der.data();
  i2d_X509(cert.get(), &p);
  return X509Certificate::from_der(der).value();
}

std::string make_crl_pem(const X509Certificate& issuer, const PrivateKey& issuer_key,
                         const std::vector<long>& revoked, TimePoint this_update, TimePoint next_update) {
  std::unique_ptr<X509_CRL, Free<X509_CRL_free>> crl(X509_CRL_new());
  check(X509_CRL_set_version(crl.get(), 1) == 1, "crl version");
  X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer.native()));
  std::unique_ptr<ASN1_TIME, Free<ASN1_TIME_free>> last(
      ASN1_TIME_set(nullptr, std::chrono::system_clock::to_time_t(this_update)));
  std::unique_ptr<ASN1_TIME, Free<ASN1_TIME_free>> next(
      ASN1_TIME_set(nullptr, std::chrono::system_clock::to_time_t(next_update)));
  X509_CRL_set1_lastUpdate(crl.get(), last.get());
  X509_CRL_set1_nextUpdate(crl.get(), next.get());
  for (long serial : revoked) {
    X509_REVOKED* rev = X509_REVOKED_new();
    std::unique_ptr<ASN1_INTEGER, Free<ASN1_INTEGER_free>> sn(ASN1_INTEGER_new());
    ASN1_INTEGER_set(sn.get(), serial);
    X509_REVOKED_set_serialNumber(rev, sn.get());
    X509_REVOKED_set_revocationDate(rev, last.get());
    X509_CRL_add0_revoked(crl.get(), rev);
  }
  X509_CRL_sort(crl.get());
  check(X509_CRL_sign(crl.get(), issuer_key.native(), EVP_sha256()) > 0, "crl sign");
  std::unique_ptr<BIO, Free<BIO_free_all>> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_CRL(bio.get(), crl.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

Bytes name_der(const std::string& slash_subject) {
  std::unique_ptr<X509_NAME, Free<X509_NAME_free>> name(parse_name(slash_subject));
  int n = i2d_X509_NAME(name.get(), nullptr);
  Bytes der(static_cast<std::size_t>(n));
  unsigned char* p = der.data();
  i2d_X509_NAME(name.get(), &p);
  return der;
}

std::string cert_pem(const X509Certificate& cert) {
  std::unique_ptr<BIO, Free<BIO_free_all>> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert.native());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

ScratchDir::ScratchDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "natgate-auth-XXXXXX").string();
  check(mkdtemp(tmpl.data()) != nullptr, "mkdtemp");
  path_ = tmpl;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void ScratchDir::write(const std::string& name, ByteView data) const {
  std::ofstream out(file(name), std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  check(static_cast<bool>(out), "write");
  // Keys among them: natgate refuses key files that group or others can read.
  std::filesystem::permissions(file(name),
                               std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

Bytes ScratchDir::read(const std::string& name) const {
  std::ifstream in(file(name), std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

int run(const std::string& command) {
  const int rc = std::system(command.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace natgate::ike::testing
