// What one call into ike::Endpoint produces: an ordered list of actions for the shell (the
// daemon's I/O glue, or a test harness). Order matters and is kept: the data plane must hear of
// a virtual IP before the CHILD SA that uses it, of a CHILD SA's removal before its policies are
// released, and so on; the shell applies the actions one by one, in order.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ike/endpoint/sa_table.h"
#include "ike/exchange/output.h"

namespace natgate::ike {

// The Endpoint's timers: those of its IkeSas (mirrored one to one from ike::TimerKind) and its
// own (lifetimes, keepalives, restarts of connections).
enum class EndpointTimer : std::uint8_t {
  Retransmit,
  HalfOpen,
  Dpd,
  RekeyedOld,
  Keepalive,        // RFC 3948 §4 NAT-keepalive of an SA behind a NAT
  IkeRekey,         // IKE SA lifetime: rekey due (or a retry of it)
  IkeExpire,        // IKE SA hard lifetime
  ChildRekey,       // CHILD SA lifetime: rekey due (spi: its inbound SPI)
  ChildExpire,      // CHILD SA hard lifetime
  Restart,          // connection: start again (connection: its name)
  MediationChecks,  // a mediated connection's check list (sa: its attempt number)
};
const char* to_string(EndpointTimer kind);

// 16 bytes and no allocation: the shell keeps a map node per armed key, about four per road
// warrior (docs/performance.md, "Scale: memory per road warrior"; it was 56 bytes with the
// connection's name as a std::string, for the Restart timers alone).
struct EndpointTimerKey {
  EndpointTimer kind = EndpointTimer::Retransmit;
  std::uint32_t spi = 0;  // CHILD SA timers: the CHILD SA's inbound SPI
  SaId sa = 0;            // SA timers: the IKE SA; Restart: the connection's number (Endpoint)
  static EndpointTimerKey of_sa(EndpointTimer kind, SaId sa, std::uint32_t spi = 0) {
    return {kind, spi, sa};
  }
  friend auto operator<=>(const EndpointTimerKey&, const EndpointTimerKey&) = default;
};
static_assert(sizeof(EndpointTimerKey) == 16);

// One timer per key: arming replaces the previous deadline; nullopt cancels.
struct ArmTimer {
  EndpointTimerKey key;
  std::optional<TimePoint> deadline;
};

// An IKE message to send (bytes from the IKE header; with natt the shell adds the non-ESP
// marker and uses the NAT-T socket). `sa` is 0 for stateless replies of the dispatcher.
struct SendDatagram {
  Datagram datagram;
  SaId sa = 0;
};

// RFC 3948 §4: a one-octet NAT-keepalive from local to remote (NAT-T socket).
struct SendKeepalive {
  std::string connection;
  Endpoint local;
  Endpoint remote;
};

// A negotiated CHILD SA pair into the data plane, with the connection's policies. If the data
// plane refuses it, the shell reports back with Endpoint::child_install_failed (same call chain:
// before the next event), which withdraws what the Endpoint recorded and deletes the pair.
struct InstallChildSa {
  SaId sa = 0;
  std::string connection;
  bool any_remote_id = false;
  std::optional<Identity> remote_id;
  ChildSaEstablished child;               // carries the keys: never logged
  std::chrono::seconds soft_lifetime{0};  // the data plane's soft expire (a second rekey trigger)
  std::chrono::seconds lifetime{0};       // its hard expire
};

// The outbound SA held back for a rekey we answered: traffic moves to it now.
struct SwitchOutbound {
  std::string connection;
  std::uint32_t inbound_spi = 0;
};

// Both SAs of a pair out of the data plane (the policies stay until ReleasePolicies).
struct RemoveChildSa {
  std::string connection;
  std::uint32_t inbound_spi = 0;
};

// The peer's NAT mapping changed (RFC 7296 §2.23): the pair and its policy templates follow.
struct MoveChildSa {
  std::string connection;
  std::uint32_t inbound_spi = 0;
  Endpoint local;
  Endpoint remote;
  // MOBIKE found the NATs changed (RFC 4555 §3.5): ESP in UDP on or off. nullopt: as it was.
  std::optional<bool> udp_encapsulation;
};

struct ReleasePolicies {
  std::uint32_t reqid = 0;
};

// `start: on-traffic`: the connection's trap policies (the data plane reports an acquire).
struct InstallTrafficPolicies {
  std::string connection;
};

// The IKE SA is gone: what the application holds for it goes (leases, virtual IPs, per-SA
// reqid and its policies).
struct ReleaseSaResources {
  SaId sa = 0;
  std::string connection;
  std::optional<Identity> remote_id;
};

// IKE SA rekey (RFC 7296 §2.8): what the application holds for `from` now belongs to `to`.
struct TransferSaResources {
  SaId from = 0;
  SaId to = 0;
};

// Remote access (RFC 7296 §2.19): as gateway we leased addresses to the peer (the shell's pools
// hold them for SA `sa`); as client the gateway gave us virtual IPs, DNS servers, subnets.
struct HoldVirtualIps {
  SaId sa = 0;
  std::string peer_config;
  Identity peer_id;
  std::vector<IpAddress> addresses;
};
struct ApplyVirtualIps {
  SaId sa = 0;
  std::string connection;
  VirtualIpAttributes attributes;
};

// An answer to `up`/`down` (the token the shell passed in). A success answer that follows an
// InstallChildSa with the same inbound SPI (`after_install`) holds only if that install worked:
// if not, the shell answers the token with the install's error instead.
struct ControlReply {
  std::uint64_t token = 0;
  bool ok = true;
  std::string text;
  std::uint32_t after_install = 0;
};

struct LogLine {
  enum class Level : std::uint8_t { Debug, Info, Warn, Error };
  Level level = Level::Info;
  std::string text;
  // What the line is about, for structured logs (journald's CONNECTION, IKE_SA and PEER fields,
  // docs/operations.md): empty where the line is not about one connection or IKE SA.
  std::string connection = {};
  std::string ike_sa = {};
  std::string peer = {};
};

// Shutdown finished: every SA is gone (or the shell's deadline passed).
struct ShutdownComplete {};

using EndpointAction = std::variant<SendDatagram, SendKeepalive, ArmTimer, InstallChildSa, SwitchOutbound,
                                    RemoveChildSa, MoveChildSa, ReleasePolicies, InstallTrafficPolicies,
                                    ReleaseSaResources, TransferSaResources, HoldVirtualIps, ApplyVirtualIps,
                                    ControlReply, LogLine, ShutdownComplete>;

struct EndpointOutput {
  std::vector<EndpointAction> actions;

  template <typename A>
  std::vector<const A*> all() const {
    std::vector<const A*> out;
    for (const auto& a : actions)
      if (const A* x = std::get_if<A>(&a)) out.push_back(x);
    return out;
  }
};

}  // namespace natgate::ike
