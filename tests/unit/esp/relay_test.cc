// The SA-to-SA relay (issue 14; esp/relay_queue.h, esp/inbound_relay.cc): a packet SA A delivers
// whose outbound policy names SA B leaves encrypted with B, without the TUN; anything A's
// selectors or B's policy do not allow, or that a router must not forward, goes where the TUN
// path takes it. The ESP leaves through a real UDP socket on loopback and is read back and
// decrypted with B's keys.
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

constexpr std::uint32_t kSpiA = 0xA001;  // spoke 1 -> hub (inbound here)
constexpr std::uint32_t kSpiB = 0xB002;  // hub -> spoke 2 (outbound here)
constexpr std::uint32_t kReqidA = 1, kReqidB = 2;

Bytes with_ttl(Bytes pkt, std::uint8_t ttl) {
  pkt[8] = ttl;
  put16(pkt, 10, 0);
  put16(pkt, 10, static_cast<std::uint16_t>(~ones_sum(pkt, 0, 20)));
  return pkt;
}

class RelayTest : public ::testing::Test {
 protected:
  RelayTest()
      : events_(64),
        ike_(8),
        coalescer_(64),
        queue_(8, 2048),
        batch_(16, 2048),
        in_(settings_, counters_, events_, ike_, coalescer_, in_tun_, &queue_),
        out_(settings_, counters_, events_, sockets_, batch_, out_tun_) {
    const Endpoint loopback{*IpAddress::parse("127.0.0.1"), 0};
    auto sender = OuterSocket::open_udp(loopback, 0);
    EXPECT_TRUE(sender.has_value());
    const Endpoint hub = (*sender)->local();
    sockets_.add(std::move(*sender));
    auto receiver = sys::open_udp_socket(loopback, {.nonblocking = true});
    EXPECT_TRUE(receiver.has_value());
    spoke2_ = receiver->local;
    spoke2_fd_ = std::move(receiver->fd);

    // SA A: what spoke 1 (10.1.0.0/16) may send through the hub to spoke 2 (10.2.0.0/16) and
    // to 10.3.0.0/16, a network the hub's kernel routes elsewhere (no policy here).
    SaConfig a = keyed(kSpiA, dataplane::Direction::In, kReqidA, 0x11);
    a.path = OuterPath{hub, {*IpAddress::parse("127.0.0.1"), 1}, true};
    a.remote_ts = {ts("10.1.0.0/16")};
    a.local_ts = {ts("10.2.0.0/16"), ts("10.3.0.0/16"), ts("10.4.0.0/16")};
    EXPECT_TRUE(registry_.add_sa(a, 1500));
    SaConfig spoke1 = a;  // spoke 1's sender, keyed the same
    spoke1.direction = dataplane::Direction::Out;
    spoke1_ = *SaState::create(spoke1, 1500, Clock::now());

    // SA B and its policy: only 10.1.0.0/24 of spoke 1 may reach spoke 2.
    SaConfig b = keyed(kSpiB, dataplane::Direction::Out, kReqidB, 0x22);
    b.path = OuterPath{hub, spoke2_, true};
    EXPECT_TRUE(registry_.add_sa(b, 1500));
    SaConfig spoke2 = b;  // spoke 2's receiver, keyed the same
    spoke2.direction = dataplane::Direction::In;
    spoke2_sa_ = *SaState::create(spoke2, 1500, Clock::now());
    EXPECT_TRUE(registry_.add_policy(
        PolicyRule{ts("10.1.0.0/24"), ts("10.2.0.0/16"), dataplane::Direction::Out, kReqidB, 0}));
    // A policy whose SA is not there yet (the TUN path raises the acquire).
    EXPECT_TRUE(registry_.add_policy(
        PolicyRule{ts("10.1.0.0/16"), ts("10.4.0.0/16"), dataplane::Direction::Out, 7, 0}));
  }

