// natgated's IKE core (the DaemonCore behind the shell, gateway/daemon/daemon_core.h): the IKE
// SA table, the connections' lifecycle (initiate, listen, on-traffic; restart after a dead peer;
// up/down; reload) and the glue that turns each sans-I/O IkeSa's output into datagrams on the
// IKE and NAT-T sockets, timers on the io_context and CHILD SAs in the data plane.
//
// Everything runs on the io_context thread. Untrusted datagrams enter through on_datagram (the
// shell's sockets) and the data plane's NAT-T relay; a datagram that does not parse is counted
// (`malformed_dropped`) and logged at debug with its peer and reason, never more.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "crypto/random.h"
#include "gateway/core/child_sa_installer.h"
#include "gateway/core/dataplane.h"
#include "gateway/core/ike_sa_table.h"
#include "gateway/core/profile_registry.h"
#include "gateway/core/remote_access.h"
#include "gateway/core/virtual_ip_client.h"
#include "gateway/daemon/daemon_core.h"
#include "gateway/io/timer.h"
#include "ike/exchange/ike_dispatcher.h"
#include "ike/exchange/peer_limits.h"

namespace natgate::gateway::core {

class IkeCore final : public DaemonCore, private dataplane::EventListener {
 public:
  explicit IkeCore(DataplaneFactory dataplane);
  ~IkeCore() override;

  std::string description() const override;
  void start(const Config& config, DaemonServices& services) override;
  void on_datagram(UdpSocket& socket, const sys::UdpDatagram& datagram) override;
  std::vector<ConnectionStatus> connection_status() override;
  std::map<std::string, std::uint64_t> counters() override;
  void up(const std::string& name, ControlReply reply) override;
  void down(const std::string& name, ControlReply reply) override;
  void apply_config(const Config& config, const ConfigDiff& diff) override;
  void shutdown(std::function<void()> done) override;

  // For tests: the table and the installer as they stand.
  IkeSaTable& table() { return table_; }
  const ChildSaInstaller* installer() const { return installer_.get(); }

 private:
  enum class TimerKind : std::uint8_t {
    Retransmit,
    HalfOpen,
    Dpd,
    Keepalive,
    IkeRekey,
    IkeExpire,
    RekeyedOld,
    ChildRekey,
    ChildExpire
  };
  struct TimerKey {
    SaId sa = 0;
    TimerKind kind = TimerKind::Retransmit;
    std::uint32_t spi = 0;  // CHILD SA timers: its inbound SPI
    friend auto operator<=>(const TimerKey&, const TimerKey&) = default;
  };
  // What the daemon keeps per configured connection beyond its SAs.
  struct Runtime {
    bool admin_down = false;  // `natgate down`: no automatic restart until `natgate up`
    std::string detail;       // the last thing worth telling the user (failures, restarts)
    unsigned failures = 0;    // consecutive failed attempts, for the retry back-off
    std::vector<ControlReply> up_waiting;
    std::vector<ControlReply> down_waiting;
    std::function<void()> after_teardown;  // reload: start again once the old SAs are gone
  };

  // Input
  void handle_ike(ByteView message, const Endpoint& local, const Endpoint& remote, bool natt);
  void drop(const char* counter, const Endpoint& remote, const std::string& why);

  // Output of one SA call
  void apply(SaId id, ike::Output&& out);
  void apply_stateless(ike::Output&& out);
  void send(const ike::Datagram& d, SaId id = 0);
  void arm_sa_timer(SaId id, TimerKind kind, std::optional<std::chrono::steady_clock::time_point> at,
                    std::uint32_t spi = 0);
  void on_sa_timer(SaId id, TimerKind kind, std::uint32_t spi);
  template <typename F>
  void call(SaId id, F&& f);  // runs f(IkeSa&) -> Output on a live SA and applies the result

  // Events
  void on_ike_up(IkeSaEntry& e, const ike::IkeSaEstablished& ev);
  // daemon.limits.ike_sas_per_identity: the identity's oldest IKE SAs beyond the cap give way.
  void enforce_identity_cap(IkeSaEntry& newest, const ike::Identity& id);
  void on_child_up(IkeSaEntry& e, const ike::ChildSaEstablished& ev);
  void on_child_failed(IkeSaEntry& e, const ike::ChildSaFailed& ev);
  void on_child_deleted(IkeSaEntry& e, const ike::ChildSaDeleted& ev);
  void on_ike_deleted(IkeSaEntry& e, const ike::IkeSaDeleted& ev);
  void on_endpoints_changed(IkeSaEntry& e, const ike::EndpointsChanged& ev);
  void on_ike_rekeyed(IkeSaEntry& e, const ike::IkeSaRekeyed& ev);

