// SA state (sequence numbers, lifetimes), the published SA table (policy precedence, newest SA
// per reqid, inbound selector admission), and the inbound path's drops and counters.
#include "esp/sa/sa_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "esp/inbound_path.h"
#include "esp/sa/idle_contexts.h"
#include "natt/udp_encap.h"
#include "test_packets.h"

namespace natgate::esp {
namespace {

using namespace testing;

TrafficSelector ts(const char* subnet) { return TrafficSelector::from_subnet(*Subnet::parse(subnet)); }

SaConfig sa_config(std::uint32_t spi, dataplane::Direction dir, std::uint32_t reqid = 1) {
  SaConfig c;
  c.spi = Spi(spi);
  c.direction = dir;
  c.reqid = reqid;
  c.suite = *Suite::parse("aes128gcm16");
  c.encr_keymat = SecretBytes(Bytes(20, static_cast<std::uint8_t>(spi)));
  c.path = OuterPath{{*IpAddress::parse("192.0.2.2"), 4500}, {*IpAddress::parse("192.0.2.1"), 4500}, true};
  return c;
}

TEST(SaState, SequenceNumbersStopBeforeTheySpaceCycles) {
  // RFC 4303 §3.3.3: without ESN the 32-bit counter must not wrap; the SA hard-expires instead.
  SaConfig c = sa_config(0x1000, dataplane::Direction::Out);
  c.last_sequence = 0xFFFFFFFDull;
  auto sa = *SaState::create(c, 1500, Clock::now());
  EXPECT_EQ(sa->check_volume(), SaState::Expiry::Soft);  // already within the rekey margin
  EXPECT_EQ(sa->next_sequence()->value(), 0xFFFFFFFEull);
  EXPECT_EQ(sa->next_sequence()->value(), 0xFFFFFFFFull);
  EXPECT_FALSE(sa->next_sequence().has_value());
  EXPECT_EQ(sa->check_volume(), SaState::Expiry::Hard);
  EXPECT_TRUE(sa->hard_expired());
  EXPECT_EQ(sa->check_volume(), SaState::Expiry::None);  // reported once

  c.suite.esn = true;  // with ESN the counter goes on into the high half
  auto esn = *SaState::create(c, 1500, Clock::now());
  esn->next_sequence();
  esn->next_sequence();
  EXPECT_EQ(esn->next_sequence()->value(), 0x100000000ull);
  EXPECT_EQ(esn->check_volume(), SaState::Expiry::None);
}

TEST(SaState, VolumeAndTimeLifetimesRaiseSoftThenHardOnce) {
  SaConfig c = sa_config(0x1000, dataplane::Direction::In);
  c.soft.packets = 2;
  c.hard.packets = 4;
  c.soft.seconds = 10;
  c.hard.seconds = 20;
  const auto t0 = Clock::now();
  auto sa = *SaState::create(c, 1500, t0);
  SaState::bump(sa->stats().packets);
  EXPECT_EQ(sa->check_volume(), SaState::Expiry::None);
  SaState::bump(sa->stats().packets);
  EXPECT_EQ(sa->check_volume(), SaState::Expiry::Soft);
  SaState::bump(sa->stats().packets);
  EXPECT_EQ(sa->check_volume(), SaState::Expiry::None);
  EXPECT_EQ(sa->check_time(t0 + std::chrono::seconds(15)), SaState::Expiry::None);  // soft already said
  EXPECT_EQ(sa->check_time(t0 + std::chrono::seconds(21)), SaState::Expiry::Hard);
  EXPECT_TRUE(sa->hard_expired());
}

TEST(SaState, RefusesReservedSpisAndBadKeys) {
  EXPECT_FALSE(SaState::create(sa_config(255, dataplane::Direction::In), 1500, Clock::now()).has_value());
  SaConfig c = sa_config(0x1000, dataplane::Direction::In);
  c.encr_keymat = SecretBytes(Bytes(16, 1));  // salt missing
  EXPECT_FALSE(SaState::create(c, 1500, Clock::now()).has_value());
  c = sa_config(0x1000, dataplane::Direction::In);
  c.replay_window = 5000;
  EXPECT_FALSE(SaState::create(c, 1500, Clock::now()).has_value());
}

TEST(SaTable, MostSpecificOutboundPolicyWins) {
  SaRegistry r;
  ASSERT_TRUE(r.add_policy({ts("10.1.0.0/16"), ts("10.2.0.0/16"), dataplane::Direction::Out, 1, 0}));
  ASSERT_TRUE(r.add_policy({ts("10.1.0.0/16"), ts("10.2.3.0/24"), dataplane::Direction::Out, 2, 0}));
  ASSERT_TRUE(r.add_policy({ts("10.1.5.0/24"), ts("10.2.0.0/16"), dataplane::Direction::Out, 3, 0}));
  ASSERT_TRUE(r.add_sa(sa_config(0x1001, dataplane::Direction::Out, 1), 1500));
  ASSERT_TRUE(r.add_sa(sa_config(0x1002, dataplane::Direction::Out, 2), 1500));
  auto t = r.snapshot();
  auto reqid_for = [&](const char* src, const char* dst) -> int {
    Bytes p = udp_packet(true, src, dst, 1, 2, 4);
    auto m = t->outbound(*parse_inner(p.data(), p.size()));
    return m.policy ? static_cast<int>(m.policy->reqid) : 0;
  };
  EXPECT_EQ(reqid_for("10.1.0.1", "10.2.0.1"), 1);
  EXPECT_EQ(reqid_for("10.1.5.1", "10.2.3.1"), 2);  // narrower destination beats narrower source
  EXPECT_EQ(reqid_for("10.1.5.1", "10.2.4.1"), 3);
  EXPECT_EQ(reqid_for("10.3.0.1", "10.2.0.1"), 0);  // no policy
  Bytes p = udp_packet(true, "10.1.5.1", "10.2.4.1", 1, 2, 4);
  auto m = t->outbound(*parse_inner(p.data(), p.size()));
  EXPECT_EQ(m.sa, nullptr);  // policy 3 has no SA: acquire
}

TEST(SaTable, NewestOutboundSaOfAReqidCarriesTrafficAndSnapshotsAreStable) {
  SaRegistry r;
  ASSERT_TRUE(r.add_policy({ts("10.1.0.0/24"), ts("10.2.0.0/24"), dataplane::Direction::Out, 7, 0}));
  ASSERT_TRUE(r.add_sa(sa_config(0x2001, dataplane::Direction::Out, 7), 1500));
  auto before = r.snapshot();
  ASSERT_TRUE(r.add_sa(sa_config(0x2002, dataplane::Direction::Out, 7), 1500));  // rekeyed
  Bytes p = udp_packet(true, "10.1.0.1", "10.2.0.1", 1, 2, 4);
  auto info = *parse_inner(p.data(), p.size());
  EXPECT_EQ(r.snapshot()->outbound(info).sa->sa->spi().value, 0x2002u);
  EXPECT_EQ(before->outbound(info).sa->sa->spi().value, 0x2001u);  // a worker's old view still works
  ASSERT_TRUE(r.remove_sa(Spi(0x2002), dataplane::Direction::Out, *IpAddress::parse("192.0.2.1")));
  EXPECT_EQ(r.snapshot()->outbound(info).sa->sa->spi().value, 0x2001u);
  // Moving the peer re-keys the outbound SA under its new address.
  OuterPath moved{{IpAddress::any(IpFamily::V4), 4500}, {*IpAddress::parse("192.0.2.9"), 31000}, true};
  ASSERT_TRUE(r.update_path(Spi(0x2001), dataplane::Direction::Out, *IpAddress::parse("192.0.2.1"), moved));
  EXPECT_EQ(r.snapshot()->outbound(info).sa->path.remote.port, 31000);
  EXPECT_TRUE(r.find(Spi(0x2001), dataplane::Direction::Out, *IpAddress::parse("192.0.2.9")));
  EXPECT_FALSE(r.find(Spi(0x2001), dataplane::Direction::Out, *IpAddress::parse("192.0.2.1")));
}

// An SA whose peer is on an RFC 9329 stream (its remote is a shim in 127.64.0.0/10,
// natt/tcp_shim.h) is sized for the stream: one ESP frame per full-size TCP segment
// (esp/tun/mtu.h), 1410 inner bytes for AES-GCM on a 1500-byte path against 1438 over UDP; the
// outbound MSS clamp and too-big answers use that. Moving it to a shim (a MOBIKE move to TCP)
// re-sizes it.
TEST(SaTable, AnSaTowardsATcpEncapsulationShimIsSizedForTheStream) {
  SaRegistry r;
  ASSERT_TRUE(r.add_policy({ts("10.1.0.0/24"), ts("10.2.0.0/24"), dataplane::Direction::Out, 7, 0}));
  ASSERT_TRUE(r.add_sa(sa_config(0x2001, dataplane::Direction::Out, 7), 1500));
  Bytes p = udp_packet(true, "10.1.0.1", "10.2.0.1", 1, 2, 4);
  auto info = *parse_inner(p.data(), p.size());
  EXPECT_EQ(r.snapshot()->outbound(info).sa->max_inner, 1438u);  // over UDP
  OuterPath to_shim{{*IpAddress::parse("127.0.0.1"), 4500}, {*IpAddress::parse("127.64.0.5"), 40000}, true};
  ASSERT_TRUE(r.update_path(Spi(0x2001), dataplane::Direction::Out, *IpAddress::parse("192.0.2.1"), to_shim));
  EXPECT_EQ(r.snapshot()->outbound(info).sa->max_inner, 1410u);
  // 127.0.0.1 is no shim: a loopback peer is sized as ESP in UDP.
  OuterPath loop{{*IpAddress::parse("127.0.0.1"), 4500}, {*IpAddress::parse("127.0.0.2"), 40000}, true};
  ASSERT_TRUE(r.update_path(Spi(0x2001), dataplane::Direction::Out, *IpAddress::parse("127.64.0.5"), loop));
  EXPECT_EQ(r.snapshot()->outbound(info).sa->max_inner, 1438u);
}

TEST(SaTable, SecondsLifetimesComeDueInOrderOnceAndNotAfterRemoval) {
  SaRegistry r;
  const auto t0 = Clock::now();
  SaConfig a = sa_config(0x4001, dataplane::Direction::In);
  a.soft.seconds = 10;
  a.hard.seconds = 20;
  SaConfig b = sa_config(0x4002, dataplane::Direction::In);
  b.hard.seconds = 5;
  SaConfig gone = sa_config(0x4003, dataplane::Direction::In);
  gone.soft.seconds = 3;
  ASSERT_TRUE(r.add_sa(a, 1500));
  ASSERT_TRUE(r.add_sa(b, 1500));
  ASSERT_TRUE(r.add_sa(gone, 1500));
  ASSERT_TRUE(r.add_sa(sa_config(0x4004, dataplane::Direction::In), 1500));  // no seconds lifetime
  ASSERT_TRUE(r.remove_sa(Spi(0x4003), dataplane::Direction::In, IpAddress()));
  auto table = r.snapshot();
  auto spis = [&](const std::vector<SaRegistry::Due>& due) {
    std::vector<std::uint32_t> out;
    for (const auto& d : due) {
      const SaRef* ref = SaRegistry::find_due(*table, d);
      EXPECT_NE(ref, nullptr);
      if (ref) out.push_back(ref->sa->spi().value);
    }
    return out;
  };
  EXPECT_TRUE(r.take_due(t0).empty());
  // Installed a moment after t0: nothing is due a hair before the lifetimes' seconds.
  EXPECT_TRUE(r.take_due(t0 + std::chrono::milliseconds(4900)).empty());
  EXPECT_EQ(spis(r.take_due(t0 + std::chrono::seconds(12))), (std::vector<std::uint32_t>{0x4002, 0x4001}));
  EXPECT_TRUE(r.take_due(t0 + std::chrono::seconds(12)).empty());  // handed out once
  EXPECT_EQ(spis(r.take_due(t0 + std::chrono::seconds(3600))), (std::vector<std::uint32_t>{0x4001}));
  EXPECT_TRUE(r.take_due(t0 + std::chrono::seconds(7200)).empty());
}

TEST(SaTable, AnOutboundSaSupersededByANewerOneOfItsReqidIsNotFoundDue) {
  // Housekeeping finds a due outbound SA as the newest of its reqid (the snapshot has no map of
  // every SA); the older one carries no traffic and is deleted by the rekey that replaced it.
  SaRegistry r;
  const auto t0 = Clock::now();
  SaConfig old_out = sa_config(0x4101, dataplane::Direction::Out, 7);
  old_out.soft.seconds = 10;
  SaConfig new_out = sa_config(0x4102, dataplane::Direction::Out, 7);
  new_out.soft.seconds = 10;
  ASSERT_TRUE(r.add_sa(old_out, 1500));
  ASSERT_TRUE(r.add_sa(new_out, 1500));
  const auto due = r.take_due(t0 + std::chrono::seconds(11));
  ASSERT_EQ(due.size(), 2u);
  auto table = r.snapshot();
  EXPECT_EQ(table->sa_count(), 2u);
  EXPECT_EQ(SaRegistry::find_due(*table, due[0]), nullptr);
  ASSERT_NE(SaRegistry::find_due(*table, due[1]), nullptr);
  EXPECT_EQ(SaRegistry::find_due(*table, due[1])->sa->spi().value, 0x4102u);
  // Removed after the snapshot the worker holds: still there for it, gone from the next one.
  ASSERT_TRUE(r.remove_sa(Spi(0x4102), dataplane::Direction::Out, *IpAddress::parse("192.0.2.1")));
  EXPECT_NE(SaRegistry::find_due(*table, due[1]), nullptr);
  EXPECT_EQ(SaRegistry::find_due(*r.snapshot(), due[1]), nullptr);
}

TEST(SaTable, ReplacingAPolicyHandsItsTrafficToTheSuccessorInOneSnapshot) {
  // A road warrior's next IKE SA (new reqid) takes over the policy of its virtual IP: each
  // published table has the policy, first with the old reqid, then with the new one.
  SaRegistry r;
  ASSERT_TRUE(r.add_policy({ts("0.0.0.0/0"), ts("10.99.0.1/32"), dataplane::Direction::Out, 0x10000, 0}));
  ASSERT_TRUE(r.add_sa(sa_config(0x3001, dataplane::Direction::Out, 0x10000), 1500));
  ASSERT_TRUE(r.add_sa(sa_config(0x3002, dataplane::Direction::Out, 0x10001), 1500));
  Bytes p = udp_packet(true, "10.1.0.1", "10.99.0.1", 1, 2, 4);
  auto info = *parse_inner(p.data(), p.size());
  auto before = r.snapshot();
  const auto version = r.version();
  ASSERT_TRUE(r.replace_policy({ts("0.0.0.0/0"), ts("10.99.0.1/32"), dataplane::Direction::Out, 0x10001, 0}));
  EXPECT_EQ(r.version(), version + 1);  // one swap
  EXPECT_EQ(r.policy_count(), 1u);
  EXPECT_EQ(before->outbound(info).sa->sa->spi().value, 0x3001u);
  EXPECT_EQ(r.snapshot()->outbound(info).sa->sa->spi().value, 0x3002u);
  // A second add under another reqid is refused; replacing a policy that is not there too.
  EXPECT_FALSE(r.add_policy({ts("0.0.0.0/0"), ts("10.99.0.1/32"), dataplane::Direction::Out, 0x10002, 0}));
  EXPECT_FALSE(
      r.replace_policy({ts("0.0.0.0/0"), ts("10.99.0.2/32"), dataplane::Direction::Out, 0x10002, 0}));
  EXPECT_EQ(r.snapshot()->outbound(info).policy->reqid, 0x10001u);
}

TEST(SaTable, InboundSasWithTheSameLocalSelectorsShareOneCopyAndKeepTheirOwnRemoteOnes) {
  // Road warriors of one connection: the same local subnets, each its own virtual IP. The
  // registry keeps one array of the local list (selector_pool.h); each SA still reads it whole,
  // and an SA outlives the registry's forgetting of the others.
  SaRegistry r;
  const IpAddress peer = *IpAddress::parse("192.0.2.1");
  auto inbound = [&](std::uint32_t spi, std::uint32_t reqid, const char* vip,
                     std::vector<TrafficSelector> local) {
    auto c = sa_config(spi, dataplane::Direction::In, reqid);
    c.local_ts = std::move(local);
    c.remote_ts = {ts(vip)};
    EXPECT_TRUE(r.add_sa(c, 1500));
    return r.find(Spi(spi), dataplane::Direction::In, peer);
  };
  const std::vector<TrafficSelector> lan = {ts("10.1.0.0/24"), ts("10.200.0.0/16")};
  auto a = inbound(0x2001, 1, "10.200.0.1/32", lan);
  auto b = inbound(0x2002, 2, "10.200.0.2/32", lan);
  auto c = inbound(0x2003, 3, "10.200.0.3/32", {ts("10.1.0.0/24")});  // a prefix of lan: its own list
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->local_ts().data(), b->local_ts().data());
  EXPECT_NE(a->local_ts().data(), c->local_ts().data());
  EXPECT_TRUE(std::equal(lan.begin(), lan.end(), b->local_ts().begin(), b->local_ts().end()));
  ASSERT_EQ(c->local_ts().size(), 1u);
  EXPECT_EQ(c->local_ts()[0], ts("10.1.0.0/24"));
  EXPECT_EQ(a->remote_ts(), std::vector<TrafficSelector>{ts("10.200.0.1/32")});
  EXPECT_EQ(b->remote_ts(), std::vector<TrafficSelector>{ts("10.200.0.2/32")});

