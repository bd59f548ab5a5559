#include "ike/exchange/eap_identity.h"

#include <optional>
#include <string>

namespace natgate::ike {

namespace {

// The identity as an EAP name would spell it; nullopt for types no EAP name can stand for
// (a DER DN, a GN).
std::optional<std::string> text_of(const Identity& id) {
  switch (id.type) {
    case iana::IdType::Fqdn:
    case iana::IdType::Rfc822Addr:
    case iana::IdType::KeyId:
      return std::string(id.data.begin(), id.data.end());
    case iana::IdType::Ipv4Addr:
      if (id.data.size() != 4) return std::nullopt;
      return IpAddress::from_bytes(IpFamily::V4, id.data).to_string();
    case iana::IdType::Ipv6Addr:
      if (id.data.size() != 16) return std::nullopt;
      return IpAddress::from_bytes(IpFamily::V6, id.data).to_string();
    default:
      return std::nullopt;
  }
}

bool binds_text(std::string_view name, const std::string& text, bool email_like) {
  if (name.empty()) return false;
  if (name == text) return true;
  if (!email_like) return false;
  const auto at = text.rfind('@');
  return at != std::string::npos && at > 0 && name == std::string_view(text).substr(0, at);
}

}  // namespace

bool eap_name_binds(std::string_view eap_name, const Identity& ike_id) {
  const auto text = text_of(ike_id);
  if (!text) return false;
  const bool email_like = ike_id.type == iana::IdType::Rfc822Addr || ike_id.type == iana::IdType::Fqdn;
  if (binds_text(eap_name, *text, email_like)) return true;
  const auto slash = eap_name.rfind('\\');
  return slash != std::string_view::npos && binds_text(eap_name.substr(slash + 1), *text, email_like);
}

}  // namespace natgate::ike
