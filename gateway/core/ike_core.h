// natgated's IKE core (the DaemonCore behind the shell, gateway/core/daemon_core.h): the I/O glue
// around the sans-I/O ike::Endpoint (ike/endpoint/endpoint.h), which owns the IKE SAs, their
// timers and lifetimes and the connections' runtime. This class feeds it datagrams from the IKE
// and NAT-T sockets, timer expiries from the io_context, control commands and data-plane events,
// and applies what it returns: datagrams onto the sockets, timers onto the io_context, CHILD SAs
// and policies into the data plane (ChildSaInstaller), leases and virtual IPs (RemoteAccess,
// VirtualIpClient), answers to `natgate up/down` and log lines. Status: status_view.h.
//
// Everything runs on the io_context thread. Untrusted datagrams enter through on_datagram (the
// shell's sockets) and the data plane's NAT-T relay; a datagram that does not parse is counted
// (`malformed_dropped`) and logged at debug with its peer and reason, never more.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/key_pair_pool.h"
#include "crypto/random.h"
#include "gateway/core/child_sa_installer.h"
#include "gateway/core/daemon_core.h"
#include "gateway/core/dataplane.h"
#include "gateway/core/profile_registry.h"
#include "gateway/core/remote_access.h"
#include "gateway/core/sa_event_source.h"
#include "gateway/core/updown.h"
#include "gateway/core/virtual_ip_client.h"
#include "gateway/daemon/log_rate_limiter.h"
#include "gateway/io/route_monitor.h"
#include "gateway/io/script_runner.h"
#include "gateway/io/timer.h"
#include "ike/endpoint/endpoint.h"
#include "ike/exchange/eap_failure_limiter.h"
#include "ike/exchange/peer_limits.h"

namespace natgate::gateway::relay {
class UdpForwarder;
}

namespace natgate::gateway::core {

class IkeCore final : public DaemonCore, private dataplane::EventListener {
 public:
  explicit IkeCore(DataplaneFactory dataplane);
  ~IkeCore() override;

  std::string description() const override;
  void start(const Config& config, DaemonServices& services) override;
  void on_datagram(UdpSocket& socket, const sys::UdpDatagram& datagram) override;
  Status connection_status(const StatusQuery& query, DaemonStatus& out) override;
  std::map<std::string, std::uint64_t> counters() override;
  void up(const std::string& name, ControlReply reply) override;
  void down(const std::string& name, ControlReply reply) override;
  void terminate(const TerminateQuery& query, ControlReply reply) override;
  void rekey(const RekeyQuery& query, ControlReply reply) override;  // ike_core_rekey.cc
  void apply_config(const Config& config, const ConfigDiff& diff) override;
  void shutdown(std::function<void()> done) override;

  // For tests: the Endpoint and the installer as they stand.
  const ike::Endpoint* endpoint() const { return endpoint_.get(); }
  const ChildSaInstaller* installer() const { return installer_.get(); }

 private:
  void handle_ike(ByteView message, const Endpoint& local, const Endpoint& remote, bool natt);
  // An IKE_SA_INIT request's key exchange (key pair and shared secret) done first on the
  // key-pair thread, then the request handled here with that pair (issue 13: the IKE thread
  // keeps the rest of the setup). False when the message is no such request, cookies are being
  // asked for (the Endpoint's checks come before any key exchange then) or the thread has
  // enough waiting: the caller handles it at once.
  bool offload_key_exchange(ByteView message, const Endpoint& local, const Endpoint& remote, bool natt);
  // Applies the Endpoint's actions in order (and the answers to failed installs).
  void run(ike::EndpointOutput&& out);
  void send(ike::SendDatagram& d);
  void send_keepalive(const ike::SendKeepalive& k);
  Status install(ike::InstallChildSa& a);
  void install_traffic_policies(const std::string& connection);
  void release_sa_resources(const ike::ReleaseSaResources& r);
  void apply_virtual_ips(const ike::ApplyVirtualIps& a);
  void answer(const ike::ControlReply& r, const std::map<std::uint32_t, std::string>& failed_installs);
  std::uint64_t hold_reply(ControlReply reply);
  std::vector<std::shared_ptr<const ike::ConnectionSettings>> load_profiles();
  ike::Environment ike_environment();
  std::uint32_t random_u32();
  void on_expire(const dataplane::ExpireEvent& ev) override;
  void on_acquire(const dataplane::AcquireEvent& ev) override;
  void on_mapping(const dataplane::MappingEvent& m) override;
  void watch_backend_events();
  // The forwarding relay (daemon.relay_forward) and, for connections through one
  // (remote.relayed), the NAT-keepalives that open and keep their allocation's permission
  // (ike_core_relay.cc; docs/design.md, "Mediation: forwarding relay").
  void start_relay_forwarder();
  void send_relay_permissions();
  void finish_shutdown();
  void shutdown_wait_over();  // the Deletes' answers are not waited for any longer
  // Lines strangers' packets cause (the Endpoint's debug lines, datagrams nobody takes) pass this
  // limit; the rest are counted (log_lines_suppressed) and reported once (log_rate_limiter.h).
  bool admit_packet_log();

