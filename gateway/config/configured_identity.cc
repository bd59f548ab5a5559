#include "gateway/config/configured_identity.h"

#include "ike/auth/distinguished_name.h"

namespace natgate::gateway {

namespace {

bool is_label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

// RFC 5322 dot-atom characters, the part of an address users actually write.
bool is_local_part_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  for (char ok : std::string_view("!#$%&'*+-/=?^_`{|}~.")) {
    if (c == ok) return true;
  }
  return false;
}

}  // namespace

bool is_valid_hostname(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  if (name.back() == '.') name.remove_suffix(1);  // an absolute name's root dot
  // A top-level label is never all digits (RFC 1123 §2.1), which also stops a mistyped
  // address such as 192.0.2.300 from passing as a name.
  std::string_view tld = name.substr(name.rfind('.') == std::string_view::npos ? 0 : name.rfind('.') + 1);
  if (tld.find_first_not_of("0123456789") == std::string_view::npos) return false;
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    std::string_view label = name.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!is_label_char(c)) return false;
    }
    start = dot + 1;
  }
  return true;
}

std::optional<ConfiguredIdentity> ConfiguredIdentity::parse(std::string_view text, std::string* why) {
  ConfiguredIdentity id;
  if (text.find('\0') != std::string_view::npos) {
    if (why) *why = "holds a NUL character";
    return std::nullopt;
  }
  // No FQDN, address or email has '=' (RFC 5322 allows it in a local part, but no one writes
  // that in an IKE identity): this is a DN.
  if (text.find('=') != std::string_view::npos) {
    auto der = ike::dn_from_text(text);
    if (!der) {
      if (why) *why = "is not a DN: " + der.error();
      return std::nullopt;
    }
    id.kind_ = Kind::Dn;
    id.text_ = std::string(text);
    id.der_ = std::move(*der);
    id.wildcard_ = ike::dn_has_wildcard(id.der_);
    return id;
  }
  // Patterns: "*." or "*@" then a name.
  if (text.size() > 2 && text[0] == '*' && (text[1] == '.' || text[1] == '@')) {
    if (!is_valid_hostname(text.substr(2))) return std::nullopt;
    id.kind_ = text[1] == '.' ? Kind::Fqdn : Kind::Email;
    id.text_ = std::string(text);
    id.wildcard_ = true;
    return id;
  }
  if (!text.empty() && text.front() == '@') {
    text.remove_prefix(1);
    if (!is_valid_hostname(text)) return std::nullopt;
    id.kind_ = Kind::Fqdn;
    id.text_ = std::string(text);
    return id;
  }
  if (auto addr = IpAddress::parse(text)) {
    id.kind_ = addr->is_v4() ? Kind::Ipv4 : Kind::Ipv6;
    id.address_ = *addr;
    id.text_ = addr->to_string();
    return id;
  }
  if (auto at = text.find('@'); at != std::string_view::npos) {
    std::string_view local = text.substr(0, at);
    std::string_view host = text.substr(at + 1);
    if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.')
      return std::nullopt;
    for (char c : local) {
      if (!is_local_part_char(c)) return std::nullopt;
    }
    if (!is_valid_hostname(host)) return std::nullopt;
    id.kind_ = Kind::Email;
    id.text_ = std::string(text);
    return id;
  }
  if (!is_valid_hostname(text)) return std::nullopt;
  id.kind_ = Kind::Fqdn;
  id.text_ = std::string(text);
  return id;
}

bool ConfiguredIdentity::dn_looks_reversed() const {
  if (kind_ != Kind::Dn) return false;
  auto rdns = ike::dn_decode(der_);
  if (!rdns || rdns->size() < 2 || rdns->front().empty() || rdns->back().empty()) return false;
  const std::string& first_in_der = rdns->front().front().oid;
  const std::string& last_in_der = rdns->back().front().oid;
  constexpr std::string_view kCommonName = "2.5.4.3", kCountry = "2.5.4.6",
                             kDomainComponent = "0.9.2342.19200300.100.1.25";
  return first_in_der == kCommonName && (last_in_der == kCountry || last_in_der == kDomainComponent);
}

iana::IdType ConfiguredIdentity::id_type() const {
  switch (kind_) {
    case Kind::Dn:
      return iana::IdType::DerAsn1Dn;
    case Kind::Ipv4:
      return iana::IdType::Ipv4Addr;
    case Kind::Ipv6:
      return iana::IdType::Ipv6Addr;
    case Kind::Email:
      return iana::IdType::Rfc822Addr;
    case Kind::Fqdn:
      break;
  }
  return iana::IdType::Fqdn;
}

Bytes ConfiguredIdentity::id_data() const {
  if (kind_ == Kind::Dn) return der_;
  if (kind_ == Kind::Ipv4 || kind_ == Kind::Ipv6)
    return Bytes(address_.bytes().begin(), address_.bytes().end());
  return Bytes(text_.begin(), text_.end());
}

std::string ConfiguredIdentity::kind_name() const {
  switch (kind_) {
    case Kind::Dn:
      return "dn";
    case Kind::Ipv4:
      return "ipv4";
    case Kind::Ipv6:
      return "ipv6";
    case Kind::Email:
      return "email";
    case Kind::Fqdn:
      break;
  }
  return "fqdn";
}

}  // namespace natgate::gateway
