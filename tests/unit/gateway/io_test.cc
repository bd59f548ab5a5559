#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gateway/io/timer.h"
#include "gateway/io/udp_socket.h"
#include "sys/unique_fd.h"

namespace natgate::gateway {
namespace {

using namespace std::chrono_literals;

// Runs the io_context until pred holds or the time is up (bounded: never hangs a test).
bool run_until(boost::asio::io_context& io, const std::function<bool()>& pred,
               std::chrono::milliseconds limit = 2s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred() && std::chrono::steady_clock::now() < deadline) {
    if (io.stopped()) io.restart();
    io.run_one_for(20ms);
  }
  return pred();
}

// A plain peer socket with a receive timeout.
class Peer {
 public:
  explicit Peer(const Endpoint& bind_to) {
    fd_.reset(::socket(bind_to.address.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    timeval tv{2, 0};
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_storage ss{};
    socklen_t len = bind_to.to_sockaddr(ss);
    ok_ = ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&ss), len) == 0;
    sockaddr_storage bound{};
    socklen_t bound_len = sizeof bound;
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&bound), &bound_len);
    local_ = *Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&bound), bound_len);
  }
  bool ok() const { return ok_; }
  const Endpoint& local() const { return local_; }
  void send(const std::string& data, const Endpoint& to) {
    sockaddr_storage ss{};
    socklen_t len = to.to_sockaddr(ss);
    ASSERT_EQ(::sendto(fd_.get(), data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&ss), len),
              static_cast<ssize_t>(data.size()));
  }
  // The next datagram and who sent it; nullopt after the 2 s timeout.
  std::optional<std::pair<std::string, Endpoint>> receive() {
    char buf[2048];
    sockaddr_storage from{};
    socklen_t len = sizeof from;
    ssize_t n = ::recvfrom(fd_.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) return std::nullopt;
    return std::make_pair(std::string(buf, static_cast<std::size_t>(n)),
                          *Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&from), len));
  }

 private:
  sys::UniqueFd fd_;
  bool ok_ = false;
  Endpoint local_;
};

Endpoint ep(const char* addr, std::uint16_t port) { return Endpoint{*IpAddress::parse(addr), port}; }

struct Received {
  Endpoint local, remote;
  std::string payload;
};

TEST(UdpSocket, PortZeroReportsThePortTheKernelPicked) {
  boost::asio::io_context io;
  auto s = UdpSocket::bind(io, ep("127.0.0.1", 0), SocketRole::Ike);
  ASSERT_TRUE(s) << s.error();
  EXPECT_NE((*s)->local_endpoint().port, 0);
  EXPECT_EQ((*s)->local_endpoint().address, *IpAddress::parse("127.0.0.1"));
  EXPECT_EQ((*s)->role(), SocketRole::Ike);
}

TEST(UdpSocket, WildcardSocketLearnsTheAddressEachDatagramWasSentTo) {
  boost::asio::io_context io;
  auto s = UdpSocket::bind(io, ep("0.0.0.0", 0), SocketRole::NatT);
  ASSERT_TRUE(s) << s.error();
  const std::uint16_t port = (*s)->local_endpoint().port;
  std::vector<Received> got;
  (*s)->start([&](UdpSocket& sock, const sys::UdpDatagram& d) {
    EXPECT_EQ(&sock, s->get());
    got.push_back({d.local, d.remote, std::string(d.payload.begin(), d.payload.end())});
  });
  Peer peer(ep("127.0.0.1", 0));
  ASSERT_TRUE(peer.ok());
  peer.send("to .2", ep("127.0.0.2", port));
  peer.send("to .3", ep("127.0.0.3", port));
  ASSERT_TRUE(run_until(io, [&] { return got.size() == 2; }));
  EXPECT_EQ(got[0].local, ep("127.0.0.2", port));
  EXPECT_EQ(got[1].local, ep("127.0.0.3", port));
  EXPECT_EQ(got[0].remote, peer.local());
  EXPECT_EQ(got[0].payload, "to .2");
  EXPECT_EQ(got[1].payload, "to .3");
  EXPECT_EQ((*s)->counters().received, 2u);
}