  DataplaneFactory dataplane_factory_;
  LogRateLimiter packet_log_limit_{50.0, 200.0};
  boost::asio::io_context* io_ = nullptr;
  Config config_;
  DaemonServices services_;
  Dataplane dataplane_;
  std::string dataplane_error_;
  crypto::SystemRandom random_;
  // x25519 (and whatever groups peers use) key pairs made on a second thread, so IKE_SA_INITs
  // cost the IKE thread only the shared secret (crypto/key_pair_pool.h); outlives the Endpoint.
  crypto::KeyPairPool key_pairs_;
  // What the exchanges see as Environment::key_pairs: the pair prepared for the request being
  // handled (offload_key_exchange), else one from the pool.
  class PreparedKeyPairs final : public crypto::KeyPairSource {
   public:
    explicit PreparedKeyPairs(crypto::KeyPairPool& pool) : pool_(pool) {}
    std::optional<crypto::DhKeyPair> take(iana::DhGroup group) override;
    std::optional<crypto::DhKeyPair> slot;  // set around one handle_ike call

   private:
    crypto::KeyPairPool& pool_;
  };
  PreparedKeyPairs prepared_key_pairs_{key_pairs_};
  std::size_t offloaded_ = 0;  // requests on the key-pair thread now
  // Completions posted from the key-pair thread hold it weakly: none runs after the core is gone.
  std::shared_ptr<IkeCore*> alive_ = std::make_shared<IkeCore*>(this);
  // daemon.limits for authenticated peers, which every IkeSa's Environment points at (a reload
  // updates it in place); declared before the Endpoint, which it must outlive.
  ike::PeerLimits peer_limits_;
  ProfileRegistry registry_;
  // daemon.limits.eap_failures_per_identity / _per_source, shared by every responder SA.
  ike::EapFailureLimiter eap_failures_{{}, [] { return ike::Clock::now(); }};
  std::unique_ptr<RemoteAccess> remote_access_;
  std::unique_ptr<VirtualIpClient> vip_client_;
  std::unique_ptr<ChildSaInstaller> installer_;
  std::unique_ptr<SaEventSource> sa_events_;           // SA events for `natgate events` and metrics
  std::map<std::uint32_t, InstalledChild> installed_;  // by inbound SPI
  std::unique_ptr<ike::Endpoint> endpoint_;
  std::unique_ptr<TimerSet<ike::EndpointTimerKey>> timers_;
  std::unique_ptr<Timer> shutdown_timer_;
  std::unique_ptr<relay::UdpForwarder> relay_forwarder_;
  std::unique_ptr<Timer> relay_permission_timer_;
  // The lease table is written a little after addresses were handed out (many road warriors
  // arriving at once cost one write) and at shutdown.
  std::unique_ptr<Timer> lease_save_timer_;
  bool lease_save_failing_ = false;
  void save_leases_soon();
  void save_leases_now();
  struct BackendWatch;
  std::unique_ptr<BackendWatch> backend_watch_;
  // MOBIKE (RFC 4555): address and route changes, while a connection may initiate with MOBIKE.
  std::unique_ptr<RouteMonitor> route_monitor_;
  void watch_routes();
  std::map<std::uint64_t, ControlReply> replies_;  // by the token the Endpoint answers with
  std::uint64_t next_token_ = 1;
  std::map<std::string, std::uint64_t> counters_;  // what only the I/O side sees (sends, keepalives)
  std::uint32_t next_reqid_ = 1;
  // Stable across reloads, by connection name (and "connection/child" for further children).
  std::map<std::string, std::uint32_t> reqids_;
  static std::string child_reqid_key(const std::string& connection, const std::string& child);
  void release_connection_policies(std::uint32_t reqid);
  // updown: scripts (gateway/core/updown.h), run for CHILD SAs up, rekeyed and down; declared
  // last so a script still running is killed before anything it was told about goes.
  struct UpdownEntry {
    std::string script;
    UpdownChild child;
  };
  std::map<std::uint32_t, UpdownEntry> updown_children_;  // up, by inbound SPI
  // Route-based connections (`interface:`): interface name -> if_id, as the data plane opened
  // them at start (route_interfaces); the if_id a connection's SAs and policies carry.
  std::map<std::string, std::uint32_t> if_ids_;
  Expected<std::uint32_t> if_id_of(const ConnectionConfig& c) const;
  std::unique_ptr<ScriptRunner> updown_;
  void updown_child_up(const ike::InstallChildSa& a);
  void updown_child_down(std::uint32_t inbound_spi);
  void updown_run(const std::string& script, const std::string& verb, const UpdownChild& c);
  std::function<void()> shutdown_done_;
  // Set by shutdown(): the SAs' data plane state and policies are no longer removed one road
  // warrior at a time as the Deletes are answered; finish_shutdown() drops them all at once.
  bool stopping_ = false;
  static constexpr std::chrono::milliseconds kShutdownWait{1000};
  std::chrono::steady_clock::time_point shutdown_deadline_{};
};

}  // namespace natgate::gateway::core
