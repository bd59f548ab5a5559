// natgated's configuration as typed values: what config_loader produces from YAML and what
// the daemon core reads. Every field here has been validated; nothing downstream re-checks.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/ip_address.h"
#include "common/secret_bytes.h"
#include "gateway/config/auth_settings.h"
#include "gateway/config/configured_identity.h"
#include "gateway/config/duration.h"

namespace natgate::gateway {

enum class DataplaneMode : std::uint8_t { Auto, Kernel, Userspace };
enum class LogLevel : std::uint8_t { Trace, Debug, Info, Warn, Error, Critical, Off };

std::string to_string(DataplaneMode m);  // "auto", "kernel", "userspace"
struct Config;
// The route-based connections' interfaces (`interface:`), by name, each with the if_id its SAs
// carry: 1, 2, ... in file order (unique per daemon, the loader checks).
std::map<std::string, std::uint32_t> route_interfaces(const Config& config);
std::string to_string(LogLevel l);  // "trace" … "off"
std::optional<LogLevel> parse_log_level(std::string_view text);

// natgated's log subsystems, named as charon names its groups so a strongSwan operator finds
// them: dmn (process, signals, reloads), cfg (configuration), ike (IKE SAs and exchanges), net
// (sockets, datagrams), esp (the userspace ESP engine), knl (kernel: XFRM, routes, addresses,
// TUN), ctl (control socket, status).
enum class LogSubsystem : std::uint8_t { Dmn, Cfg, Ike, Net, Esp, Knl, Ctl };
inline constexpr std::size_t kLogSubsystemCount = 7;
std::string to_string(LogSubsystem s);  // "dmn" … "ctl"
std::optional<LogSubsystem> parse_log_subsystem(std::string_view text);

// daemon.log_level: one level for everything ("log_level: info"), or a default with levels for
// some subsystems ("log_level: { default: info, ike: debug, esp: warn }").
struct LogLevels {
  LogLevel default_level = LogLevel::Info;
  std::array<std::optional<LogLevel>, kLogSubsystemCount> subsystem{};

