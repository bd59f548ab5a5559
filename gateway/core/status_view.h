// `natgate status` for IkeCore: the connections and counters as read from the ike::Endpoint (a
// const view of its SA table and connection runtime) and the gateway's own state around it (the
// data plane's CHILD SAs and traffic, leases, virtual IPs).
//
// With 100,000 road warriors the cost matters (docs/performance.md, Scale): filters go through
// the SA table's indexes (--conn: by connection, --id: by identity; --peer compares the SAs of
// the chosen connections, no rendering), and --summary only counts.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/config.h"
#include "gateway/control/status_model.h"
#include "gateway/core/child_sa_installer.h"
#include "gateway/core/profile_registry.h"
#include "gateway/core/remote_access.h"
#include "gateway/core/virtual_ip_client.h"
#include "ike/endpoint/endpoint.h"

namespace natgate::gateway::core::status_view {

struct Sources {
  const Config& config;
  const ike::IkeSaTable& table;
  const ike::Endpoint* endpoint;  // the connections' runtime (detail, admin down); may be null
  const ProfileRegistry& registry;
  const RemoteAccess* remote_access;
  const VirtualIpClient* vip_client;
  const ChildSaInstaller* installer;
  const std::map<std::uint32_t, InstalledChild>& installed;  // by inbound SPI
  const std::string& dataplane_error;
  std::size_t half_open = 0;  // the dispatcher's half-open IKE SAs
  // Why the peer at this endpoint is on an RFC 9329 TCP stream, "" when it is not (null: never).
  std::function<std::string(const Endpoint& remote)> tcp_reason = nullptr;
  // Why the peer at this endpoint is on UDP although tcp: auto could move it, "" otherwise.
  std::function<std::string(const Endpoint& remote)> udp_reason = nullptr;
};

// The connections as `query` asks (StatusQuery, status_model.h): into out.connections, or the
// counts into out.summary. Errors: an unknown connection, an identity or peer that does not parse.
Status connections(const Sources& s, const StatusQuery& query, std::chrono::steady_clock::time_point now,
                   std::chrono::system_clock::time_point wall_now, DaemonStatus& out);

// A --id filter: "fqdn:alice.lab", "email:a@b", "ipv4:192.0.2.1", "ipv6:2001:db8::1" (as status
// prints identities) or an identity as the config writes it ("alice.lab", "a@b", "192.0.2.1").
std::optional<ike::Identity> parse_identity_filter(std::string_view text);
// A --peer filter: "192.0.2.1" (any port), "192.0.2.1:4500", "2001:db8::1", "[2001:db8::1]:4500".
struct PeerFilter {
  IpAddress address;
  std::optional<std::uint16_t> port;
  bool matches(const Endpoint& e) const { return e.address == address && (!port || e.port == *port); }
};
std::optional<PeerFilter> parse_peer_filter(std::string_view text);

// The Endpoint's counters, the shell's (`io`) and the data plane's, plus gauges of what exists.
std::map<std::string, std::uint64_t> counters(const ike::Endpoint& endpoint,
                                              const std::map<std::string, std::uint64_t>& io,
                                              const std::map<std::string, std::uint64_t>& dataplane,
                                              const RemoteAccess* remote_access);

}  // namespace natgate::gateway::core::status_view
