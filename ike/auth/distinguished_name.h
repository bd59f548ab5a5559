// X.500 Distinguished Names as IKE identities (ID_DER_ASN1_DN, RFC 7296 §3.5): the text form
// users write (RFC 4514), the DER form on the wire, and comparison as names rather than octets.
//
// Text order is RFC 4514's: the most specific RDN first, so "CN=gw.example.net, O=Example, C=CH"
// is the DER sequence C, O, CN — the subject `openssl x509 -subject -nameopt RFC2253` prints.
// Spaces around ',' '+' '=' are ignored; '\' escapes a special character or gives a hex pair.
//
// Two DNs are equal when they have the same RDNs in the same order, each with the same set of
// attribute types, and values that compare equal ignoring case, leading/trailing spaces and runs
// of inner spaces (RFC 4518 §2 insignificant space handling, case folding for ASCII) and the
// ASN.1 string type (PrintableString and UTF8String of the same text are the same name).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/expected.h"

namespace natgate::ike {

struct DnAttribute {
  std::string oid;    // dotted, like "2.5.4.3"
  std::string value;  // UTF-8
};
using DnRdn = std::vector<DnAttribute>;  // one RDN: usually one attribute, several with '+'
using DnRdns = std::vector<DnRdn>;       // in DER order (least specific first)

// RFC 4514 text → DER Name. Errors say what is wrong ("unknown attribute type XY").
// A value of exactly "*" is kept as the one-character string "*" (a wildcard only where the DN
// is a configured remote identity, see dn_matches).
Expected<Bytes> dn_from_text(std::string_view text);

// DER Name → its RDNs, values as UTF-8. Fails on anything that is not a well-formed Name
// (trailing bytes included).
Expected<DnRdns> dn_decode(ByteView der);

// `configured` (DER) against `peer` (DER, from the network or a certificate subject).
// With `wildcards`, an attribute value "*" in `configured` matches any value of that type in
// the same place — but never a value holding a control character or NUL. Without it, and for
// every other value, the comparison above. A `peer` that does not decode matches nothing.
bool dn_matches(ByteView configured, ByteView peer, bool wildcards);

// Whether a configured DN has a "*" value.
bool dn_has_wildcard(ByteView der);

}  // namespace natgate::ike