TEST(UdpSocket, ReplyLeavesFromTheAddressTheRequestCameTo) {
  boost::asio::io_context io;
  auto s = UdpSocket::bind(io, ep("0.0.0.0", 0), SocketRole::Ike);
  ASSERT_TRUE(s) << s.error();
  const std::uint16_t port = (*s)->local_endpoint().port;
  int replies = 0;
  (*s)->start([&](UdpSocket& sock, const sys::UdpDatagram& d) {
    Status with_source = sock.send_to(as_bytes("pong"), d.remote, d.local.address);
    EXPECT_TRUE(with_source) << with_source.error();
    // Without a source the kernel picks by route: 127.0.0.1, which a peer talking to .2
    // would not recognise.
    Status without = sock.send_to(as_bytes("pong-routed"), d.remote);
    EXPECT_TRUE(without) << without.error();
    ++replies;
  });
  Peer peer(ep("127.0.0.1", 0));
  peer.send("ping", ep("127.0.0.2", port));
  ASSERT_TRUE(run_until(io, [&] { return replies == 1; }));
  auto pong = peer.receive();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->first, "pong");
  EXPECT_EQ(pong->second, ep("127.0.0.2", port));
  auto routed = peer.receive();
  ASSERT_TRUE(routed);
  EXPECT_EQ(routed->second, ep("127.0.0.1", port));
  EXPECT_EQ((*s)->counters().sent, 2u);
}

TEST(UdpSocket, Ipv6WildcardLearnsTheLocalAddressToo) {
  boost::asio::io_context io;
  Peer peer(ep("::1", 0));
  if (!peer.ok()) GTEST_SKIP() << "no IPv6 loopback here";
  auto s = UdpSocket::bind(io, ep("::", 0), SocketRole::Ike);
  ASSERT_TRUE(s) << s.error();
  std::optional<Received> got;
  (*s)->start([&](UdpSocket& sock, const sys::UdpDatagram& d) {
    got = Received{d.local, d.remote, std::string(d.payload.begin(), d.payload.end())};
    EXPECT_TRUE(sock.send_to(as_bytes("pong6"), d.remote, d.local.address));
  });
  peer.send("ping6", ep("::1", (*s)->local_endpoint().port));
  ASSERT_TRUE(run_until(io, [&] { return got.has_value(); }));
  EXPECT_EQ(got->local, ep("::1", (*s)->local_endpoint().port));
  EXPECT_EQ(got->remote, peer.local());
  auto pong = peer.receive();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->first, "pong6");
}

TEST(UdpSocket, V4AndV6WildcardsShareAPort) {
  boost::asio::io_context io;
  auto v4 = UdpSocket::bind(io, ep("0.0.0.0", 0), SocketRole::Ike);
  ASSERT_TRUE(v4) << v4.error();
  Peer probe(ep("::1", 0));
  if (!probe.ok()) GTEST_SKIP() << "no IPv6 here";
  // IPV6_V6ONLY keeps the :: socket off the IPv4 port space.
  auto v6 = UdpSocket::bind(io, ep("::", (*v4)->local_endpoint().port), SocketRole::Ike);
  EXPECT_TRUE(v6) << v6.error();
}

TEST(UdpSocket, BindErrorsNameTheEndpoint) {
  boost::asio::io_context io;
  auto s = UdpSocket::bind(io, ep("192.0.2.1", 500), SocketRole::Ike);  // not an address of this host
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), "cannot bind UDP 192.0.2.1:500: Cannot assign requested address");
}

TEST(UdpSocket, ClosedSocketDeliversNothingAndRefusesToSend) {
  boost::asio::io_context io;
  auto s = UdpSocket::bind(io, ep("127.0.0.1", 0), SocketRole::Ike);
  ASSERT_TRUE(s);
  int calls = 0;
  (*s)->start([&](UdpSocket&, const sys::UdpDatagram&) { ++calls; });
  const Endpoint where = (*s)->local_endpoint();
  (*s)->close();
  Peer peer(ep("127.0.0.1", 0));
  peer.send("late", where);
  run_until(
      io, [] { return false; }, 200ms);
  EXPECT_EQ(calls, 0);
  Status sent = (*s)->send_to(as_bytes("x"), peer.local());
  ASSERT_FALSE(sent);
  EXPECT_EQ((*s)->counters().send_errors, 1u);
}

