// The persistent structures under the SA table (esp/sa/persistent_map.h, esp/sa/policy_index.h):
// a persistent map against std::map with old copies checked unchanged, and the indexed outbound
// policy lookup against the linear scan it replaced, kept here as the reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <map>
#include <random>
#include <vector>

#include "esp/sa/persistent_map.h"
#include "esp/sa/sa_table.h"

namespace natgate::esp {
namespace {

struct SpreadHash {
  std::uint64_t operator()(std::uint32_t k) const { return mix64(k); }
};
// Four hash values for every key: leaves fill up, split down to the last level and then hold
// every colliding key there.
struct CollidingHash {
  std::uint64_t operator()(std::uint32_t k) const { return k & 3; }
};

template <class Hash>
void check_against_std_map(std::uint32_t key_space, int ops, std::uint32_t seed) {
  std::mt19937 rng(seed);
  PersistentMap<std::uint32_t, int, Hash> map;
  std::map<std::uint32_t, int> ref;
  // Earlier versions and what they held: later edits must not show through.
  std::vector<std::pair<PersistentMap<std::uint32_t, int, Hash>, std::map<std::uint32_t, int>>> versions;
  for (int i = 0; i < ops; ++i) {
    const std::uint32_t k = rng() % key_space;
    if (rng() % 3 == 0) {
      EXPECT_EQ(map.erase(k), ref.erase(k) == 1);
    } else {
      const bool fresh = !ref.count(k);
      ref[k] = i;
      EXPECT_EQ(map.set(k, i), fresh);
    }
    ASSERT_EQ(map.size(), ref.size());
    if (i % 97 == 0) versions.emplace_back(map, ref);
  }
  for (std::uint32_t k = 0; k < key_space; ++k) {
    const int* v = map.find(k);
    auto it = ref.find(k);
    ASSERT_EQ(v != nullptr, it != ref.end()) << k;
    if (v) {
      EXPECT_EQ(*v, it->second);
    }
  }
  for (const auto& [old_map, old_ref] : versions) {
    std::map<std::uint32_t, int> seen;
    old_map.for_each([&](std::uint32_t k, int v) { seen[k] = v; });
    EXPECT_EQ(seen, old_ref);
    EXPECT_EQ(old_map.size(), old_ref.size());
  }
}

TEST(PersistentMap, MatchesStdMapAndOldVersionsStayIntact) {
  check_against_std_map<SpreadHash>(3000, 8000, 1);
  check_against_std_map<SpreadHash>(40, 5000, 2);  // small: leaves only, often emptied
}

TEST(PersistentMap, FullHashCollisionsStillFindEveryKey) {
  check_against_std_map<CollidingHash>(64, 3000, 3);
}

TEST(PersistentMap, ErasingEverythingLeavesAnEmptyMap) {
  PersistentMap<std::uint32_t, int, SpreadHash> m;
  for (std::uint32_t k = 0; k < 1000; ++k) m.set(k, 1);
  const auto full = m;
  for (std::uint32_t k = 0; k < 1000; ++k) EXPECT_TRUE(m.erase(k));
  EXPECT_TRUE(m.empty());
  EXPECT_FALSE(m.erase(5));
  int count = 0;
  m.for_each([&](std::uint32_t, int) { ++count; });
  EXPECT_EQ(count, 0);
  EXPECT_EQ(full.size(), 1000u);
  EXPECT_NE(full.find(999), nullptr);
}

// --- the outbound policy lookup against the linear scan it replaced ---

// The precedence order SaTable used before the index (a stable sort by this, first match wins).
int reference_narrowness(const TrafficSelector& ts) {
  auto a = ts.start.bytes();
  auto b = ts.end.bytes();
  int bits = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::uint8_t x = a[i] ^ b[i];
    if (x == 0) {
      bits += 8;
      continue;
    }
    for (int bit = 7; bit >= 0 && !(x >> bit & 1); --bit) ++bits;
    break;
  }
  return bits;
}
bool reference_more_specific(const RankedPolicy& x, const RankedPolicy& y) {
  const PolicyRule& a = x.first;
  const PolicyRule& b = y.first;
  auto pa = a.priority == 0 ? ~0u : a.priority;
  auto pb = b.priority == 0 ? ~0u : b.priority;
  if (pa != pb) return pa < pb;
  if (reference_narrowness(a.dst) != reference_narrowness(b.dst))
    return reference_narrowness(a.dst) > reference_narrowness(b.dst);
  if (reference_narrowness(a.src) != reference_narrowness(b.src))
    return reference_narrowness(a.src) > reference_narrowness(b.src);
  const bool proto_a = a.src.ip_protocol != 0 || a.dst.ip_protocol != 0;
  const bool proto_b = b.src.ip_protocol != 0 || b.dst.ip_protocol != 0;
  if (proto_a != proto_b) return proto_a;
  const int ports_a = (a.src.end_port - a.src.start_port) + (a.dst.end_port - a.dst.start_port);
  const int ports_b = (b.src.end_port - b.src.start_port) + (b.dst.end_port - b.dst.start_port);
  if (ports_a != ports_b) return ports_a < ports_b;
  return x.second < y.second;
}
std::vector<RankedPolicy> reference_order(std::vector<RankedPolicy> policies) {
  std::stable_sort(policies.begin(), policies.end(), reference_more_specific);
  return policies;
}
const PolicyRule* reference_scan(const std::vector<RankedPolicy>& sorted, const InnerPacket& pkt) {
  for (const auto& [p, order] : sorted) {
    if (p.direction != dataplane::Direction::Out) continue;
    if (selector_admits(p.src, pkt, true) && selector_admits(p.dst, pkt, false)) return &p;
  }
  return nullptr;
}

// Addresses from a small pool so that selectors overlap: 10.0.{0,1}.x and fd00::{0,1}:x, with a
// few outside the pool to miss everything.
class Generator {
 public:
  explicit Generator(std::uint32_t seed) : rng_(seed) {}
  std::uint32_t pick(std::uint32_t n) { return static_cast<std::uint32_t>(rng_() % n); }

