// esp::UserspaceBackend through the dataplane::SaBackend interface, with real engines: two private
// network namespaces joined by a veth, one backend in each, UDP between hosts on either side
// crossing the two TUNs as ESP-in-UDP. Checks routes (added and removed exactly), SPI allocation,
// counters, endpoint updates, packet/time lifetimes (soft, hard) and acquires. Needs root.
#include "esp/userspace_backend.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <set>
#include <string>
#include <thread>

#include "dataplane/event_log.h"
#include "test_packets.h"

namespace natgate::esp {
namespace {

std::string sh(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return out;
  std::array<char, 512> buf;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  ::pclose(p);
  return out;
}

// Two named namespaces (unique per process) that the test thread can switch between; removed
// at the end. Engines, sockets and netlink sockets stay in the namespace they were made in.
class Namespaces {
 public:
  Namespaces()
      : a_("ngesp" + std::to_string(::getpid()) + "a"), b_("ngesp" + std::to_string(::getpid()) + "b") {
    home_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    sh("ip netns add " + a_ + " && ip netns add " + b_);
    sh("ip -n " + a_ + " link set lo up; ip -n " + b_ + " link set lo up");
    sh("ip link add va netns " + a_ + " type veth peer name vb netns " + b_);
    sh("ip -n " + a_ + " addr add 192.0.2.1/24 dev va; ip -n " + a_ + " link set va up");
    sh("ip -n " + b_ + " addr add 192.0.2.2/24 dev vb; ip -n " + b_ + " link set vb up");
    sh("ip -n " + a_ + " addr add 10.9.1.1/32 dev lo; ip -n " + b_ + " addr add 10.9.2.1/32 dev lo");
    for (const auto& ns : {a_, b_})
      sh("ip netns exec " + ns +
         " sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0");
  }
  ~Namespaces() {
    enter_home();
    ::close(home_);
    sh("ip netns del " + a_ + "; ip netns del " + b_);
  }
  bool ok() const { return sh("ip netns list").find(b_) != std::string::npos; }
  void enter(const std::string& ns) {
    const int fd = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::setns(fd, CLONE_NEWNET), 0);
    ::close(fd);
  }
  void enter_home() { (void)::setns(home_, CLONE_NEWNET); }
  const std::string& a() const { return a_; }
  const std::string& b() const { return b_; }

 private:
  std::string a_, b_;
  int home_ = -1;
};

TrafficSelector ts(const char* subnet) { return TrafficSelector::from_subnet(*Subnet::parse(subnet)); }
Endpoint ep(const char* a, std::uint16_t port) { return {*IpAddress::parse(a), port}; }

dataplane::PolicySpec policy(const TrafficSelector& src, const TrafficSelector& dst, dataplane::Direction d,
                             std::uint32_t reqid) {
  dataplane::PolicySpec p;
  p.src = src;
  p.dst = dst;
  p.direction = d;
  p.reqid = reqid;
  return p;
}

EngineConfig engine_config(const char* tun, const char* listen) {
  EngineConfig c;
  c.tun_name = tun;
  c.listen = {ep(listen, 4500)};
  c.raw_esp = false;
  return c;
}

dataplane::SaSpec sa_spec(std::uint32_t spi, dataplane::Direction d) {
  dataplane::SaSpec s;
  s.spi = spi;
  s.direction = d;
  s.reqid = 5;
  s.src = ep("192.0.2.1", 4500);
  s.dst = ep("192.0.2.2", 4500);
  s.encap = dataplane::UdpEncap{4500, 4500};
  s.transform.encr = iana::EncrId::AesGcm16;
  s.transform.encr_key_bits = 128;
  s.encr_key = SecretBytes(Bytes(20, 0x42));
  s.local_ts = {ts(d == dataplane::Direction::In ? "10.9.2.0/24" : "10.9.1.0/24")};
  s.remote_ts = {ts(d == dataplane::Direction::In ? "10.9.1.0/24" : "10.9.2.0/24")};
  return s;
}

// Waits (bounded) for events on the backend and hands them to its handlers.
void pump(UserspaceBackend& b, int timeout_ms) {
  pollfd p{b.event_fd(), POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) > 0) b.poll_events();
}

class UserspaceBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces, TUN)";
    ns_ = std::make_unique<Namespaces>();
    ASSERT_TRUE(ns_->ok());
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
    ns_.reset();
  }
  std::unique_ptr<Namespaces> ns_;
  std::unique_ptr<UserspaceBackend> a_, b_;
};

TEST_F(UserspaceBackendTest, APolicyChangesHandsOnlyThroughReplaceAndKeepsItsRoute) {
  ns_->enter(ns_->a());
  auto created = UserspaceBackend::create(engine_config("ngta", "192.0.2.1"));
  ASSERT_TRUE(created.has_value()) << created.error();
  a_ = std::move(*created);
  const std::string routes = "ip -n " + ns_->a() + " route show dev ngta";
  const auto all = ts("0.0.0.0/0");
  const auto vip = ts("10.99.0.1/32");
  ASSERT_TRUE(a_->add_policy(policy(all, vip, dataplane::Direction::Out, 0x10000)));
  ASSERT_TRUE(a_->add_policy(policy(vip, all, dataplane::Direction::In, 0x10000)));
  ASSERT_TRUE(a_->add_policy(policy(vip, all, dataplane::Direction::Fwd, 0x10000)));
  EXPECT_EQ(a_->engine().registry().policy_count(), 2u);  // in and fwd are one engine rule

  // Another reqid cannot add the same selectors: the policy is refused, the old one stays.
  auto clash = a_->add_policy(policy(all, vip, dataplane::Direction::Out, 0x10001));
  ASSERT_FALSE(clash);
  EXPECT_NE(clash.error().find("reqid 65536"), std::string::npos) << clash.error();

  // The successor takes it over: the rule's reqid changes, the route never goes away.
  for (auto d : {dataplane::Direction::Out, dataplane::Direction::In, dataplane::Direction::Fwd}) {
    auto p = d == dataplane::Direction::Out ? policy(all, vip, d, 0x10001) : policy(vip, all, d, 0x10001);
    auto replaced = a_->replace_policy(p);
    ASSERT_TRUE(replaced) << replaced.error();
  }
  EXPECT_NE(sh(routes).find("10.99.0.1 proto static"), std::string::npos) << sh(routes);
  EXPECT_EQ(a_->installed_policy_count(), 3u);
  EXPECT_EQ(a_->engine().registry().policy_count(), 2u);
  auto table = a_->engine().registry().snapshot();
  Bytes pkt = testing::udp_packet(true, "10.1.0.1", "10.99.0.1", 1, 2, 4);
  auto match = table->outbound(*parse_inner(pkt.data(), pkt.size()));
  ASSERT_NE(match.policy, nullptr);
  EXPECT_EQ(match.policy->reqid, 0x10001u);
  EXPECT_FALSE(a_->replace_policy(policy(all, ts("10.99.0.2/32"), dataplane::Direction::Out, 1)));

  // Deleting the in policy leaves the engine rule to the fwd policy.
  ASSERT_TRUE(a_->delete_policy(policy(vip, all, dataplane::Direction::In, 0x10001)));
  EXPECT_EQ(a_->engine().registry().policy_count(), 2u);
  ASSERT_TRUE(a_->delete_policy(policy(vip, all, dataplane::Direction::Fwd, 0x10001)));
  EXPECT_EQ(a_->engine().registry().policy_count(), 1u);
  EXPECT_FALSE(a_->delete_policy(policy(vip, all, dataplane::Direction::In, 0x10001)));  // gone already
  EXPECT_EQ(a_->installed_policy_count(), 1u);
  // The route is the outbound policy's and goes with it.
  ASSERT_TRUE(a_->delete_policy(policy(all, vip, dataplane::Direction::Out, 0x10001)));
  EXPECT_EQ(sh(routes).find("10.99.0.1"), std::string::npos) << sh(routes);
  EXPECT_EQ(a_->installed_policy_count(), 0u);
  EXPECT_EQ(a_->engine().registry().policy_count(), 0u);
}

