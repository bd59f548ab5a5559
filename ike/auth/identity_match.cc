#include "ike/auth/identity_match.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "common/log_escape.h"
#include "crypto/openssl_handles.h"
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
      const Bytes subject = cert.subject_der();
      if (subject.size() == data.size() && std::equal(subject.begin(), subject.end(), data.begin()))
        return {};
      return unexpected("subject of " + who + " does not match ID " + id);
    }
    default:
      return unexpected("ID " + id + " cannot be matched against a certificate");
  }
}

}  // namespace natgate::ike
