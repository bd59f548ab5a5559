// Does a certificate belong to an IKE identity (RFC 7296 §3.5, RFC 4945 §3.1 and §5.1.2)?
//   ID_FQDN        <-> subjectAltName dNSName, case-insensitive, no wildcards
//   ID_RFC822_ADDR <-> subjectAltName rfc822Name (domain part case-insensitive)
//   ID_IPV4_ADDR / ID_IPV6_ADDR <-> subjectAltName iPAddress, octet for octet
//   ID_DER_ASN1_DN <-> the subject Name, compared as DER octets exactly
// Subject CNs are never consulted for FQDNs (RFC 4945 §5.1.2.3 leaves that to SANs).
#pragma once

#include <string>

#include "common/bytes.h"
#include "common/expected.h"
#include "common/iana.h"
#include "ike/auth/x509_certificate.h"
#include "ike/codec/payloads.h"

namespace natgate::ike {

// "fqdn:gw.example.net", "rfc822:alice@example.com", "ipv4:192.0.2.1", "ipv6:2001:db8::1",
// "dn:C=CH, CN=moon", "keyid:0a1b..", for messages.
std::string describe_identity(iana::IdType type, ByteView data);

// Ok when the certificate carries the identity; otherwise why not, e.g.
// "no SAN matches ID fqdn:gw.example.net (certificate CN=moon has dNSName moon.example.net)".
Status match_identity(const X509Certificate& cert, iana::IdType type, ByteView data);

template <PayloadType T>
Status match_identity(const X509Certificate& cert, const Identification<T>& id) {
  return match_identity(cert, id.type, id.data);
}

}  // namespace natgate::ike
