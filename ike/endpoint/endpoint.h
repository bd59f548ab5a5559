// ike::Endpoint: every IKE SA of one daemon, sans-I/O (docs/design.md, "IKE endpoint"). It owns
// what lies between "a datagram arrived" and IkeSa::handle and between an IkeSa's output and the
// data plane: the IkeDispatcher (new responders), the SA table and the routing of a datagram by
// our SPI (RFC 7296 §2.6) or, for a retransmitted IKE_SA_INIT, by the peer's address and SPIi;
// every SA's timers; lifetimes and rekeying (at 80-90 % with jitter, retries, hard expiry);
// RFC 3948 §4 NAT-keepalives; INITIAL_CONTACT (§2.4) and the per-identity cap; the connections'
// runtime (start actions, restarts with back-off, up/down/teardown, reload) and its counters.
//
// The contract: every call takes `now` and returns an EndpointOutput, an ordered list of actions
// (datagrams, keepalives, timers to arm or cancel, data-plane and application actions, control
// replies, log lines) that the shell applies in order. The Endpoint never reads a clock, opens a
// socket or logs by itself; randomness comes from Environment::random. Synchronous questions to
// the data plane (selector ownership, SPI allocation) go through the injected ike::Environment,
// the local address for an initiation through EndpointConfig::local_address_for.
//
// CHILD SA installation is an action (InstallChildSa). The Endpoint records the pair as installed
// when it emits it; a shell whose data plane refuses it calls child_install_failed() before it
// feeds the Endpoint anything else, and applies the output of that call too.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/expected.h"
#include "ike/endpoint/connection_settings.h"
#include "ike/endpoint/endpoint_mediation.h"
#include "ike/endpoint/endpoint_output.h"
#include "ike/endpoint/sa_table.h"
#include "ike/exchange/ike_dispatcher.h"
#include "ike/mediation/mediated_path.h"

namespace natgate::ike {

struct EndpointConfig {
  DispatcherConfig dispatcher;
  // Everything each IkeSa gets (random source, SPIs, selector checks, config lookup …). Its
  // pointers must outlive the Endpoint.
  Environment environment;
  std::uint16_t ike_port = 500;  // our port for initiations
  // daemon.limits.ike_sas_per_identity (0: no cap).
  std::uint32_t ike_sas_per_identity = 0;
  // The local address to initiate from towards a peer (the routing table's answer).
  std::function<Expected<IpAddress>(const IpAddress& remote)> local_address_for;
  // The addresses of a name in ConnectionSettings::remote_hosts (an address stands for itself).
  std::function<Expected<std::vector<IpAddress>>(const std::string& host)> resolve_host;
};

// What the Endpoint keeps per configured connection beyond its SAs.
struct ConnectionRuntime {
  bool admin_down = false;                // `down`: no automatic restart until `up`
  std::string detail;                     // the last thing worth telling the user (failures, restarts)
  bool peer_timed_out = false;            // the last IKE SA ended by dead peer detection (status)
  unsigned failures = 0;                  // consecutive failed attempts, for the retry back-off
  std::size_t next_address = 0;           // remote_hosts: which resolved address the next attempt uses
  std::uint32_t reqid = 0;                // of the settings last configured (policies released by it)
  std::vector<std::uint64_t> up_waiting;  // control reply tokens
  std::vector<std::uint64_t> down_waiting;
  enum class AfterTeardown : std::uint8_t { Nothing, Forget, Restart };
  AfterTeardown after_teardown = AfterTeardown::Nothing;  // reload
  // Mediated connections (`mediation: { mediated_by, peer }`): direct or relayed, and why
  // (ike/mediation/mediated_path.h); nullopt for every other connection, and before the first
  // ME_CONNECT.
  std::optional<mediation::MediatedPath> path;
};

struct ConnectionChange {
  std::string name;
  std::string fields;  // which settings changed, for the log
};

class Endpoint {
 public:
  // `configs` is the responder's lookup (usually also environment.configs); it must outlive the
  // Endpoint.
  Endpoint(EndpointConfig config, const ConfigProvider& configs);
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  // The connections (config order) and starting them: initiate, listen, or trap (on-traffic).
  EndpointOutput start(std::vector<std::shared_ptr<const ConnectionSettings>> connections, TimePoint now);
  // A reload: new settings; `removed` are torn down, `changed` torn down and started again,
  // `added` started.
  EndpointOutput reload(std::vector<std::shared_ptr<const ConnectionSettings>> connections,
                        const std::vector<std::string>& removed, const std::vector<ConnectionChange>& changed,
                        const std::vector<std::string>& added, TimePoint now);
  void set_ike_sas_per_identity(std::uint32_t cap) { config_.ike_sas_per_identity = cap; }
  // Something about the connection the user should see in its status (e.g. unusable config).
  void set_detail(const std::string& connection, std::string detail);

