#include "tools/cli/profile/platform_algorithms.h"

#include <functional>

namespace natgate::cli {

namespace {

using iana::DhGroup;
using iana::EncrId;
using iana::IntegId;
using iana::PrfId;

using Name = std::optional<std::string>;

Name windows_cipher(const ike::EncrAlgorithm& e) {
  if (e.id == EncrId::AesGcm16 && e.key_bits == 256) return "GCMAES256";
  if (e.id == EncrId::AesGcm16 && e.key_bits == 128) return "GCMAES128";
  if (e.id == EncrId::AesCbc && e.key_bits == 256) return "AES256";
  if (e.id == EncrId::AesCbc && e.key_bits == 192) return "AES192";
  if (e.id == EncrId::AesCbc && e.key_bits == 128) return "AES128";
  return std::nullopt;
}

Name windows_ike_hash(PrfId prf) {
  if (prf == PrfId::HmacSha2_256) return "SHA256";
  if (prf == PrfId::HmacSha2_384) return "SHA384";
  return std::nullopt;
}

Name windows_dh(DhGroup g) {
  if (g == DhGroup::Modp2048) return "Group14";
  if (g == DhGroup::Ecp256) return "ECP256";
  if (g == DhGroup::Ecp384) return "ECP384";
  return std::nullopt;
}

Name windows_pfs(DhGroup g) {
  if (g == DhGroup::None) return "None";
  if (g == DhGroup::Modp2048) return "PFS2048";
  if (g == DhGroup::Ecp256) return "ECP256";
  if (g == DhGroup::Ecp384) return "ECP384";
  return std::nullopt;
}

Name apple_cipher(const ike::EncrAlgorithm& e) {
  if (e.id == EncrId::AesGcm16 && e.key_bits == 256) return "AES-256-GCM";
  if (e.id == EncrId::AesGcm16 && e.key_bits == 128) return "AES-128-GCM";
  if (e.id == EncrId::AesCbc && e.key_bits == 256) return "AES-256";
  if (e.id == EncrId::AesCbc && e.key_bits == 128) return "AES-128";
  if (e.id == EncrId::ChaCha20Poly1305) return "ChaCha20Poly1305";
  return std::nullopt;
}

Name apple_hash_of_prf(PrfId prf) {
  if (prf == PrfId::HmacSha2_256) return "SHA2-256";
  if (prf == PrfId::HmacSha2_384) return "SHA2-384";
  if (prf == PrfId::HmacSha2_512) return "SHA2-512";
  return std::nullopt;
}

Name apple_hash_of_integ(IntegId i) {
  if (i == IntegId::HmacSha2_256_128) return "SHA2-256";
  if (i == IntegId::HmacSha2_384_192) return "SHA2-384";
  if (i == IntegId::HmacSha2_512_256) return "SHA2-512";
  return std::nullopt;
}

bool apple_dh(DhGroup g) {
  return g == DhGroup::Modp2048 || g == DhGroup::Modp3072 || g == DhGroup::Ecp256 || g == DhGroup::Ecp384 ||
         g == DhGroup::Ecp521 || g == DhGroup::Curve25519 || g == DhGroup::Curve448;
}

// The first element of `items` for which `f` has a name.
template <typename T, typename F>
auto first_named(const std::vector<T>& items, F f) -> decltype(f(items.front())) {
  for (const auto& item : items)
    if (auto n = f(item)) return n;
  return std::nullopt;
}

std::string listed(const std::vector<ike::ProposalSpec>& specs) {
  std::string out;
  for (const auto& s : specs) out += (out.empty() ? "" : ", ") + ike::to_string(s);
  return out.empty() ? "none" : out;
}

}  // namespace

Expected<WindowsIpsecSettings> windows_settings(const std::vector<ike::ProposalSpec>& ike,
                                                const std::vector<ike::ProposalSpec>& esp) {
  WindowsIpsecSettings w;
  bool ike_found = false;
  for (const auto& p : ike) {
    auto cipher = first_named(p.encryption, windows_cipher);
    // Windows' IntegrityCheckMethod is the PRF (and, for AES-CBC, the integrity algorithm too).
    auto hash = first_named(p.prf, windows_ike_hash);
    auto dh = first_named(p.dh, windows_dh);
    if (cipher && hash && dh) {
      w = {*cipher, *hash, *dh, "", "", ""};
      ike_found = true;
      break;
    }
  }
  if (!ike_found)
    return unexpected("none of the connection's IKE proposals (" + listed(ike) +
                      ") is one Windows can offer: add e.g. aes256gcm16-prfsha256-ecp256 or "
                      "aes256-sha256-modp2048 to ike_proposals");
  for (const auto& p : esp) {
    auto cipher = first_named(p.encryption, windows_cipher);
    std::optional<std::string> auth;
    if (cipher && p.is_aead())
      auth = cipher;  // AES-GCM names itself in both fields
    else
      auth = first_named(p.integrity, [](IntegId i) -> Name {
        if (i == IntegId::HmacSha2_256_128) return "SHA256128";
        return std::nullopt;
      });
    Name pfs = p.dh.empty() ? Name("None") : first_named(p.dh, windows_pfs);
    if (cipher && auth && pfs) {
      w.cipher_transform = *cipher;
      w.authentication_transform = *auth;
      w.pfs_group = *pfs;
      return w;
    }
  }
  return unexpected("none of the connection's ESP proposals (" + listed(esp) +
                    ") is one Windows can offer: add e.g. aes256gcm16 or aes256-sha256 to esp_proposals");
}

Expected<AppleSettings> apple_settings(const std::vector<ike::ProposalSpec>& ike,
                                       const std::vector<ike::ProposalSpec>& esp) {
  AppleSettings a;
  bool ike_found = false;
  for (const auto& p : ike) {
    auto cipher = first_named(p.encryption, apple_cipher);
    auto hash = p.is_aead() || p.integrity.empty() ? first_named(p.prf, apple_hash_of_prf)
                                                   : first_named(p.integrity, apple_hash_of_integ);
    std::optional<DhGroup> dh;
    for (auto g : p.dh)
      if (apple_dh(g)) {
        dh = g;
        break;
      }
    if (cipher && hash && dh) {
      a.ike = {*cipher, *hash, static_cast<int>(*dh)};
      ike_found = true;
      break;
    }
  }
  if (!ike_found)
    return unexpected("none of the connection's IKE proposals (" + listed(ike) +
                      ") is one Apple devices can offer: add e.g. aes256gcm16-prfsha256-ecp256");
  for (const auto& p : esp) {
    auto cipher = first_named(p.encryption, apple_cipher);
    // Apple's IntegrityAlgorithm must be present even for AEAD ciphers; it is then unused.
    Name hash = p.is_aead() ? Name(a.ike.integrity) : first_named(p.integrity, apple_hash_of_integ);
    std::optional<DhGroup> pfs;
    bool no_pfs = p.dh.empty();
    for (auto g : p.dh) {
      if (g == DhGroup::None) {
        no_pfs = true;
        break;
      }
      if (apple_dh(g)) {
        pfs = g;
        break;
      }
    }
    if (cipher && hash && (no_pfs || pfs)) {
      a.child = {*cipher, *hash, pfs ? static_cast<int>(*pfs) : a.ike.dh_group};
      a.enable_pfs = pfs.has_value();
      return a;
    }
  }
  return unexpected("none of the connection's ESP proposals (" + listed(esp) +
                    ") is one Apple devices can offer: add e.g. aes256gcm16 to esp_proposals");
}

}  // namespace natgate::cli
