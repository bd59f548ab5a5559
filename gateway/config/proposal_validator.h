// The seam through which config checks proposal strings ("aes256gcm16-prfsha384-x25519").
// The algorithms natgate implements are the IKE suite's business (ike/suite/), so config
// asks a validator instead of keeping its own list that would drift from the real one.
#pragma once

#include <functional>
#include <string_view>

#include "common/expected.h"

namespace natgate::gateway {

enum class ProposalKind : std::uint8_t { Ike, Esp };

// Success, or why the string is not a usable proposal of that kind (one sentence, naming
// the offending algorithm and what was expected; config adds the file, line and key).
using ProposalValidator = std::function<Status(ProposalKind kind, std::string_view proposal)>;

// Checks only the shape: lowercase algorithm names joined by '-'. Used until ike/suite/
// offers a parser for strongSwan proposal strings; it cannot tell a real algorithm from a
// typo ("aes256gcm61" passes).
Status check_proposal_syntax(ProposalKind kind, std::string_view proposal);

// The validator natgated uses: the IKE suite's parser (ike/suite/proposal_spec.h) when the
// natgate_ike_suite library is part of the build, else check_proposal_syntax.
ProposalValidator default_proposal_validator();
// Whether default_proposal_validator() knows the real algorithm list (false: syntax only).
bool proposal_validator_knows_algorithms();

}  // namespace natgate::gateway
