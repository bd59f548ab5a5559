#include "ike/auth/identity_match.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "common/log_escape.h"
#include "crypto/openssl_handles.h"
#include "ike/auth/distinguished_name.h"
#include "ike/auth/x509_text.h"

namespace natgate::ike {

namespace {

std::string text_of(ByteView data) { return std::string(data.begin(), data.end()); }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// RFC 5321 §2.4: the local part may be case-sensitive, the domain is not.
bool email_equals(std::string_view a, std::string_view b) {
  const auto at_a = a.rfind('@'), at_b = b.rfind('@');
  if (at_a == std::string_view::npos || at_b == std::string_view::npos) return a == b;
  return a.substr(0, at_a) == b.substr(0, at_b) && iequals(a.substr(at_a + 1), b.substr(at_b + 1));
}

// DNS names compare without a trailing root dot.
std::string_view strip_root(std::string_view s) {
  return !s.empty() && s.back() == '.' ? s.substr(0, s.size() - 1) : s;
}

std::string ip_text(ByteView data) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (data.size() == 4) return inet_ntop(AF_INET, data.data(), buf, sizeof buf) ? buf : "?";
  if (data.size() == 16) return inet_ntop(AF_INET6, data.data(), buf, sizeof buf) ? buf : "?";
  return "(" + std::to_string(data.size()) + " octets)";
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string printable(const std::string& s) { return escape_for_log(s); }

bool has_control(std::string_view v) {
  return std::any_of(v.begin(), v.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f;
  });
}

bool ends_with_ignoring_case(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}

// "*.example.net" against a name the peer sent: one or more non-empty labels, then the suffix.
// The peer's labels are not checked as hostnames beyond that (a certificate or PSK still has
// to prove the name), but a '*' there is literal and never widens anything.
bool fqdn_pattern_matches(std::string_view pattern, std::string_view name) {
  const std::string_view suffix = pattern.substr(1);  // ".example.net"
  name = strip_root(name);
  if (name.size() <= suffix.size() || !ends_with_ignoring_case(name, suffix)) return false;
  const std::string_view labels = name.substr(0, name.size() - suffix.size());
  return !labels.empty() && labels.front() != '.' && labels.back() != '.' &&
         labels.find("..") == std::string_view::npos;
}

// "*@example.net" against an address the peer sent: a non-empty local part, the domain equal.
bool email_pattern_matches(std::string_view pattern, std::string_view address) {
  const std::string_view domain = pattern.substr(2);
  const auto at = address.rfind('@');
  if (at == std::string_view::npos || at == 0) return false;
  if (address.substr(0, at).find('@') != std::string_view::npos) return false;  // "a@b@example.net"
  return iequals(address.substr(at + 1), domain);
}

bool is_fqdn_pattern(std::string_view s) { return s.size() > 2 && s.substr(0, 2) == "*."; }
bool is_email_pattern(std::string_view s) { return s.size() > 2 && s.substr(0, 2) == "*@"; }

std::string dn_text(ByteView der) {
  const unsigned char* p = der.data();
  crypto::detail::X509NamePtr name(d2i_X509_NAME(nullptr, &p, static_cast<long>(der.size())));
  if (!name) {
    crypto::detail::clear_openssl_errors();
    return "(malformed DN " + to_hex(der) + ")";
  }
  return detail::name_to_string(name.get());
}

}  // namespace

std::string describe_identity(iana::IdType type, ByteView data) {
  switch (type) {
    case iana::IdType::Fqdn:
      return "fqdn:" + printable(text_of(data));
    case iana::IdType::Rfc822Addr:
      return "rfc822:" + printable(text_of(data));
    case iana::IdType::Ipv4Addr:
      return "ipv4:" + ip_text(data);
    case iana::IdType::Ipv6Addr:
      return "ipv6:" + ip_text(data);
    case iana::IdType::DerAsn1Dn:
      return "dn:" + dn_text(data);
    case iana::IdType::KeyId:
      return "keyid:" + to_hex(data);
    default:
      return "id" + std::to_string(static_cast<int>(type)) + ":" + to_hex(data);
  }
}

Status match_identity(const X509Certificate& cert, iana::IdType type, ByteView data) {
  const std::string id = describe_identity(type, data);
  const std::string who = "certificate " + cert.subject();
  switch (type) {
    case iana::IdType::Fqdn: {
      const std::string want(strip_root(text_of(data)));
      const auto names = cert.dns_names();
      for (const auto& n : names)
        if (iequals(strip_root(n), want)) return {};
      return unexpected("no SAN matches ID " + id + " (" + who +
                        (names.empty() ? " has no dNSName)" : " has dNSName " + join(names) + ")"));
    }
    case iana::IdType::Rfc822Addr: {
      const std::string want = text_of(data);
      const auto names = cert.email_addresses();
      for (const auto& n : names)
        if (email_equals(n, want)) return {};
      return unexpected("no SAN matches ID " + id + " (" + who +
                        (names.empty() ? " has no rfc822Name)" : " has rfc822Name " + join(names) + ")"));
    }
    case iana::IdType::Ipv4Addr:
    case iana::IdType::Ipv6Addr: {
      const std::size_t want_len = type == iana::IdType::Ipv4Addr ? 4 : 16;
      if (data.size() != want_len)
        return unexpected("ID " + id + " has " + std::to_string(data.size()) + " octets, expected " +
                          std::to_string(want_len));
      const auto addrs = cert.ip_addresses();
      std::vector<std::string> shown;
      for (const auto& a : addrs) {
        if (a.size() == data.size() && std::equal(a.begin(), a.end(), data.begin())) return {};
        shown.push_back(ip_text(a));
      }
      return unexpected("no SAN matches ID " + id + " (" + who +
                        (shown.empty() ? " has no iPAddress)" : " has iPAddress " + join(shown) + ")"));
    }
    case iana::IdType::DerAsn1Dn: {
      // As names, not octets: a DN written in the config is encoded as UTF8String where the
      // certificate may use PrintableString for the same text.
      if (dn_matches(data, cert.subject_der(), false)) return {};
      return unexpected("subject of " + who + " does not match ID " + id);
    }
    default:
      return unexpected("ID " + id + " cannot be matched against a certificate");
  }
}

bool identity_matches(iana::IdType configured_type, ByteView configured, iana::IdType type, ByteView data) {
  if (configured_type != type) return false;
  const std::string want = text_of(configured), have = text_of(data);
  switch (type) {
    case iana::IdType::Fqdn:
      if (has_control(have)) return false;
      if (is_fqdn_pattern(want)) return fqdn_pattern_matches(want, have);
      return iequals(strip_root(want), strip_root(have));
    case iana::IdType::Rfc822Addr:
      if (has_control(have)) return false;
      if (is_email_pattern(want)) return email_pattern_matches(want, have);
      return email_equals(want, have);
    case iana::IdType::DerAsn1Dn:
      return dn_matches(configured, data, true);
    default:
      return configured.size() == data.size() &&
             std::equal(configured.begin(), configured.end(), data.begin());
  }
}

bool identity_has_wildcard(iana::IdType type, ByteView data) {
  switch (type) {
    case iana::IdType::Fqdn:
      return is_fqdn_pattern(text_of(data));
    case iana::IdType::Rfc822Addr:
      return is_email_pattern(text_of(data));
    case iana::IdType::DerAsn1Dn:
      return dn_has_wildcard(data);
    default:
      return false;
  }
}

}  // namespace natgate::ike
