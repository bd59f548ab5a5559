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

// Checks only the shape: lowercase algorithm names joined by '-'. It cannot tell a real
// algorithm from a typo ("aes256gcm61" passes); tests use it to check config handling apart
// from the algorithm list.
Status check_proposal_syntax(ProposalKind kind, std::string_view proposal);

// The validator natgated uses: the IKE suite's parser (ike/suite/proposal_spec.h), so a
// proposal passes exactly when the daemon can negotiate it.
ProposalValidator default_proposal_validator();

}  // namespace natgate::gateway
