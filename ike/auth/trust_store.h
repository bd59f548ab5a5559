// The CA certificates natgate trusts, the CRLs it honours, and chain verification of a peer's
// end-entity certificate with the intermediates it sent in CERT payloads (RFC 7296 §3.6, RFC 5280 §6).
//
// Time is an input (ike/ reads no clock), so a test can verify "as of" any date. When at least one
// CRL is loaded, the end-entity certificate is checked against its issuer's CRL
// (X509_V_FLAG_CRL_CHECK); set_check_whole_chain() extends that to every CA below the anchor.
// Errors name the certificate and the reason: "certificate for CN=client1 expired 2026-01-01",
// "certificate for CN=client1 (serial 1002) revoked by crl.pem",
// "certificate for CN=client1: issuer CN=Other CA is not trusted".
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/expected.h"
#include "ike/auth/x509_certificate.h"

namespace natgate::ike {

class TrustStore {
 public:
  TrustStore();
  ~TrustStore();
  TrustStore(TrustStore&&) noexcept;
  TrustStore& operator=(TrustStore&&) noexcept;

  // A trust anchor. It must be a CA certificate (basicConstraints cA) or self-signed.
  Status add_ca(const X509Certificate& ca);
  // Every certificate in a PEM or DER file. Configuration time only.
  Status add_ca_file(const std::string& path);

  // A CRL (PEM or DER); `label` names it in errors (a file name, typically).
  Status add_crl(ByteView pem_or_der, std::string label);
  Status add_crl_file(const std::string& path);  // labelled with the file's base name

  void set_check_whole_chain(bool on) { check_whole_chain_ = on; }

  const std::vector<X509Certificate>& cas() const { return cas_; }
  std::size_t crl_count() const;

  // SHA-1 hashes of each anchor's SubjectPublicKeyInfo, in the order added: the Certification
  // Authority data of our CERTREQ (RFC 7296 §3.7).
  std::vector<Bytes> ca_key_hashes() const;

  // Verifies end_entity up to one of our anchors, using `intermediates` (any order, extras ignored)
  // to build the path, as of `now`. Returns the path: end_entity first, the anchor last.
  Expected<std::vector<X509Certificate>> verify(const X509Certificate& end_entity,
                                                const std::vector<X509Certificate>& intermediates,
                                                std::chrono::system_clock::time_point now) const;

 private:
  struct Crls;
  std::vector<X509Certificate> cas_;
  std::unique_ptr<Crls> crls_;
  bool check_whole_chain_ = false;
};

}  // namespace natgate::ike