  // A packet from b's virtual IP to the LAN is b's traffic only.
  std::uint8_t addrs[2][4] = {};
  const auto pkt = [&](const char* src, const char* dst) {
    std::memcpy(addrs[0], IpAddress::parse(src)->bytes().data(), 4);
    std::memcpy(addrs[1], IpAddress::parse(dst)->bytes().data(), 4);
    InnerPacket p;
    p.family = IpFamily::V4;
    p.src = addrs[0];
    p.dst = addrs[1];
    return p;
  };
  const auto table = r.snapshot();
  EXPECT_TRUE(table->inbound_admits(*b, pkt("10.200.0.2", "10.200.5.5")));
  EXPECT_FALSE(table->inbound_admits(*a, pkt("10.200.0.2", "10.200.5.5")));
  EXPECT_FALSE(table->inbound_admits(*c, pkt("10.200.0.3", "10.200.5.5")));  // not in c's local list

  // The list lives as long as an SA reading it, not as long as the registry.
  const TrafficSelector* shared = a->local_ts().data();
  r.clear();
  b.reset();
  EXPECT_EQ(a->local_ts().data(), shared);
  EXPECT_EQ(a->local_ts()[1], ts("10.200.0.0/16"));
}

TEST(SaTable, ARuleHeldTwiceStaysUntilItsLastHolderRemovesIt) {
  // The userspace backend's inbound and forward policies of one selector pair: one engine rule
  // with two holder bits, one snapshot change for the pair, not two.
  SaRegistry r;
  const PolicyRule in{ts("10.99.0.1/32"), ts("10.1.0.0/24"), dataplane::Direction::In, 7, 0};
  ASSERT_TRUE(r.add_policy(in, 2));
  const auto version = r.version();
  ASSERT_TRUE(r.add_policy(in, 4));
  EXPECT_EQ(r.version(), version);  // shared: nothing published
  EXPECT_EQ(r.policy_count(), 1u);
  std::uint32_t reqid = 0;
  EXPECT_EQ(r.policy_holders(in.src, in.dst, in.direction, &reqid), 6);
  EXPECT_EQ(reqid, 7u);
  auto again = r.add_policy(in, 4);  // a holder adds it twice: refused, naming the reqid
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().find("reqid 7"), std::string::npos) << again.error();

