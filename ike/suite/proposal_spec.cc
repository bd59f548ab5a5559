#include "ike/suite/proposal_spec.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <variant>

namespace natgate::ike {

namespace {

using Transform = std::variant<EncrAlgorithm, iana::IntegId, iana::PrfId, iana::DhGroup, iana::EsnId>;

struct Keyword {
  std::string_view name;
  Transform transform;
};

// The subset of strongSwan's proposal_keywords_static.txt that natgate implements. The first
// entry for a transform is its canonical (printed) name; later ones are accepted aliases.
const Keyword kKeywords[] = {
    {"aes128", EncrAlgorithm{iana::EncrId::AesCbc, 128}},
    {"aes192", EncrAlgorithm{iana::EncrId::AesCbc, 192}},
    {"aes256", EncrAlgorithm{iana::EncrId::AesCbc, 256}},
    {"aes", EncrAlgorithm{iana::EncrId::AesCbc, 128}},
    {"aes128gcm16", EncrAlgorithm{iana::EncrId::AesGcm16, 128}},
    {"aes192gcm16", EncrAlgorithm{iana::EncrId::AesGcm16, 192}},
    {"aes256gcm16", EncrAlgorithm{iana::EncrId::AesGcm16, 256}},
    {"aes128gcm128", EncrAlgorithm{iana::EncrId::AesGcm16, 128}},
    {"aes192gcm128", EncrAlgorithm{iana::EncrId::AesGcm16, 192}},
    {"aes256gcm128", EncrAlgorithm{iana::EncrId::AesGcm16, 256}},
    {"aes128gcm", EncrAlgorithm{iana::EncrId::AesGcm16, 128}},
    {"aes192gcm", EncrAlgorithm{iana::EncrId::AesGcm16, 192}},
    {"aes256gcm", EncrAlgorithm{iana::EncrId::AesGcm16, 256}},
    {"chacha20poly1305", EncrAlgorithm{iana::EncrId::ChaCha20Poly1305, 0}},
    {"sha1", iana::IntegId::HmacSha1_96},
    {"sha", iana::IntegId::HmacSha1_96},
    {"sha256", iana::IntegId::HmacSha2_256_128},
    {"sha2_256", iana::IntegId::HmacSha2_256_128},
    {"sha384", iana::IntegId::HmacSha2_384_192},
    {"sha2_384", iana::IntegId::HmacSha2_384_192},
    {"sha512", iana::IntegId::HmacSha2_512_256},
    {"sha2_512", iana::IntegId::HmacSha2_512_256},
    {"prfsha1", iana::PrfId::HmacSha1},
    {"prfsha256", iana::PrfId::HmacSha2_256},
    {"prfsha384", iana::PrfId::HmacSha2_384},
    {"prfsha512", iana::PrfId::HmacSha2_512},
    {"modp1024", iana::DhGroup::Modp1024},  // RFC 8247 §2.4: SHOULD NOT; for legacy_proposals
    {"modp2048", iana::DhGroup::Modp2048},
    {"modp3072", iana::DhGroup::Modp3072},
    {"ecp256", iana::DhGroup::Ecp256},
    {"ecp384", iana::DhGroup::Ecp384},
    {"ecp521", iana::DhGroup::Ecp521},
    {"x25519", iana::DhGroup::Curve25519},
    {"curve25519", iana::DhGroup::Curve25519},
    {"x448", iana::DhGroup::Curve448},
    {"curve448", iana::DhGroup::Curve448},
    {"none", iana::DhGroup::None},
    {"modpnone", iana::DhGroup::None},
    {"esn", iana::EsnId::Esn},
    {"noesn", iana::EsnId::NoEsn},
};

template <typename T>
void add_unique(std::vector<T>& list, T value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

template <typename T>
std::string canonical(const T& value) {
  for (const auto& k : kKeywords) {
    if (const T* t = std::get_if<T>(&k.transform); t != nullptr && *t == value) return std::string(k.name);
  }
  return "";
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

const char* protocol_name(iana::ProtocolId protocol) {
  return protocol == iana::ProtocolId::Ike ? "IKE" : "ESP";
}

// strongSwan's check_proposal(), carried over as rules (see the header).
Status complete(ProposalSpec& spec, std::string_view text) {
  const std::string where =
      std::string(" in ") + protocol_name(spec.protocol) + " proposal '" + std::string(text) + "'";
  if (spec.encryption.empty()) return unexpected("no encryption algorithm" + where);
  const bool any_aead = std::any_of(spec.encryption.begin(), spec.encryption.end(),
                                    [](const EncrAlgorithm& e) { return e.is_aead(); });
  const bool all_aead = std::all_of(spec.encryption.begin(), spec.encryption.end(),
                                    [](const EncrAlgorithm& e) { return e.is_aead(); });
  if (any_aead && !all_aead) {
    return unexpected("AEAD and classic encryption algorithms cannot share one proposal" + where);
  }
  // RFC 7296 §3.3: a proposal with only combined-mode ciphers must not offer integrity.
  if (all_aead) spec.integrity.clear();
  if (!all_aead && spec.integrity.empty()) {
    return unexpected("a classic cipher needs an integrity algorithm (e.g. sha256)" + where);
  }

  if (spec.protocol == iana::ProtocolId::Ike) {
    if (!spec.esn.empty()) return unexpected("'esn'/'noesn' apply to ESP proposals only" + where);
    if (spec.prf.empty()) {
      for (auto integ : spec.integrity) {
        if (auto prf = prf_for_integrity(integ)) add_unique(spec.prf, *prf);
      }
      spec.prf_implied = !spec.prf.empty();
    }
    if (spec.prf.empty())
      return unexpected("an AEAD-only IKE proposal must name a PRF (e.g. prfsha256)" + where);
    std::erase(spec.dh, iana::DhGroup::None);
    if (spec.dh.empty())
      return unexpected("an IKE proposal needs a key exchange method (e.g. x25519)" + where);
  } else {
    spec.prf.clear();
    if (spec.esn.empty()) {
      spec.esn.push_back(iana::EsnId::NoEsn);
      spec.esn_implied = true;
    }
  }
  return {};
}

}  // namespace

std::optional<iana::PrfId> prf_for_integrity(iana::IntegId id) {
  switch (id) {
    case iana::IntegId::HmacSha1_96:
      return iana::PrfId::HmacSha1;
    case iana::IntegId::HmacSha2_256_128:
      return iana::PrfId::HmacSha2_256;
    case iana::IntegId::HmacSha2_384_192:
      return iana::PrfId::HmacSha2_384;
    case iana::IntegId::HmacSha2_512_256:
      return iana::PrfId::HmacSha2_512;
    case iana::IntegId::None:
      break;
  }
  return std::nullopt;
}

Expected<ProposalSpec> parse_proposal(iana::ProtocolId protocol, std::string_view text) {
  if (protocol != iana::ProtocolId::Ike && protocol != iana::ProtocolId::Esp) {
    return unexpected(std::string("proposals are for IKE or ESP, not protocol ") +
                      std::to_string(static_cast<unsigned>(protocol)));
  }
  text = trim(text);
  ProposalSpec spec;
  spec.protocol = protocol;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('-', start);
    if (end == std::string_view::npos) end = text.size();
    std::string word(trim(text.substr(start, end - start)));
    std::transform(word.begin(), word.end(), word.begin(), [](unsigned char c) { return std::tolower(c); });
    if (word.empty()) return unexpected("empty algorithm keyword in proposal '" + std::string(text) + "'");
    auto it = std::find_if(std::begin(kKeywords), std::end(kKeywords),
                           [&](const Keyword& k) { return k.name == word; });
    if (it == std::end(kKeywords)) {
      return unexpected("unknown algorithm '" + word + "' in proposal '" + std::string(text) + "'");
    }
    std::visit(
        [&](const auto& t) {
          using T = std::decay_t<decltype(t)>;
          if constexpr (std::is_same_v<T, EncrAlgorithm>) add_unique(spec.encryption, t);
          if constexpr (std::is_same_v<T, iana::IntegId>) add_unique(spec.integrity, t);
          if constexpr (std::is_same_v<T, iana::PrfId>) add_unique(spec.prf, t);
          if constexpr (std::is_same_v<T, iana::DhGroup>) add_unique(spec.dh, t);
          if constexpr (std::is_same_v<T, iana::EsnId>) add_unique(spec.esn, t);
        },
        it->transform);
    start = end + 1;
  }
  auto status = complete(spec, text);
  if (!status) return unexpected(status.error());
  return spec;
}

Expected<std::vector<ProposalSpec>> parse_proposals(iana::ProtocolId protocol, std::string_view text) {
  std::vector<ProposalSpec> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    auto one = parse_proposal(protocol, text.substr(start, end - start));
    if (!one) return unexpected(one.error());
    out.push_back(std::move(*one));
    start = end + 1;
  }
  return out;
}

std::string keyword(const EncrAlgorithm& encr) { return canonical(encr); }
std::string keyword(iana::IntegId id) { return canonical(id); }
std::string keyword(iana::PrfId id) { return canonical(id); }
std::string keyword(iana::DhGroup id) { return canonical(id); }
std::string keyword(iana::EsnId id) { return canonical(id); }

std::string to_string(const ProposalSpec& spec) {
  std::string out;
  auto add = [&out](const std::string& word) {
    if (!out.empty()) out += '-';
    out += word.empty() ? "?" : word;
  };
  for (const auto& e : spec.encryption) add(keyword(e));
  for (auto i : spec.integrity) add(keyword(i));
  if (!spec.prf_implied) {
    for (auto p : spec.prf) add(keyword(p));
  }
  for (auto d : spec.dh) add(keyword(d));
  if (!spec.esn_implied) {
    for (auto e : spec.esn) add(keyword(e));
  }
  return out;
}

}  // namespace natgate::ike