TEST(UdpSocket, FamilyMismatchIsAnError) {
  boost::asio::io_context io;
  auto s = UdpSocket::bind(io, ep("127.0.0.1", 0), SocketRole::Ike);
  ASSERT_TRUE(s);
  Status sent = (*s)->send_to(as_bytes("x"), ep("::1", 500));
  ASSERT_FALSE(sent);
  EXPECT_NE(sent.error().find("address family"), std::string::npos) << sent.error();
}

TEST(Timer, FiresOnceAfterTheDelay) {
  boost::asio::io_context io;
  Timer t(io);
  int fired = 0;
  const auto start = SteadyClock::now();
  t.arm_after(30ms, [&] { ++fired; });
  EXPECT_TRUE(t.armed());
  ASSERT_TRUE(run_until(io, [&] { return fired == 1; }));
  EXPECT_GE(SteadyClock::now() - start, 30ms);
  EXPECT_FALSE(t.armed());
  run_until(
      io, [] { return false; }, 60ms);
  EXPECT_EQ(fired, 1);
}

TEST(Timer, CancelledTimerNeverFires) {
  boost::asio::io_context io;
  Timer t(io);
  int fired = 0;
  t.arm_after(10ms, [&] { ++fired; });
  t.cancel();
  EXPECT_FALSE(t.armed());
  run_until(
      io, [] { return false; }, 60ms);
  EXPECT_EQ(fired, 0);
}

TEST(Timer, RearmReplacesTheCallbackEvenAfterTheOldDeadlinePassed) {
  boost::asio::io_context io;
  Timer t(io);
  std::vector<std::string> fired;
  t.arm_after(1ms, [&] { fired.push_back("old"); });
  // Let the old deadline pass without running handlers: its completion may already be
  // queued when the timer is re-armed, and must not run the old callback.
  std::this_thread::sleep_for(10ms);
  t.arm_after(20ms, [&] { fired.push_back("new"); });
  ASSERT_TRUE(run_until(io, [&] { return !fired.empty(); }));
  run_until(
      io, [] { return false; }, 50ms);
  EXPECT_EQ(fired, std::vector<std::string>{"new"});
}

TEST(Timer, DestroyedTimerNeverFires) {
  boost::asio::io_context io;
  int fired = 0;
  {
    Timer t(io);
    t.arm_after(1ms, [&] { ++fired; });
    std::this_thread::sleep_for(5ms);
  }
  run_until(
      io, [] { return false; }, 50ms);
  EXPECT_EQ(fired, 0);
}

TEST(Timer, CallbackMayRearmItsTimer) {
  boost::asio::io_context io;
  Timer t(io);
  int fired = 0;
  std::function<void()> tick = [&] {
    if (++fired < 3) t.arm_after(1ms, tick);
  };
  t.arm_after(1ms, tick);
  ASSERT_TRUE(run_until(io, [&] { return fired == 3; }));
  EXPECT_FALSE(t.armed());
}

TEST(TimerSet, KeysFireInDeadlineOrderAndAreRemovedWhenTheyFire) {
  boost::asio::io_context io;
  std::vector<int> order;
  TimerSet<int> timers(io, [&](const int& key) { order.push_back(key); });
  const auto now = SteadyClock::now();
  timers.arm_at(1, now + 40ms);
  timers.arm_at(2, now + 10ms);
  timers.arm_at(3, now + 25ms);
  timers.arm_at(4, now + 25ms);  // same deadline as 3, armed later: fires after it
  EXPECT_EQ(timers.size(), 4u);
  ASSERT_TRUE(run_until(io, [&] { return order.size() == 4; }));
  EXPECT_EQ(order, (std::vector<int>{2, 3, 4, 1}));
  EXPECT_EQ(timers.size(), 0u);
}