  // Spoke 1 sends `inner` to the hub; the hub's inbound worker takes it.
  void from_spoke1(const Bytes& inner) {
    auto& c = spoke1_->crypto();
    Bytes esp(c.sealed_bytes(inner.size()));
    std::memcpy(esp.data() + c.header_bytes(), inner.data(), inner.size());
    ASSERT_EQ(
        c.seal(esp.data(), inner.size(), esp.size(), kNextHeaderIpv4, Spi(kSpiA), *spoke1_->next_sequence()),
        esp.size());
    in_.handle_udp(esp.data(), esp.size(), Endpoint{*IpAddress::parse("127.0.0.1"), 1},
                   sockets_.all()[0]->local(), *registry_.snapshot(), Clock::now());
    in_.flush();
  }
  // The hub's outbound worker takes what was relayed; returns how many packets.
  std::size_t outbound_round() {
    auto table = registry_.snapshot();
    const std::size_t n = queue_.drain(
        [&](std::uint8_t* p, std::size_t len) { out_.handle_relayed(p, len, *table, Clock::now()); });
    out_.flush();
    return n;
  }
  // The next ESP datagram at spoke 2, or empty after a second.
  Bytes at_spoke2() {
    pollfd p{spoke2_fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, 1000) != 1) return {};
    Bytes d(4096);
    const ssize_t n = ::recv(spoke2_fd_.get(), d.data(), d.size(), 0);
    d.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return d;
  }
  // Spoke 2 opens it with B's keys: the inner packet, or empty.
  Bytes open_at_spoke2(Bytes esp) {
    auto opened =
        spoke2_sa_->crypto().open(esp.data(), esp.size(), SequenceNumber(wire::be32(esp.data() + 4)));
    if (!opened) return {};
    return Bytes(esp.begin() + static_cast<std::ptrdiff_t>(opened->inner_offset),
                 esp.begin() + static_cast<std::ptrdiff_t>(opened->inner_offset + opened->inner_len));
  }

  EngineSettings settings_;
  EngineCounters counters_;
  EventQueue<EngineEvent> events_;
  EventQueue<IkeDatagram> ike_;
  TcpCoalescer coalescer_;
  RelayQueue queue_;
  SocketSet sockets_;
  SendBatch batch_;
  Recorder in_tun_, out_tun_;
  InboundPath in_;
  OutboundPath out_;
  SaRegistry registry_;
  std::shared_ptr<SaState> spoke1_, spoke2_sa_;
  Endpoint spoke2_;
  sys::UniqueFd spoke2_fd_;
};

TEST_F(RelayTest, PacketForSpoke2LeavesEncryptedWithSaBAndNeverTouchesTheTun) {
  const Bytes inner = with_ttl(udp_packet(true, "10.1.0.10", "10.2.0.20", 4000, 5000, 300), 64);
  from_spoke1(inner);
  EXPECT_TRUE(in_tun_.packets.empty());
  EXPECT_EQ(counters_.relay_forwarded.load(), 1u);
  EXPECT_EQ(counters_.relay_bytes.load(), inner.size());
  EXPECT_EQ(counters_.in_packets.load(), 1u);  // A counted it as delivered
  ASSERT_EQ(outbound_round(), 1u);
  EXPECT_TRUE(out_tun_.packets.empty());
  EXPECT_EQ(counters_.out_packets.load(), 1u);
  EXPECT_EQ(counters_.tun_reads.load(), 0u);
  EXPECT_EQ(counters_.tun_writes.load(), 0u);

  Bytes esp = at_spoke2();
  ASSERT_GE(esp.size(), 8u);
  // RFC 4303 §2: B's SPI and B's first sequence number on the wire.
  EXPECT_EQ(to_hex(ByteView(esp.data(), 8)), "0000b00200000001");
  const Bytes got = open_at_spoke2(esp);
  ASSERT_EQ(got.size(), inner.size());
  // The same packet, one hop later: TTL 63 and a header checksum that verifies.
  EXPECT_EQ(got[8], 63);
  EXPECT_TRUE(ipv4_header_ok(got));
  Bytes expected = with_ttl(inner, 63);
  EXPECT_EQ(to_hex(got), to_hex(expected));
  EXPECT_EQ(registry_.find(Spi(kSpiB), dataplane::Direction::Out, spoke2_.address)->stats().packets.load(),
            1u);
}