  // An IKE datagram (bytes from the IKE header: any non-ESP marker already stripped).
  EndpointOutput handle_datagram(const ReceivedDatagram& datagram, TimePoint now);
  EndpointOutput on_timer(const EndpointTimerKey& key, TimePoint now);

  // Commands. `token` comes back in the ControlReply that answers it.
  EndpointOutput initiate(const std::string& connection, const std::string& why, TimePoint now);
  EndpointOutput up(const std::string& connection, std::uint64_t token, TimePoint now);
  EndpointOutput down(const std::string& connection, std::uint64_t token, TimePoint now);
  EndpointOutput teardown(const std::string& connection, TimePoint now);
  EndpointOutput rekey_ike_sa(SaId sa, TimePoint now);
  // `natgate terminate`: these IKE SAs are deleted and their peers told (RFC 7296 §1.4.1); the
  // rest of their connections stays as it is. SAs gone or already deleting are skipped.
  EndpointOutput terminate(const std::vector<SaId>& sas, TimePoint now);
  EndpointOutput rekey_child_sa(SaId sa, std::uint32_t inbound_spi, TimePoint now);
  // Graceful stop: every SA deleted (RFC 7296 §1.4.1); ShutdownComplete once they are gone.
  EndpointOutput shutdown(TimePoint now);
  // The shell stops waiting for the peers: CHILD SAs out of the data plane, ShutdownComplete.
  EndpointOutput shutdown_deadline_passed(TimePoint now);

  // Data-plane events.
  EndpointOutput child_install_failed(SaId sa, std::uint32_t inbound_spi, const std::string& why,
                                      TimePoint now);
  // The data plane's soft (rekey due) or hard (already gone) expire of a CHILD SA.
  EndpointOutput data_plane_expire(std::uint32_t spi, bool hard, TimePoint now);
  // A packet hit the trap policies of reqid (start: on-traffic).
  EndpointOutput acquire(std::uint32_t reqid, const std::string& traffic, TimePoint now);
  // Authenticated ESP of a CHILD SA now comes from new_remote (RFC 7296 §2.23).
  EndpointOutput peer_moved(std::uint32_t inbound_spi, const natgate::Endpoint& new_remote, TimePoint now);

  // MOBIKE (RFC 4555, endpoint_mobike.cc): our addresses or routes changed. Every established
  // IKE SA we initiated with MOBIKE asks local_address_for() again and, when the answer differs
  // from the address it uses, moves there and sends UPDATE_SA_ADDRESSES. The shell calls this
  // after netlink told it of a change (debounced); it is cheap when nothing moved.
  EndpointOutput local_addresses_changed(TimePoint now);

  // The IKEv2 Mediation Extension (endpoint_mediation.h): a ME_CONNECT request on an established
  // IKE SA (the mediated peer's role, and tests).
  EndpointOutput send_me_connect(SaId sa, std::vector<Payload> payloads, TimePoint now);

