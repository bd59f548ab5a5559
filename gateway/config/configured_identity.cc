#include "gateway/config/configured_identity.h"

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

std::optional<ConfiguredIdentity> ConfiguredIdentity::parse(std::string_view text) {
  ConfiguredIdentity id;
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

iana::IdType ConfiguredIdentity::id_type() const {
  switch (kind_) {
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
  if (kind_ == Kind::Ipv4 || kind_ == Kind::Ipv6)
    return Bytes(address_.bytes().begin(), address_.bytes().end());
  return Bytes(text_.begin(), text_.end());
}

std::string ConfiguredIdentity::kind_name() const {
  switch (kind_) {
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
