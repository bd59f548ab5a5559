// An X.509 certificate (RFC 5280) as IKE uses it: carried DER-encoded in CERT payloads with
// encoding 4 "X.509 Certificate - Signature" (RFC 7296 §3.6), matched against IKE identities, and
// named by the SHA-1 hash of its SubjectPublicKeyInfo in CERTREQ payloads (§3.7). Immutable and
// cheap to copy (the OpenSSL object is shared).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/expected.h"
#include "ike/auth/public_key.h"

typedef struct x509_st X509;

namespace natgate::ike {

class X509Certificate {
 public:
  static Expected<X509Certificate> from_der(ByteView der);
  // Every certificate in PEM text, in order; an error if there is none.
  static Expected<std::vector<X509Certificate>> from_pem(std::string_view pem);
  // A PEM file (possibly several certificates) or a single DER certificate. Configuration time only.
  static Expected<std::vector<X509Certificate>> load_file(const std::string& path);

  const Bytes& der() const { return der_; }

  // One-line DNs, as strongSwan prints them: "C=CH, O=Example, CN=moon.example".
  std::string subject() const;
  std::string issuer() const;
  // DER of the subject Name: what a DER_ASN1_DN identity carries (RFC 7296 §3.5).
  Bytes subject_der() const;
  Bytes issuer_der() const;
  std::string serial_hex() const;

  std::chrono::system_clock::time_point not_before() const;
  std::chrono::system_clock::time_point not_after() const;

  bool is_ca() const;           // basicConstraints cA=TRUE
  bool is_self_signed() const;  // subject == issuer and the signature verifies with its own key

  // subjectAltName entries of each kind (RFC 5280 §4.2.1.6).
  std::vector<std::string> dns_names() const;
  std::vector<std::string> email_addresses() const;  // rfc822Name
  std::vector<Bytes> ip_addresses() const;           // iPAddress: 4 or 16 octets

  Expected<PublicKey> public_key() const;
  // DER of SubjectPublicKeyInfo, and its SHA-1: the CA key hash of RFC 7296 §3.7.
  Bytes public_key_info_der() const;
  Bytes public_key_info_sha1() const;

  // RFC 4945 §5.1.3.2 and §5.1.3.12 for the certificate a peer authenticates with: a keyUsage, if
  // present, must allow digitalSignature or nonRepudiation; an extendedKeyUsage, if present, must
  // name id-kp-ipsecIKE or anyExtendedKeyUsage, or (as strongSwan and Windows use them)
  // serverAuth, clientAuth or iKEIntermediate (1.3.6.1.5.5.8.2.2). The error names the certificate
  // and what it allows instead.
  Status check_end_entity_usage() const;

  // Whether `issuer`'s key verifies this certificate's signature (no other checks).
  bool signed_by(const X509Certificate& issuer) const;

  // For ike/auth internals (chain building); never freed by the caller.
  X509* native() const { return cert_.get(); }

  friend bool operator==(const X509Certificate& a, const X509Certificate& b) { return a.der_ == b.der_; }

 private:
  X509Certificate(std::shared_ptr<X509> cert, Bytes der) : cert_(std::move(cert)), der_(std::move(der)) {}

  std::shared_ptr<X509> cert_;
  Bytes der_;
};

// "2026-01-01" (UTC), the form used in certificate messages.
std::string format_date(std::chrono::system_clock::time_point t);

}  // namespace natgate::ike