  ASSERT_TRUE(r.remove_policy(in, 2));
  EXPECT_EQ(r.policy_count(), 1u);
  EXPECT_FALSE(r.remove_policy(in, 2));  // that holder let go already
  ASSERT_EQ(r.policies().size(), 1u);
  EXPECT_EQ(r.policies()[0].second, 4);
  ASSERT_TRUE(r.remove_policy(in, 4));
  EXPECT_EQ(r.policy_count(), 0u);
  EXPECT_EQ(r.policy_holders(in.src, in.dst, in.direction), 0);
}

// --- the inbound path ---

struct Recorder final : TunSink {
  std::vector<Bytes> packets;
  void write_packet(const iovec* iov, int n) override {
    Bytes b;
    for (int i = 1; i < n; ++i) {
      auto* p = static_cast<const std::uint8_t*>(iov[i].iov_base);
      b.insert(b.end(), p, p + iov[i].iov_len);
    }
    packets.push_back(b);
  }
};

class InboundPathTest : public ::testing::Test {
 protected:
  InboundPathTest()
      : events_(64), ike_(8), coalescer_(64), path_(settings_, counters_, events_, ike_, coalescer_, tun_) {
    SaConfig in = sa_config(0xA000, dataplane::Direction::In);
    in.local_ts = {ts("10.1.0.0/24")};
    in.remote_ts = {ts("10.2.0.0/24")};
    EXPECT_TRUE(registry_.add_sa(in, 1500));
    SaConfig out = in;  // the peer's sender, keyed the same
    out.direction = dataplane::Direction::Out;
    sender_ = *SaState::create(out, 1500, Clock::now());
  }