  // Lifetimes (config `lifetimes: {ike, child}`): a rekey between 80% and 90% of the lifetime
  // (strongSwan's rekey margin with as much random jitter, so the two ends rarely start at the
  // same moment), the hard expiry at 100%.
  std::chrono::steady_clock::time_point rekey_point(std::chrono::steady_clock::time_point from,
                                                    std::chrono::seconds lifetime);
  // When to try a rekey again that has not replaced its SA yet; nullopt past the hard expiry.
  std::optional<std::chrono::steady_clock::time_point> rekey_retry_point(
      std::chrono::steady_clock::time_point now, std::chrono::steady_clock::time_point expire_at);
  std::uint32_t random_u32();
  // What every IkeSa of this daemon gets: its random source, the connection profiles and SPIs
  // from the data plane (or random ones when there is none).
  ike::Environment ike_environment();
  void apply_eap_limits();  // config_.daemon.limits into eap_failures_
  void schedule_ike_lifetime(IkeSaEntry& e);
  void schedule_child_lifetime(IkeSaEntry& e, InstalledChild& child);
  void arm_child_timers(SaId id, const InstalledChild& child);
  void cancel_child_timers(SaId id, std::uint32_t inbound_spi);
  void on_ike_rekey_due(IkeSaEntry& e);
  void on_child_rekey_due(IkeSaEntry& e, std::uint32_t inbound_spi);
  void on_failure(IkeSaEntry& e, const std::string& what);
  void on_mapping(const dataplane::MappingEvent& m) override;
  // Remote access (RFC 7296 §2.19): leases (gateway), virtual IPs and DNS (client).
  void on_virtual_ips(IkeSaEntry& e, const ike::VirtualIpsAssigned& ev);
  std::uint32_t reqid_of(IkeSaEntry& e);
  void release_remote_access(IkeSaEntry& e);
  void after_profiles_loaded();  // identity keys and pools follow the config

  // Connections
  void start_connection(const ConnectionProfile& p);
  Status initiate(const std::shared_ptr<const ConnectionProfile>& p, const std::string& why);
  void schedule_restart(const std::string& name, std::chrono::seconds delay, const std::string& why);
  void teardown(const std::string& name, bool tell_peer);
  void forget(IkeSaEntry& e, const std::string& why);  // drop locally, without telling the peer
  void maybe_finish_teardown(const std::string& name);
  void reply_up(const std::string& name, ControlResult result);
  void on_acquire(const dataplane::AcquireEvent& ev) override;
  void on_expire(const dataplane::ExpireEvent& ev) override;
  void watch_backend_events();
  void finish_shutdown();
  void flush_removals();
  Runtime& runtime(const std::string& name) { return runtime_[name]; }

  ConnectionStatus status_of(const ConnectionProfile& p);

  DataplaneFactory dataplane_factory_;
  boost::asio::io_context* io_ = nullptr;
  Config config_;
  DaemonServices services_;
  Dataplane dataplane_;
  std::string dataplane_error_;
  crypto::SystemRandom random_;
  // daemon.limits for authenticated peers, which every IkeSa's Environment points at (a reload
  // updates it in place); declared before the SA table, which it must outlive.
  ike::PeerLimits peer_limits_;
  ProfileRegistry registry_;
  // daemon.limits.eap_failures_per_identity / _per_source, shared by every responder SA.
  ike::EapFailureLimiter eap_failures_{{}, [] { return ike::Clock::now(); }};
  std::unique_ptr<RemoteAccess> remote_access_;
  std::unique_ptr<VirtualIpClient> vip_client_;
  std::unique_ptr<ike::IkeDispatcher> dispatcher_;
  IkeSaTable table_;
  std::unique_ptr<ChildSaInstaller> installer_;
  std::unique_ptr<TimerSet<TimerKey>> sa_timers_;
  std::unique_ptr<TimerSet<std::string>> connection_timers_;
  std::unique_ptr<Timer> shutdown_timer_;
  struct BackendWatch;
  std::unique_ptr<BackendWatch> backend_watch_;
  std::map<std::string, Runtime> runtime_;
  std::map<std::string, std::uint64_t> counters_;
  std::uint32_t next_reqid_ = 1;
  std::map<std::string, std::uint32_t> reqids_;  // stable across reloads, by connection name
  int depth_ = 0;                                // nesting of apply(): removals wait for 0
  std::set<SaId> removals_;
  std::function<void()> shutdown_done_;
  bool shutting_down_ = false;
};

}  // namespace natgate::gateway::core
