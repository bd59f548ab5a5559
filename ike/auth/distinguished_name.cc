#include "ike/auth/distinguished_name.h"

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <memory>

#include "crypto/openssl_handles.h"

namespace natgate::ike {

namespace {

using crypto::detail::X509NamePtr;
using Asn1ObjectPtr = std::unique_ptr<ASN1_OBJECT, crypto::detail::OsslDeleter<ASN1_OBJECT_free>>;

struct ShortName {
  std::string_view name;  // upper case
  int nid;
};
// The attribute types of RFC 4514 §3 and those certificates for VPNs commonly carry.
constexpr std::array<ShortName, 20> kShortNames{{
    {"CN", NID_commonName},
    {"C", NID_countryName},
    {"L", NID_localityName},
    {"ST", NID_stateOrProvinceName},
    {"O", NID_organizationName},
    {"OU", NID_organizationalUnitName},
    {"STREET", NID_streetAddress},
    {"DC", NID_domainComponent},
    {"UID", NID_userId},
    {"E", NID_pkcs9_emailAddress},
    {"EMAILADDRESS", NID_pkcs9_emailAddress},
    {"SERIALNUMBER", NID_serialNumber},
    {"SN", NID_surname},
    {"GN", NID_givenName},
    {"GIVENNAME", NID_givenName},
    {"T", NID_title},
    {"TITLE", NID_title},
    {"DNQUALIFIER", NID_dnQualifier},
    {"POSTALCODE", NID_postalCode},
    {"PSEUDONYM", NID_pseudonym},
}};

char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool has_control(std::string_view v) {
  return std::any_of(v.begin(), v.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) == 0x7f;
  });
}

// Well-formed UTF-8 without overlong forms or surrogates (RFC 3629 §4).
bool is_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
      cp = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      cp = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      cp = c & 0x07u;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // the continuation bytes are missing
    for (std::size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += n + 1;
  }
  return true;
}

Expected<Asn1ObjectPtr> attribute_type(std::string_view type) {
  if (type.empty()) return unexpected(std::string("an attribute type is missing (expected like CN=...)"));
  if (is_digit(type.front())) {
    // numericoid (RFC 4512 §1.4): digits separated by single dots.
    bool ok = !type.empty() && type.back() != '.' && type.find("..") == std::string_view::npos;
    for (char c : type) ok = ok && (is_digit(c) || c == '.');
    if (ok) {
      Asn1ObjectPtr obj(OBJ_txt2obj(std::string(type).c_str(), 1));
      if (obj) return obj;
      crypto::detail::clear_openssl_errors();
    }
    return unexpected("\"" + std::string(type) + "\" is not an OID");
  }
  std::string key;
  for (char c : type) {
    if (!is_alpha(c) && !is_digit(c) && c != '-')
      return unexpected("\"" + std::string(type) +
                        "\" is not an attribute type (expected like CN, O, OU, C)");
    key.push_back(upper(c));
  }
  for (const auto& s : kShortNames) {
    if (s.name == key) return Asn1ObjectPtr(OBJ_nid2obj(s.nid));
  }
  return unexpected(
      "unknown attribute type \"" + std::string(type) +
      "\" (expected CN, C, L, ST, O, OU, STREET, DC, UID, E, serialNumber, SN, GN, T, or an OID)");
}

struct TextAva {
  std::string type;
  std::string value;
};

// RFC 4514 §3 (with spaces around separators tolerated, as people write them).
Expected<std::vector<std::vector<TextAva>>> split_text(std::string_view text) {
  std::vector<std::vector<TextAva>> rdns(1);
  std::size_t i = 0;
  auto skip_spaces = [&] {
    while (i < text.size() && text[i] == ' ') ++i;
  };
  for (;;) {
    skip_spaces();
    const std::size_t type_start = i;
    while (i < text.size() && text[i] != '=' && text[i] != ',' && text[i] != '+') ++i;
    if (i >= text.size() || text[i] != '=')
      return unexpected("\"" + std::string(text.substr(type_start, i - type_start)) +
                        "\" has no '=' (expected TYPE=value, like CN=gw.example.net)");
    std::string_view type = text.substr(type_start, i - type_start);
    while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
    ++i;  // '='
    skip_spaces();
    if (i < text.size() && text[i] == '#')
      return unexpected(
          std::string("hex-encoded values (#...) are not supported (expected the value as text)"));
    std::string value;
    std::size_t significant = 0;  // value's length up to its last character that is not an unescaped space
    char end = 0;
    while (i < text.size()) {
      const char c = text[i];
      if (c == ',' || c == '+') {
        end = c;
        ++i;
        break;
      }
      if (c == '\\') {
        if (i + 1 >= text.size()) return unexpected(std::string("ends with a lone '\\'"));
        const char next = text[i + 1];
        if (std::string_view("\"+,;<>\\ #=").find(next) != std::string_view::npos) {
          value.push_back(next);
          i += 2;
        } else if (i + 2 < text.size() && hex_value(next) >= 0 && hex_value(text[i + 2]) >= 0) {
          value.push_back(static_cast<char>(hex_value(next) * 16 + hex_value(text[i + 2])));
          i += 3;
        } else {
          return unexpected("'\\" + std::string(1, next) +
                            "' is not an escape (expected \\, \\+ \\\" or two hex digits)");
        }
        significant = value.size();
        continue;
      }
      if (c == '"' || c == ';' || c == '<' || c == '>' || c == '\0')
        return unexpected("'" + std::string(c == '\0' ? "\\0" : std::string(1, c)) +
                          "' must be escaped with '\\' in a DN value");
      value.push_back(c);
      if (c != ' ') significant = value.size();
      ++i;
    }
    value.resize(significant);
    if (value.empty()) return unexpected("\"" + std::string(type) + "=\" has an empty value");
    if (value.find('\0') != std::string::npos) return unexpected(std::string("a DN value may not hold NUL"));
    if (!is_utf8(value)) return unexpected(std::string("a DN value is not UTF-8"));
    rdns.back().push_back({std::string(type), std::move(value)});
    if (end == ',') rdns.emplace_back();
    if (end == 0) break;
  }
  return rdns;
}