TEST_F(UserspaceBackendTest, OutboundPolicyRoutesExactlyItsSelectorThroughTheTun) {
  ns_->enter(ns_->a());
  auto created = UserspaceBackend::create(engine_config("ngta", "192.0.2.1"));
  ASSERT_TRUE(created.has_value()) << created.error();
  a_ = std::move(*created);
  EXPECT_EQ(a_->name(), "userspace");

  const std::string routes = "ip -n " + ns_->a() + " route show dev ngta";
  dataplane::PolicySpec p = policy(ts("10.9.1.0/24"), ts("10.9.2.0/24"), dataplane::Direction::Out, 5);
  ASSERT_TRUE(a_->add_policy(p));
  EXPECT_NE(sh(routes).find("10.9.2.0/24 proto static scope link"), std::string::npos) << sh(routes);
  // A range that is no CIDR gets the CIDRs that cover it exactly.
  TrafficSelector range = ts("10.9.3.0/24");
  range.start = *IpAddress::parse("10.9.3.1");
  range.end = *IpAddress::parse("10.9.3.9");
  dataplane::PolicySpec q = policy(ts("10.9.1.0/24"), range, dataplane::Direction::Out, 6);
  ASSERT_TRUE(a_->add_policy(q));
  for (const char* r : {"10.9.3.1 ", "10.9.3.2/31", "10.9.3.4/30", "10.9.3.8/31"})
    EXPECT_NE(sh(routes).find(r), std::string::npos) << r << " in " << sh(routes);
  // An inbound policy adds no route.
  ASSERT_TRUE(a_->add_policy(policy(ts("10.9.2.0/24"), ts("10.9.1.0/24"), dataplane::Direction::In, 5)));
  EXPECT_EQ(a_->installed_route_count(), 5u);

  // A route somebody else owns is left alone and the policy is refused.
  sh("ip -n " + ns_->a() + " route add 10.9.4.0/24 dev lo");
  EXPECT_FALSE(a_->add_policy(policy(ts("10.9.1.0/24"), ts("10.9.4.0/24"), dataplane::Direction::Out, 7)));
  EXPECT_EQ(a_->installed_policy_count(), 3u);

  ASSERT_TRUE(a_->delete_policy(q));
  EXPECT_EQ(sh(routes).find("10.9.3."), std::string::npos) << sh(routes);
  EXPECT_NE(sh(routes).find("10.9.2.0/24"), std::string::npos);
  a_->flush();
  EXPECT_EQ(sh(routes), "");
  EXPECT_NE(sh("ip -n " + ns_->a() + " route").find("10.9.4.0/24 dev lo"), std::string::npos);
  EXPECT_EQ(a_->installed_policy_count(), 0u);
}

TEST_F(UserspaceBackendTest, VirtualIpsInsideAPoolShareOnePoolRoute) {
  // Issue 13: one route per address pool, added with the first virtual IP's policy and removed
  // with the last, not a kernel route per road warrior.
  ns_->enter(ns_->a());
  auto created = UserspaceBackend::create(engine_config("ngta", "192.0.2.1"));
  ASSERT_TRUE(created.has_value()) << created.error();
  a_ = std::move(*created);
  a_->route_aggregates({*Subnet::parse("10.96.0.0/12")});
  const std::string routes = "ip -n " + ns_->a() + " route show dev ngta";
  const auto lan = ts("10.9.1.0/24");
  dataplane::PolicySpec v1 = policy(lan, ts("10.96.0.5/32"), dataplane::Direction::Out, 11);
  dataplane::PolicySpec v2 = policy(lan, ts("10.96.0.6/32"), dataplane::Direction::Out, 12);
  dataplane::PolicySpec other = policy(lan, ts("10.9.2.0/24"), dataplane::Direction::Out, 13);
  ASSERT_TRUE(a_->add_policy(v1));
  ASSERT_TRUE(a_->add_policy(v2));
  ASSERT_TRUE(a_->add_policy(other));
  EXPECT_NE(sh(routes).find("10.96.0.0/12 proto static scope link"), std::string::npos) << sh(routes);
  EXPECT_EQ(sh(routes).find("10.96.0.5"), std::string::npos) << sh(routes);
  EXPECT_NE(sh(routes).find("10.9.2.0/24"), std::string::npos) << sh(routes);
  EXPECT_EQ(a_->installed_route_count(), 2u);
  ASSERT_TRUE(a_->delete_policy(v1));
  EXPECT_NE(sh(routes).find("10.96.0.0/12"), std::string::npos) << "the second virtual IP still needs it";
  ASSERT_TRUE(a_->delete_policy(v2));
  EXPECT_EQ(sh(routes).find("10.96.0.0/12"), std::string::npos) << sh(routes);
  EXPECT_EQ(a_->installed_route_count(), 1u);
  a_->flush();
  EXPECT_EQ(sh(routes), "");
}