  // Read-only views (status, tests).
  const IkeSaTable& table() const { return table_; }
  const IkeDispatcher& dispatcher() const { return *dispatcher_; }
  const ConnectionRuntime* runtime(const std::string& connection) const;
  std::shared_ptr<const ConnectionSettings> settings(const std::string& connection) const;
  const std::vector<std::shared_ptr<const ConnectionSettings>>& connections() const { return connections_; }
  const std::map<std::string, std::uint64_t>& counters() const { return counters_; }
  bool shutting_down() const { return shutting_down_; }
  const EndpointMediation& mediation() const { return *mediation_; }

 private:
  // Work on one public call: actions collect in out_, removals wait for depth_ 0.
  EndpointOutput finish();
  void emit(EndpointAction a) { out_.actions.push_back(std::move(a)); }
  void log(LogLine::Level level, std::string text) { emit(LogLine{level, std::move(text)}); }
  // A line about one IKE SA: carries its connection, name and peer as fields as well.
  void log(LogLine::Level level, const IkeSaEntry& e, std::string text);
  void count(const char* name) { ++counters_[name]; }
  void arm(const EndpointTimerKey& key, std::optional<TimePoint> at) { emit(ArmTimer{key, at}); }
  void arm_sa(SaId id, EndpointTimer kind, std::optional<TimePoint> at, std::uint32_t spi = 0) {
    arm(EndpointTimerKey::of_sa(kind, id, spi), at);
  }
  // Runs f(IkeSa&) -> Output on a live SA and applies the result.
  template <typename F>
  void call(SaId id, F&& f) {
    IkeSaEntry* e = table_.find(id);
    if (!e || removals_.count(id)) return;
    Output out = f(*e->sa);
    apply(id, std::move(out));
  }
  void apply(SaId id, Output&& out);
  void flush_removals();
  // Liveness checks (endpoint_lifetimes.cc): spread over time, and counted.
  TimePoint spread_dpd(TimePoint deadline);
  void count_dpd_sent(std::size_t first_action);
  void drop(const char* counter, const natgate::Endpoint& remote, const std::string& why);

  // Events of one SA.
  void on_ike_up(IkeSaEntry& e, const IkeSaEstablished& ev);
  void enforce_identity_cap(IkeSaEntry& newest, const Identity& id);
  void on_child_up(IkeSaEntry& e, ChildSaEstablished&& ev);
  void on_child_failed(IkeSaEntry& e, const ChildSaFailed& ev);
  void on_child_deleted(IkeSaEntry& e, const ChildSaDeleted& ev);
  void restart_closed_child(IkeSaEntry& e, const std::string& child_name, bool by_peer);
  void on_ike_deleted(IkeSaEntry& e, const IkeSaDeleted& ev);
  void on_endpoints_changed(IkeSaEntry& e, const EndpointsChanged& ev);
  void on_ike_rekeyed(IkeSaEntry& e, const IkeSaRekeyed& ev);
  void on_virtual_ips(IkeSaEntry& e, const VirtualIpsAssigned& ev);
  void on_failure(IkeSaEntry& e, const std::string& what);
  // Sends what the mediation hook queued during the call, logs its notes (endpoint_mediation.cc).
  void mediation_after_call();
  // The mediated peer (endpoint_mediation.cc): ME_CONNECT when the mediation SA is up or the
  // connection is initiated, the forwarded messages, the check lists and the mediated IKE SA.
  const IkeSaEntry* established_sa_of(const std::string& connection) const;
  bool initiate_mediated(const std::shared_ptr<const ConnectionSettings>& c, TimePoint now);
  void mediation_client_up(IkeSaEntry& e, TimePoint now);
  void mediation_peer_messages(TimePoint now);
  // The mediation attempt of `connection` found no direct path: record why, and bring up its
  // relay connection (mediation.relay) if it has one (docs/design.md, "Mediation: relay fallback").
  void mediation_no_direct(const std::string& connection, mediation::NoDirect why, const std::string& detail,
                           TimePoint now);
  void run_checks(EndpointMediation::Attempt& a, mediation::ChecksOutput out, TimePoint now);
  void mediation_checks_due(std::uint32_t number, TimePoint now);
  void handle_check(const ReceivedDatagram& in, TimePoint now);

