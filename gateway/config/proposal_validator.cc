#include "gateway/config/proposal_validator.h"

#include <string>

#include "ike/suite/proposal_spec.h"

namespace natgate::gateway {

Status check_proposal_syntax(ProposalKind kind, std::string_view proposal) {
  const char* example = kind == ProposalKind::Ike ? "aes256gcm16-prfsha384-x25519" : "aes256gcm16";
  auto expected = std::string(" (expected algorithm names joined by '-', like ") + example + ")";
  if (proposal.empty()) return unexpected("empty" + expected);
  std::size_t start = 0;
  while (start <= proposal.size()) {
    std::size_t dash = proposal.find('-', start);
    if (dash == std::string_view::npos) dash = proposal.size();
    std::string_view token = proposal.substr(start, dash - start);
    if (token.empty()) return unexpected("empty algorithm name" + expected);
    for (char c : token) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
        return unexpected("\"" + std::string(token) + "\" is not an algorithm name" + expected);
    }
    start = dash + 1;
  }
  return {};
}

namespace {

// The IKE suite's own parser: a proposal passes here exactly when the daemon can negotiate it.
Status check_with_ike_suite(ProposalKind kind, std::string_view proposal) {
  auto parsed = ike::parse_proposal(kind == ProposalKind::Ike ? iana::ProtocolId::Ike : iana::ProtocolId::Esp,
                                    proposal);
  if (!parsed) return unexpected(parsed.error());
  return {};
}

}  // namespace

ProposalValidator default_proposal_validator() { return check_with_ike_suite; }

}  // namespace natgate::gateway
