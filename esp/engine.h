// natgate's userspace ESP data plane: a TUN device, the UDP NAT-T socket(s) and a raw ESP socket,
// and one worker thread per direction (docs/design.md, "Rules every layer keeps"; wireguard-go's shape):
//
//   outbound: TUN read (TSO super-packets) -> policy -> SA -> segment -> seal -> UDP GSO sendmmsg
//   inbound:  recvmmsg (UDP GRO) -> non-ESP marker demux -> SA by SPI -> replay -> open ->
//             selectors -> coalesce -> TUN GSO write;  IKE -> queue + eventfd for the daemon
//   relay:    inbound, after the selectors, a packet whose outbound policy names an SA of this
//             engine -> TTL - 1 -> ring -> the outbound worker seals it (esp/relay_queue.h)
//
// The control plane installs and removes SAs and policies at any time through the registry
// (an immutable table swapped under the workers, sa_table.h); it never waits for a worker and a
// worker never waits for it. IKE uses the same UDP socket (RFC 3948: one NAT mapping for IKE and
// ESP), through drain_ike() / send_ike().
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/bytes.h"
#include "common/expected.h"
#include "common/ip_address.h"
#include "esp/crypto/suite.h"
#include "esp/engine_counters.h"
#include "esp/engine_event.h"
#include "esp/engine_settings.h"
#include "esp/event_queue.h"
#include "esp/ike_relay.h"
#include "esp/net/socket_set.h"
#include "esp/relay_queue.h"
#include "esp/sa/sa_table.h"
#include "esp/tun/tun_device.h"
#include "sys/unique_fd.h"

namespace natgate::esp {

struct EngineConfig {
  std::string tun_name = "natgate0";
  // Outer path MTU; the TUN gets this minus the worst-case overhead of `suites`.
  std::size_t path_mtu = 1500;
  std::optional<std::size_t> tun_mtu;  // overrides the computed value
  std::vector<Suite> suites;           // empty: every implemented suite
  IpFamily outer_family = IpFamily::V4;
  // One UDP socket per entry: the shared NAT-T port (4500 unless configured).
  std::vector<Endpoint> listen = {Endpoint{IpAddress::any(IpFamily::V4), 4500}};
  bool raw_esp = true;      // a protocol-50 socket per listened family, for SAs without NAT
  bool tun_offload = true;  // TSO/checksum offload on the TUN, segmenting and coalescing here
  bool mss_clamp = true;
  std::size_t socket_buffer_bytes = std::size_t{4} << 20;
  std::optional<IpAddress> icmp_source_v4;
  std::optional<IpAddress> icmp_source_v6;
  // IKE datagrams that arrived on the NAT-T port wait here for the IKE thread. A burst of road
  // warriors (thousands of IKE_AUTHs right after their IKE_SA_INITs were answered) must fit, or
  // each dropped one waits out the client's retransmission backoff (seconds; issue 13); the
  // byte bound keeps a flood of large datagrams from holding more than 16 MiB.
  std::size_t ike_queue_limit = 16384;
  std::size_t ike_queue_bytes = std::size_t{16} << 20;
  std::size_t send_slots = 256;    // outbound datagrams per flush
  std::size_t recv_messages = 16;  // inbound recvmmsg entries (64 KB each, for GRO trains)
  // SA cipher contexts idle this long are released (EngineSettings::context_idle).
  std::chrono::seconds context_idle{30};
  // The SA-to-SA relay (esp/relay_queue.h): traffic from one tunnel into another skips the TUN
  // and with it the kernel's routing and forward chain (docs/performance.md, "Relay").
  bool relay = true;
  // Depth of the hand-off ring (x ~1.8 KB, touched only as used): 512 dropped 1.3 % of a TCP
  // stream's packets on the busy benchmark machine, where the outbound worker waits for a core
  // (docs/performance.md, "Relay"); the TUN path has the kernel's queues as its buffer.
  std::size_t relay_slots = 2048;
  // Route-based VPN (`interface:`, configs/README.md): a TUN of its own per connection that has
  // one. SAs installed with that if_id take their outbound traffic only from it (what the host
  // routes into it) and write their inbound traffic only to it; the engine adds no routes for
  // them. Without offload: these TUNs carry a connection's traffic, not the bulk fast path.
  struct InterfaceTun {
    std::string name;
    std::uint16_t if_id = 0;  // > 0
  };
  std::vector<InterfaceTun> interfaces;
};

class Engine final : public IkeRelay {
 public:
  // Opens the TUN (MTU set, up), binds the sockets and starts both workers.
  static Expected<std::unique_ptr<Engine>> start(const EngineConfig& config);
  ~Engine();  // stops the workers; the TUN (and the routes through it) vanish with its descriptor
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  void stop();