  // ESP-in-UDP datagram from the peer carrying `inner`.
  Bytes esp_from_peer(const Bytes& inner) {
    auto& c = sender_->crypto();
    Bytes buf(c.sealed_bytes(inner.size()));
    std::memcpy(buf.data() + c.header_bytes(), inner.data(), inner.size());
    const std::uint8_t nh = (inner[0] >> 4) == 4 ? kNextHeaderIpv4 : kNextHeaderIpv6;
    EXPECT_EQ(c.seal(buf.data(), inner.size(), buf.size(), nh, Spi(0xA000), *sender_->next_sequence()),
              buf.size());
    return buf;
  }
  void receive(Bytes d, const Endpoint& from = peer_) { receive_at(std::move(d), Clock::now(), from); }
  void receive_at(Bytes d, Clock::time_point now, const Endpoint& from = peer_) {
    path_.handle_udp(d.data(), d.size(), from, local_, *registry_.snapshot(), now);
    path_.flush();
  }
  const std::shared_ptr<SaState> sa() {
    return registry_.find(Spi(0xA000), dataplane::Direction::In, IpAddress());
  }

  static inline const Endpoint peer_{*IpAddress::parse("192.0.2.1"), 4500};
  static inline const Endpoint local_{*IpAddress::parse("192.0.2.2"), 4500};
  EngineSettings settings_;
  EngineCounters counters_;
  EventQueue<EngineEvent> events_;
  EventQueue<IkeDatagram> ike_;
  TcpCoalescer coalescer_;
  Recorder tun_;
  InboundPath path_;
  SaRegistry registry_;
  std::shared_ptr<SaState> sender_;
};

