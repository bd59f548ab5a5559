// RFC 5685 redirect, the parts that are not wire format (ike/codec/redirect_payloads.h has that):
// which member gateway a redirecting responder sends a new peer to, and the process-wide counts
// of redirects sent, followed and refused (`natgate status`, docs/high-availability.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/ip_address.h"

namespace natgate::ike {

enum class RedirectPolicy : std::uint8_t {
  RoundRobin,       // each target in turn
  LeastRedirected,  // the target sent the fewest peers so far (first in list order on a tie)
};
const char* to_string(RedirectPolicy policy);  // "round-robin", "least-redirected"

// A responder's redirect targets (config `redirect`). Shared by every SA of a connection through
// IkeSaConfig; the choice state lives here, so a config reload starts the rotation afresh.
// Single-threaded, like the Endpoint that calls it.
class Redirector {
 public:
  Redirector(std::vector<IpAddress> targets, RedirectPolicy policy);

  // The gateway the next redirected peer goes to; `self` (the address the request arrived at) is
  // skipped, so an entry that lists itself serves rather than redirects to itself. nullopt: no
  // target other than self.
  std::optional<IpAddress> choose(const IpAddress& self);

  const std::vector<IpAddress>& targets() const { return targets_; }
  RedirectPolicy policy() const { return policy_; }
  // How many peers went to targets()[i].
  std::uint64_t sent_to(std::size_t i) const { return sent_[i]; }

 private:
  std::vector<IpAddress> targets_;
  std::vector<std::uint64_t> sent_;
  RedirectPolicy policy_;
  std::size_t next_ = 0;  // round-robin position
};

// Counts since the process started, over all SAs.
struct RedirectCounters {
  std::uint64_t sent = 0;           // REDIRECT in an IKE_SA_INIT response (§4.1)
  std::uint64_t not_supported = 0;  // peers not redirected: no REDIRECT_SUPPORTED, served normally
  std::uint64_t followed = 0;       // we, as initiator, restarted IKE_SA_INIT at the new gateway
  std::uint64_t refused_nonce = 0;  // REDIRECT whose nonce data is not our Ni: not followed
  std::uint64_t refused_loop = 0;   // beyond IkeSaConfig::max_redirects: not followed
  // Undecodable data, an FQDN we cannot resolve here, another address family, or a REDIRECT
  // when follow_redirects is off.
  std::uint64_t refused_malformed = 0;
};
RedirectCounters& redirect_counters();

}  // namespace natgate::ike
