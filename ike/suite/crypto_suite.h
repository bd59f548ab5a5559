// One negotiated transform of each type (RFC 7296 §2.7) and the sizes that follow from it:
// what the key schedule, the SK payload and the ESP data plane need to know.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "common/iana.h"
#include "ike/suite/proposal_spec.h"

namespace natgate::ike {

struct CryptoSuite {
  iana::ProtocolId protocol = iana::ProtocolId::Ike;
  EncrAlgorithm encr;
  iana::IntegId integ = iana::IntegId::None;    // None for AEAD
  iana::PrfId prf = iana::PrfId::HmacSha2_256;  // IKE only
  iana::DhGroup dh = iana::DhGroup::None;       // ESP: the PFS group, None without PFS
  bool esn = false;                             // ESP only

  // Checks that natgate implements every transform and that they fit together (AEAD without
  // integrity, classic with it, IKE with a PRF and a key exchange method).
  Status validate() const;

  bool is_aead() const { return encr.is_aead(); }

  // Cipher key bytes, without salt: 16/24/32 for AES, 32 for ChaCha20.
  std::size_t encr_key_size() const;
  // Salt taken from KEYMAT after the key: 4 for AES-GCM (RFC 4106 §8.1, RFC 5282 §7.1) and
  // ChaCha20-Poly1305 (RFC 7634 §2), 0 for AES-CBC.
  std::size_t salt_size() const;
  std::size_t encr_keymat_size() const { return encr_key_size() + salt_size(); }
  // HMAC key bytes (RFC 2404 §3, RFC 4868 §2.1.1); 0 for AEAD.
  std::size_t integ_key_size() const;
  // ICV bytes: the AEAD tag (16) or the truncated HMAC.
  std::size_t icv_size() const;
  // Explicit IV bytes on the wire: 16 for AES-CBC (RFC 3602), 8 for AES-GCM (RFC 4106 §3.1,
  // RFC 5282 §3.1) and ChaCha20-Poly1305 (RFC 7634 §2).
  std::size_t iv_size() const;
  // What SK payload plaintext is padded to: 16 for AES-CBC; 1 for the AEADs (no alignment
  // needed, RFC 5282 §3 / RFC 7634 §2, only the Pad Length octet).
  std::size_t block_size() const;
  // PRF output, also the length of SK_d, SK_pi and SK_pr (RFC 7296 §2.14). IKE only.
  std::size_t prf_size() const;

  friend bool operator==(const CryptoSuite&, const CryptoSuite&) = default;
};

// "aes256gcm16-prfsha384-x25519", "aes128-sha256-modp2048" (a PRF implied by the integrity
// algorithm is left out), "aes128-sha256-noesn" (ESP always shows its ESN choice).
std::string to_string(const CryptoSuite& suite);

// RFC 7296 §2.7 transform selection between one of our proposals and one of the peer's:
// for each transform type, the first of ours the peer also offers. nullopt if some type has
// no common transform (or the protocols differ). ESP: a DH list containing None on both sides
// may select no PFS; a side without any DH transform means no PFS.
std::optional<CryptoSuite> select_suite(const ProposalSpec& ours, const ProposalSpec& theirs);

// Across lists: our proposals in order of preference, each against all of theirs in theirs'
// order; the first match wins. Also returns the index of the peer's proposal that matched,
// since its proposal number must be echoed (RFC 7296 §3.3.1).
struct Selection {
  CryptoSuite suite;
  std::size_t their_index = 0;
};
std::optional<Selection> select_suite(const std::vector<ProposalSpec>& ours,
                                      const std::vector<ProposalSpec>& theirs);

}  // namespace natgate::ike