  IpAddress address(bool v4) {
    std::array<std::uint8_t, 16> b{};
    const std::uint8_t net = pick(8) == 0 ? 9 : static_cast<std::uint8_t>(pick(2));  // 9: outside
    const std::uint8_t host = static_cast<std::uint8_t>(pick(40));
    if (v4) {
      b[0] = 10, b[2] = net, b[3] = host;
      return IpAddress::from_bytes(IpFamily::V4, ByteView(b.data(), 4));
    }
    b[0] = 0xfd, b[13] = net, b[15] = host;
    return IpAddress::from_bytes(IpFamily::V6, ByteView(b.data(), 16));
  }
  TrafficSelector address_selector(bool v4) {
    const int width = v4 ? 32 : 128;
    switch (pick(6)) {
      case 0:
      case 1: {  // a road warrior's host address
        const IpAddress a = address(v4);
        return {a, a, 0, 0, 65535};
      }
      case 2:  // everything
        return TrafficSelector::from_subnet(*Subnet::parse(v4 ? "0.0.0.0/0" : "::/0"));
      case 3: {  // a range that is no prefix
        IpAddress a = address(v4), b = address(v4);
        if (b < a) std::swap(a, b);
        return {a, b, 0, 0, 65535};
      }
      default: {  // a subnet of the pool
        static constexpr int kV4[] = {8, 16, 23, 24, 28, 30, 31};
        static constexpr int kV6[] = {48, 64, 112, 119, 120, 124, 127};
        const int len = v4 ? kV4[pick(7)] : kV6[pick(7)];
        (void)width;
        const Subnet s{address(v4), static_cast<std::uint8_t>(len)};
        return TrafficSelector::from_subnet(*Subnet::parse(s.to_string()));
      }
    }
  }
  void restrict(TrafficSelector& ts) {
    switch (pick(8)) {
      case 0:
        ts.ip_protocol = pick(2) ? 6 : 17;
        break;
      case 1:
        ts.ip_protocol = 6;
        ts.start_port = ts.end_port = pick(2) ? 80 : 443;
        break;
      case 2:
        ts.start_port = 1000;
        ts.end_port = static_cast<std::uint16_t>(1000 + pick(3) * 500);
        break;
      default:
        break;
    }
  }
  PolicyRule policy() {
    const bool v4 = pick(3) != 0;
    PolicyRule p;
    p.dst = address_selector(v4);
    // Mostly the same family; sometimes not (such a policy admits nothing).
    p.src = pick(6) == 0 ? address_selector(v4) : address_selector(pick(20) == 0 ? !v4 : v4);
    if (pick(4) == 0) p.src = TrafficSelector::from_subnet(*Subnet::parse(v4 ? "0.0.0.0/0" : "::/0"));
    restrict(p.src);
    restrict(p.dst);
    p.direction = pick(5) == 0 ? dataplane::Direction::In : dataplane::Direction::Out;
    p.reqid = 1 + pick(12);
    p.priority = pick(6) == 0 ? 1 + pick(3) : 0;
    return p;
  }