// RFC 4518 §2.6.1 insignificant space handling and ASCII case folding: "  Example   Org " and
// "example org" compare equal.
std::string folded(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(lower(c));
  }
  return out;
}

bool rdn_matches(DnRdn want, DnRdn have, bool wildcards) {
  if (want.size() != have.size()) return false;
  auto by_oid = [](const DnAttribute& a, const DnAttribute& b) { return a.oid < b.oid; };
  // A multi-valued RDN is a SET: its order on the wire carries no meaning.
  std::sort(want.begin(), want.end(), by_oid);
  std::sort(have.begin(), have.end(), by_oid);
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (want[i].oid != have[i].oid) return false;
    if (has_control(have[i].value)) return false;  // NUL or control bytes: never a name we configured
    if (wildcards && want[i].value == "*") {
      if (folded(have[i].value).empty()) return false;
      continue;
    }
    if (folded(want[i].value) != folded(have[i].value)) return false;
  }
  return true;
}

}  // namespace

Expected<Bytes> dn_from_text(std::string_view text) {
  auto rdns = split_text(text);
  if (!rdns) return unexpected(rdns.error());
  X509NamePtr name(X509_NAME_new());
  if (!name) return unexpected(std::string("out of memory"));
  // Text lists the most specific RDN first; DER the least specific (RFC 4514 §2.1).
  for (auto rdn = rdns->rbegin(); rdn != rdns->rend(); ++rdn) {
    bool first = true;
    for (const auto& ava : *rdn) {
      auto obj = attribute_type(ava.type);
      if (!obj) return unexpected(obj.error());
      const auto* bytes = reinterpret_cast<const unsigned char*>(ava.value.data());
      if (X509_NAME_add_entry_by_OBJ(name.get(), obj->get(), MBSTRING_UTF8, bytes,
                                     static_cast<int>(ava.value.size()), -1, first ? 0 : -1) != 1) {
        crypto::detail::clear_openssl_errors();
        return unexpected("\"" + ava.value + "\" is not a valid value for " + ava.type +
                          " (too long, or characters that type does not allow)");
      }
      first = false;
    }
  }
  int len = i2d_X509_NAME(name.get(), nullptr);
  if (len <= 0) {
    crypto::detail::clear_openssl_errors();
    return unexpected(std::string("cannot encode the DN"));
  }
  Bytes der(static_cast<std::size_t>(len));
  unsigned char* p = der.data();
  i2d_X509_NAME(name.get(), &p);
  return der;
}

Expected<DnRdns> dn_decode(ByteView der) {
  if (der.empty()) return unexpected(std::string("empty DN"));
  const unsigned char* p = der.data();
  X509NamePtr name(d2i_X509_NAME(nullptr, &p, static_cast<long>(der.size())));
  if (!name || p != der.data() + der.size()) {
    crypto::detail::clear_openssl_errors();
    return unexpected(std::string("not a DER Name"));
  }
  DnRdns out;
  int last_set = -1;
  for (int i = 0; i < X509_NAME_entry_count(name.get()); ++i) {
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(name.get(), i);
    std::array<char, 128> oid{};
    if (OBJ_obj2txt(oid.data(), static_cast<int>(oid.size()), X509_NAME_ENTRY_get_object(e), 1) <= 0) {
      crypto::detail::clear_openssl_errors();
      return unexpected(std::string("unreadable attribute type"));
    }
    unsigned char* utf8 = nullptr;
    const int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
    if (n < 0) {
      crypto::detail::clear_openssl_errors();
      return unexpected(std::string("unreadable attribute value"));
    }
    std::string value(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(n));
    OPENSSL_free(utf8);
    const int set = X509_NAME_ENTRY_set(e);
    if (out.empty() || set != last_set) out.emplace_back();
    last_set = set;
    out.back().push_back({oid.data(), std::move(value)});
  }
  return out;
}

bool dn_matches(ByteView configured, ByteView peer, bool wildcards) {
  auto want = dn_decode(configured);
  auto have = dn_decode(peer);
  if (!want || !have || want->size() != have->size()) return false;
  for (std::size_t i = 0; i < want->size(); ++i) {
    if (!rdn_matches((*want)[i], (*have)[i], wildcards)) return false;
  }
  return true;
}

bool dn_has_wildcard(ByteView der) {
  auto rdns = dn_decode(der);
  if (!rdns) return false;
  for (const auto& rdn : *rdns)
    for (const auto& a : rdn)
      if (a.value == "*") return true;
  return false;
}

}  // namespace natgate::ike