  // Lifetimes: a rekey between 80 % and 90 % of the lifetime (strongSwan's rekey margin with as
  // much random jitter, so the two ends rarely start at the same moment), the hard expiry at 100 %.
  TimePoint rekey_point(TimePoint from, std::chrono::seconds lifetime);
  // When to try a rekey again that has not replaced its SA yet; nullopt past the hard expiry.
  std::optional<TimePoint> rekey_retry_point(TimePoint now, TimePoint expire_at);
  std::uint32_t random_u32();
  void schedule_ike_lifetime(IkeSaEntry& e, TimePoint now);
  void schedule_child_lifetime(IkeSaEntry& e, EndpointChildSa& child, TimePoint now);
  void arm_child_timers(SaId id, const EndpointChildSa& child);
  void cancel_child_timers(SaId id, std::uint32_t inbound_spi);
  void arm_keepalive(IkeSaEntry& e, TimePoint now);
  void ike_rekey_due(IkeSaEntry& e, TimePoint now);
  void child_rekey_due(IkeSaEntry& e, std::uint32_t inbound_spi, TimePoint now);
  void ike_expired(IkeSaEntry& e, TimePoint now);

  // Connections.
  void assign(std::vector<std::shared_ptr<const ConnectionSettings>> connections);
  void start_connection(const ConnectionSettings& c, TimePoint now);
  // The peer to initiate to: ConnectionSettings::remote, or the next of remote_hosts' addresses.
  Expected<natgate::Endpoint> remote_for(const ConnectionSettings& c);
  Status initiate_now(const std::shared_ptr<const ConnectionSettings>& c, const std::string& why,
                      TimePoint now);
  void schedule_restart(const std::string& name, std::chrono::seconds delay, const std::string& why,
                        TimePoint now);
  void restart_due(const std::string& name, TimePoint now);
  void teardown_now(const std::string& name, TimePoint now);
  void forget(IkeSaEntry& e, const std::string& why);  // drop locally, without telling the peer
  void maybe_finish_teardown(const std::string& name, TimePoint now);
  void reply_up(const std::string& name, bool ok, const std::string& text, std::uint32_t after_install = 0);
  void maybe_complete_shutdown();
  ConnectionRuntime& runtime_of(const std::string& name) { return runtime_[name]; }
  // The Restart timer's key for a connection: a number per name, kept for the Endpoint's life
  // (names come from the configuration, so the list stays as short as it is).
  EndpointTimerKey restart_key(const std::string& name);

  EndpointConfig config_;
  std::unique_ptr<IkeDispatcher> dispatcher_;
  IkeSaTable table_;
  std::unique_ptr<EndpointMediation> mediation_;  // the IKE SAs' MediationHook
  std::vector<std::shared_ptr<const ConnectionSettings>> connections_;
  std::map<std::string, std::shared_ptr<const ConnectionSettings>> by_name_;
  std::map<std::string, ConnectionRuntime> runtime_;
  std::map<std::string, SaId> restart_numbers_;  // restart_key: name -> number (index + 1 below)
  std::vector<std::string> restart_names_;
  std::map<std::string, std::uint64_t> counters_;
  EndpointOutput out_;
  int depth_ = 0;  // nesting of apply(): removals wait for 0
  std::set<SaId> removals_;
  TimePoint now_{};  // of the public call under way (removals finish teardowns with it)
  bool shutting_down_ = false;
  bool shutdown_completed_ = false;
};

// "spi_i_i spi_r_r", for logs.
std::string sa_name(const IkeSa& sa);

}  // namespace natgate::ike