  struct Packet {
    std::array<std::uint8_t, 16> src{}, dst{};
    InnerPacket info;
  };
  Packet packet() {
    Packet p;
    const bool v4 = pick(3) != 0;
    const IpAddress s = address(v4), d = address(v4);
    std::copy(s.bytes().begin(), s.bytes().end(), p.src.begin());
    std::copy(d.bytes().begin(), d.bytes().end(), p.dst.begin());
    p.info.family = v4 ? IpFamily::V4 : IpFamily::V6;
    static constexpr std::uint8_t kProtos[] = {6, 17, 1};
    p.info.protocol = kProtos[pick(3)];
    p.info.has_ports = pick(6) != 0;  // else a later fragment
    static constexpr std::uint16_t kPorts[] = {80, 443, 1000, 1499, 1700, 2000, 5000};
    p.info.src_port = kPorts[pick(7)];
    p.info.dst_port = kPorts[pick(7)];
    return p;
  }

 private:
  std::mt19937 rng_;
};

SaConfig out_sa(std::uint32_t spi, std::uint32_t reqid) {
  SaConfig c;
  c.spi = Spi(spi);
  c.direction = dataplane::Direction::Out;
  c.reqid = reqid;
  c.suite = *Suite::parse("aes128gcm16");
  c.encr_keymat = SecretBytes(Bytes(20, 7));
  c.path = OuterPath{{*IpAddress::parse("192.0.2.2"), 4500}, {*IpAddress::parse("192.0.2.1"), 4500}, true};
  return c;
}

TEST(PolicyIndex, PicksWhatTheLinearScanPickedForMixedHostSubnetRangeAndPortSelectors) {
  for (std::uint32_t seed = 1; seed <= 6; ++seed) {
    Generator g(seed);
    SaRegistry r;
    std::vector<RankedPolicy> ref;  // the reference's policies, with their own add order
    std::map<std::uint32_t, std::vector<std::uint32_t>> out_spis;  // reqid -> its outbound SAs, oldest first
    std::uint64_t order = 0;
    std::uint32_t next_spi = 0x1000;
    int matched = 0, with_sa = 0;
    for (int step = 0; step < 600; ++step) {
      const std::uint32_t op = g.pick(10);
      if (op < 5) {
        const PolicyRule p = g.policy();
        const bool exists = std::any_of(ref.begin(), ref.end(), [&](const RankedPolicy& x) {
          return x.first.src == p.src && x.first.dst == p.dst && x.first.direction == p.direction;
        });
        EXPECT_EQ(r.add_policy(p).has_value(), !exists);
        if (!exists) ref.emplace_back(p, ++order);
      } else if (op < 7 && !ref.empty()) {
        auto& victim = ref[g.pick(static_cast<std::uint32_t>(ref.size()))];
        PolicyRule moved = victim.first;
        moved.reqid = 1 + g.pick(12);
        if (g.pick(3) == 0) moved.priority = g.pick(2) ? 0 : 1 + g.pick(3);
        ASSERT_TRUE(r.replace_policy(moved));
        victim.first = moved;  // keeps its order, as the registry does
      } else if (op < 8 && !ref.empty()) {
        const auto at = g.pick(static_cast<std::uint32_t>(ref.size()));
        ASSERT_TRUE(r.remove_policy(ref[at].first));
        ref.erase(ref.begin() + at);
      } else if (op < 9) {
        const std::uint32_t reqid = 1 + g.pick(12);
        ASSERT_TRUE(r.add_sa(out_sa(next_spi, reqid), 1500));
        out_spis[reqid].push_back(next_spi++);
      } else if (!out_spis.empty()) {
        // Any of a reqid's SAs, the newest or an older one.
        auto it = std::next(out_spis.begin(), g.pick(static_cast<std::uint32_t>(out_spis.size())));
        const auto at = g.pick(static_cast<std::uint32_t>(it->second.size()));
        ASSERT_TRUE(
            r.remove_sa(Spi(it->second[at]), dataplane::Direction::Out, *IpAddress::parse("192.0.2.1")));
        it->second.erase(it->second.begin() + at);
        if (it->second.empty()) out_spis.erase(it);
      }
      ASSERT_EQ(r.policy_count(), ref.size());
      const auto table = r.snapshot();
      const auto sorted = reference_order(ref);
      for (int k = 0; k < 20; ++k) {
        auto pkt = g.packet();
        pkt.info.src = pkt.src.data();
        pkt.info.dst = pkt.dst.data();
        const PolicyRule* want = reference_scan(sorted, pkt.info);
        const auto got = table->outbound(pkt.info);
        ASSERT_EQ(got.policy != nullptr, want != nullptr) << "seed " << seed << " step " << step;
        if (!want) continue;
        ++matched;
        EXPECT_EQ(*got.policy, *want)
            << "seed " << seed << " step " << step << ": got " << got.policy->src.to_string() << " -> "
            << got.policy->dst.to_string() << ", want " << want->src.to_string() << " -> "
            << want->dst.to_string();
        auto sa = out_spis.find(want->reqid);  // the newest SA of the policy's reqid
        ASSERT_EQ(got.sa != nullptr, sa != out_spis.end());
        if (got.sa) {
          ++with_sa;
          EXPECT_EQ(got.sa->sa->spi().value, sa->second.back());
        }
      }
    }
    EXPECT_GT(matched, 500);  // the pool is small enough that most packets meet a policy
    EXPECT_GT(with_sa, 100);
  }
}

TEST(PolicyIndex, ExplicitPriorityBeatsANarrowerDestinationAndPortsRestrictedRulesComeFirst) {
  SaRegistry r;
  auto ts = [](const char* s) { return TrafficSelector::from_subnet(*Subnet::parse(s)); };
  TrafficSelector web = ts("10.9.0.5/32");
  web.ip_protocol = 6;
  web.start_port = web.end_port = 443;
  ASSERT_TRUE(r.add_policy({ts("0.0.0.0/0"), ts("10.9.0.5/32"), dataplane::Direction::Out, 1, 0}));
  ASSERT_TRUE(r.add_policy({ts("0.0.0.0/0"), web, dataplane::Direction::Out, 2, 0}));
  ASSERT_TRUE(r.add_policy({ts("0.0.0.0/0"), ts("10.9.0.0/16"), dataplane::Direction::Out, 3, 0}));
  auto reqid_for = [&](std::uint8_t proto, std::uint16_t port, std::uint8_t host) -> std::uint32_t {
    std::array<std::uint8_t, 4> src{192, 168, 0, 1}, dst{10, 9, 0, host};
    InnerPacket p;
    p.protocol = proto;
    p.has_ports = true;
    p.dst_port = port;
    p.src = src.data();
    p.dst = dst.data();
    auto m = r.snapshot()->outbound(p);
    return m.policy ? m.policy->reqid : 0;
  };
  EXPECT_EQ(reqid_for(6, 443, 5), 2u);  // same destination width: the named protocol wins
  EXPECT_EQ(reqid_for(17, 443, 5), 1u);
  EXPECT_EQ(reqid_for(6, 443, 6), 3u);
  ASSERT_TRUE(r.replace_policy({ts("0.0.0.0/0"), ts("10.9.0.0/16"), dataplane::Direction::Out, 3, 100}));
  EXPECT_EQ(reqid_for(6, 443, 5), 3u);  // an explicit priority comes before any width
  ASSERT_TRUE(r.remove_policy({ts("0.0.0.0/0"), ts("10.9.0.0/16"), dataplane::Direction::Out, 3, 100}));
  EXPECT_EQ(reqid_for(6, 443, 6), 0u);
  EXPECT_EQ(reqid_for(17, 443, 5), 1u);
}

TEST(SaTable, InboundPoliciesOfAnSasReqidAdmitWhenTheSaCarriesNoSelectors) {
  SaRegistry r;
  auto ts = [](const char* s) { return TrafficSelector::from_subnet(*Subnet::parse(s)); };
  SaConfig in = out_sa(0x5000, 9);
  in.direction = dataplane::Direction::In;
  ASSERT_TRUE(r.add_sa(in, 1500));
  ASSERT_TRUE(r.add_policy({ts("10.99.0.1/32"), ts("0.0.0.0/0"), dataplane::Direction::In, 9, 0}));
  ASSERT_TRUE(r.add_policy({ts("10.99.0.2/32"), ts("0.0.0.0/0"), dataplane::Direction::In, 8, 0}));
  std::array<std::uint8_t, 4> from1{10, 99, 0, 1}, from2{10, 99, 0, 2}, to{192, 168, 0, 1};
  InnerPacket p;
  p.dst = to.data();
  const auto sa = r.find(Spi(0x5000), dataplane::Direction::In, IpAddress());
  p.src = from1.data();
  EXPECT_TRUE(r.snapshot()->inbound_admits(*sa, p));
  p.src = from2.data();
  EXPECT_FALSE(r.snapshot()->inbound_admits(*sa, p));  // reqid 8's policy
  ASSERT_TRUE(r.replace_policy({ts("10.99.0.2/32"), ts("0.0.0.0/0"), dataplane::Direction::In, 9, 0}));
  EXPECT_TRUE(r.snapshot()->inbound_admits(*sa, p));
  ASSERT_TRUE(r.remove_policy({ts("10.99.0.2/32"), ts("0.0.0.0/0"), dataplane::Direction::In, 9, 0}));
  EXPECT_FALSE(r.snapshot()->inbound_admits(*sa, p));
  EXPECT_EQ(r.snapshot()->inbound(0x5000)->sa, sa);
  EXPECT_EQ(r.snapshot()->sa_count(), 1u);
  EXPECT_EQ(r.sa_names().size(), 1u);
  r.clear();
  EXPECT_EQ(r.snapshot()->inbound(0x5000), nullptr);
  EXPECT_EQ(r.snapshot()->sa_count(), 0u);
}

// The snapshot lists the reqids' inbound rules only once an inbound SA without selectors needs
// them (memory per road warrior, docs/performance.md): rules added before such an SA, forward
// rules, and the lists kept after the SA goes (a second look at every rule is not paid again).
TEST(SaTable, InboundRulesAddedBeforeASelectorlessSaAdmitItsTraffic) {
  SaRegistry r;
  auto ts = [](const char* s) { return TrafficSelector::from_subnet(*Subnet::parse(s)); };
  ASSERT_TRUE(r.add_policy({ts("10.99.0.1/32"), ts("0.0.0.0/0"), dataplane::Direction::In, 9, 0}));
  ASSERT_TRUE(r.add_policy({ts("10.99.0.3/32"), ts("0.0.0.0/0"), dataplane::Direction::Fwd, 9, 0}));
  ASSERT_TRUE(r.add_policy({ts("10.99.0.2/32"), ts("0.0.0.0/0"), dataplane::Direction::In, 8, 0}));
  ASSERT_TRUE(r.add_policy({ts("0.0.0.0/0"), ts("10.99.0.2/32"), dataplane::Direction::Out, 9, 0}));
  SaConfig first = out_sa(0x5000, 9);
  first.direction = dataplane::Direction::In;
  SaConfig second = out_sa(0x5001, 9);
  second.direction = dataplane::Direction::In;
  ASSERT_TRUE(r.add_sa(first, 1500));
  ASSERT_TRUE(r.add_sa(second, 1500));
  std::array<std::uint8_t, 4> from1{10, 99, 0, 1}, from2{10, 99, 0, 2}, from3{10, 99, 0, 3},
      to{192, 168, 0, 1};
  InnerPacket p;
  p.dst = to.data();
  const auto sa = r.find(Spi(0x5001), dataplane::Direction::In, IpAddress());
  p.src = from1.data();
  EXPECT_TRUE(r.snapshot()->inbound_admits(*sa, p));
  p.src = from3.data();
  EXPECT_TRUE(r.snapshot()->inbound_admits(*sa, p));  // a forward rule counts too
  p.src = from2.data();
  EXPECT_FALSE(r.snapshot()->inbound_admits(*sa, p));  // reqid 8's, and an outbound rule's
  ASSERT_TRUE(r.remove_sa(Spi(0x5000), dataplane::Direction::In, IpAddress()));
  p.src = from1.data();
  EXPECT_TRUE(r.snapshot()->inbound_admits(*sa, p));  // the second SA still reads them
  ASSERT_TRUE(r.remove_sa(Spi(0x5001), dataplane::Direction::In, IpAddress()));
  ASSERT_TRUE(r.add_sa(first, 1500));
  EXPECT_TRUE(r.snapshot()->inbound_admits(*sa, p));
  // A rule added later joins its reqid's list; one removed leaves it.
  ASSERT_TRUE(r.add_policy({ts("10.99.0.4/32"), ts("0.0.0.0/0"), dataplane::Direction::In, 9, 0}));
  std::array<std::uint8_t, 4> from4{10, 99, 0, 4};
  p.src = from4.data();
  EXPECT_TRUE(r.snapshot()->inbound_admits(*sa, p));
  ASSERT_TRUE(r.remove_policy({ts("10.99.0.4/32"), ts("0.0.0.0/0"), dataplane::Direction::In, 9, 0}));
  EXPECT_FALSE(r.snapshot()->inbound_admits(*sa, p));
  p.src = from1.data();
  // An SA with selectors of its own is decided by them alone.
  SaConfig own = out_sa(0x5002, 9);
  own.direction = dataplane::Direction::In;
  own.remote_ts = {ts("10.99.0.7/32")};
  own.local_ts = {ts("0.0.0.0/0")};
  ASSERT_TRUE(r.add_sa(own, 1500));
  const auto with_own = r.find(Spi(0x5002), dataplane::Direction::In, IpAddress());
  EXPECT_FALSE(r.snapshot()->inbound_admits(*with_own, p));
}

}  // namespace
}  // namespace natgate::esp
