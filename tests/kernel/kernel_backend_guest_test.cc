// kernel.backend, run inside the QEMU guest (tests/kernel/scenarios/backend.sh): KernelBackend
// programmes real ESP SAs and policies into two namespaces, left and right, with an nftables
// SNAT box between them (topology in guest/lib.sh). The kernel then carries real traffic;
// the checks read it back three ways: through the backend (XFRM_MSG_GETSA counters), through
// the kernel's own /proc/net/xfrm_stat and `ip xfrm`, and on the wire with an AF_PACKET
// capture on the NAT's public side.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/xfrm.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>

#include "dataplane/event_log.h"
#include "netns_scope.h"
#include "sys/unique_fd.h"
#include "wire_witness.h"
#include "xfrm/ipsec_socket.h"
#include "xfrm/kernel_backend.h"

namespace natgate::xfrm::guest {
namespace {

constexpr std::uint32_t kReqid = 1;

IpAddress ip(const char* text) { return *IpAddress::parse(text); }
Subnet subnet(const char* text) { return *Subnet::parse(text); }
TrafficSelector ts(const char* cidr) { return TrafficSelector::from_subnet(subnet(cidr)); }

const IpAddress kLeftPrivate = ip("10.0.0.2");
const IpAddress kNatPublic = ip("192.0.2.1");
const IpAddress kNatPublic2 = ip("192.0.2.5");
const IpAddress kRight = ip("192.0.2.2");

sys::UniqueFd udp_socket(const IpAddress& address, std::uint16_t port) {
  sys::UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  Endpoint ep{address, port};
  sockaddr_storage ss{};
  socklen_t len = ep.to_sockaddr(ss);
  if (fd.get() < 0 || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    throw std::runtime_error("bind " + ep.to_string() + ": " + std::strerror(errno));
  }
  timeval tv{2, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return "popen failed";
  std::array<char, 512> buf;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  ::pclose(pipe);
  return out;
}

// Every counter of /proc/net/xfrm_stat in a namespace that is not zero.
std::map<std::string, long> nonzero_xfrm_stat(const std::string& ns) {
  NetnsScope in(ns);
  std::map<std::string, long> out;
  std::ifstream stat("/proc/thread-self/net/xfrm_stat");
  std::string key;
  long value;
  while (stat >> key >> value) {
    if (value != 0) out[key] = value;
  }
  return out;
}

SecretBytes random_secret(std::size_t n) {
  std::random_device rd;
  Bytes b(n);
  for (auto& x : b) x = static_cast<std::uint8_t>(rd());
  return SecretBytes(b);
}

dataplane::EspTransform transform(iana::EncrId encr, std::uint16_t bits,
                                  iana::IntegId integ = iana::IntegId::None, bool esn = false) {
  dataplane::EspTransform t;
  t.encr = encr;
  t.encr_key_bits = bits;
  t.integ = integ;
  t.esn = esn;
  return t;
}

// One gateway: its backend and its ESP-in-UDP sockets (what natgated opens on 4500).
struct Site {
  std::string ns;
  std::unique_ptr<KernelBackend> backend;
  std::vector<sys::UniqueFd> encap;
  dataplane::EventLog events;  // expires, acquires and mappings, as the backend reported them

  // Waits (bounded) for events and hands them to the handlers.
  void pump(int millis) {
    for (int waited = 0; waited < millis; waited += 50) {
      pollfd pfd{backend->event_fd(), POLLIN, 0};
      if (::poll(&pfd, 1, 50) > 0) backend->poll_events();
    }
    backend->poll_events();
  }
};

std::unique_ptr<Site> open_site(const std::string& ns, std::initializer_list<std::uint16_t> ports) {
  auto site = std::make_unique<Site>();
  site->ns = ns;
  NetnsScope in(ns);
  auto backend = KernelBackend::open();
  if (!backend) throw std::runtime_error(backend.error());
  site->backend = std::move(*backend);
  site->backend->set_listener(&site->events);
  for (std::uint16_t port : ports) {
    sys::UniqueFd fd = udp_socket(IpAddress::any(IpFamily::V4), port);
    if (auto s = enable_udp_encap(fd.get()); !s) throw std::runtime_error(s.error());
    if (auto s = bypass_ipsec_policies(fd.get(), IpFamily::V4); !s) throw std::runtime_error(s.error());
    site->encap.push_back(std::move(fd));
  }
  return site;
}

class KernelGuest : public ::testing::Test {
 protected:
  void SetUp() override {
    left_ = open_site("left", {4500, 4501, 4502});
    right_ = open_site("right", {4500});
    NetnsScope in("nat");
    wire_ = std::make_unique<WireWitness>(
        "n-right", std::vector<Subnet>{subnet("198.51.100.0/24"), subnet("203.0.113.0/24")});
  }

  void TearDown() override {
    for (Site* s : {left_.get(), right_.get()}) {
      if (s == nullptr) continue;
      s->backend->flush();
      // A failed test must not leave state for the next one.
      run("ip -n " + s->ns + " xfrm state flush; ip -n " + s->ns + " xfrm policy flush");
    }
  }

  dataplane::SaSpec sa(std::uint32_t spi, dataplane::Direction dir, Endpoint src, Endpoint dst,
                       const dataplane::EspTransform& t, const SecretBytes& encr, const SecretBytes& integ,
                       std::uint32_t window) {
    dataplane::SaSpec s;
    s.spi = spi;
    s.direction = dir;
    s.reqid = kReqid;
    s.mode = dataplane::Mode::Tunnel;
    s.src = src;
    s.dst = dst;
    s.encap = dataplane::UdpEncap{src.port, dst.port};
    s.transform = t;
    s.encr_key = encr;
    s.integ_key = integ;
    s.replay_window = window;
    return s;
  }

  static dataplane::PolicySpec policy(const char* src, const char* dst, dataplane::Direction dir,
                                      const IpAddress& outer_src, const IpAddress& outer_dst) {
    dataplane::PolicySpec p;
    p.src = ts(src);
    p.dst = ts(dst);
    p.direction = dir;
    p.reqid = kReqid;
    p.mode = dataplane::Mode::Tunnel;
    p.tunnel_src = Endpoint{outer_src, 4500};
    p.tunnel_dst = Endpoint{outer_dst, 4500};
    return p;
  }

  // What two daemons would install after IKE_AUTH: each allocates its inbound SPI, then
  // both sides add their SA pair and policies. Left is behind the NAT (10.0.0.2:4500 is seen
  // as 192.0.2.1:40000); right is public.
  void install(const dataplane::EspTransform& t, std::uint32_t window, dataplane::Lifetime left_out_soft = {},
               dataplane::Lifetime left_out_hard = {}) {
    auto l = left_->backend->allocate_spi({.local = kLeftPrivate, .remote = kRight}, kReqid);
    ASSERT_TRUE(l) << l.error();
    auto r = right_->backend->allocate_spi({.local = kRight, .remote = kNatPublic}, kReqid);
    ASSERT_TRUE(r) << r.error();
    left_in_spi_ = *l;
    right_in_spi_ = *r;
    const SecretBytes lr_encr = random_secret(t.encr_keymat_bytes()),
                      lr_integ = random_secret(t.integ_keymat_bytes());
    const SecretBytes rl_encr = random_secret(t.encr_keymat_bytes()),
                      rl_integ = random_secret(t.integ_keymat_bytes());

    left_out_ = sa(right_in_spi_, dataplane::Direction::Out, {kLeftPrivate, 4500}, {kRight, 4500}, t, lr_encr,
                   lr_integ, window);
    left_out_.soft = left_out_soft;
    left_out_.hard = left_out_hard;
    left_in_ = sa(left_in_spi_, dataplane::Direction::In, {kRight, 4500}, {kLeftPrivate, 4500}, t, rl_encr,
                  rl_integ, window);
    right_in_ = sa(right_in_spi_, dataplane::Direction::In, {kNatPublic, 40000}, {kRight, 4500}, t, lr_encr,
                   lr_integ, window);
    right_out_ = sa(left_in_spi_, dataplane::Direction::Out, {kRight, 4500}, {kNatPublic, 40000}, t, rl_encr,
                    rl_integ, window);
    for (auto [site, spec] : {std::pair{left_.get(), &left_out_}, std::pair{left_.get(), &left_in_},
                              std::pair{right_.get(), &right_in_}, std::pair{right_.get(), &right_out_}}) {
      auto added = site->backend->add_sa(*spec);
      ASSERT_TRUE(added) << site->ns << ": " << added.error();
    }
    left_policies_ = {
        policy("198.51.100.0/24", "203.0.113.0/24", dataplane::Direction::Out, kLeftPrivate, kRight),
        policy("203.0.113.0/24", "198.51.100.0/24", dataplane::Direction::In, kRight, kLeftPrivate),
        policy("203.0.113.0/24", "198.51.100.0/24", dataplane::Direction::Fwd, kRight, kLeftPrivate)};
    right_policies_ = {
        policy("203.0.113.0/24", "198.51.100.0/24", dataplane::Direction::Out, kRight, kNatPublic),
        policy("198.51.100.0/24", "203.0.113.0/24", dataplane::Direction::In, kNatPublic, kRight),
        policy("198.51.100.0/24", "203.0.113.0/24", dataplane::Direction::Fwd, kNatPublic, kRight)};
    for (const auto& p : left_policies_) ASSERT_TRUE(left_->backend->add_policy(p));
    for (const auto& p : right_policies_) ASSERT_TRUE(right_->backend->add_policy(p));
    wire_->clear();
  }

  // UDP round trips 198.51.100.1:7000 -> 203.0.113.1:7001 and back; returns how many made it.
  int udp_round_trips(int n) {
    sys::UniqueFd client, server;
    {
      NetnsScope in("left");
      client = udp_socket(ip("198.51.100.1"), 7000);
    }
    {
      NetnsScope in("right");
      server = udp_socket(ip("203.0.113.1"), 7001);
    }
    sockaddr_storage to{};
    socklen_t to_len = Endpoint{ip("203.0.113.1"), 7001}.to_sockaddr(to);
    int ok = 0;
    for (int i = 0; i < n; ++i) {
      std::string msg = "natgate " + std::to_string(i);
      if (::sendto(client.get(), msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&to), to_len) < 0)
        continue;
      char buf[256];
      sockaddr_storage from{};
      socklen_t from_len = sizeof(from);
      ssize_t got =
          ::recvfrom(server.get(), buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
      if (got != static_cast<ssize_t>(msg.size()) || std::memcmp(buf, msg.data(), msg.size()) != 0) continue;
      ::sendto(server.get(), buf, static_cast<std::size_t>(got), 0, reinterpret_cast<sockaddr*>(&from),
               from_len);
      got = ::recv(client.get(), buf, sizeof(buf), 0);
      if (got == static_cast<ssize_t>(msg.size()) && std::memcmp(buf, msg.data(), msg.size()) == 0) ++ok;
    }
    return ok;
  }

  // One-way datagrams left -> right; returns how many right received.
  int udp_one_way(int n) {
    sys::UniqueFd client, server;
    {
      NetnsScope in("left");
      client = udp_socket(ip("198.51.100.1"), 7000);
    }
    {
      NetnsScope in("right");
      server = udp_socket(ip("203.0.113.1"), 7001);
    }
    timeval tv{0, 500'000};
    ::setsockopt(server.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_storage to{};
    socklen_t to_len = Endpoint{ip("203.0.113.1"), 7001}.to_sockaddr(to);
    int ok = 0;
    for (int i = 0; i < n; ++i) {
      char b = static_cast<char>(i);
      ::sendto(client.get(), &b, 1, 0, reinterpret_cast<sockaddr*>(&to), to_len);
      if (::recv(server.get(), &b, 1, 0) == 1) ++ok;
    }
    return ok;
  }

  // iputils ping from left's inner address; returns the replies it counted.
  int ping(int n) {
    NetnsScope in("left");
    std::string out = run("ping -n -q -c " + std::to_string(n) + " -i 0.2 -w 5 -I 198.51.100.1 203.0.113.1");
    auto pos = out.find(" received");
    if (pos == std::string::npos) return -1;
    auto start = out.rfind(' ', pos - 1);
    return std::stoi(out.substr(start + 1, pos - start - 1));
  }

  dataplane::SaCounters counters(Site& site, const dataplane::SaSpec& spec) {
    auto c = site.backend->query_sa(spec.spi, spec.dst.address);
    EXPECT_TRUE(c) << site.ns << ": " << c.error();
    return c ? *c : dataplane::SaCounters{};
  }

  void expect_packets_on_all_four(std::uint64_t packets) {
    for (auto [site, spec, name] :
         {std::tuple{left_.get(), &left_out_, "left out"}, std::tuple{left_.get(), &left_in_, "left in"},
          std::tuple{right_.get(), &right_in_, "right in"},
          std::tuple{right_.get(), &right_out_, "right out"}}) {
      dataplane::SaCounters c = counters(*site, *spec);
      EXPECT_EQ(c.packets, packets) << name;
      EXPECT_GE(c.bytes, packets * 28) << name;  // inner packets: at least IPv4 + UDP/ICMP headers
      EXPECT_EQ(c.replay_drops, 0u) << name;
      EXPECT_EQ(c.auth_failures, 0u) << name;
    }
  }

  void expect_no_xfrm_errors() {
    EXPECT_EQ(nonzero_xfrm_stat("left"), (std::map<std::string, long>{}));
    EXPECT_EQ(nonzero_xfrm_stat("right"), (std::map<std::string, long>{}));
  }

  void run_tunnel_case(const dataplane::EspTransform& t, std::uint32_t window) {
    install(t, window);
    if (HasFatalFailure()) return;
    EXPECT_EQ(udp_round_trips(3), 3);
    EXPECT_EQ(ping(3), 3);
    expect_packets_on_all_four(6);
    expect_no_xfrm_errors();

    // On the NAT's public side: only ESP-in-UDP, left's packets rewritten to port 40000.
    wire_->collect();
    EXPECT_EQ(wire_->count(right_in_spi_, 40000, 4500), 6);
    EXPECT_EQ(wire_->count(left_in_spi_, 4500, 40000), 6);
    EXPECT_EQ(wire_->esp().size(), 12u);
    EXPECT_EQ(wire_->cleartext(), 0);

    // flush() removes what the backend installed, and that is everything here.
    left_->backend->flush();
    right_->backend->flush();
    for (const char* ns : {"left", "right"}) {
      EXPECT_EQ(run(std::string("ip -n ") + ns + " xfrm state list"), "") << ns;
      // What stays are the encap sockets' own bypass policies ("socket in/out"), which go
      // with the sockets; no SPD policy ("dir ...") and no template is left.
      const std::string policies = run(std::string("ip -n ") + ns + " xfrm policy list");
      EXPECT_EQ(policies.find("dir "), std::string::npos) << ns << ": " << policies;
      EXPECT_EQ(policies.find("tmpl"), std::string::npos) << ns << ": " << policies;
      EXPECT_NE(policies.find("socket out"), std::string::npos) << ns << ": " << policies;
    }
    EXPECT_EQ(left_->backend->owned_sa_count() + right_->backend->owned_sa_count(), 0u);
  }

  std::unique_ptr<Site> left_, right_;
  std::unique_ptr<WireWitness> wire_;
  std::uint32_t left_in_spi_ = 0, right_in_spi_ = 0;
  dataplane::SaSpec left_out_, left_in_, right_in_, right_out_;
  std::vector<dataplane::PolicySpec> left_policies_, right_policies_;
};

TEST_F(KernelGuest, AesGcmThroughNat) { run_tunnel_case(transform(iana::EncrId::AesGcm16, 256), 32); }

TEST_F(KernelGuest, ChaCha20Poly1305WithEsnThroughNat) {
  run_tunnel_case(transform(iana::EncrId::ChaCha20Poly1305, 256, iana::IntegId::None, /*esn=*/true), 64);
}

TEST_F(KernelGuest, AesCbcHmacSha256ThroughNat) {
  run_tunnel_case(transform(iana::EncrId::AesCbc, 128, iana::IntegId::HmacSha2_256_128), 32);
}

TEST_F(KernelGuest, AesCbcHmacSha512WithALargeWindowThroughNat) {
  run_tunnel_case(transform(iana::EncrId::AesCbc, 256, iana::IntegId::HmacSha2_512_256), 1024);
}

TEST_F(KernelGuest, AesCbcHmacSha1AndSha384ThroughNat) {
  run_tunnel_case(transform(iana::EncrId::AesCbc, 192, iana::IntegId::HmacSha1_96), 32);
  run_tunnel_case(transform(iana::EncrId::AesCbc, 128, iana::IntegId::HmacSha2_384_192), 32);
}

// RFC 7296 §2.23: when the peer's NAT mapping changes, its SAs move to the new port (in
// place, XFRM_MSG_UPDSA) or address (re-created with sequence numbers carried over).
TEST_F(KernelGuest, NatRebindingMovesSasByPortThenByAddress) {
  install(transform(iana::EncrId::AesGcm16, 128), 128);
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_EQ(udp_round_trips(3), 3);
  expect_packets_on_all_four(3);

  // Left now sends from 4501, which the NAT maps to 192.0.2.1:40001.
  ASSERT_TRUE(left_->backend->update_sa_endpoints(
      right_in_spi_, kRight, {.local = {kLeftPrivate, 4501}, .remote = {kRight, 4500}}, true));
  ASSERT_TRUE(left_->backend->update_sa_endpoints(
      left_in_spi_, kLeftPrivate, {.local = {kLeftPrivate, 4501}, .remote = {kRight, 4500}}, true));
  ASSERT_TRUE(right_->backend->update_sa_endpoints(
      right_in_spi_, kRight, {.local = {kRight, 4500}, .remote = {kNatPublic, 40001}}, true));
  ASSERT_TRUE(right_->backend->update_sa_endpoints(
      left_in_spi_, kNatPublic, {.local = {kRight, 4500}, .remote = {kNatPublic, 40001}}, true));
  auto moved = right_->backend->read_sa(left_in_spi_, kNatPublic);
  ASSERT_TRUE(moved) << moved.error();
  EXPECT_EQ(moved->encap, (dataplane::UdpEncap{4500, 40001}));
  EXPECT_EQ(udp_round_trips(3), 3);
  expect_packets_on_all_four(6);  // updated in place: the counters went on
  wire_->collect();
  EXPECT_EQ(wire_->count(right_in_spi_, 40001, 4500), 3);
  EXPECT_EQ(wire_->count(left_in_spi_, 4500, 40001), 3);

  // Then from 4502, which the NAT maps to another public address, 192.0.2.5:40002. Right's
  // SAs change address and are re-created; its policy templates move with them.
  ASSERT_TRUE(left_->backend->update_sa_endpoints(
      right_in_spi_, kRight, {.local = {kLeftPrivate, 4502}, .remote = {kRight, 4500}}, true));
  ASSERT_TRUE(left_->backend->update_sa_endpoints(
      left_in_spi_, kLeftPrivate, {.local = {kLeftPrivate, 4502}, .remote = {kRight, 4500}}, true));
  auto in = right_->backend->update_sa_endpoints(
      right_in_spi_, kRight, {.local = {kRight, 4500}, .remote = {kNatPublic2, 40002}}, true);
  ASSERT_TRUE(in) << in.error();
  auto out = right_->backend->update_sa_endpoints(
      left_in_spi_, kNatPublic, {.local = {kRight, 4500}, .remote = {kNatPublic2, 40002}}, true);
  ASSERT_TRUE(out) << out.error();
  right_out_.dst = Endpoint{kNatPublic2, 40002};
  for (dataplane::PolicySpec& p : right_policies_) {
    (p.direction == dataplane::Direction::Out ? p.tunnel_dst : p.tunnel_src) = Endpoint{kNatPublic2, 4500};
    ASSERT_TRUE(right_->backend->add_policy(p));
  }
  EXPECT_EQ(udp_round_trips(3), 3);
  // Re-created with the old counters and sequence numbers: right's 7th-9th packets were
  // accepted by left's replay window, which a restart at 1 would have failed.
  expect_packets_on_all_four(9);
  auto sa = right_->backend->read_sa(left_in_spi_, kNatPublic2);
  ASSERT_TRUE(sa) << sa.error();
  ASSERT_EQ(sa->runtime.replay_attribute, XFRMA_REPLAY_VAL);
  xfrm_replay_state replay;
  ASSERT_GE(sa->runtime.replay.size(), sizeof(replay));
  std::memcpy(&replay, sa->runtime.replay.data(), sizeof(replay));
  EXPECT_EQ(replay.oseq, 9u);
  wire_->collect();
  EXPECT_EQ(wire_->count(right_in_spi_, 40002, 4500), 3);
  EXPECT_EQ(wire_->count(left_in_spi_, 4500, 40002), 3);
  EXPECT_EQ(wire_->cleartext(), 0);
  expect_no_xfrm_errors();
  EXPECT_EQ(run("ip -n right xfrm state list | grep -c 'src 192.0.2.5 dst 192.0.2.2\\|src 192.0.2.2 dst "
                "192.0.2.5'"),
            "2\n");
}

// The kernel's side of RFC 7296 §2.23: left's NAT mapping changes (it now sends from 4501,
// seen as 192.0.2.1:40001) before right knows. Right's kernel still decrypts the ESP and
// reports XFRM_MSG_MAPPING for its inbound SA, which the backend passes on once however many
// packets arrive; once right has moved its SAs there, traffic flows both ways and nothing more
// is reported.
TEST_F(KernelGuest, MappingEventReportsThePeersNewPortOnce) {
  install(transform(iana::EncrId::AesGcm16, 256), 32);
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(left_->backend->update_sa_endpoints(
      right_in_spi_, kRight, {.local = {kLeftPrivate, 4501}, .remote = {kRight, 4500}}, true));
  ASSERT_TRUE(left_->backend->update_sa_endpoints(
      left_in_spi_, kLeftPrivate, {.local = {kLeftPrivate, 4501}, .remote = {kRight, 4500}}, true));
  EXPECT_EQ(udp_one_way(4), 4);
  right_->pump(300);
  ASSERT_EQ(right_->events.mappings.size(), 1u);
  const dataplane::MappingEvent& m = right_->events.mappings.front();
  EXPECT_EQ(m.spi, right_in_spi_);
  EXPECT_EQ(m.dst, kRight);
  EXPECT_EQ(m.reqid, kReqid);
  EXPECT_EQ(m.old_remote, (Endpoint{kNatPublic, 40000}));
  EXPECT_EQ(m.new_remote, (Endpoint{kNatPublic, 40001}));
  EXPECT_TRUE(left_->events.mappings.empty());

  // What the daemon does with it: both of right's SAs follow the new port.
  ASSERT_TRUE(right_->backend->update_sa_endpoints(right_in_spi_, kRight,
                                                   {.local = {kRight, 4500}, .remote = m.new_remote}, true));
  ASSERT_TRUE(right_->backend->update_sa_endpoints(left_in_spi_, kNatPublic,
                                                   {.local = {kRight, 4500}, .remote = m.new_remote}, true));
  EXPECT_EQ(udp_round_trips(3), 3);
  right_->pump(300);
  EXPECT_EQ(right_->events.mappings.size(), 1u);
  wire_->collect();
  EXPECT_EQ(wire_->count(left_in_spi_, 4500, 40001), 3);
  EXPECT_EQ(wire_->cleartext(), 0);
  expect_no_xfrm_errors();
}

// Soft lifetime: an expire event with hard=false while the SA keeps working (RFC 7296 §2.8:
// time to rekey); hard lifetime: an event with hard=true, the SA is gone, and the next packet
// raises an acquire.
TEST_F(KernelGuest, PacketLifetimesRaiseSoftThenHardExpireThenAcquire) {
  install(transform(iana::EncrId::AesCbc, 256, iana::IntegId::HmacSha2_384_192), 32,
          dataplane::Lifetime{0, 3, 0}, dataplane::Lifetime{0, 6, 0});
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(udp_one_way(4), 4);
  left_->pump(500);
  ASSERT_EQ(left_->events.expires.size(), 1u);
  EXPECT_FALSE(left_->events.expires[0].hard);
  EXPECT_EQ(left_->events.expires[0].spi, right_in_spi_);
  EXPECT_EQ(left_->events.expires[0].dst, kRight);
  EXPECT_EQ(left_->events.expires[0].reqid, kReqid);

  // Packets 5 and 6 pass; the 7th finds the hard limit reached.
  EXPECT_EQ(udp_one_way(3), 2);
  left_->pump(1500);
  ASSERT_EQ(left_->events.expires.size(), 2u);
  EXPECT_TRUE(left_->events.expires[1].hard);
  EXPECT_EQ(left_->events.expires[1].spi, right_in_spi_);
  EXPECT_FALSE(left_->backend->query_sa(right_in_spi_, kRight));
  char spi_text[32];
  std::snprintf(spi_text, sizeof(spi_text), "spi 0x%08x", right_in_spi_);
  EXPECT_EQ(run("ip -n left xfrm state list").find(spi_text), std::string::npos);

  EXPECT_EQ(udp_one_way(1), 0);
  left_->pump(1000);
  ASSERT_GE(left_->events.acquires.size(), 1u);
  EXPECT_EQ(left_->events.acquires[0].reqid, kReqid);
  EXPECT_EQ(left_->events.acquires[0].src.to_string(), "198.51.100.1/32[17/7000]");
  EXPECT_EQ(left_->events.acquires[0].dst.to_string(), "203.0.113.1/32[17/7001]");
  EXPECT_TRUE(right_->events.expires.empty());
}

}  // namespace
}  // namespace natgate::xfrm::guest
