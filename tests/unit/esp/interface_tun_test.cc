// Route-based SAs (`interface:`, configs/README.md "interface"; esp/engine.h InterfaceTun): an SA
// with an if_id seals only packets read from its interface's TUN and writes what it decrypts
// only to that TUN, past the coalescer and the SA-to-SA relay, even with 0.0.0.0/0 selectors
// that match everything. The ESP leaves through a real UDP socket on loopback.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

#include "engine_path_support.h"
#include "esp/inbound_path.h"
#include "esp/net/send_batch.h"
#include "esp/net/socket_set.h"
#include "esp/outbound_path.h"
#include "esp/relay_queue.h"
#include "esp/sa/sa_table.h"
#include "esp/tun/virtio_net_hdr.h"
#include "esp/wire/fields.h"
#include "sys/udp_socket.h"
#include "test_packets.h"

namespace natgate::esp {
namespace {

using namespace testing;

constexpr std::uint32_t kSpiIn = 0x1001;     // the route-based connection's inbound SA
constexpr std::uint32_t kSpiOut = 0x1002;    // and its outbound one
constexpr std::uint32_t kSpiOther = 0x2001;  // a policy-based connection's inbound SA
constexpr std::uint32_t kReqid = 5, kOtherReqid = 6;
constexpr std::uint16_t kIfId = 1;

class InterfaceTunTest : public ::testing::Test {
 protected:
  InterfaceTunTest()
      : events_(64),
        ike_(8),
        coalescer_(64),
        queue_(8, 2048),
        batch_(16, 2048),
        in_(settings_, counters_, events_, ike_, coalescer_, main_in_, &queue_),
        out_(settings_, counters_, events_, sockets_, batch_, main_out_) {
    const Endpoint loopback{*IpAddress::parse("127.0.0.1"), 0};
    auto sender = OuterSocket::open_udp(loopback, 0);
    EXPECT_TRUE(sender.has_value());
    const Endpoint us = (*sender)->local();
    sockets_.add(std::move(*sender));
    auto receiver = sys::open_udp_socket(loopback, {.nonblocking = true});
    EXPECT_TRUE(receiver.has_value());
    peer_ = receiver->local;
    peer_fd_ = std::move(receiver->fd);

    // The route-based pair: 0.0.0.0/0 on both sides, if_id 1.
    SaConfig in = keyed(kSpiIn, dataplane::Direction::In, kReqid, 0x11);
    in.path = OuterPath{us, peer_, true};
    in.remote_ts = {ts("0.0.0.0/0")};
    in.local_ts = {ts("0.0.0.0/0")};
    in.if_id = kIfId;
    EXPECT_TRUE(registry_.add_sa(in, 1500));
    SaConfig sender_cfg = in;  // the peer's outbound SA, keyed the same
    sender_cfg.direction = dataplane::Direction::Out;
    peer_sender_ = *SaState::create(sender_cfg, 1500, Clock::now());

    SaConfig out = keyed(kSpiOut, dataplane::Direction::Out, kReqid, 0x22);
    out.path = OuterPath{us, peer_, true};
    out.if_id = kIfId;
    EXPECT_TRUE(registry_.add_sa(out, 1500));
    EXPECT_TRUE(registry_.add_policy(
        PolicyRule{ts("0.0.0.0/0"), ts("0.0.0.0/0"), dataplane::Direction::Out, kReqid, 0}));

    // A policy-based connection's inbound SA (if_id 0) from 10.7.0.0/16.
    SaConfig other = keyed(kSpiOther, dataplane::Direction::In, kOtherReqid, 0x33);
    other.path = OuterPath{us, {*IpAddress::parse("127.0.0.1"), 1}, true};
    other.remote_ts = {ts("10.7.0.0/16")};
    other.local_ts = {ts("0.0.0.0/0")};
    EXPECT_TRUE(registry_.add_sa(other, 1500));
    SaConfig other_sender = other;
    other_sender.direction = dataplane::Direction::Out;
    other_sender_ = *SaState::create(other_sender, 1500, Clock::now());
  }

