// Between natgate's proposal model (ProposalSpec, CryptoSuite) and the SA payload's Proposal
// structures that the codec reads and writes (RFC 7296 §3.3).
#pragma once

#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "common/expected.h"
#include "ike/codec/payloads.h"
#include "ike/suite/crypto_suite.h"
#include "ike/suite/proposal_spec.h"

namespace natgate::ike {

// What we offer: every listed transform, in order. AES carries its Key Length attribute,
// ChaCha20-Poly1305 none (RFC 7634 §3); ESP's "none" group becomes a D-H transform with ID 0
// (optional PFS); `spi` is empty in IKE_SA_INIT, 8 octets for an IKE rekey, 4 for ESP.
Proposal to_proposal(const ProposalSpec& spec, std::uint8_t number, ByteView spi);

// What we answer: one transform of each negotiated type (RFC 7296 §2.7).
Proposal to_proposal(const CryptoSuite& suite, std::uint8_t number, ByteView spi);

// A peer's proposal as far as natgate can use it. Transforms natgate does not implement, or
// that carry attributes it does not understand, are left out: they can never be selected
// (RFC 7296 §3.3.6). A Transform Type natgate does not know makes the whole proposal
// unusable, which is an error; so is a protocol other than IKE or ESP. No completion rules
// are applied: select_suite() decides whether what remains is enough.
Expected<ProposalSpec> from_proposal(const Proposal& proposal);

// Checks the responder's chosen proposal against what we offered: exactly one transform of
// each type it uses, every one of them among our offer, and the combination one we accept
// (e.g. PFS when our ESP proposal requires it). Returns the negotiated suite.
Expected<CryptoSuite> accepted_suite(const Proposal& reply, const std::vector<ProposalSpec>& offered);

}  // namespace natgate::ike