TEST(TimerSet, RearmingAKeyReplacesItAndCancelRemovesIt) {
  boost::asio::io_context io;
  std::vector<std::pair<std::string, SteadyClock::time_point>> fired;
  TimerSet<std::string> timers(io,
                               [&](const std::string& key) { fired.emplace_back(key, SteadyClock::now()); });
  const auto start = SteadyClock::now();
  timers.arm_after("retransmit", 5ms);
  timers.arm_after("retransmit", 15ms);
  EXPECT_GE(*timers.deadline("retransmit"), start + 15ms);
  timers.arm_after("dpd", 5ms);
  timers.cancel("dpd");
  EXPECT_FALSE(timers.armed("dpd"));
  EXPECT_FALSE(timers.deadline("dpd").has_value());
  ASSERT_TRUE(run_until(io, [&] { return !fired.empty(); }));
  run_until(
      io, [] { return false; }, 40ms);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].first, "retransmit");
  EXPECT_GE(fired[0].second, start + 15ms);  // the replaced 5 ms deadline did not fire
}

TEST(TimerSet, CancellingTheEarliestKeyMovesTheWakeUpToTheNext) {
  boost::asio::io_context io;
  std::vector<int> fired;
  TimerSet<int> timers(io, [&](const int& key) { fired.push_back(key); });
  timers.arm_after(1, 5ms);
  timers.arm_after(2, 20ms);
  timers.cancel(1);
  ASSERT_TRUE(run_until(io, [&] { return !fired.empty(); }));
  EXPECT_EQ(fired, std::vector<int>{2});
  // After cancel_all nothing fires.
  timers.arm_after(3, 1ms);
  timers.cancel_all();
  run_until(
      io, [] { return false; }, 20ms);
  EXPECT_EQ(fired, std::vector<int>{2});
}

TEST(TimerSet, ManyKeysRearmedAndCancelledFireInDeadlineOrder) {
  // The set keeps a binary heap with positions stored in its map: arming again, cancelling from
  // the middle and firing must keep the order exact (deadlines in the past: all due at once).
  boost::asio::io_context io;
  std::vector<int> fired;
  TimerSet<int> timers(io, [&](const int& key) { fired.push_back(key); });
  const auto base = SteadyClock::now() - 1h;
  std::map<int, std::pair<SteadyClock::time_point, int>> expected;  // key -> (deadline, arming)
  int arming = 0;
  std::uint32_t x = 12345;
  auto next = [&x] { return x = x * 1103515245u + 12345u; };
  for (int round = 0; round < 3000; ++round) {
    const int key = static_cast<int>(next() % 500);
    if (next() % 5 == 0) {
      timers.cancel(key);
      expected.erase(key);
    } else {
      const auto at = base + std::chrono::milliseconds(next() % 200);  // many equal deadlines
      timers.arm_at(key, at);
      expected[key] = {at, arming++};
    }
  }
  ASSERT_EQ(timers.size(), expected.size());
  std::vector<std::pair<std::pair<SteadyClock::time_point, int>, int>> want;
  want.reserve(expected.size());
  for (const auto& [key, when] : expected) want.push_back({when, key});
  std::sort(want.begin(), want.end());
  ASSERT_TRUE(run_until(io, [&] { return fired.size() == want.size(); }));
  for (std::size_t i = 0; i < want.size(); ++i) ASSERT_EQ(fired[i], want[i].second) << "at " << i;
  EXPECT_EQ(timers.size(), 0u);
}

TEST(TimerSet, HandlerMayArmItsOwnKeyAgain) {
  boost::asio::io_context io;
  int fired = 0;
  std::unique_ptr<TimerSet<int>> timers;
  timers = std::make_unique<TimerSet<int>>(io, [&](const int& key) {
    if (++fired < 3) timers->arm_after(key, 1ms);
  });
  timers->arm_after(7, 1ms);
  ASSERT_TRUE(run_until(io, [&] { return fired == 3; }));
  EXPECT_FALSE(timers->armed(7));
}

TEST(TimerSet, HandlerMayDestroyTheSet) {
  boost::asio::io_context io;
  int fired = 0;
  std::unique_ptr<TimerSet<int>> timers;
  timers = std::make_unique<TimerSet<int>>(io, [&](const int&) {
    ++fired;
    timers.reset();
  });
  const auto at = SteadyClock::now() + 2ms;
  timers->arm_at(1, at);
  timers->arm_at(2, at);  // due in the same pass: must not run after the set is gone
  ASSERT_TRUE(run_until(io, [&] { return fired == 1 && timers == nullptr; }));
  run_until(
      io, [] { return false; }, 10ms);
  EXPECT_EQ(fired, 1);
}

}  // namespace
}  // namespace natgate::gateway