TEST_F(InboundPathTest, DeliversAnAuthenticPacketInsideTheSelectors) {
  const Bytes inner = udp_packet(true, "10.2.0.10", "10.1.0.10", 1, 2, 50);
  receive(esp_from_peer(inner));
  ASSERT_EQ(tun_.packets.size(), 1u);
  EXPECT_EQ(to_hex(tun_.packets[0]), to_hex(inner));
  EXPECT_EQ(counters_.in_packets.load(), 1u);
  EXPECT_EQ(sa()->stats().packets.load(), 1u);
  EXPECT_EQ(sa()->stats().bytes.load(), inner.size());
}

TEST_F(InboundPathTest, Ipv6InnerPacketsAreCheckedAgainstIpv6Selectors) {
  SaConfig in6 = sa_config(0xA600, dataplane::Direction::In);
  in6.local_ts = {ts("fd00:1::/64")};
  in6.remote_ts = {ts("fd00:2::/64")};
  ASSERT_TRUE(registry_.add_sa(in6, 1500));
  SaConfig out6 = in6;
  out6.direction = dataplane::Direction::Out;
  auto sender6 = *SaState::create(out6, 1500, Clock::now());
  auto seal6 = [&](const Bytes& inner) {
    auto& c = sender6->crypto();
    Bytes buf(c.sealed_bytes(inner.size()));
    std::memcpy(buf.data() + c.header_bytes(), inner.data(), inner.size());
    c.seal(buf.data(), inner.size(), buf.size(), kNextHeaderIpv6, Spi(0xA600), *sender6->next_sequence());
    return buf;
  };
  const Bytes good = udp_packet(false, "fd00:2::10", "fd00:1::10", 1, 2, 30);
  receive(seal6(good));
  receive(seal6(udp_packet(false, "fd00:9::10", "fd00:1::10", 1, 2, 30)));  // source outside
  // An IPv4 packet announced as next header 41 is not what it claims to be.
  Bytes v4 = udp_packet(true, "10.2.0.10", "10.1.0.10", 1, 2, 30);
  receive(seal6(v4));
  ASSERT_EQ(tun_.packets.size(), 1u);
  EXPECT_EQ(to_hex(tun_.packets[0]), to_hex(good));
  EXPECT_EQ(counters_.in_selector_drops.load(), 1u);
  EXPECT_EQ(counters_.in_bad_inner.load(), 1u);
}

