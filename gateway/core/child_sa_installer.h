// CHILD SAs as the data plane holds them: a negotiated pair (ike::ChildSaEstablished) becomes
// an inbound and an outbound SA, plus the policies that steer the connection's traffic into
// them (out) and require it to have come through them (in, fwd), all through dataplane::SaBackend
// (docs/design.md, "Rules every layer keeps"). Policies belong to an owner (connection + peer identity) under
// a reqid, not to one SA pair: a rekeyed pair or the owner's next IKE SA takes over the same policies, so
// traffic never sees a gap, and no other owner can take them (the data planes name a policy by its selectors
// alone, so two owners' policies for the same traffic would overwrite or refuse each other).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "common/endpoint_pair.h"
#include "common/expected.h"
#include "common/ip_address.h"
#include "common/selector_list.h"
#include "common/traffic_selector.h"
#include "dataplane/sa_backend.h"
#include "gateway/core/policy_book.h"
#include "ike/endpoint/log_text.h"
#include "ike/exchange/events.h"
#include "ike/exchange/identity.h"
#include "ike/suite/crypto_suite.h"

namespace natgate::gateway::core {

using ike::nat_text;
using ike::spi_hex;
using ike::ts_text;

struct InstalledChild {
  std::string name;
  std::uint32_t reqid = 0;
  std::uint32_t inbound_spi = 0;
  std::uint32_t outbound_spi = 0;
  Endpoint local;  // outer endpoints; ports matter only with UDP encapsulation
  Endpoint remote;
  bool udp_encapsulation = false;
  SelectorList local_ts;  // shared with the Endpoint's and the IKE SA's records of this pair
  SelectorList remote_ts;
  // What was negotiated; status prints it (ike::to_string: "aes256gcm16-noesn"). The suite is
  // 14 bytes where the text cost a road warrior a 32-byte string and a heap block.
  ike::CryptoSuite esp;
  // A rekey we answered (ChildSaEstablished::defer_outbound): the outbound SA waits here until
  // the pair it replaces is deleted; until then the old outbound SA carries the traffic.
  // Behind a pointer: a 232-byte SaSpec held inline in every road warrior's record while only a
  // rekey we answered uses it, for a moment (docs/performance.md, "Scale: memory per road warrior").
  std::uint32_t replaces_inbound_spi = 0;
  std::unique_ptr<dataplane::SaSpec> pending_outbound;
  // (No lifetimes here: the Endpoint's EndpointChildSa keeps rekey_at/expire_at and the timers.)
};

struct ChildTraffic {
  dataplane::SaCounters in;
  dataplane::SaCounters out;
};

// Who holds a policy: the connection, and for a connection that accepts any identity the peer
// identity too. An owner's successor SA (reconnect, INITIAL_CONTACT, rekey) takes its policies
// over; anyone else gets the traffic of nobody's policy.
std::string policy_owner(const std::string& connection, bool any_id,
                         const std::optional<ike::Identity>& peer);

class ChildSaInstaller {
 public:
  // backend may be null (no data plane): SAs are then recorded but carry nothing.
  explicit ChildSaInstaller(dataplane::SaBackend* backend) : backend_(backend) {}

  bool has_backend() const { return backend_ != nullptr; }

  // Installs both SAs and (if not yet there) the connection's policies for `owner`. `lifetime`
  // goes to the data plane as the SAs' hard limit and `soft` as the point where it reports a
  // soft expire; zero means none. On error nothing of this pair stays installed.
  // `if_id`: the route-based connection's interface (dataplane::SaSpec::if_id), 0 = none.
  Expected<InstalledChild> install(const ike::ChildSaEstablished& e, std::uint32_t reqid,
                                   const std::string& owner, std::chrono::seconds soft,
                                   std::chrono::seconds lifetime, std::uint32_t if_id = 0);
  // The outbound SA held back by install (defer_outbound): traffic moves to this pair now.
  Status install_outbound(InstalledChild& child);
  // Removes both SAs. The policies stay until release_policies (the next pair may be coming).
  void remove(const InstalledChild& child);
  // The peer's NAT mapping changed (RFC 7296 §2.23): both SAs and the policy templates follow.
  Status move(InstalledChild& child, const EndpointPair& ends);
  ChildTraffic traffic(const InstalledChild& child) const;

  // The policies steering local_ts <-> remote_ts into the SAs of `reqid`, held by `owner`.
  // Also `start: on-traffic` traps (the data plane reports an acquire on the first packet).
  // A policy `owner` holds under another reqid is handed over in place (the successor SA of
  // the same identity: no moment without a policy); one that overlaps traffic another owner
  // holds refuses the whole set and changes nothing.
  Status install_policies(std::uint32_t reqid, const std::string& owner,
                          const std::vector<TrafficSelector>& local_ts,
                          const std::vector<TrafficSelector>& remote_ts, const EndpointPair& outer,
                          std::uint32_t if_id = 0);
  // Whether install_policies would accept these selectors for `owner` now: the error names the
  // traffic and its holder.
  Status check_policies(const std::string& owner, const std::vector<TrafficSelector>& local_ts,
                        const std::vector<TrafficSelector>& remote_ts) const;
  // Removes the policies still held under `reqid`; those a successor took over stay.
  void release_policies(std::uint32_t reqid);
  // Forgets every policy without touching the data plane: at shutdown, once the backend's
  // flush() removed them all at once (one step instead of a removal per road warrior).
  void forget_policies() { held_ = PolicyBook(); }
  bool has_policies(std::uint32_t reqid) const;
  std::size_t policy_count() const { return held_.size(); }
  // The reqid a policy for these selectors is held under now, if any (tests, status).
  std::optional<std::uint32_t> holder_reqid(const TrafficSelector& src, const TrafficSelector& dst,
                                            dataplane::Direction direction) const;

 private:
  using PolicyKey = PolicyBook::Key;
  using HeldPolicy = PolicyBook::Held;
  std::vector<dataplane::PolicySpec> policy_specs(std::uint32_t reqid,
                                                  const std::vector<TrafficSelector>& local_ts,
                                                  const std::vector<TrafficSelector>& remote_ts,
                                                  const EndpointPair& outer, std::uint32_t if_id) const;
  std::optional<std::string> conflict(const std::string& owner,
                                      const std::vector<dataplane::PolicySpec>& specs) const;
  std::optional<std::string> owner_of(std::uint32_t reqid) const;

  dataplane::SaBackend* backend_;
  PolicyBook held_;  // every policy installed, by the name the data plane gives it
};

// The data plane's transform for a negotiated ESP suite.
dataplane::EspTransform esp_transform(const ike::CryptoSuite& suite);

}  // namespace natgate::gateway::core