TEST_F(RelayTest, Ipv6HopLimitIsLoweredAndThePacketSealedWithItsSa) {
  // A second pair of SAs for IPv6 inner traffic (RFC 8200 §3: Hop Limit, no header checksum).
  SaConfig a6 = keyed(0xA006, dataplane::Direction::In, 3, 0x33);
  a6.path = OuterPath{sockets_.all()[0]->local(), {*IpAddress::parse("127.0.0.1"), 1}, true};
  a6.remote_ts = {ts("fd00:1::/64")};
  a6.local_ts = {ts("fd00:2::/64")};
  ASSERT_TRUE(registry_.add_sa(a6, 1500));
  SaConfig b6 = keyed(0xB006, dataplane::Direction::Out, 4, 0x44);
  b6.path = OuterPath{sockets_.all()[0]->local(), spoke2_, true};
  ASSERT_TRUE(registry_.add_sa(b6, 1500));
  ASSERT_TRUE(registry_.add_policy(
      PolicyRule{ts("fd00:1::/64"), ts("fd00:2::/64"), dataplane::Direction::Out, 4, 0}));
  SaConfig s6 = a6;
  s6.direction = dataplane::Direction::Out;
  auto sender = *SaState::create(s6, 1500, Clock::now());
  SaConfig r6 = b6;
  r6.direction = dataplane::Direction::In;
  auto receiver = *SaState::create(r6, 1500, Clock::now());

  const Bytes inner = udp_packet(false, "fd00:1::10", "fd00:2::20", 4000, 5000, 200);
  ASSERT_EQ(inner[7], 64);
  Bytes esp(sender->crypto().sealed_bytes(inner.size()));
  std::memcpy(esp.data() + sender->crypto().header_bytes(), inner.data(), inner.size());
  ASSERT_EQ(sender->crypto().seal(esp.data(), inner.size(), esp.size(), kNextHeaderIpv6, Spi(0xA006),
                                  *sender->next_sequence()),
            esp.size());
  in_.handle_esp(esp.data(), esp.size(), a6.path.remote, *registry_.snapshot(), Clock::now());
  in_.flush();
  EXPECT_TRUE(in_tun_.packets.empty());
  ASSERT_EQ(outbound_round(), 1u);
  Bytes wire = at_spoke2();
  ASSERT_GE(wire.size(), 8u);
  EXPECT_EQ(to_hex(ByteView(wire.data(), 8)), "0000b00600000001");
  auto opened = receiver->crypto().open(wire.data(), wire.size(), SequenceNumber(1));
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(opened->next_header, kNextHeaderIpv6);
  Bytes got(wire.begin() + static_cast<std::ptrdiff_t>(opened->inner_offset),
            wire.begin() + static_cast<std::ptrdiff_t>(opened->inner_offset + opened->inner_len));
  Bytes expected = inner;
  expected[7] = 63;
  EXPECT_EQ(to_hex(got), to_hex(expected));
  EXPECT_TRUE(l4_checksum_ok(got));  // the hop limit is outside the UDP pseudo-header
}

TEST_F(RelayTest, PacketOutsideBsPolicyGoesToTheTun) {
  // A admits 10.1.9.10 -> 10.2.0.20, but B's policy only takes 10.1.0.0/24: the kernel decides.
  const Bytes inner = udp_packet(true, "10.1.9.10", "10.2.0.20", 4000, 5000, 100);
  from_spoke1(inner);
  ASSERT_EQ(in_tun_.packets.size(), 1u);
  EXPECT_EQ(to_hex(in_tun_.packets[0]), to_hex(inner));  // untouched: the kernel decrements
  EXPECT_EQ(counters_.relay_forwarded.load(), 0u);
  EXPECT_EQ(outbound_round(), 0u);
  // And a destination no policy covers (10.3.0.0/16) is the TUN's without counting a fallback.
  from_spoke1(udp_packet(true, "10.1.0.10", "10.3.0.1", 4000, 5000, 100));
  EXPECT_EQ(in_tun_.packets.size(), 2u);
  EXPECT_EQ(counters_.relay_forwarded.load(), 0u);
  EXPECT_EQ(counters_.relay_to_tun_fallback.load(), 0u);
  EXPECT_TRUE(at_spoke2().empty());
}

TEST_F(RelayTest, PacketOutsideAsSelectorsIsDroppedNotRelayed) {
  // 10.5.0.1 is not within A's remote selectors (RFC 4301 §5.2): dropped before any relay.
  from_spoke1(udp_packet(true, "10.5.0.1", "10.2.0.20", 4000, 5000, 100));
  // 10.1.0.10 -> 10.6.0.1: B's policy would not take it either, and A's local selectors refuse.
  from_spoke1(udp_packet(true, "10.1.0.10", "10.6.0.1", 4000, 5000, 100));
  EXPECT_EQ(counters_.in_selector_drops.load(), 2u);
  EXPECT_EQ(counters_.relay_forwarded.load(), 0u);
  EXPECT_TRUE(in_tun_.packets.empty());
  EXPECT_EQ(outbound_round(), 0u);
}