TEST_F(InboundPathTest, UnknownSpiIsCountedAndDropped) {
  Bytes d = esp_from_peer(udp_packet(true, "10.2.0.10", "10.1.0.10", 1, 2, 50));
  d[3] ^= 0x01;  // SPI 0xA001: no such SA
  receive(d);
  EXPECT_EQ(counters_.in_unknown_spi.load(), 1u);
  EXPECT_TRUE(tun_.packets.empty());
}

TEST_F(InboundPathTest, TamperedCiphertextAndIcvAreRejectedAndCounted) {
  const Bytes good = esp_from_peer(udp_packet(true, "10.2.0.10", "10.1.0.10", 1, 2, 50));
  Bytes ct = good;
  ct[30] ^= 0x80;
  receive(ct);
  Bytes icv = good;
  icv.at(icv.size() - 1) ^= 0x01;
  receive(icv);
  EXPECT_EQ(counters_.in_auth_failed.load(), 2u);
  EXPECT_EQ(sa()->stats().auth_failures.load(), 2u);
  EXPECT_TRUE(tun_.packets.empty());
  // The failures did not move the replay window: the genuine packet still gets through.
  receive(good);
  EXPECT_EQ(tun_.packets.size(), 1u);
}

TEST_F(InboundPathTest, ReplayedPacketIsDroppedAfterTheFirstCopy) {
  const Bytes d = esp_from_peer(udp_packet(true, "10.2.0.10", "10.1.0.10", 1, 2, 50));
  receive(d);
  receive(d);
  EXPECT_EQ(tun_.packets.size(), 1u);
  EXPECT_EQ(counters_.in_replay.load(), 1u);
  EXPECT_EQ(sa()->stats().replay_drops.load(), 1u);
}

TEST_F(InboundPathTest, InnerPacketOutsideTheSelectorsIsDropped) {
  // Authentic, but the peer claims a source it may not use (RFC 4301 §5.2 step 4).
  receive(esp_from_peer(udp_packet(true, "10.66.0.10", "10.1.0.10", 1, 2, 50)));
  receive(esp_from_peer(udp_packet(true, "10.2.0.10", "10.77.0.10", 1, 2, 50)));
  EXPECT_EQ(counters_.in_selector_drops.load(), 2u);
  EXPECT_EQ(sa()->stats().selector_drops.load(), 2u);
  EXPECT_TRUE(tun_.packets.empty());
}

