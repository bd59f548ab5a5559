// One side's key exchange and nonce in one exchange, shared by IKE_SA_INIT (RFC 7296 §1.2),
// the IKE SA rekey (§1.3.2) and CHILD SA creation with PFS (§1.3.1): which group our KE payload
// uses, our key pair for it, the answer to INVALID_KE_PAYLOAD (§1.2, §1.3: retry with the
// responder's group if we offered it), the responder's group check, and the nonce rules (§2.10).
// What each exchange does on a failure (fail the IKE SA, leave the old SA, fail the CHILD SA)
// stays with the exchange; this class only says what went wrong.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "common/bytes.h"
#include "common/expected.h"
#include "common/iana.h"
#include "common/secret_bytes.h"
#include "crypto/key_exchange.h"
#include "crypto/key_pair_source.h"
#include "crypto/random.h"
#include "ike/codec/payloads.h"
#include "ike/suite/proposal_spec.h"

namespace natgate::ike {

// RFC 7296 §2.10: a nonce is 16 to 256 octets.
bool nonce_length_ok(std::size_t length);
inline bool nonce_ok(const Nonce* nonce) { return nonce != nullptr && nonce_length_ok(nonce->data.size()); }

// Whether any of `proposals` lists `group` among its key exchange methods.
bool offers_group(const std::vector<ProposalSpec>& proposals, iana::DhGroup group);

// The data of an INVALID_KE_PAYLOAD notify (§3.10.1): the group the responder wants, two octets.
Bytes invalid_ke_data(iana::DhGroup wanted);

// What the initiator makes of an INVALID_KE_PAYLOAD answer.
struct InvalidKeVerdict {
  enum class Kind {
    Retry,      // `wanted` is ours to use: send the request again with it
    Malformed,  // the notify names no group (data not two octets)
    Unoffered,  // the peer asks for the group we used, one we did not offer, or one we cannot do
  };
  Kind kind = Kind::Malformed;
  iana::DhGroup wanted = iana::DhGroup::None;
};

class KeyExchangeStep {
 public:
  iana::DhGroup group() const { return group_; }
  bool has_group() const { return group_ != iana::DhGroup::None; }
  // Initiator: the group our next KE payload uses (the first choice, or the one a retry asks for).
  void use_group(iana::DhGroup group) { group_ = group; }

  // Initiator: a key pair for group() unless we hold one already. A retry with another group
  // replaces it; a resend (COOKIE) keeps it.
  // A pair from `pool` if it has one ready, else one generated from `random`.
  Status prepare(crypto::RandomSource& random, crypto::KeyPairSource* pool = nullptr);
  // The KE payload carrying our public value; prepare() or respond_in() came first.
  KeyExchange payload() const;

  // Initiator: judges an INVALID_KE_PAYLOAD notify against what we offered; on Retry the caller
  // (which owns the retry budget) calls use_group(verdict.wanted).
  InvalidKeVerdict judge_invalid_ke(const Notify& notify, const std::vector<ProposalSpec>& offered) const;

  // Initiator: the responder's KE payload is for the group we sent and the suite it chose.
  bool answer_matches(const KeyExchange* theirs, iana::DhGroup chosen) const;

  // Responder: the peer's KE payload is for the group we chose; if not, the answer is
  // INVALID_KE_PAYLOAD with invalid_ke_data(chosen) (§1.2, §1.3).
  static bool request_matches(const KeyExchange* theirs, iana::DhGroup chosen) {
    return theirs != nullptr && theirs->group == chosen;
  }
  // Responder: a fresh key pair in the chosen group, kept until payload() has been sent.
  Status respond_in(iana::DhGroup chosen, crypto::RandomSource& random,
                    crypto::KeyPairSource* pool = nullptr);

  bool has_key() const { return key_.has_value(); }
  // g^ir from the peer's public value; an error for a value of the wrong length, off the curve
  // or out of range (crypto::DhKeyPair::shared_secret).
  Expected<SecretBytes> shared_secret(ByteView peer_public) const;
  // The private value is no longer needed once the keys are derived and our payload is sent.
  void forget_key() { key_.reset(); }

 private:
  iana::DhGroup group_ = iana::DhGroup::None;
  std::optional<crypto::DhKeyPair> key_;
};

}  // namespace natgate::ike
