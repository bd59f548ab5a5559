// What `natgate status` shows: the daemon and each connection with its IKE SA and CHILD SAs.
// Plain structs filled by the daemon core, turned into the control socket's JSON here and
// read back by the CLI, so both ends agree on one shape.
//
// JSON field units: times are seconds (uptime, rekey_in; established_at is Unix time),
// SPIs are lowercase hex (16 digits for IKE, 8 for ESP), addresses "ip:port" ("[v6]:port").
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"
#include "common/ip_address.h"

namespace natgate::gateway {

enum class ConnectionState : std::uint8_t {
  Down,         // no IKE SA
  Connecting,   // IKE_SA_INIT / IKE_AUTH in progress
  Established,  // IKE SA up (and normally CHILD SAs installed)
  Rekeying,     // established, a rekey exchange is running
  Deleting,     // INFORMATIONAL delete in progress
};
std::string to_string(ConnectionState s);  // "down", "connecting", "established", "rekeying", "deleting"
std::optional<ConnectionState> parse_connection_state(std::string_view text);

struct IkeSaStatus {
  std::uint64_t spi_i = 0;
  std::uint64_t spi_r = 0;
  bool initiator = false;                 // whether we are the original initiator of this IKE SA
  std::string proposal;                   // negotiated, strongSwan syntax: "aes256gcm16-prfsha384-x25519"
  std::int64_t established_at = 0;        // Unix time
  std::uint64_t uptime = 0;               // seconds
  std::optional<std::uint64_t> rekey_in;  // seconds; nullopt = no rekey scheduled
  std::string transport = "udp";          // "udp", or "tcp" over an RFC 9329 stream
  std::string transport_reason = {};      // why tcp ("" for udp): tcp: always, a fallback, the peer
  friend bool operator==(const IkeSaStatus&, const IkeSaStatus&) = default;
};

struct ChildSaStatus {
  std::string name;
  std::uint32_t spi_in = 0;
  std::uint32_t spi_out = 0;
  std::vector<std::string> local_ts;  // "10.1.0.0/24"
  std::vector<std::string> remote_ts;
  std::string proposal;  // "aes256gcm16"
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t packets_in = 0;
  std::uint64_t packets_out = 0;
  std::optional<std::uint64_t> rekey_in;  // seconds
  friend bool operator==(const ChildSaStatus&, const ChildSaStatus&) = default;
};

struct NatStatus {
  bool local_behind_nat = false;   // RFC 7296 §2.23: our NAT_DETECTION_SOURCE_IP did not match
  bool remote_behind_nat = false;  // the peer's did not match
  friend bool operator==(const NatStatus&, const NatStatus&) = default;
};

// How one peer is doing (`natgate status` per peer; JSON "health"): when it last spoke, whether
// we hold a NAT mapping open for it, our dead peer detection (RFC 7296 §2.4) and its traffic.
struct PeerHealth {
  std::optional<std::uint64_t> last_received;  // seconds since its last authenticated IKE message
  std::uint64_t keepalive_interval = 0;        // RFC 3948 §4 NAT-keepalives we send, seconds; 0: none
  std::string dpd = "idle";                    // "idle", "probing" (a request unanswered), "failed"
  unsigned dpd_probe = 0;                      // probing: this send of the request …
  unsigned dpd_probes = 0;                     // … of at most this many (retransmit policy)
  NatStatus nat;
  std::uint64_t bytes_in = 0;  // its CHILD SAs added up
  std::uint64_t bytes_out = 0;
  std::uint64_t packets_in = 0;
  std::uint64_t packets_out = 0;
  friend bool operator==(const PeerHealth&, const PeerHealth&) = default;
};

// Remote access (RFC 7296 §2.19): one virtual IP of a gateway's pool, and whom it belongs to.
struct LeaseStatus {
  std::string pool;
  std::string address;
  std::string identity;  // "fqdn:alice.lab"
  bool online = false;   // an IKE SA holds it now (else kept for the identity's return)
  friend bool operator==(const LeaseStatus&, const LeaseStatus&) = default;
};

// One peer of a connection that has several at once (road warriors): its IKE SA in brief.
struct PeerStatus {
  std::string remote_id;
  std::optional<Endpoint> remote;
  std::vector<std::string> virtual_ips;  // leased to it
  ConnectionState state = ConnectionState::Connecting;
  std::size_t child_sas = 0;
  PeerHealth health = {};
  friend bool operator==(const PeerStatus&, const PeerStatus&) = default;
};

// `natgate list` (StatusQuery::list): one IKE SA of a connection with its CHILD SAs.
struct SaStatus {
  std::string remote_id;  // "" before IKE_AUTH
  std::optional<Endpoint> remote;
  ConnectionState state = ConnectionState::Connecting;
  IkeSaStatus ike_sa;
  std::vector<ChildSaStatus> child_sas;
  friend bool operator==(const SaStatus&, const SaStatus&) = default;
};

struct ConnectionStatus {
  std::string name;
  ConnectionState state = ConnectionState::Down;
  std::string local_id;
  std::string remote_id;
  std::optional<Endpoint> local;  // the IKE endpoints in use; nullopt while unknown
  std::optional<Endpoint> remote;
  NatStatus nat;
  bool udp_encapsulation = false;  // ESP in UDP (RFC 3948); JSON "encapsulation": "udp" | "none"
  std::string start;               // configured start action
  std::string configured_remote;   // remote.address from config, or "any"
  // Route-based (`interface:`): the interface its traffic is routed into; "" for none (JSON
  // "interface" only when set).
  std::string interface;
  std::string detail;  // why it is in this state, for people ("" when nothing to say)
  // Mediated connections (issue 14): "checking", "direct", "relayed" or "none", and why (the
  // winning candidate pair, or why none won and what carries the traffic). "" for every other
  // connection; JSON "path" and "path_reason" only when set.
  std::string path;
  std::string path_reason;
  std::optional<IkeSaStatus> ike_sa;
  std::vector<ChildSaStatus> child_sas;
  // Remote access. Gateway: every peer's IKE SA and the pool's leases. Client: the virtual IPs
  // the gateway gave us. Absent from the JSON of older daemons; empty then.
  std::vector<PeerStatus> peers;
  std::vector<LeaseStatus> leases;
  std::vector<std::string> virtual_ips;
  // The peer of its IKE SA (the one shown; remote access: each in `peers`), or after a dead peer
  // detection took it down (dpd "failed"). Absent from the JSON of older daemons.
  std::optional<PeerHealth> health;
  // Only when the query asked for the list (JSON "sas"): every IKE SA the query selects.
  std::vector<SaStatus> sas;
  friend bool operator==(const ConnectionStatus&, const ConnectionStatus&) = default;
};

struct DataplaneStatus {
  std::string name;    // "kernel", "userspace", or "none" while no backend is running
  std::string reason;  // why this one was chosen
  friend bool operator==(const DataplaneStatus&, const DataplaneStatus&) = default;
};

struct DaemonInfo {
  std::string version;
  std::int64_t pid = 0;
  std::uint64_t uptime = 0;  // seconds
  std::string config;        // path of the loaded config
  std::string ike_core;      // which IKE engine answers, or why none does
  DataplaneStatus dataplane;
  std::vector<std::string> listening;  // "0.0.0.0:500", …
  // Monotonic counters by name: "ike_datagrams_received", "malformed_dropped", …
  std::map<std::string, std::uint64_t> counters;
  friend bool operator==(const DaemonInfo&, const DaemonInfo&) = default;
};

// `natgate status --summary`: counts only, no SA listed (cheap with 100,000 SAs).
struct ConnectionSummary {
  std::string name;
  std::size_t ike_sas = 0;  // of the connection, in any state
  std::size_t established = 0;
  std::size_t child_sas = 0;
  // Its pool (remote access), when it has one: leases held by an IKE SA now, leases recorded
  // (online and kept for returning identities) and the addresses the pool can hand out.
  std::string pool;
  std::size_t leases_online = 0;
  std::size_t leases = 0;
  std::uint64_t pool_size = 0;
  // Filled only for StatusQuery::traffic (the metrics endpoint, gateway/metrics/), never in the
  // JSON: the established IKE SAs behind a NAT and those whose ESP goes in UDP, and the bytes and
  // packets of every CHILD SA of the connection added up.
  std::size_t local_behind_nat = 0;
  std::size_t remote_behind_nat = 0;
  std::size_t udp_encapsulated = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t packets_in = 0;
  std::uint64_t packets_out = 0;
  // StatusQuery::per_sa: the same by CHILD SA name and peer (its identity, else its address),
  // SAs of one peer and name added up so that each key is one series.
  struct ChildTraffic {
    std::string child;
    std::string peer;
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
    std::uint64_t packets_in = 0;
    std::uint64_t packets_out = 0;
    friend bool operator==(const ChildTraffic&, const ChildTraffic&) = default;
  };
  std::vector<ChildTraffic> per_child;
  friend bool operator==(const ConnectionSummary&, const ConnectionSummary&) = default;
};

struct StatusSummary {
  std::map<std::string, std::size_t> ike_sas_by_state;  // "connecting", "established", "deleting"
  std::size_t ike_sas = 0;
  std::size_t child_sas = 0;
  std::size_t half_open = 0;  // IKE_SA_INIT answered, IKE_AUTH not yet (the dispatcher's table)
  std::vector<ConnectionSummary> connections;
  friend bool operator==(const StatusSummary&, const StatusSummary&) = default;
};

// docs/status.schema.json describes the JSON; it carries this number ("schema_version"), raised
// when a field is renamed, removed or changes meaning (not when one is added).
constexpr int kStatusSchemaVersion = 1;

struct DaemonStatus {
  int schema_version = kStatusSchemaVersion;
  DaemonInfo daemon;
  std::vector<ConnectionStatus> connections;
  std::optional<StatusSummary> summary;  // only with --summary (then `connections` is empty)
  friend bool operator==(const DaemonStatus&, const DaemonStatus&) = default;
};

// What `natgate status` asks for. Filters are strings from a local user: each is at most
// kMaxStatusFilterBytes and matched literally (no patterns).
struct StatusQuery {
  static constexpr std::size_t kMaxFilterBytes = 256;
  std::string connection = {};  // "" = every connection; else only this one (unknown: an error)
  std::string identity = {};    // "" = any; "fqdn:alice.lab" as status prints it, or as the config writes it
  std::string peer = {};        // "" = any; "192.0.2.1" (any port) or "192.0.2.1:4500", "[2001:db8::1]:500"
  bool summary = false;
  bool list = false;  // every IKE SA with its CHILD SAs (ConnectionStatus::sas), for `natgate list`
  // Inside the daemon only (not on the control socket): with summary, also add up NAT flags and
  // traffic per connection (ConnectionSummary), and with per_sa per CHILD SA and peer as well.
  bool traffic = false;
  bool per_sa = false;
  bool selects_sas() const { return !identity.empty() || !peer.empty(); }
  friend bool operator==(const StatusQuery&, const StatusQuery&) = default;
};

nlohmann::json status_to_json(const DaemonStatus& status);
// The same JSON as status_to_json(status).dump() (keys sorted, invalid UTF-8 replaced by
// U+FFFD), appended to `out` without building a JSON tree: the daemon's path for large tables.
void append_status_json(const DaemonStatus& status, std::string& out);
// Reads the JSON text status_to_json wrote (the CLI's side), in one pass without a JSON tree
// (status_reader.cc). Unknown fields are ignored so a newer daemon can add some; missing or
// mistyped ones are an error naming the field, text that is not JSON an error naming the byte.
Expected<DaemonStatus> status_from_json(std::string_view text);

}  // namespace natgate::gateway