TEST_F(InboundPathTest, IkeGoesToTheControlPlaneAndKeepalivesAreCounted) {
  const Bytes ike(40, 0x21);
  receive(natt::ike_datagram(ike));
  receive(Bytes(natt::kKeepaliveDatagram.begin(), natt::kKeepaliveDatagram.end()));
  receive(Bytes{0x00, 0x00});
  EXPECT_EQ(counters_.ike_rx.load(), 1u);
  EXPECT_EQ(counters_.keepalives_rx.load(), 1u);
  EXPECT_EQ(counters_.too_short.load(), 1u);
  std::vector<IkeDatagram> got;
  ike_.drain([&](const IkeDatagram& d) { got.push_back(d); });
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(to_hex(got[0].message), to_hex(ike));
  EXPECT_EQ(got[0].ends.remote, peer_);
  EXPECT_EQ(got[0].ends.local, local_);
}

TEST_F(InboundPathTest, AuthenticPacketFromANewNatMappingIsReportedOnce) {
  const Endpoint moved{*IpAddress::parse("192.0.2.1"), 27000};
  receive(esp_from_peer(udp_packet(true, "10.2.0.10", "10.1.0.10", 1, 2, 10)), moved);
  receive(esp_from_peer(udp_packet(true, "10.2.0.10", "10.1.0.10", 1, 2, 10)), moved);
  Bytes forged = esp_from_peer(udp_packet(true, "10.2.0.10", "10.1.0.10", 1, 2, 10));
  forged.at(forged.size() - 1) ^= 1;
  receive(forged, {*IpAddress::parse("198.51.100.7"), 9});  // not authentic: no event
  std::vector<EngineEvent> events;
  events_.drain([&](const EngineEvent& e) { events.push_back(e); });
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, EngineEvent::Kind::Mapping);
  EXPECT_EQ(events[0].new_remote, moved);
  EXPECT_EQ(tun_.packets.size(), 2u);
}

// EspCrypto::Keying::Lazy and esp/sa/idle_contexts.h (docs/performance.md, "Scale: memory per road
// warrior"): an installed SA holds no cipher context until its first packet, and a context idle
// for settings.context_idle (30 s) is released at a sweep between once and twice that after the
// last packet; the next packet builds it again.
TEST_F(InboundPathTest, CipherContextsComeWithTheFirstPacketAndGoAfterIdling) {
  using std::chrono::seconds;
  EXPECT_FALSE(sa()->crypto().keyed()) << "installed without contexts";
  const Clock::time_point t0 = Clock::now();
  const Bytes inner = udp_packet(true, "10.2.0.10", "10.1.0.10", 1, 2, 50);
  receive_at(esp_from_peer(inner), t0);
  ASSERT_EQ(tun_.packets.size(), 1u);
  EXPECT_TRUE(sa()->crypto().keyed());
  EXPECT_EQ(counters_.contexts_keyed_in.load(), 1u);
  EXPECT_EQ(counters_.snapshot().contexts_live(), 1u);

  path_.release_idle(t0 + seconds(10));  // not due yet
  path_.release_idle(t0 + seconds(31));  // due, but used since it was armed: armed again
  EXPECT_TRUE(sa()->crypto().keyed());
  receive_at(esp_from_peer(inner), t0 + seconds(40));
  path_.release_idle(t0 + seconds(62));  // a packet at 40 s: armed again
  EXPECT_TRUE(sa()->crypto().keyed());
  EXPECT_EQ(counters_.contexts_released_in.load(), 0u);
  path_.release_idle(t0 + seconds(93));  // nothing since 40 s
  EXPECT_FALSE(sa()->crypto().keyed());
  EXPECT_EQ(counters_.contexts_released_in.load(), 1u);
  EXPECT_EQ(counters_.snapshot().contexts_live(), 0u);

  // Traffic after the release: keyed again, decrypted as before, the replay window kept.
  const Bytes later = esp_from_peer(inner);
  receive_at(later, t0 + seconds(100));
  receive_at(later, t0 + seconds(100));
  ASSERT_EQ(tun_.packets.size(), 3u);
  EXPECT_EQ(to_hex(tun_.packets[2]), to_hex(inner));
  EXPECT_EQ(counters_.in_replay.load(), 1u);
  EXPECT_EQ(counters_.contexts_keyed_in.load(), 2u);
  EXPECT_EQ(counters_.snapshot().contexts_live(), 1u);
  EXPECT_EQ(counters_.in_auth_failed.load(), 0u);
}