  static LogLevels all(LogLevel level) { return LogLevels{level, {}}; }
  LogLevel of(LogSubsystem s) const { return subsystem[static_cast<std::size_t>(s)].value_or(default_level); }
  friend bool operator==(const LogLevels&, const LogLevels&) = default;
};

// The userspace data plane's TUN device.
struct TunConfig {
  std::string name = "natgate0";
  std::optional<std::uint32_t> mtu;  // nullopt = auto (derived from the path and the ESP overhead)
  friend bool operator==(const TunConfig&, const TunConfig&) = default;
};

// daemon.limits: what any one stranger, source or authenticated peer may cost the daemon
// (docs/security.md lists each with its reason). Sources are counted per IPv4 address and per
// IPv6 /64, since one IPv6 host can pick any address of its /64.
struct LimitsConfig {
  // Half-open IKE SAs (IKE_SA_INIT answered, IKE_AUTH not done; RFC 7296 §2.6).
  std::uint32_t cookie_threshold = 512;             // in all, from which every initiator needs a cookie
  std::uint32_t cookie_threshold_per_source = 128;  // from one source, from which it needs one
  std::uint32_t half_open_per_source = 1024;        // never more from one source
  std::uint32_t half_open = 16384;                  // never more without a valid cookie
  std::uint64_t half_open_memory = 64ull << 20;     // bytes of cached messages and fragments in all
  // Authenticated peers.
  std::uint32_t selectors_per_ts = 32;      // traffic selectors in one TSi or TSr payload
  std::uint32_t child_sas_per_ike_sa = 32;  // CHILD SAs one IKE SA may hold at once
  std::uint32_t ike_sas_per_identity = 8;   // IKE SAs one peer identity may hold at once
  std::uint32_t rekeys_per_minute = 30;     // IKE + CHILD rekeys one IKE SA may ask for
  // Password guessing (EAP): failures in the last minute from which further attempts are refused.
  std::uint32_t eap_failures_per_identity = 5;
  std::uint32_t eap_failures_per_source = 50;
  friend bool operator==(const LimitsConfig&, const LimitsConfig&) = default;
};

// daemon.metrics: Prometheus metrics over HTTP (gateway/metrics/, docs/operations.md "Monitoring").
struct MetricsConfig {
  std::optional<Endpoint> listen;  // nullopt: no metrics endpoint
  bool per_sa = false;             // series per CHILD SA and peer too (bounded by the SAs that exist)
  friend bool operator==(const MetricsConfig&, const MetricsConfig&) = default;
};

// daemon.relay_forward: a TURN-like forwarding relay (RFC 8656's idea, not its protocol) for two
// peers that cannot reach each other directly: each allocation is a UDP port per side; what side
// A's peer sends to port A leaves port B to B's learned address and back, unchanged — the peers'
// own IKE and ESP, no crypto here (gateway/relay/, docs/design.md "Mediation: forwarding relay").
struct RelayAllocationSide {
  std::uint16_t port = 0;  // where this side's peer sends
  IpAddress peer;          // the only address allowed to use it (its NAT's public address)
  friend bool operator==(const RelayAllocationSide&, const RelayAllocationSide&) = default;
};
struct RelayAllocationConfig {
  std::string name;
  RelayAllocationSide a, b;
  friend bool operator==(const RelayAllocationConfig&, const RelayAllocationConfig&) = default;
};
struct RelayForwardConfig {
  std::uint32_t max_allocations = 64;                 // allocations at once
  Duration idle_timeout = std::chrono::seconds(120);  // a side's learned address is forgotten after it
  std::vector<RelayAllocationConfig> allocations;     // static allocations, by name (config order)
  friend bool operator==(const RelayForwardConfig&, const RelayForwardConfig&) = default;
};

struct DaemonConfig {
  std::vector<IpAddress> listen = {IpAddress::any(IpFamily::V4)};
  std::uint16_t ike_port = 500;
  std::uint16_t natt_port = 4500;
  DataplaneMode dataplane = DataplaneMode::Auto;
  // daemon.dataplane.relay: the userspace engine forwards tunnel-to-tunnel traffic itself, past
  // the kernel's routing and forward chain (docs/performance.md, "Relay"). Set at start.
  bool dataplane_relay = true;
  std::string control_socket = "/run/natgate/natgate.sock";
  LogLevels log_level;
  TunConfig tun;
  TrustFiles trust;  // daemon.ca / daemon.crl: for every connection
  LimitsConfig limits;
  MetricsConfig metrics;
  RelayForwardConfig relay_forward;  // daemon.relay_forward; no allocations: no forwarder
  // daemon.state_dir: where what must survive a restart is kept (the virtual-IP lease table,
  // gateway/pool/lease_store.h). Empty: $STATE_DIRECTORY (systemd's StateDirectory=), else
  // /var/lib/natgate (DaemonConfig::resolved_state_dir).
  std::string state_dir;
  std::string resolved_state_dir() const;
  friend bool operator==(const DaemonConfig&, const DaemonConfig&) = default;
};

struct SecretConfig {
  // Set: the key of one peer identity (a road warrior's own PSK), used by any connection that
  // accepts that identity. Unset: the key of the connection of the same name.
  std::optional<ConfiguredIdentity> id;
  SecretBytes psk;
  std::optional<std::string> psk_file;  // where it came from (resolved path), for messages only
  friend bool operator==(const SecretConfig&, const SecretConfig&) = default;
};

// What the daemon does with a connection on start (strongSwan's start_action).
enum class StartAction : std::uint8_t {
  Initiate,   // bring it up at start and keep it up
  Listen,     // respond only
  OnTraffic,  // install trap policies; initiate on the first matching packet (XFRM acquire)
};
std::string to_string(StartAction s);

// local.dns: how a road warrior applies the DNS servers its gateway offers
// (gateway/core/dns_setup.h).
enum class DnsVia : std::uint8_t { File, Resolved, Resolvconf, Auto };

struct LocalConfig {
  ConfiguredIdentity id;
  std::vector<Subnet> subnets;
  LocalAuthConfig auth;  // cert, key, eap_id, auth override
  // Road-warrior client (RFC 7296 §2.19): virtual IPs to ask the gateway for (0.0.0.0 / :: = any
  // address of that family). With these, subnets may be left out (the CHILD SA then asks for
  // the gateway's whole side and takes what the gateway narrows it to).
  std::vector<IpAddress> vips;
  std::optional<std::string> dns_file;  // where the DNS servers the gateway offers are written
  // local.dns: how they are applied (gateway/core/dns_setup.h); unset: to dns_file when named.
  std::optional<DnsVia> dns_via;
  friend bool operator==(const LocalConfig&, const LocalConfig&) = default;
};

struct RemoteConfig {
  std::optional<IpAddress> address;  // nullopt = "any": accept from any address (responder only)
  // remote.address as a DNS name or a list (names and/or addresses): tried in this order, names
  // resolved (A and AAAA) on every initiation. `address` is then unset: as a responder the
  // connection accepts the peer from any address (its identity still has to match).
  std::vector<std::string> hosts;
  std::uint16_t port = 500;  // the peer's IKE port for our first message
  // remote.relayed: address:port is a forwarding relay's allocation (daemon.relay_forward on the
  // relay): IKE starts on our NAT-T port with the non-ESP marker (RFC 7296 §2.23 allows it) and
  // stays on `port`; NAT-keepalives go there before any IKE SA exists, so the relay learns our
  // NAT mapping and our NAT admits its datagrams (TURN's permission, RFC 8656 §9).
  bool relayed = false;
  ConfiguredIdentity id;
  bool any_id = false;  // `id: any`: every identity with a valid key (road warriors)
  std::vector<Subnet> subnets;
  RemoteAuthConfig auth;  // ca, crl, auth override
  bool accepts_any_address() const { return !address.has_value(); }
  bool has_peer_to_initiate_to() const { return address.has_value() || !hosts.empty(); }
  // For status: the address, the hosts ("a.example.net, 198.51.100.20"), or "any".
  std::string address_text() const {
    if (address) return address->to_string();
    std::string out;
    for (const auto& h : hosts) out += (out.empty() ? "" : ", ") + h;
    return out.empty() ? "any" : out;
  }
  // `id: any` or a pattern ("*@example.net"): many peers, each an IKE SA of its own.
  bool accepts_many_ids() const { return any_id || id.is_wildcard(); }
  friend bool operator==(const RemoteConfig&, const RemoteConfig&) = default;
};

struct Lifetimes {
  Duration ike = std::chrono::hours(4);
  Duration child = std::chrono::hours(1);
  friend bool operator==(const Lifetimes&, const Lifetimes&) = default;
};

// RFC 9329 TCP encapsulation of IKE and ESP: never; auto (UDP first, TCP after
// tcp_after_retransmits unanswered IKE_SA_INIT retransmits); always (TCP from the start).
enum class TcpEncapMode : std::uint8_t { Never, Auto, Always };

struct NattConfig {
  Duration keepalive = std::chrono::seconds(20);  // RFC 3948 §4: NAT-keepalive interval
  bool force_encap = false;                       // encapsulate even without NAT (RFC 7296 §2.23)
  TcpEncapMode tcp = TcpEncapMode::Never;
  std::uint16_t tcp_port = 4500;            // the peer's (initiator) or our (responder) TCP port
  std::uint32_t tcp_after_retransmits = 1;  // auto: IKE_SA_INIT retransmits before TCP
  friend bool operator==(const NattConfig&, const NattConfig&) = default;
};

// How a CHILD SA carries its traffic (RFC 4301 §4.1). Only tunnel mode is accepted by the loader
// today: the policies natgated installs are tunnel-mode ones (configs/README.md, "children").
enum class ChildSaMode : std::uint8_t { Tunnel, Transport };
// What happens when the peer closes a CHILD SA on its own (strongSwan's close_action). Only
// none is accepted today (configs/README.md, "children").
enum class CloseAction : std::uint8_t { None, Restart, Hold };
std::string to_string(ChildSaMode m);
std::string to_string(CloseAction a);

// One CHILD SA of a connection (`children:`), or the implicit one that the connection-level
// local.subnets / remote.subnets / esp_proposals describe, named after the connection.
struct ChildSaConfig {
  std::string name;
  std::vector<Subnet> local_subnets;
  std::vector<Subnet> remote_subnets;
  std::vector<std::string> esp_proposals;
  ChildSaMode mode = ChildSaMode::Tunnel;
  StartAction start = StartAction::Listen;  // the connection's (the loader makes them agree)
  CloseAction close = CloseAction::None;
  Duration lifetime = std::chrono::hours(1);  // lifetimes.child unless the child sets its own
  friend bool operator==(const ChildSaConfig&, const ChildSaConfig&) = default;
};

// `redirect: { to: [addresses], policy: round-robin | least-redirected }` (RFC 5685): an entry
// gateway that sends each new peer that supports redirect to one of `to` in its IKE_SA_INIT
// response; peers without REDIRECT_SUPPORTED are served by this connection itself
// (docs/high-availability.md).
enum class RedirectPolicyKind : std::uint8_t { RoundRobin, LeastRedirected };
struct RedirectConfig {
  std::vector<IpAddress> to;
  RedirectPolicyKind policy = RedirectPolicyKind::RoundRobin;
  friend bool operator==(const RedirectConfig&, const RedirectConfig&) = default;
};

struct ConnectionConfig {
  std::string name;
  LocalConfig local;
  RemoteConfig remote;
  AuthMode auth = AuthMode::Psk;
  std::vector<std::string> ike_proposals;  // strongSwan syntax, validated by the ProposalValidator
  std::vector<std::string> esp_proposals;
  StartAction start = StartAction::Listen;
  Duration dpd = std::chrono::seconds(30);  // 0s = no dead peer detection
  Lifetimes lifetimes;
  NattConfig natt;
  FragmentationConfig fragmentation;
  std::optional<std::string> pool;  // gateway: virtual IPs for the peers come from this pool
  // `mediation: server`: the peers of this connection use us as their mediation server
  // (docs/mediation.md); no subnets, no ESP proposals, no CHILD SA.
  bool mediation_server = false;
  // Its CHILD SAs, in file order: the first rides in IKE_AUTH, the others follow with
  // CREATE_CHILD_SA. Always at least one unless mediation_server. With `children:` the
  // connection-level local.subnets / remote.subnets hold the union of the children's (for the
  // road-warrior split-tunnel list and messages) and esp_proposals stays empty.
  std::vector<ChildSaConfig> children;
  bool explicit_children = false;  // written as `children:` (else the implicit one)
  // `updown:` an absolute path to a root-owned script run on CHILD SA up / down / rekey
  // (gateway/core/updown_runner.h, configs/README.md "updown").
  std::optional<std::string> updown;
  // `interface: NAME` (route-based VPN, configs/README.md "interface"): the connection's CHILD
  // SAs take what the host routes into the interface NAME and deliver into it; natgated adds no
  // route for them. The userspace engine gives it a TUN of its own.
  std::optional<std::string> interface;
  bool mobike = true;                      // `mobike: yes | no`: MOBIKE (RFC 4555) offered or accepted
  std::optional<RedirectConfig> redirect;  // `redirect:` (above)
  // `mediation: client` (swanctl mediation = yes on a peer): our connection to a mediation server;
  // it carries no CHILD SA and is what mediated connections name in mediated_by.
  bool mediation_client = false;
  // `mediation: { mediated_by, peer }` (swanctl mediated_by, mediation_peer): this connection's
  // peer is found through the mediation server of the connection `mediated_by`, under the identity
  // `peer` (default: remote.id); remote.address may then be left out.
  struct Mediated {
    std::string mediated_by;
    ConfiguredIdentity peer;
    // `relay: CONNECTION`: when no direct path is found, this connection (to the mediation server
    // or a hub that relays SA to SA) is initiated and carries the peer's subnets; "" for none.
    std::string relay;
    friend bool operator==(const Mediated&, const Mediated&) = default;
  };
  std::optional<Mediated> mediated;
  bool carries_no_child() const { return mediation_server || mediation_client; }
  friend bool operator==(const ConnectionConfig&, const ConnectionConfig&) = default;
};

// A pool of virtual IPs for road warriors (RFC 7296 §2.19) and what comes with them.
struct PoolConfig {
  std::vector<Subnet> addresses;  // IPv4 and/or IPv6 ranges
  std::vector<IpAddress> dns;     // INTERNAL_IP4_DNS / INTERNAL_IP6_DNS
  friend bool operator==(const PoolConfig&, const PoolConfig&) = default;
};

struct Config {
  std::string source;  // the file it came from
  DaemonConfig daemon;
  std::map<std::string, SecretConfig> secrets;   // by connection name (or any name, with an id)
  std::map<std::string, PoolConfig> pools;       // by name
  std::vector<ConnectionConfig> connections;     // in file order
  std::map<std::string, SecretBytes> eap_users;  // EAP-MSCHAPv2 passwords by EAP identity

  const ConnectionConfig* find_connection(std::string_view name) const;
  // The PSK of a connection that uses one (the loader guarantees it exists).
  const SecretBytes* psk_for(std::string_view connection_name) const;
  // The PSK of one peer identity (a secret with that id), if there is one.
  const SecretBytes* psk_for_identity(const ConfiguredIdentity& id) const;
};

}  // namespace natgate::gateway