TEST_F(RelayTest, PolicyWithoutSaAndExpiringTtlAreLeftToTheKernel) {
  from_spoke1(udp_packet(true, "10.1.0.10", "10.4.0.1", 4000, 5000, 100));  // policy, no SA yet
  EXPECT_EQ(counters_.relay_to_tun_fallback.load(), 1u);
  const Bytes last_hop = with_ttl(udp_packet(true, "10.1.0.10", "10.2.0.20", 4000, 5000, 100), 1);
  from_spoke1(last_hop);  // the kernel answers ICMP Time Exceeded (RFC 1812 §5.3.1)
  EXPECT_EQ(counters_.relay_ttl_to_tun.load(), 1u);
  ASSERT_EQ(in_tun_.packets.size(), 2u);
  EXPECT_EQ(to_hex(in_tun_.packets[1]), to_hex(last_hop));
  EXPECT_EQ(counters_.relay_forwarded.load(), 0u);
  EXPECT_EQ(outbound_round(), 0u);
}

TEST_F(RelayTest, SaBRemovedBeforeTheOutboundWorkerSealsSendsThePacketToTheTun) {
  const Bytes inner = with_ttl(udp_packet(true, "10.1.0.10", "10.2.0.20", 4000, 5000, 100), 64);
  from_spoke1(inner);
  ASSERT_EQ(counters_.relay_forwarded.load(), 1u);
  ASSERT_TRUE(registry_.remove_sa(Spi(kSpiB), dataplane::Direction::Out, spoke2_.address));
  EXPECT_EQ(outbound_round(), 1u);
  EXPECT_EQ(counters_.relay_late_to_tun.load(), 1u);
  ASSERT_EQ(out_tun_.packets.size(), 1u);
  EXPECT_EQ(to_hex(out_tun_.packets[0]), to_hex(with_ttl(inner, 63)));
  EXPECT_EQ(counters_.out_packets.load(), 0u);
}

TEST_F(RelayTest, FullQueueDropsAndCounts) {
  for (int i = 0; i < 10; ++i) from_spoke1(udp_packet(true, "10.1.0.10", "10.2.0.20", 4000, 5000, 100));
  EXPECT_EQ(counters_.relay_forwarded.load(), queue_.capacity());
  EXPECT_EQ(counters_.relay_queue_drops.load(), 10 - queue_.capacity());
  EXPECT_EQ(outbound_round(), queue_.capacity());
  EXPECT_EQ(counters_.out_packets.load(), queue_.capacity());
}

TEST(RelayOff, WithoutAQueueEverythingGoesToTheTun) {
  EngineSettings settings;
  EngineCounters counters;
  EventQueue<EngineEvent> events(8);
  EventQueue<IkeDatagram> ike(8);
  TcpCoalescer coalescer(8);
  Recorder tun;
  InboundPath in(settings, counters, events, ike, coalescer, tun);  // no relay queue
  SaRegistry registry;
  SaConfig a = keyed(kSpiA, dataplane::Direction::In, kReqidA, 0x11);
  a.remote_ts = {ts("10.1.0.0/16")};
  a.local_ts = {ts("10.2.0.0/16")};
  ASSERT_TRUE(registry.add_sa(a, 1500));
  ASSERT_TRUE(registry.add_sa(keyed(kSpiB, dataplane::Direction::Out, kReqidB, 0x22), 1500));
  ASSERT_TRUE(registry.add_policy(
      PolicyRule{ts("10.1.0.0/16"), ts("10.2.0.0/16"), dataplane::Direction::Out, kReqidB, 0}));
  SaConfig s = a;
  s.direction = dataplane::Direction::Out;
  auto spoke1 = *SaState::create(s, 1500, Clock::now());
  const Bytes inner = udp_packet(true, "10.1.0.10", "10.2.0.20", 4000, 5000, 100);
  Bytes esp(spoke1->crypto().sealed_bytes(inner.size()));
  std::memcpy(esp.data() + spoke1->crypto().header_bytes(), inner.data(), inner.size());
  ASSERT_EQ(spoke1->crypto().seal(esp.data(), inner.size(), esp.size(), kNextHeaderIpv4, Spi(kSpiA),
                                  *spoke1->next_sequence()),
            esp.size());
  in.handle_esp(esp.data(), esp.size(), Endpoint{}, *registry.snapshot(), Clock::now());
  in.flush();
  ASSERT_EQ(tun.packets.size(), 1u);
  EXPECT_EQ(to_hex(tun.packets[0]), to_hex(inner));
  EXPECT_EQ(counters.relay_forwarded.load(), 0u);
}

}  // namespace
}  // namespace natgate::esp
