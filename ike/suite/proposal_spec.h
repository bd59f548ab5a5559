// What a configuration proposes, in strongSwan's proposal syntax ("aes256gcm16-prfsha384-x25519",
// "aes128-sha256-modp2048", "aes256gcm16-esn"): ordered candidate transforms of each type
// (RFC 7296 §3.3), with strongSwan's completion rules applied so a config that works with
// strongSwan means the same here:
//   - IKE without a PRF takes the PRF of each integrity algorithm (sha256 → prfsha256);
//     an AEAD-only IKE proposal must name its PRF.
//   - IKE must name a key exchange method; "none" is dropped from IKE proposals.
//   - Integrity algorithms are dropped when every cipher is an AEAD; mixing AEAD and classic
//     ciphers in one proposal is an error.
//   - ESP without "esn"/"noesn" means noesn; PRFs in ESP proposals are dropped.
// natgate is stricter in one place: a classic (non-AEAD) ESP cipher needs an integrity algorithm.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"
#include "common/iana.h"

namespace natgate::ike {

// An encryption transform and its Key Length attribute in bits (0 = no attribute, as for
// ChaCha20-Poly1305, RFC 7634 §3).
struct EncrAlgorithm {
  iana::EncrId id = iana::EncrId::AesGcm16;
  std::uint16_t key_bits = 0;
  bool is_aead() const { return id == iana::EncrId::AesGcm16 || id == iana::EncrId::ChaCha20Poly1305; }
  friend bool operator==(const EncrAlgorithm&, const EncrAlgorithm&) = default;
};

struct ProposalSpec {
  iana::ProtocolId protocol = iana::ProtocolId::Ike;
  std::vector<EncrAlgorithm> encryption;  // most preferred first
  std::vector<iana::IntegId> integrity;
  std::vector<iana::PrfId> prf;   // IKE only
  std::vector<iana::DhGroup> dh;  // IKE: required; ESP: PFS groups, may include None
  std::vector<iana::EsnId> esn;   // ESP only

  // Filled in by the completion rules rather than written: to_string leaves them out, so a
  // parsed string prints back as written.
  bool prf_implied = false;
  bool esn_implied = false;

  bool is_aead() const { return !encryption.empty() && encryption.front().is_aead(); }
  friend bool operator==(const ProposalSpec&, const ProposalSpec&) = default;
};

// Parses one proposal ("-"-separated keywords). Errors name the offending keyword or rule,
// e.g. "unknown algorithm 'aes512' in proposal 'aes512-sha256-x25519'".
Expected<ProposalSpec> parse_proposal(iana::ProtocolId protocol, std::string_view text);

// A ","-separated list of proposals, most preferred first (strongSwan's ike=/esp_proposals=).
Expected<std::vector<ProposalSpec>> parse_proposals(iana::ProtocolId protocol, std::string_view text);

// Canonical keywords in strongSwan's order: encryption, integrity, PRF, key exchange, ESN.
std::string to_string(const ProposalSpec& spec);

// The PRF an IKE proposal gets for an integrity algorithm when it names none
// (strongSwan's integ_prf_map): HMAC-SHA-x integrity → PRF_HMAC_SHA-x.
std::optional<iana::PrfId> prf_for_integrity(iana::IntegId id);

// The canonical keyword for one transform ("aes256gcm16", "sha256", "prfsha384", "x25519",
// "esn"), or "" if natgate has none. Useful for logs.
std::string keyword(const EncrAlgorithm& encr);
std::string keyword(iana::IntegId id);
std::string keyword(iana::PrfId id);
std::string keyword(iana::DhGroup id);
std::string keyword(iana::EsnId id);

}  // namespace natgate::ike