  const std::string& tun_name() const { return tun_.name(); }
  int tun_ifindex() const { return tun_.ifindex(); }
  std::size_t tun_mtu() const { return settings_.tun_mtu; }
  bool tun_offload() const { return tun_.offload(); }
  // The route-based connections' TUNs (EngineConfig::interfaces), as opened.
  struct OpenInterface {
    TunDevice tun;
    std::uint16_t if_id = 0;
  };
  const std::vector<OpenInterface>& interfaces() const { return interfaces_; }
  std::vector<Endpoint> udp_endpoints() const;

  // --- SAs and policies (any thread; the packet path keeps running) ---
  Status add_sa(const SaConfig& config) { return registry_.add_sa(config, path_mtu_); }
  Status remove_sa(Spi spi, dataplane::Direction d, const IpAddress& remote) {
    return registry_.remove_sa(spi, d, remote);
  }
  // The peer's NAT mapping (or address) changed: the next batch uses the new path.
  Status update_sa_path(Spi spi, dataplane::Direction d, const IpAddress& remote, const OuterPath& path) {
    return registry_.update_path(spi, d, remote, path);
  }
  std::shared_ptr<const SaState> find_sa(Spi spi, dataplane::Direction d, const IpAddress& remote) const {
    return registry_.find(spi, d, remote);
  }
  // `holder`: see SaRegistry::add_policy.
  Status add_policy(const PolicyRule& rule, std::uint8_t holder = SaRegistry::kSoleHolder) {
    return registry_.add_policy(rule, holder);
  }
  Status replace_policy(const PolicyRule& rule) { return registry_.replace_policy(rule); }
  Status remove_policy(const PolicyRule& rule, std::uint8_t holder = SaRegistry::kSoleHolder) {
    return registry_.remove_policy(rule, holder);
  }
  SaRegistry& registry() { return registry_; }

  // --- IKE on the shared NAT-T socket ---
  // (esp/ike_relay.h)
  int ike_event_fd() const override { return ike_.fd(); }
  std::size_t drain_ike(const IkeHandler& handler) override;
  Status send_ike(const EndpointPair& ends, ByteView ike_message) override;
  Status send_keepalive(const EndpointPair& ends) override;

  // --- data plane events (expiry, acquire) ---
  int event_fd() const { return events_.fd(); }
  std::size_t drain_events(const std::function<void(const EngineEvent&)>& handler);

  EngineCounters::Snapshot counters() const { return counters_.snapshot(); }

 private:
  Engine(const EngineConfig& config, TunDevice tun, std::vector<OpenInterface> interfaces, SocketSet sockets,
         EngineSettings settings);
  void outbound_worker();
  void inbound_worker();
  Status send_udp(const Endpoint& from_local, const Endpoint& to, ByteView payload);
  void housekeeping(const SaTable& table, Clock::time_point now);

  EngineConfig config_;
  TunDevice tun_;
  std::vector<OpenInterface> interfaces_;
  SocketSet sockets_;
  EngineSettings settings_;
  std::size_t path_mtu_;
  SaRegistry registry_;
  EngineCounters counters_;
  EventQueue<EngineEvent> events_;
  EventQueue<IkeDatagram> ike_;
  RelayQueue relay_;
  sys::UniqueFd stop_fd_;
  std::atomic<bool> stopping_{false};
  std::thread outbound_;
  std::thread inbound_;
};

}  // namespace natgate::esp
