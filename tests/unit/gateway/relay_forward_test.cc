// The forwarding relay (daemon.relay_forward; docs/design.md, "Mediation: forwarding relay"):
// the allocation table's limits, permissions, strangers and idle expiry; the forwarder passing
// real datagrams between two loopback sockets unchanged; the config keys and their errors.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "gateway/config/config_loader.h"
#include "gateway/relay/allocation_table.h"
#include "gateway/relay/udp_forwarder.h"
#include "sys/unique_fd.h"
#include "tests/unit/gateway/config_test_support.h"

namespace natgate::gateway {
namespace {

using relay::AllocationTable;
using relay::Side;
using relay::Verdict;
using namespace std::chrono_literals;

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

TEST(RelayAllocationTable, RefusesBeyondTheLimitAndFreesOnRemove) {
  AllocationTable t(2, 60s);
  const auto now = relay::Clock::now();
  auto a = t.add("one", {ip("198.51.100.10"), ip("198.51.100.11")}, false, now);
  auto b = t.add("two", {ip("198.51.100.12"), ip("198.51.100.13")}, false, now);
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  auto c = t.add("three", {ip("198.51.100.14"), ip("198.51.100.15")}, false, now);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("full"), std::string::npos) << c.error();
  EXPECT_EQ(t.refused(), 1u);
  EXPECT_TRUE(t.remove(*a));
  EXPECT_FALSE(t.remove(*a));
  EXPECT_TRUE(t.add("three", {ip("198.51.100.14"), ip("198.51.100.15")}, false, now));
  EXPECT_EQ(t.size(), 2u);
}

TEST(RelayAllocationTable, ForwardsBetweenLearnedPeersOnly) {
  AllocationTable t(4, 60s);
  const auto now = relay::Clock::now();
  const auto id = *t.add("p", {ip("198.51.100.10"), ip("198.51.100.11")}, true, now);
  const Endpoint alice{ip("198.51.100.10"), 20123}, bob{ip("198.51.100.11"), 30456};
  // Alice before bob was heard from: nowhere to go, but alice's mapping is learned.
  EXPECT_EQ(t.on_datagram(id, Side::A, alice, 100, false, now).kind, Verdict::Kind::NoPeer);
  // Bob's permission (a NAT-keepalive): learned, not forwarded.
  EXPECT_EQ(t.on_datagram(id, Side::B, bob, 1, true, now).kind, Verdict::Kind::Permission);
  auto v = t.on_datagram(id, Side::A, alice, 1400, false, now);
  ASSERT_EQ(v.kind, Verdict::Kind::Forward);
  EXPECT_EQ(v.to, bob);
  v = t.on_datagram(id, Side::B, bob, 90, false, now);
  ASSERT_EQ(v.kind, Verdict::Kind::Forward);
  EXPECT_EQ(v.to, alice);
  // Alice's NAT rebinds: the new port is followed.
  const Endpoint alice2{ip("198.51.100.10"), 20999};
  EXPECT_EQ(t.on_datagram(id, Side::A, alice2, 50, false, now).kind, Verdict::Kind::Forward);
  EXPECT_EQ(t.on_datagram(id, Side::B, bob, 50, false, now).to, alice2);
  const auto* al = t.find(id);
  ASSERT_NE(al, nullptr);
  EXPECT_EQ(al->counters[0].packets, 2u);
  EXPECT_EQ(al->counters[0].bytes, 1450u);
  EXPECT_EQ(al->counters[0].no_peer, 1u);
  EXPECT_EQ(al->counters[1].packets, 2u);
  EXPECT_EQ(al->counters[1].permissions, 1u);
}

TEST(RelayAllocationTable, StrangersAreCountedAndDropped) {
  AllocationTable t(4, 60s);
  const auto now = relay::Clock::now();
  const auto id = *t.add("p", {ip("198.51.100.10"), ip("198.51.100.11")}, true, now);
  const Endpoint alice{ip("198.51.100.10"), 20123}, bob{ip("198.51.100.11"), 30456};
  ASSERT_EQ(t.on_datagram(id, Side::B, bob, 1, true, now).kind, Verdict::Kind::Permission);
  ASSERT_EQ(t.on_datagram(id, Side::A, alice, 10, false, now).kind, Verdict::Kind::Forward);
  // Bob's address at alice's side, and a third party at bob's: neither may use the allocation,
  // and neither takes over the learned endpoints.
  EXPECT_EQ(t.on_datagram(id, Side::A, bob, 70, false, now).kind, Verdict::Kind::Stranger);
  EXPECT_EQ(t.on_datagram(id, Side::B, {ip("203.0.113.66"), 30456}, 80, false, now).kind,
            Verdict::Kind::Stranger);
  EXPECT_EQ(t.on_datagram(id, Side::B, {ip("203.0.113.66"), 30456}, 1, true, now).kind,
            Verdict::Kind::Stranger);
  EXPECT_EQ(t.on_datagram(id, Side::A, alice, 10, false, now).to, bob);
  const auto* al = t.find(id);
  EXPECT_EQ(al->counters[0].strangers, 1u);
  EXPECT_EQ(al->counters[0].stranger_bytes, 70u);
  EXPECT_EQ(al->counters[1].strangers, 2u);
  EXPECT_EQ(al->counters[1].stranger_bytes, 81u);
  EXPECT_EQ(al->counters[0].packets, 2u);
  // Datagrams for an allocation that is not there.
  EXPECT_EQ(t.on_datagram(id + 100, Side::A, alice, 10, false, now).kind, Verdict::Kind::NoAllocation);
}

TEST(RelayAllocationTable, IdleSidesAreForgottenAndDynamicAllocationsRemoved) {
  AllocationTable t(4, 30s);
  const auto t0 = relay::Clock::now();
  const auto fixed = *t.add("fixed", {ip("198.51.100.10"), ip("198.51.100.11")}, true, t0);
  const auto dyn = *t.add("dyn", {ip("198.51.100.12"), ip("198.51.100.13")}, false, t0);
  const Endpoint alice{ip("198.51.100.10"), 20123}, bob{ip("198.51.100.11"), 30456};
  t.on_datagram(fixed, Side::A, alice, 1, true, t0);
  t.on_datagram(fixed, Side::B, bob, 1, true, t0 + 20s);
  EXPECT_TRUE(t.expire(t0 + 29s).empty());
  EXPECT_EQ(t.size(), 2u);
  // At 30 s alice's side and the unused dynamic allocation are idle; bob's side is not.
  auto removed = t.expire(t0 + 30s);
  EXPECT_EQ(removed, std::vector<std::uint32_t>{dyn});
  ASSERT_NE(t.find(fixed), nullptr);
  EXPECT_FALSE(t.find(fixed)->learned[0]);
  EXPECT_TRUE(t.find(fixed)->learned[1]);
  EXPECT_EQ(t.expired_sides(), 1u);
  // Alice is forgotten: bob's datagrams have nowhere to go until she is heard from again.
  EXPECT_EQ(t.on_datagram(fixed, Side::B, bob, 10, false, t0 + 31s).kind, Verdict::Kind::NoPeer);
  EXPECT_EQ(t.on_datagram(fixed, Side::A, alice, 10, false, t0 + 32s).kind, Verdict::Kind::Forward);
  // The configured allocation stays even when both sides went quiet.
  t.expire(t0 + 120s);
  EXPECT_NE(t.find(fixed), nullptr);
  EXPECT_EQ(t.expired_sides(), 3u);
}

// Two loopback "peers": alice on 127.0.0.1, bob on 127.0.0.2 (any 127/8 address is local), a
// stranger on 127.0.0.3; the relay's two ports on 127.0.0.1.
sys::UniqueFd udp_bound(const char* address) {
  sys::UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_storage ss{};
  const socklen_t len = Endpoint{ip(address), 0}.to_sockaddr(ss);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&ss), len), 0);
  return fd;
}