TEST_F(UserspaceBackendTest, IkeAndKeepalivesShareTheNatTSocket) {
  // RFC 3948: IKE on port 4500 travels with the non-ESP marker on the same socket as ESP, so the
  // NAT mapping is shared; keepalives are the single byte 0xFF.
  ns_->enter(ns_->a());
  auto created = UserspaceBackend::create(engine_config("ngta", "192.0.2.1"));
  ASSERT_TRUE(created.has_value()) << created.error();
  a_ = std::move(*created);
  Engine& e = a_->engine();
  const int peer = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ns_->enter_home();
  sockaddr_in peer_addr{AF_INET, htons(4500), {}, {}};
  inet_pton(AF_INET, "127.0.0.1", &peer_addr.sin_addr);
  ASSERT_EQ(::bind(peer, reinterpret_cast<sockaddr*>(&peer_addr), sizeof peer_addr), 0);
  sockaddr_in engine_addr{AF_INET, htons(4500), {}, {}};
  inet_pton(AF_INET, "192.0.2.1", &engine_addr.sin_addr);

  // Peer -> engine: marker + IKE header-sized message, then a keepalive.
  Bytes ike(4, 0);
  for (int i = 0; i < 36; ++i) ike.push_back(static_cast<std::uint8_t>(0x40 + i));
  ASSERT_EQ(::sendto(peer, ike.data(), ike.size(), 0, reinterpret_cast<sockaddr*>(&engine_addr),
                     sizeof engine_addr),
            static_cast<ssize_t>(ike.size()));
  const std::uint8_t ka = 0xFF;
  ASSERT_EQ(::sendto(peer, &ka, 1, 0, reinterpret_cast<sockaddr*>(&engine_addr), sizeof engine_addr), 1);
  pollfd p{e.ike_event_fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 3000), 1);
  Bytes got;
  EndpointPair ends;
  EXPECT_EQ(e.drain_ike([&](const EndpointPair& arrived, ByteView m) {
    got.assign(m.begin(), m.end());
    ends = arrived;
  }),
            1u);
  EXPECT_EQ(to_hex(got), to_hex(ByteView(ike.data() + 4, 36)));
  EXPECT_EQ(ends.remote.to_string(), "127.0.0.1:4500");
  EXPECT_EQ(ends.local.to_string(), "192.0.2.1:4500");
  for (int i = 0; i < 30 && e.counters().keepalives_rx == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(e.counters().keepalives_rx, 1u);

  // Engine -> peer, from the same socket: the marker is added, the keepalive is one byte.
  ASSERT_TRUE(e.send_ike({.local = ep("192.0.2.1", 4500), .remote = ep("127.0.0.1", 4500)},
                         ByteView(ike.data() + 4, 36)));
  auto ka_sent = e.send_keepalive({.local = {}, .remote = ep("127.0.0.1", 4500)});
  ASSERT_TRUE(ka_sent) << ka_sent.error();
  std::uint8_t buf[128];
  sockaddr_in src{};
  socklen_t src_len = sizeof src;
  pollfd q{peer, POLLIN, 0};
  ASSERT_EQ(::poll(&q, 1, 3000), 1);
  ssize_t n = ::recvfrom(peer, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&src), &src_len);
  EXPECT_EQ(to_hex(ByteView(buf, static_cast<std::size_t>(n))), to_hex(ike));
  EXPECT_EQ(ntohs(src.sin_port), 4500);
  ASSERT_EQ(::poll(&q, 1, 3000), 1);
  n = ::recv(peer, buf, sizeof buf, 0);
  EXPECT_EQ(to_hex(ByteView(buf, static_cast<std::size_t>(n))), "ff");
  EXPECT_FALSE(e.send_ike({.local = ep("192.0.2.1", 500), .remote = ep("127.0.0.1", 4500)}, ByteView(ike))
                   .has_value());  // not our port
  EXPECT_EQ(e.counters().ike_tx, 1u);
  EXPECT_EQ(e.counters().keepalives_tx, 1u);
  ::close(peer);
}