  void deliver(SaState& sender, std::uint32_t spi, const Bytes& inner) {
    auto& c = sender.crypto();
    Bytes esp(c.sealed_bytes(inner.size()));
    std::memcpy(esp.data() + c.header_bytes(), inner.data(), inner.size());
    ASSERT_EQ(
        c.seal(esp.data(), inner.size(), esp.size(), kNextHeaderIpv4, Spi(spi), *sender.next_sequence()),
        esp.size());
    in_.handle_esp(esp.data(), esp.size(), peer_, *registry_.snapshot(), Clock::now());
    in_.flush();
  }
  // A packet as a TUN read gives it (empty virtio-net header), from TUN `if_id`.
  void from_tun(const Bytes& inner, std::uint16_t if_id) {
    Bytes frame(sizeof(VirtioNetHdr), 0);
    frame.insert(frame.end(), inner.begin(), inner.end());
    out_.handle(frame.data(), frame.size(), *registry_.snapshot(), Clock::now(), if_id);
    out_.flush();
  }
  // The next ESP datagram at the peer, or empty after `ms`.
  Bytes at_peer(int ms = 1000) {
    pollfd p{peer_fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, ms) != 1) return {};
    Bytes d(4096);
    const ssize_t n = ::recv(peer_fd_.get(), d.data(), d.size(), 0);
    d.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return d;
  }

  EngineSettings settings_;
  EngineCounters counters_;
  EventQueue<EngineEvent> events_;
  EventQueue<IkeDatagram> ike_;
  TcpCoalescer coalescer_;
  RelayQueue queue_;
  SocketSet sockets_;
  SendBatch batch_;
  Recorder main_in_, main_out_, vpn0_;
  InboundPath in_;
  OutboundPath out_;
  SaRegistry registry_;
  std::shared_ptr<SaState> peer_sender_, other_sender_;
  Endpoint peer_;
  sys::UniqueFd peer_fd_;
};

TEST_F(InterfaceTunTest, DecryptedPacketsGoToTheirInterfaceNotTheMainTunNorTheRelay) {
  in_.add_interface(kIfId, vpn0_);
  const Bytes inner = udp_packet(true, "10.2.0.10", "10.1.0.10", 4000, 5000, 200);
  deliver(*peer_sender_, kSpiIn, inner);
  ASSERT_EQ(vpn0_.packets.size(), 1u);
  EXPECT_EQ(to_hex(vpn0_.packets[0]), to_hex(inner));  // untouched: the kernel routes it on
  EXPECT_TRUE(main_in_.packets.empty());
  // The 0/0 outbound policy names an SA of this engine, yet nothing was relayed back out.
  EXPECT_EQ(counters_.relay_forwarded.load(), 0u);
  EXPECT_EQ(queue_.drain([](std::uint8_t*, std::size_t) {}), 0u);
}

TEST_F(InterfaceTunTest, WithoutItsTunTheyAreDroppedAndCounted) {
  deliver(*peer_sender_, kSpiIn, udp_packet(true, "10.2.0.10", "10.1.0.10", 4000, 5000, 100));
  EXPECT_EQ(counters_.iface_no_tun.load(), 1u);
  EXPECT_TRUE(main_in_.packets.empty());
}

TEST_F(InterfaceTunTest, OnlyPacketsFromItsTunAreSealed) {
  const Bytes inner = udp_packet(true, "10.1.0.10", "10.2.0.10", 4000, 5000, 200);
  // Routed into the main TUN: the 0/0 policy matches, but the SA is vpn0's.
  from_tun(inner, 0);
  EXPECT_EQ(counters_.out_wrong_interface.load(), 1u);
  EXPECT_EQ(counters_.out_packets.load(), 0u);
  EXPECT_TRUE(at_peer(200).empty());
  // Routed into vpn0: sealed with the connection's outbound SA.
  from_tun(inner, kIfId);
  EXPECT_EQ(counters_.out_packets.load(), 1u);
  const Bytes esp = at_peer();
  ASSERT_GE(esp.size(), 8u);
  EXPECT_EQ(to_hex(ByteView(esp.data(), 8)), "0000100200000001");  // RFC 4303 §2: SPI, sequence 1
  // And a TUN of another interface does not reach it either.
  from_tun(inner, 2);
  EXPECT_EQ(counters_.out_wrong_interface.load(), 2u);
}

TEST_F(InterfaceTunTest, APolicyBasedSaDoesNotRelayIntoARouteBasedOne) {
  in_.add_interface(kIfId, vpn0_);
  // From the other connection to a destination the route-based 0/0 policy covers: the host's
  // routes decide (main TUN), the relay stays out of it.
  const Bytes inner = udp_packet(true, "10.7.0.10", "10.2.0.10", 4000, 5000, 100);
  deliver(*other_sender_, kSpiOther, inner);
  ASSERT_EQ(main_in_.packets.size(), 1u);
  EXPECT_EQ(to_hex(main_in_.packets[0]), to_hex(inner));
  EXPECT_TRUE(vpn0_.packets.empty());
  EXPECT_EQ(counters_.relay_forwarded.load(), 0u);
}

}  // namespace
}  // namespace natgate::esp
