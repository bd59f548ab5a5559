// Several ike::Endpoints on an in-memory wire: each node has an address (optionally behind a
// NAT that rewrites its source port), a fake data plane that records the CHILD SAs it is told to
// install, move and remove, and the timers its Endpoint armed. One fake clock for all; nothing
// here opens a socket or reads a real clock.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "../exchange/sa_pair.h"
#include "crypto/random.h"
#include "ike/endpoint/endpoint.h"

namespace natgate::ike::testing {

// What the fake data plane holds for one CHILD SA pair.
struct FakeChild {
  SaId sa = 0;
  std::string connection;
  std::uint32_t outbound_spi = 0;
  natgate::Endpoint local;
  natgate::Endpoint remote;
  bool outbound_switched = false;
};

struct Node {
  std::string name;
  IpAddress address;  // where it sends from
  // Behind a NAT: what the others see as its address, and the shift added to its ports.
  std::optional<IpAddress> nat_public;
  std::uint16_t nat_shift = 0;

  crypto::DeterministicRandom random{0};
  FixedConfigs configs;
  std::vector<std::shared_ptr<ConnectionSettings>> connections;  // tests may tune them before start()
  std::unique_ptr<ike::Endpoint> endpoint;

  // The fake data plane.
  std::map<std::uint32_t, FakeChild> children;  // by inbound SPI
  std::uint32_t spis_allocated = 0;
  std::vector<std::uint32_t> spis_released;
  bool fail_installs = false;
  std::vector<std::uint32_t> installs;  // every InstallChildSa, by inbound SPI
  std::vector<std::uint32_t> removes;
  std::vector<MoveChildSa> moves;
  std::vector<std::uint32_t> released_policies;
  std::vector<std::string> traffic_policies;
  std::vector<SaId> released_resources;
  std::vector<SendKeepalive> keepalives;
  std::map<std::uint64_t, ControlReply> replies;
  std::vector<LogLine> logs;
  bool shutdown_complete = false;

  std::map<EndpointTimerKey, TimePoint> timers;
  std::uint32_t ike_sas_per_identity = 0;
  // EndpointConfig::resolve_host (remote_hosts); every call is recorded.
  std::map<std::string, std::vector<IpAddress>> dns;
  std::vector<std::string> dns_queries;

  natgate::Endpoint seen_as(const natgate::Endpoint& local) const;  // after its NAT
  std::uint64_t counter(const std::string& name) const;
  std::optional<TimePoint> timer(EndpointTimer kind, SaId sa = 0, std::uint32_t spi = 0) const;
  std::vector<const IkeSaEntry*> established() const;
  bool logged(const std::string& text) const;
};

struct WirePacket {
  std::size_t from = 0;
  Datagram datagram;
};

class EndpointWorld {
 public:
  EndpointWorld() = default;
  ~EndpointWorld();

  TimePoint now = TimePoint{} + std::chrono::hours(1);
  // Consulted for every datagram: false loses it.
  std::function<bool(const WirePacket&)> deliver_if;
  std::vector<WirePacket> wire;  // everything sent, delivered or not

  // A node at `ip`; its Endpoint is created by start().
  Node& add_node(const std::string& name, const std::string& ip);
  Node& node(std::size_t i) { return *nodes_.at(i); }
  std::size_t index_of(const Node& n) const;

  // Default settings of a site-to-site connection from `a` to `b` (and the responder's side on b).
  // The IKE SA parameters of every connection and responder (tests tune them before start()).
  std::shared_ptr<IkeSaConfig> ike = default_ike_config();
  static std::shared_ptr<IkeSaConfig> default_ike_config();
  std::shared_ptr<ConnectionSettings> connect(Node& a, Node& b, const std::string& name,
                                              const std::string& a_id, const std::string& b_id,
                                              ConnectionStart start);
  // Only a's side of connect(): a initiates to b, whose own connections accept it.
  std::shared_ptr<ConnectionSettings> dial(Node& a, Node& b, const std::string& name, const std::string& a_id,
                                           const std::string& b_id, ConnectionStart start);
  // b accepts any identity (road warriors) under `name`; returns b's settings.
  std::shared_ptr<ConnectionSettings> accept_any(Node& b, const std::string& name, const std::string& b_id);

  void start(Node& n);
  // The node's daemon restarts: a new Endpoint, with nothing of the old one's state.
  void restart(Node& n);
  void start_all();
  // Applies an Endpoint's output as a shell would, in order.
  void apply(Node& n, EndpointOutput&& out);
  // Delivers queued datagrams until none are left (bounded).
  void run();
  // Moves the clock, firing every timer that becomes due (bounded), delivering as it goes.
  void advance(std::chrono::milliseconds d);
  std::uint64_t next_token() { return next_token_++; }

 private:
  void deliver(const WirePacket& p);
  std::vector<std::unique_ptr<Node>> nodes_;
  std::deque<WirePacket> queue_;
  std::uint64_t next_token_ = 1;
};

}  // namespace natgate::ike::testing
