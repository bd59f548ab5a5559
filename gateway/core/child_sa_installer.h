// CHILD SAs as the data plane holds them: a negotiated pair (ike::ChildSaEstablished) becomes
// an inbound and an outbound SA, plus the policies that steer the connection's traffic into
// them (out) and require it to have come through them (in, fwd), all through xfrm::SaBackend
// (shared/DESIGN.md rule 6). Policies belong to a connection (its reqid), not to one SA pair:
// a rekeyed pair takes over the same policies, so traffic never sees a gap.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "common/ip_address.h"
#include "common/traffic_selector.h"
#include "gateway/core/log_text.h"
#include "ike/exchange/events.h"
#include "xfrm/sa_backend.h"

namespace natgate::gateway::core {

struct InstalledChild {
  std::string name;
  std::uint32_t reqid = 0;
  std::uint32_t inbound_spi = 0;
  std::uint32_t outbound_spi = 0;
  Endpoint local;  // outer endpoints; ports matter only with UDP encapsulation
  Endpoint remote;
  bool udp_encapsulation = false;
  std::vector<TrafficSelector> local_ts;
  std::vector<TrafficSelector> remote_ts;
  std::string proposal;  // "aes256gcm16-noesn"
  std::chrono::steady_clock::time_point installed_at{};
  // A rekey we answered (ChildSaEstablished::defer_outbound): the outbound SA waits here until
  // the pair it replaces is deleted; until then the old outbound SA carries the traffic.
  std::uint32_t replaces_inbound_spi = 0;
  std::optional<xfrm::SaSpec> pending_outbound;
  // Lifetime (the daemon's timers): rekey due (soft, with jitter) and hard expiry.
  std::optional<std::chrono::steady_clock::time_point> rekey_at;
  std::optional<std::chrono::steady_clock::time_point> expire_at;
};

struct ChildTraffic {
  xfrm::SaCounters in;
  xfrm::SaCounters out;
};

class ChildSaInstaller {
 public:
  // backend may be null (no data plane): SAs are then recorded but carry nothing.
  explicit ChildSaInstaller(xfrm::SaBackend* backend) : backend_(backend) {}

  bool has_backend() const { return backend_ != nullptr; }

  // Installs both SAs and (if not yet there) the connection's policies. `lifetime` goes to the
  // data plane as the SAs' hard limit and `soft` as the point where it reports a soft expire;
  // zero means none. On error nothing of this pair stays installed.
  Expected<InstalledChild> install(const ike::ChildSaEstablished& e, std::uint32_t reqid,
                                   std::chrono::seconds soft, std::chrono::seconds lifetime);
  // The outbound SA held back by install (defer_outbound): traffic moves to this pair now.
  Status install_outbound(InstalledChild& child);
  // Removes both SAs. The policies stay until release_policies (the next pair may be coming).
  void remove(const InstalledChild& child);
  // The peer's NAT mapping changed (RFC 7296 §2.23): both SAs and the policy templates follow.
  Status move(InstalledChild& child, const Endpoint& local, const Endpoint& remote);
  ChildTraffic traffic(const InstalledChild& child) const;

  // Policies of a connection without SAs: `start: on-traffic` traps (the data plane reports
  // an acquire on the first packet).
  Status install_policies(std::uint32_t reqid, const std::vector<TrafficSelector>& local_ts,
                          const std::vector<TrafficSelector>& remote_ts, const Endpoint& local,
                          const Endpoint& remote);
  void release_policies(std::uint32_t reqid);
  bool has_policies(std::uint32_t reqid) const { return policies_.count(reqid) != 0; }
  std::size_t policy_sets() const { return policies_.size(); }

 private:
  std::vector<xfrm::PolicySpec> policy_specs(std::uint32_t reqid,
                                             const std::vector<TrafficSelector>& local_ts,
                                             const std::vector<TrafficSelector>& remote_ts,
                                             const Endpoint& local, const Endpoint& remote) const;

  xfrm::SaBackend* backend_;
  std::map<std::uint32_t, std::vector<xfrm::PolicySpec>> policies_;  // by reqid
};

// The data plane's transform for a negotiated ESP suite.
xfrm::EspTransform esp_transform(const ike::CryptoSuite& suite);

}  // namespace natgate::gateway::core
