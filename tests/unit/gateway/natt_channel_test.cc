// The NAT-T channels keep local and remote apart on every hop (issue 18: the engine path used
// to flip the pair twice, (from, local) up and (to, from_local) down). The engine channel runs
// against a fake esp::IkeRelay (the real one needs a TUN), the socket channel over loopback.
#include "gateway/core/natt_channel.h"

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <deque>
#include <optional>
#include <vector>

#include "common/endpoint_pair.h"
#include "esp/ike_relay.h"
#include "gateway/core/engine_natt_channel.h"
#include "gateway/io/udp_socket.h"
#include "natt/udp_encap.h"

namespace natgate::gateway::core {
namespace {

using namespace std::chrono_literals;

Endpoint ep(const char* a, std::uint16_t port) { return {*IpAddress::parse(a), port}; }

// What the engine's side of the relay did: datagrams it queued for IKE, and what it was asked
// to send (the pair as handed in, the bytes).
class FakeRelay final : public esp::IkeRelay {
 public:
  FakeRelay() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~FakeRelay() { ::close(fd_); }
  bool ok() const { return fd_ >= 0; }

  // A datagram from the peer arrived: queued and signalled as the engine's inbound path does.
  void arrive(const EndpointPair& ends, Bytes message) {
    queued_.push_back({ends, std::move(message)});
    const std::uint64_t one = 1;
    ASSERT_EQ(::write(fd_, &one, sizeof one), static_cast<ssize_t>(sizeof one));
  }

  int ike_event_fd() const override { return fd_; }
  std::size_t drain_ike(const IkeHandler& handler) override {
    std::uint64_t count = 0;
    (void)::read(fd_, &count, sizeof count);
    std::size_t n = 0;
    for (; !queued_.empty(); ++n) {
      const auto d = std::move(queued_.front());
      queued_.pop_front();
      handler(d.ends, d.message);
    }
    return n;
  }
  Status send_ike(const EndpointPair& ends, ByteView ike_message) override {
    sent.push_back({ends, Bytes(ike_message.begin(), ike_message.end())});
    return {};
  }
  Status send_keepalive(const EndpointPair& ends) override {
    sent.push_back({ends, Bytes(natt::kKeepaliveDatagram.begin(), natt::kKeepaliveDatagram.end())});
    return {};
  }

  struct Datagram {
    EndpointPair ends;
    Bytes message;
  };
  std::vector<Datagram> sent;

 private:
  int fd_;
  std::deque<Datagram> queued_;
};

bool run_until(boost::asio::io_context& io, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (!done() && std::chrono::steady_clock::now() < deadline) io.run_one_for(20ms);
  return done();
}

const EndpointPair kPath{.local = ep("192.0.2.1", 4500), .remote = ep("198.51.100.7", 40000)};

TEST(EngineNattChannel, IkeFromThePeerArrivesWithOurEndAsLocal) {
  boost::asio::io_context io;
  FakeRelay relay;
  ASSERT_TRUE(relay.ok());
  std::vector<std::pair<EndpointPair, Bytes>> received;
  EngineNattChannel channel(io, relay, [&](const EndpointPair& ends, ByteView m) {
    received.emplace_back(ends, Bytes(m.begin(), m.end()));
  });
  relay.arrive(kPath, Bytes{0x01, 0x02, 0x03});
  ASSERT_TRUE(run_until(io, [&] { return !received.empty(); }));
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].first.local, kPath.local);
  EXPECT_EQ(received[0].first.remote, kPath.remote);
  EXPECT_EQ(received[0].second, (Bytes{0x01, 0x02, 0x03}));
}

TEST(EngineNattChannel, IkeAndKeepalivesLeaveFromOurEndToThePeer) {
  boost::asio::io_context io;
  FakeRelay relay;
  ASSERT_TRUE(relay.ok());
  EngineNattChannel channel(io, relay, nullptr);
  const Bytes ike{0xaa, 0xbb};
  ASSERT_TRUE(channel.send_ike(kPath, ike));
  ASSERT_TRUE(channel.send_keepalive(kPath));
  ASSERT_EQ(relay.sent.size(), 2u);
  for (const auto& d : relay.sent) {
    EXPECT_EQ(d.ends.local, kPath.local);
    EXPECT_EQ(d.ends.remote, kPath.remote);
  }
  EXPECT_EQ(relay.sent[0].message, ike);
  EXPECT_EQ(relay.sent[1].message, (Bytes{0xff}));
}

// The same contract over natgated's own sockets: a keepalive and an IKE message leave from the
// socket of our end and reach the peer's.
TEST(SocketNattChannel, SendsFromOurSocketToThePeer) {
  boost::asio::io_context io;
  auto ours = UdpSocket::bind(io, ep("127.0.0.1", 0), SocketRole::NatT);
  ASSERT_TRUE(ours) << ours.error();
  const int peer = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(peer, 0);
  timeval tv{2, 0};
  ::setsockopt(peer, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_storage ss{};
  socklen_t len = ep("127.0.0.1", 0).to_sockaddr(ss);
  ASSERT_EQ(::bind(peer, reinterpret_cast<sockaddr*>(&ss), len), 0);
  len = sizeof ss;
  ASSERT_EQ(::getsockname(peer, reinterpret_cast<sockaddr*>(&ss), &len), 0);
  const Endpoint peer_end = *Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);

  SocketNattChannel channel({ours->get()});
  const EndpointPair ends{.local = (*ours)->local_endpoint(), .remote = peer_end};
  ASSERT_TRUE(channel.send_keepalive(ends));
  ASSERT_TRUE(channel.send_ike(ends, Bytes{0x11, 0x22}));

  const std::vector<Bytes> expected{Bytes{0xff}, Bytes{0x00, 0x00, 0x00, 0x00, 0x11, 0x22}};
  for (const Bytes& want : expected) {
    std::uint8_t buf[64];
    sockaddr_storage from{};
    socklen_t from_len = sizeof from;
    const ssize_t n = ::recvfrom(peer, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    ASSERT_GT(n, 0);
    EXPECT_EQ(Bytes(buf, buf + n), want);
    EXPECT_EQ(*Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&from), from_len), ends.local);
  }
  ::close(peer);
}

}  // namespace
}  // namespace natgate::gateway::core
