// An IKE identity as written in the config (RFC 7296 §3.5): FQDN, IPv4/IPv6 address, email or
// X.500 Distinguished Name (RFC 4514 text, DER on the wire), with its text kept for messages and
// comparisons. A remote identity may be a pattern: "*.example.net", "*@example.net",
// "CN=*, O=Example" (ike/auth/identity_match.h has the matching rules). The wire form is ike::Identity;
// gateway/core/connection_profile.h converts one into the other (to_ike_identity).
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/iana.h"
#include "common/ip_address.h"

namespace natgate::gateway {

class ConfiguredIdentity {
 public:
  enum class Kind : std::uint8_t { Fqdn, Ipv4, Ipv6, Email, Dn };

  // "gw-a.example.net" → FQDN, "192.0.2.1" / "2001:db8::1" → address, "alice@example.net" →
  // email. A leading '@' forces FQDN for names that would otherwise look like something else
  // (strongSwan's convention: "@vpn" is the FQDN "vpn"). Text with '=' is a DN:
  // "CN=gw.example.net, O=Example, C=CH". nullopt when it is none of these; `why` then says what
  // is wrong when it can tell (a DN's syntax).
  static std::optional<ConfiguredIdentity> parse(std::string_view text, std::string* why = nullptr);

  Kind kind() const { return kind_; }
  // The identity as text, without any '@' prefix: what the peer compares against.
  const std::string& text() const { return text_; }
  // For Ipv4/Ipv6 identities.
  const IpAddress& address() const { return address_; }
  // "*.example.net", "*@example.net", or a DN with a value "*": matches many peers.
  bool is_wildcard() const { return wildcard_; }
  // A DN whose text starts with the country or domain component and ends with the common name:
  // most likely copied in the order `openssl x509 -subject` prints by default, the reverse of
  // RFC 4514's (the loader warns).
  bool dn_looks_reversed() const;

  iana::IdType id_type() const;
  // The Identification Data field of an ID payload (RFC 7296 §3.5): the address in network
  // order for addresses, the ASCII text for FQDN and email (no terminator), the DER Name for a DN.
  Bytes id_data() const;
  std::string kind_name() const;  // "fqdn", "ipv4", "ipv6", "email", "dn"

  friend auto operator<=>(const ConfiguredIdentity&, const ConfiguredIdentity&) = default;

 private:
  Kind kind_ = Kind::Fqdn;
  std::string text_;
  IpAddress address_;
  Bytes der_;  // Dn
  bool wildcard_ = false;
};

// A DNS name of one or more labels: letters, digits and '-', 1-63 characters a label, not
// starting or ending with '-', at most 253 characters in all, the last label not all digits
// (RFC 1035 §2.3.1, RFC 1123 §2.1).
bool is_valid_hostname(std::string_view name);

}  // namespace natgate::gateway