void send_to(int fd, const std::string& bytes, std::uint16_t port) {
  sockaddr_storage ss{};
  const socklen_t len = Endpoint{ip("127.0.0.1"), port}.to_sockaddr(ss);
  ASSERT_EQ(::sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&ss), len),
            static_cast<ssize_t>(bytes.size()));
}

// One datagram within 2 s, or "" when none came.
std::string receive(int fd, int millis = 2000) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, millis) != 1) return {};
  char buf[2048];
  const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

std::uint64_t counter(const relay::UdpForwarder& f, const std::string& name) {
  auto c = f.counters();
  auto it = c.find(name);
  return it == c.end() ? ~std::uint64_t{0} : it->second;
}

TEST(RelayUdpForwarder, PassesDatagramsUnchangedBetweenTheTwoPeers) {
  RelayForwardConfig cfg;
  cfg.allocations.push_back({"ab", {47811, ip("127.0.0.1")}, {47812, ip("127.0.0.2")}});
  auto f = relay::UdpForwarder::start(cfg, ip("127.0.0.1"));
  ASSERT_TRUE(f) << f.error();
  auto alice = udp_bound("127.0.0.1"), bob = udp_bound("127.0.0.2"), stranger = udp_bound("127.0.0.3");
  send_to(bob.get(), std::string(1, '\xff'), 47812);  // bob's permission
  // Wait (bounded) for the forwarder to learn bob before alice's packets count.
  for (int i = 0; i < 200 && counter(**f, "relay_alloc_ab_b_learned") != 1; ++i) ::usleep(10'000);
  ASSERT_EQ(counter(**f, "relay_alloc_ab_b_learned"), 1u);
  const std::string esp_like = std::string("\x00\x00\x10\x01", 4) + std::string(1200, 'x');
  for (int i = 0; i < 20; ++i) send_to(alice.get(), esp_like, 47811);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(receive(bob.get()), esp_like) << i;
  send_to(bob.get(), "reply", 47812);
  EXPECT_EQ(receive(alice.get()), "reply");
  // A stranger at either port: counted, nothing arrives.
  send_to(stranger.get(), "intruder", 47811);
  send_to(stranger.get(), "intruder", 47812);
  for (int i = 0; i < 200 && counter(**f, "relay_fwd_strangers_dropped") != 2; ++i) ::usleep(10'000);
  EXPECT_EQ(counter(**f, "relay_fwd_strangers_dropped"), 2u);
  EXPECT_EQ(receive(alice.get(), 200), "");
  EXPECT_EQ(receive(bob.get(), 200), "");
  EXPECT_EQ(counter(**f, "relay_alloc_ab_a_packets"), 20u);
  EXPECT_EQ(counter(**f, "relay_alloc_ab_a_bytes"), 20u * esp_like.size());
  EXPECT_EQ(counter(**f, "relay_alloc_ab_b_packets"), 1u);
  EXPECT_EQ(counter(**f, "relay_fwd_permissions"), 1u);
  EXPECT_EQ(counter(**f, "relay_fwd_datagrams_sent"), 21u);
}

TEST(RelayUdpForwarder, ReportsAPortInUse) {
  auto taken = udp_bound("127.0.0.1");
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ASSERT_EQ(::getsockname(taken.get(), reinterpret_cast<sockaddr*>(&ss), &len), 0);
  const auto port = ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  RelayForwardConfig cfg;
  cfg.allocations.push_back({"ab", {port, ip("127.0.0.1")}, {47813, ip("127.0.0.2")}});
  auto f = relay::UdpForwarder::start(cfg, ip("127.0.0.1"));
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().find("ab a: port " + std::to_string(port)), std::string::npos) << f.error();
}

std::string relay_config(const std::string& relay_forward) {
  return "daemon:\n  control_socket: /run/natgate/test.sock\n  relay_forward:\n" + relay_forward;
}

ConfigLoadResult load(const std::string& text) {
  return load_config_text(text, "relay.yaml", "/nonexistent");
}

TEST(RelayForwardConfig, ReadsAllocations) {
  auto r = load(relay_config(R"(    max_allocations: 8
    idle_timeout: 90s
    allocations:
      pair1: { a: { port: 40001, peer: 198.51.100.10 }, b: { port: 40002, peer: 198.51.100.11 } }
)"));
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  const auto& rf = r.config->daemon.relay_forward;
  EXPECT_EQ(rf.max_allocations, 8u);
  EXPECT_EQ(rf.idle_timeout, std::chrono::seconds(90));
  ASSERT_EQ(rf.allocations.size(), 1u);
  EXPECT_EQ(rf.allocations[0].name, "pair1");
  EXPECT_EQ(rf.allocations[0].a.port, 40001);
  EXPECT_EQ(rf.allocations[0].b.peer, ip("198.51.100.11"));
}

TEST(RelayForwardConfig, ErrorsNameFileLineAndKey) {
  auto r = load(relay_config(R"(    max_allocations: 1
    allocations:
      p1: { a: { port: 4500, peer: 198.51.100.10 }, b: { port: 40002, peer: nowhere } }
      p2: { a: { port: 40002, peer: 198.51.100.12 }, b: { port: 40003, peer: 198.51.100.13, x: 1 } }
      p3: { a: { port: 40004 } }
)"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(
      test::error_lines(r),
      (std::vector<std::string>{
          "relay.yaml:6:24: daemon.relay_forward.allocations.p1.a.port: 4500 is the IKE or NAT-T port "
          "(expected a port of its own)",
          "relay.yaml:6:77: daemon.relay_forward.allocations.p1.b.peer: \"nowhere\" is not an IP address "
          "(expected like 198.51.100.10)",
          "relay.yaml:7:24: daemon.relay_forward.allocations.p2.a.port: 40002 is already used by "
          "daemon.relay_forward.allocations.p1.b.port",
          "relay.yaml:7:93: daemon.relay_forward.allocations.p2.b.x: unknown key; allowed keys: port, peer",
          "relay.yaml:8:16: daemon.relay_forward.allocations.p3.a.peer: required key is missing (expected "
          "the "
          "address this side's peer (or its NAT) sends from)",
          "relay.yaml:8:11: daemon.relay_forward.allocations.p3.b: required key is missing (expected { port: "
          "PORT, peer: ADDRESS })",
      }));
  // Two valid allocations over a limit of one.
  r = load(relay_config(R"(    max_allocations: 1
    allocations:
      p1: { a: { port: 40001, peer: 198.51.100.10 }, b: { port: 40002, peer: 198.51.100.11 } }
      p2: { a: { port: 40003, peer: 198.51.100.12 }, b: { port: 40004, peer: 198.51.100.13 } }
)"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(test::error_lines(r),
            std::vector<std::string>{"relay.yaml:6:7: daemon.relay_forward.allocations: 2 allocations exceed "
                                     "max_allocations 1"});
}

TEST(RelayForwardConfig, RelayedNeedsAPort) {
  const std::string peer = R"(secrets:
  peer: { psk: "lab-secret" }
connections:
  peer:
    local: { id: alice.lab, subnets: [10.1.0.0/16] }
    remote: { address: 198.51.100.1, id: bob.lab, subnets: [10.2.0.0/16], relayed: true PORT}
    auth: psk
    ike_proposals: [aes256gcm16-prfsha384-x25519]
    esp_proposals: [aes256gcm16]
)";
  auto with_port = peer;
  with_port.replace(with_port.find(" PORT"), 5, ", port: 40001 ");
  auto r = load(with_port);
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  EXPECT_TRUE(r.config->connections[0].remote.relayed);
  EXPECT_EQ(r.config->connections[0].remote.port, 40001);
  auto without = peer;
  without.replace(without.find(" PORT"), 5, " ");
  r = load(without);
  ASSERT_FALSE(r.ok());
  const auto lines = test::error_lines(r);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("relay.yaml:6:"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("connections.peer.remote.relayed: needs remote.port"), std::string::npos)
      << lines[0];
}

}  // namespace
}  // namespace natgate::gateway