TEST_F(UserspaceBackendTest, AllocatedSpisAreUniqueAndNeverReserved) {
  ns_->enter(ns_->a());
  auto created = UserspaceBackend::create(engine_config("ngta", "192.0.2.1"));
  ASSERT_TRUE(created.has_value()) << created.error();
  a_ = std::move(*created);
  std::set<std::uint32_t> seen;
  for (int i = 0; i < 200; ++i) {
    auto spi = a_->allocate_spi({}, 1);
    ASSERT_TRUE(spi.has_value());
    EXPECT_GT(*spi, 255u);
    EXPECT_TRUE(seen.insert(*spi).second);
  }
  // Reserved SPIs that no SA took go back with delete_sa (as XFRM deletes a larval SA), so a
  // peer whose CHILD SAs never come up cannot make the reservations pile up.
  EXPECT_EQ(a_->reserved_spi_count(), 200u);
  for (std::uint32_t spi : seen) EXPECT_TRUE(a_->delete_sa(spi, IpAddress()).has_value());
  EXPECT_EQ(a_->reserved_spi_count(), 0u);
  EXPECT_FALSE(a_->delete_sa(*seen.begin(), IpAddress()).has_value()) << "released once only";
}

TEST_F(UserspaceBackendTest, TrafficCountersEndpointUpdateExpiryAndAcquire) {
  ns_->enter(ns_->a());
  auto ca = UserspaceBackend::create(engine_config("ngta", "192.0.2.1"));
  ASSERT_TRUE(ca.has_value()) << ca.error();
  a_ = std::move(*ca);
  const int sender = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ns_->enter(ns_->b());
  auto cb = UserspaceBackend::create(engine_config("ngtb", "192.0.2.2"));
  ASSERT_TRUE(cb.has_value()) << cb.error();
  b_ = std::move(*cb);
  const int receiver = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ns_->enter_home();

  sockaddr_in src{AF_INET, 0, {}, {}}, dst{AF_INET, htons(9999), {}, {}};
  inet_pton(AF_INET, "10.9.1.1", &src.sin_addr);
  inet_pton(AF_INET, "10.9.2.1", &dst.sin_addr);
  ASSERT_EQ(::bind(sender, reinterpret_cast<sockaddr*>(&src), sizeof src), 0);
  ASSERT_EQ(::bind(receiver, reinterpret_cast<sockaddr*>(&dst), sizeof dst), 0);
  auto send_one = [&](int n) {
    const std::string msg = "packet " + std::to_string(n);
    ASSERT_EQ(::sendto(sender, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&dst), sizeof dst),
              static_cast<ssize_t>(msg.size()));
  };
  auto received = [&](int timeout_ms) -> std::string {
    pollfd p{receiver, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return "";
    char buf[64];
    const ssize_t n = ::recv(receiver, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
  };

  auto spi = b_->allocate_spi({}, 5);
  ASSERT_TRUE(spi.has_value());
  dataplane::SaSpec out = sa_spec(*spi, dataplane::Direction::Out);
  out.soft.packets = 4;
  out.hard.packets = 6;
  dataplane::SaSpec in = sa_spec(*spi, dataplane::Direction::In);
  in.soft.seconds = 1;
  ASSERT_TRUE(a_->add_sa(out));
  ASSERT_TRUE(b_->add_sa(in));
  ASSERT_TRUE(a_->add_policy(policy(ts("10.9.1.0/24"), ts("10.9.2.0/24"), dataplane::Direction::Out, 5)));
  ASSERT_FALSE(a_->add_sa(out).has_value());  // the same SA twice

  dataplane::EventLog events_a, events_b;
  a_->set_listener(&events_a);
  b_->set_listener(&events_b);
  auto& expired_a = events_a.expires;
  auto& expired_b = events_b.expires;
  auto& acquired = events_a.acquires;

  send_one(1);
  EXPECT_EQ(received(3000), "packet 1");
  auto ca_counters = a_->query_sa(*spi, *IpAddress::parse("192.0.2.2"));
  auto cb_counters = b_->query_sa(*spi, *IpAddress::parse("192.0.2.2"));
  ASSERT_TRUE(ca_counters.has_value());
  ASSERT_TRUE(cb_counters.has_value());
  EXPECT_EQ(ca_counters->packets, 1u);
  EXPECT_EQ(cb_counters->packets, 1u);
  EXPECT_EQ(ca_counters->bytes, cb_counters->bytes);
  EXPECT_EQ(cb_counters->bytes, 20u + 8 + 8);  // IPv4 + UDP + "packet 1"

  // The peer's mapping "moves" to a port nobody listens on, and back: the SA keeps its state.
  ASSERT_TRUE(a_->update_sa_endpoints(*spi, *IpAddress::parse("192.0.2.2"),
                                      {.local = ep("192.0.2.1", 4500), .remote = ep("192.0.2.2", 4999)},
                                      true));
  send_one(2);
  EXPECT_EQ(received(300), "");
  ASSERT_TRUE(a_->update_sa_endpoints(*spi, *IpAddress::parse("192.0.2.2"),
                                      {.local = ep("192.0.2.1", 4500), .remote = ep("192.0.2.2", 4500)},
                                      true));
  send_one(3);
  EXPECT_EQ(received(3000), "packet 3");
  EXPECT_EQ(b_->query_sa(*spi, *IpAddress::parse("192.0.2.2"))->packets, 2u);

  // Packet 4 crosses the soft limit, packet 6 the hard one: the SA is gone after that.
  send_one(4);
  EXPECT_EQ(received(3000), "packet 4");
  for (int i = 0; i < 20 && expired_a.empty(); ++i) pump(*a_, 100);
  ASSERT_EQ(expired_a.size(), 1u);
  EXPECT_FALSE(expired_a[0].hard);
  EXPECT_EQ(expired_a[0].spi, *spi);
  EXPECT_EQ(expired_a[0].dst.to_string(), "192.0.2.2");
  EXPECT_EQ(expired_a[0].reqid, 5u);
  send_one(5);
  EXPECT_EQ(received(3000), "packet 5");
  send_one(6);
  EXPECT_EQ(received(3000), "packet 6");
  for (int i = 0; i < 20 && expired_a.size() < 2; ++i) pump(*a_, 100);
  ASSERT_EQ(expired_a.size(), 2u);
  EXPECT_TRUE(expired_a[1].hard);
  EXPECT_FALSE(a_->query_sa(*spi, *IpAddress::parse("192.0.2.2")).has_value());
  EXPECT_EQ(a_->installed_sa_count(), 0u);

  // The policy is still there but has no SA: the next packet raises an acquire.
  send_one(7);
  for (int i = 0; i < 20 && acquired.empty(); ++i) pump(*a_, 100);
  ASSERT_EQ(acquired.size(), 1u);
  EXPECT_EQ(acquired[0].reqid, 5u);
  EXPECT_EQ(acquired[0].src.start.to_string(), "10.9.1.1");
  EXPECT_EQ(acquired[0].dst.start.to_string(), "10.9.2.1");
  EXPECT_EQ(received(200), "");

  // The inbound SA's one-second soft lifetime (checked by the engine's housekeeping).
  for (int i = 0; i < 40 && expired_b.empty(); ++i) pump(*b_, 100);
  ASSERT_EQ(expired_b.size(), 1u);
  EXPECT_FALSE(expired_b[0].hard);
  EXPECT_EQ(expired_b[0].dst.to_string(), "192.0.2.2");

  ASSERT_TRUE(b_->delete_sa(*spi, *IpAddress::parse("192.0.2.2")));
  EXPECT_FALSE(b_->delete_sa(*spi, *IpAddress::parse("192.0.2.2")).has_value());
  ::close(sender);
  ::close(receiver);
}

}  // namespace
}  // namespace natgate::esp