TEST_F(InboundPathTest, AForgedPacketKeysUpButDoesNotKeepTheContexts) {
  using std::chrono::seconds;
  const Clock::time_point t0 = Clock::now();
  Bytes forged = esp_from_peer(udp_packet(true, "10.2.0.10", "10.1.0.10", 1, 2, 50));
  forged.back() ^= 1;
  receive_at(forged, t0);
  EXPECT_EQ(counters_.in_auth_failed.load(), 1u);
  EXPECT_TRUE(sa()->crypto().keyed());
  // Only authenticated packets count as use: released at the first sweep that finds it due.
  path_.release_idle(t0 + seconds(31));
  EXPECT_FALSE(sa()->crypto().keyed());
  EXPECT_EQ(counters_.contexts_released_in.load(), 1u);
}

TEST_F(InboundPathTest, ARemovedSaLeavesNothingInTheIdleQueue) {
  using std::chrono::seconds;
  const Clock::time_point t0 = Clock::now();
  receive_at(esp_from_peer(udp_packet(true, "10.2.0.10", "10.1.0.10", 1, 2, 50)), t0);
  std::weak_ptr<SaState> weak = sa();
  ASSERT_TRUE(registry_.remove_sa(Spi(0xA000), dataplane::Direction::In, IpAddress()));
  EXPECT_TRUE(weak.expired()) << "the idle queue does not keep a removed SA (and its keys) alive";
  path_.release_idle(t0 + seconds(31));
  EXPECT_EQ(counters_.contexts_released_in.load(), 1u);
  EXPECT_EQ(counters_.snapshot().contexts_live(), 0u);
}

TEST(IdleContexts, AnOutboundSaSealsTheSameBytesAcrossReleases) {
  using std::chrono::seconds;
  SaConfig out = sa_config(0xB000, dataplane::Direction::Out);
  auto sa = *SaState::create(out, 1500, Clock::now());
  SaConfig in = out;
  in.direction = dataplane::Direction::In;
  auto peer = *SaState::create(in, 1500, Clock::now());
  EXPECT_FALSE(sa->crypto().keyed());
  IdleContexts contexts(seconds(30));
  const Clock::time_point t0 = Clock::now();
  const Bytes inner = udp_packet(true, "10.1.0.10", "10.2.0.10", 1, 2, 80);
  for (int round = 0; round < 3; ++round) {
    const Clock::time_point at = t0 + seconds(100 * round);
    ASSERT_FALSE(sa->crypto().keyed());
    ASSERT_TRUE(contexts.key_up(sa, at));
    auto& c = sa->crypto();
    Bytes buf(c.sealed_bytes(inner.size()));
    std::memcpy(buf.data() + c.header_bytes(), inner.data(), inner.size());
    const SequenceNumber seq = *sa->next_sequence();
    ASSERT_EQ(c.seal(buf.data(), inner.size(), buf.size(), kNextHeaderIpv4, Spi(0xB000), seq), buf.size());
    sa->stats().last_use_ns.store(at.time_since_epoch().count());
    auto opened = peer->crypto().open(buf.data(), buf.size(), seq);
    ASSERT_TRUE(opened.has_value()) << round;
    EXPECT_EQ(to_hex(ByteView(buf.data() + opened->inner_offset, opened->inner_len)), to_hex(inner));
    EXPECT_EQ(contexts.tracked(), 1u);
    const auto kept = contexts.sweep(at + seconds(31));
    EXPECT_EQ(kept.rearmed, 1u);
    const auto swept = contexts.sweep(at + seconds(62));
    EXPECT_EQ(swept.released, 1u);
    EXPECT_EQ(contexts.tracked(), 0u);
  }
  EXPECT_EQ(contexts.keyed_total(), 3u);
}

TEST(IdleContexts, ASweepLooksAtNoMoreThanItsBudget) {
  using std::chrono::seconds;
  IdleContexts contexts(seconds(30));
  const Clock::time_point t0 = Clock::now();
  std::vector<std::shared_ptr<SaState>> sas;
  for (std::uint32_t i = 0; i < 10; ++i) {
    sas.push_back(*SaState::create(sa_config(0xC000 + i, dataplane::Direction::Out), 1500, t0));
    ASSERT_TRUE(contexts.key_up(sas.back(), t0));
  }
  EXPECT_EQ(contexts.sweep(t0 + seconds(31), 4).released, 4u);
  EXPECT_EQ(contexts.sweep(t0 + seconds(31), 4).released, 4u);
  EXPECT_EQ(contexts.sweep(t0 + seconds(31), 4).released, 2u);
  for (const auto& sa : sas) EXPECT_FALSE(sa->crypto().keyed());
}

}  // namespace
}  // namespace natgate::esp
