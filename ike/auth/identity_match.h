// Does a certificate belong to an IKE identity (RFC 7296 §3.5, RFC 4945 §3.1 and §5.1.2)?
//   ID_FQDN        <-> subjectAltName dNSName, case-insensitive, no wildcards
//   ID_RFC822_ADDR <-> subjectAltName rfc822Name (domain part case-insensitive)
//   ID_IPV4_ADDR / ID_IPV6_ADDR <-> subjectAltName iPAddress, octet for octet
//   ID_DER_ASN1_DN <-> the subject Name, compared as names (distinguished_name.h)
// Subject CNs are never consulted for FQDNs (RFC 4945 §5.1.2.3 leaves that to SANs).
//
// And does the identity a peer sent match the one configured for it (identity_matches)?
// A configured identity may be a pattern (configs/README.md, "Identities"):
//   ID_FQDN        "*.example.net"  any name of one or more labels below example.net
//   ID_RFC822_ADDR "*@example.net"  any non-empty local part at example.net
//   ID_DER_ASN1_DN a value "*"      any value of that attribute in that place ("CN=*, O=Example")
// Only the configured side is ever read as a pattern: a '*' the peer sends is a character like
// any other, so "*@example.net" from the network never matches "alice@example.net". A peer's
// identity holding NUL or control bytes matches no pattern.
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

// Whether the peer's identity (type, data) is the configured one, or matches it as a pattern.
// Types must be equal. FQDNs and email domains compare ignoring ASCII case, DNs as names,
// addresses and key ids octet for octet.
bool identity_matches(iana::IdType configured_type, ByteView configured, iana::IdType type, ByteView data);

// Whether a configured identity is a pattern (then it is never sent as IDr, and it names no
// single peer).
bool identity_has_wildcard(iana::IdType type, ByteView data);

template <typename Id>
bool identity_matches(const Id& configured, const Id& peer) {
  return identity_matches(configured.type, configured.data, peer.type, peer.data);
}

template <PayloadType T>
Status match_identity(const X509Certificate& cert, const Identification<T>& id) {
  return match_identity(cert, id.type, id.data);
}

}  // namespace natgate::ike
