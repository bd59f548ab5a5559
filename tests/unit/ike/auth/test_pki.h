// A small PKI built in memory for the auth tests: certificates with chosen subjects, dates, SANs
// and CA flags, CRLs with chosen revoked serials, and a scratch directory for files the OpenSSL
// command-line tool reads or writes. Built with the OpenSSL API directly (not with natgate code),
// so the code under test is checked against independently made objects.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "ike/auth/private_key.h"
#include "ike/auth/x509_certificate.h"

namespace natgate::ike::testing {

using TimePoint = std::chrono::system_clock::time_point;

// Midnight UTC of a calendar day.
TimePoint day(int y, unsigned m, unsigned d);

struct CertSpec {
  std::string subject;  // "C=CH/O=natgate/CN=moon" (OpenSSL's slash form)
  long serial = 1;
  TimePoint not_before = day(2024, 1, 1);
  TimePoint not_after = day(2034, 1, 1);
  bool ca = false;
  std::string san;  // "DNS:gw.example.net,email:a@b,IP:192.0.2.1", empty for none
};

// An end entity's keyUsage and extendedKeyUsage in OpenSSL's config syntax; empty for none.
struct Usage {
  std::string key_usage;      // "critical,digitalSignature"
  std::string ext_key_usage;  // "serverAuth,1.3.6.1.5.5.8.2.2"
};

// Issues `spec` for `subject_key`, signed by `issuer_key` as `issuer` (nullptr: self-signed).
X509Certificate issue(const CertSpec& spec, const PrivateKey& subject_key, const X509Certificate* issuer,
                      const PrivateKey& issuer_key, const Usage& usage = Usage());

// A PEM CRL from `issuer` listing `revoked` serials.
std::string make_crl_pem(const X509Certificate& issuer, const PrivateKey& issuer_key,
                         const std::vector<long>& revoked, TimePoint this_update = day(2025, 1, 1),
                         TimePoint next_update = day(2035, 1, 1));

// DER of a Name given in slash form, for DER_ASN1_DN identities.
Bytes name_der(const std::string& slash_subject);

std::string cert_pem(const X509Certificate& cert);

// A fresh directory under /tmp, removed with everything in it on destruction.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  void write(const std::string& name, ByteView data) const;
  void write(const std::string& name, const std::string& text) const { write(name, as_bytes(text)); }
  Bytes read(const std::string& name) const;

 private:
  std::filesystem::path path_;
};

// Runs a shell command; returns its exit status (stdout/stderr go to the test log).
int run(const std::string& command);

}  // namespace natgate::ike::testing
