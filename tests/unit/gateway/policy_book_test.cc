// PolicyBook (gateway/core/policy_book.h): the installer's policies with their reqid and
// outbound-destination indexes. The indexes must answer exactly what a scan of every policy
// would: the last test checks that against a linear reference over thousands of random steps.
#include "gateway/core/policy_book.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace natgate::gateway::core {
namespace {

using dataplane::Direction;
using dataplane::PolicySpec;

TrafficSelector ts(const std::string& cidr) { return TrafficSelector::from_subnet(*Subnet::parse(cidr)); }

PolicySpec spec(const std::string& src, const std::string& dst, Direction d, std::uint32_t reqid) {
  PolicySpec p;
  p.src = ts(src);
  p.dst = ts(dst);
  p.direction = d;
  p.reqid = reqid;
  return p;
}

void put(PolicyBook& book, const std::string& owner, const PolicySpec& p) {
  book.put(PolicyBook::key_of(p), owner, p);
}

std::string owner_of(const PolicyBook::Held* h) { return h ? *h->owner : std::string("(none)"); }

PolicySpec twin_of(const PolicySpec& out, Direction d) {
  PolicySpec p = out;
  p.src = out.dst;
  p.dst = out.src;
  p.direction = d;
  p.tunnel_src = out.tunnel_dst;
  p.tunnel_dst = out.tunnel_src;
  return p;
}

TEST(PolicyBook, PutFindReplaceErase) {
  PolicyBook book;
  const PolicySpec out = spec("10.1.0.0/24", "10.9.0.5/32", Direction::Out, 7);
  const PolicySpec in = spec("10.9.0.5/32", "10.1.0.0/24", Direction::In, 7);
  put(book, "a", out);
  put(book, "a", in);
  EXPECT_EQ(book.size(), 2u);
  ASSERT_TRUE(book.find(PolicyBook::key_of(out)).has_value());
  // One owner under one reqid: its policies share one copy of the name.
  EXPECT_EQ(book.find(PolicyBook::key_of(out))->owner.get(), book.find(PolicyBook::key_of(in))->owner.get());
  EXPECT_EQ(book.find(PolicyBook::key_of(out))->spec.direction, Direction::Out);
  // Same selectors, other direction: another key.
  EXPECT_FALSE(
      book.find(PolicyBook::key_of(spec("10.1.0.0/24", "10.9.0.5/32", Direction::Fwd, 7))).has_value());

  PolicySpec replaced = out;
  replaced.priority = 99;
  put(book, "b", replaced);
  EXPECT_EQ(book.size(), 2u);
  EXPECT_EQ(*book.find(PolicyBook::key_of(out))->owner, "b");
  EXPECT_EQ(book.find(PolicyBook::key_of(out))->spec.priority, 99u);

  book.erase(PolicyBook::key_of(out));
  EXPECT_FALSE(book.find(PolicyBook::key_of(out)).has_value());
  EXPECT_EQ(book.size(), 1u);
  book.erase(PolicyBook::key_of(out));  // absent: nothing happens
  EXPECT_EQ(book.size(), 1u);
}

TEST(PolicyBook, TwinsOfAnOutboundPolicyFollowItThroughAHandOver) {
  // A road warrior's three policies per selector pair, put as the installer puts them (out, then
  // its in and fwd twins), then handed over to the successor's reqid one by one: at every step
  // each name answers with what was put last under it.
  PolicyBook book;
  auto three = [](std::uint32_t reqid) {
    const PolicySpec out = spec("10.1.0.0/24", "10.9.0.5/32", Direction::Out, reqid);
    return std::vector<PolicySpec>{out, twin_of(out, Direction::In), twin_of(out, Direction::Fwd)};
  };
  for (const auto& p : three(7)) put(book, "rw", p);
  EXPECT_EQ(book.size(), 3u);
  EXPECT_EQ(book.keys_of(7).size(), 3u);
  const auto next = three(8);
  put(book, "rw", next[0]);  // the outbound policy moves first: its twins still answer reqid 7
  EXPECT_EQ(book.find(PolicyBook::key_of(next[0]))->spec.reqid, 8u);
  EXPECT_EQ(book.find(PolicyBook::key_of(next[1]))->spec.reqid, 7u);
  EXPECT_EQ(book.find(PolicyBook::key_of(next[2]))->spec.reqid, 7u);
  EXPECT_EQ(book.keys_of(7).size(), 2u);
  put(book, "rw", next[1]);
  put(book, "rw", next[2]);
  EXPECT_EQ(book.size(), 3u);
  EXPECT_TRUE(book.keys_of(7).empty());
  EXPECT_EQ(book.keys_of(8).size(), 3u);
  const auto in = book.find(PolicyBook::key_of(next[1]));
  ASSERT_TRUE(in.has_value());
  EXPECT_EQ(in->spec.tunnel_src, next[1].tunnel_src);
  EXPECT_EQ(*in->owner, "rw");
  // The outbound policy goes first: its twins stay.
  book.erase(PolicyBook::key_of(next[0]));
  EXPECT_EQ(book.size(), 2u);
  EXPECT_EQ(book.find(PolicyBook::key_of(next[2]))->spec.reqid, 8u);
  book.erase(PolicyBook::key_of(next[1]));
  book.erase(PolicyBook::key_of(next[2]));
  EXPECT_EQ(book.size(), 0u);
  EXPECT_TRUE(book.keys_of(8).empty());
}

TEST(PolicyBook, ReqidIndexFollowsReplaceAndErase) {
  PolicyBook book;
  const PolicySpec out = spec("10.1.0.0/24", "10.9.0.5/32", Direction::Out, 7);
  const PolicySpec in = spec("10.9.0.5/32", "10.1.0.0/24", Direction::In, 7);
  put(book, "a", out);
  put(book, "a", in);
  auto keys = book.keys_of(7);
  std::sort(keys.begin(), keys.end());
  std::vector<PolicyBook::Key> both{PolicyBook::key_of(out), PolicyBook::key_of(in)};
  std::sort(both.begin(), both.end());
  EXPECT_EQ(keys, both);
  ASSERT_NE(book.any_of(7), nullptr);
  EXPECT_EQ(*book.any_of(7)->owner, "a");
  EXPECT_TRUE(book.keys_of(8).empty());
  EXPECT_EQ(book.any_of(8), nullptr);

  // A successor takes the outbound policy over under its own reqid.
  PolicySpec taken = out;
  taken.reqid = 8;
  put(book, "b", taken);
  EXPECT_EQ(book.keys_of(7), (std::vector<PolicyBook::Key>{PolicyBook::key_of(in)}));
  EXPECT_EQ(book.keys_of(8), (std::vector<PolicyBook::Key>{PolicyBook::key_of(out)}));
  EXPECT_EQ(owner_of(book.any_of(8)), "b");
  EXPECT_EQ(owner_of(book.any_of(7)), "a");

  book.erase(PolicyBook::key_of(in));
  EXPECT_TRUE(book.keys_of(7).empty());
  EXPECT_EQ(book.any_of(7), nullptr);
  book.erase(PolicyBook::key_of(out));
  EXPECT_TRUE(book.keys_of(8).empty());
  EXPECT_EQ(book.any_of(8), nullptr);
}

TEST(PolicyBook, OverlappingHostDestination) {
  PolicyBook book;
  put(book, "carol", spec("0.0.0.0/0", "10.3.0.1/32", Direction::Out, 1));
  // Another owner's policy to the same host: found.
  EXPECT_EQ(owner_of(book.overlapping(spec("10.1.0.0/16", "10.3.0.1/32", Direction::Out, 2), "dave")),
            "carol");
  // Another host: not.
  EXPECT_EQ(book.overlapping(spec("10.1.0.0/16", "10.3.0.2/32", Direction::Out, 2), "dave"), nullptr);
  // The same owner never overlaps itself (its successor takes over in place).
  EXPECT_EQ(book.overlapping(spec("10.1.0.0/16", "10.3.0.1/32", Direction::Out, 2), "carol"), nullptr);
  // Sources that do not intersect: none.
  put(book, "erin", spec("10.50.0.0/16", "10.3.0.7/32", Direction::Out, 3));
  EXPECT_EQ(book.overlapping(spec("10.60.0.0/16", "10.3.0.7/32", Direction::Out, 4), "dave"), nullptr);
  EXPECT_EQ(owner_of(book.overlapping(spec("10.50.1.0/24", "10.3.0.7/32", Direction::Out, 4), "dave")),
            "erin");
}

TEST(PolicyBook, InboundSpecsNeverOverlap) {
  PolicyBook book;
  put(book, "carol", spec("10.3.0.1/32", "0.0.0.0/0", Direction::In, 1));
  put(book, "carol", spec("10.3.0.1/32", "0.0.0.0/0", Direction::Fwd, 1));
  // An inbound query is not checked at all...
  EXPECT_EQ(book.overlapping(spec("10.3.0.1/32", "0.0.0.0/0", Direction::In, 2), "dave"), nullptr);
  EXPECT_EQ(book.overlapping(spec("10.3.0.1/32", "0.0.0.0/0", Direction::Fwd, 2), "dave"), nullptr);
  // ...and held inbound policies are not found by an outbound one with the same selectors.
  EXPECT_EQ(book.overlapping(spec("10.3.0.1/32", "0.0.0.0/0", Direction::Out, 2), "dave"), nullptr);
}

TEST(PolicyBook, WideAndHostDestinationsFindEachOther) {
  PolicyBook book;
  put(book, "site", spec("10.1.0.0/16", "10.20.0.0/16", Direction::Out, 1));
  put(book, "rw", spec("10.1.0.0/16", "10.30.0.9/32", Direction::Out, 2));
  // A host query inside a held subnet finds the subnet.
  EXPECT_EQ(owner_of(book.overlapping(spec("10.1.2.0/24", "10.20.5.5/32", Direction::Out, 3), "x")), "site");
  // A subnet query around a held host finds the host.
  EXPECT_EQ(owner_of(book.overlapping(spec("10.1.2.0/24", "10.30.0.0/24", Direction::Out, 3), "x")), "rw");
  // A subnet query that overlaps the held subnet only partly still finds it.
  EXPECT_EQ(owner_of(book.overlapping(spec("10.1.2.0/24", "10.20.128.0/17", Direction::Out, 3), "x")),
            "site");
  // Next to both: nothing.
  EXPECT_EQ(book.overlapping(spec("10.1.2.0/24", "10.21.0.0/16", Direction::Out, 3), "x"), nullptr);
  EXPECT_EQ(book.overlapping(spec("10.1.2.0/24", "10.30.1.0/24", Direction::Out, 3), "x"), nullptr);
}

TEST(PolicyBook, DisjointPortsOrProtocolsDoNotOverlap) {
  PolicyBook book;
  PolicySpec ssh = spec("10.1.0.0/16", "10.3.0.1/32", Direction::Out, 1);
  ssh.dst.ip_protocol = 6;
  ssh.dst.start_port = ssh.dst.end_port = 22;
  ssh.src.ip_protocol = 6;
  put(book, "ssh", ssh);
  PolicySpec web = ssh;
  web.dst.start_port = web.dst.end_port = 80;
  EXPECT_EQ(book.overlapping(web, "web"), nullptr);
  PolicySpec udp = ssh;
  udp.src.ip_protocol = udp.dst.ip_protocol = 17;
  EXPECT_EQ(book.overlapping(udp, "dns"), nullptr);
  // Any protocol and port covers port 22 of TCP.
  EXPECT_EQ(owner_of(book.overlapping(spec("10.1.0.0/16", "10.3.0.1/32", Direction::Out, 2), "any")), "ssh");
}

TEST(PolicyBook, IPv4AndIPv6NeverOverlap) {
  PolicyBook book;
  put(book, "v4", spec("0.0.0.0/0", "10.3.0.1/32", Direction::Out, 1));
  put(book, "v4wide", spec("0.0.0.0/0", "10.4.0.0/16", Direction::Out, 2));
  EXPECT_EQ(book.overlapping(spec("::/0", "::/0", Direction::Out, 3), "v6"), nullptr);
  EXPECT_EQ(book.overlapping(spec("::/0", "::a03:1/128", Direction::Out, 3), "v6"), nullptr);
  put(book, "v6", spec("::/0", "fd00::1/128", Direction::Out, 3));
  put(book, "v6wide", spec("::/0", "fd01::/64", Direction::Out, 4));
  EXPECT_EQ(owner_of(book.overlapping(spec("::/0", "fd00::/16", Direction::Out, 5), "x")), "v6");
  EXPECT_EQ(owner_of(book.overlapping(spec("::/0", "fd01::7/128", Direction::Out, 5), "x")), "v6wide");
  // A v4 query over everything finds only v4 policies.
  const std::string v4 = owner_of(book.overlapping(spec("0.0.0.0/0", "0.0.0.0/0", Direction::Out, 5), "x"));
  EXPECT_TRUE(v4 == "v4" || v4 == "v4wide") << v4;
  const std::string v6 = owner_of(book.overlapping(spec("::/0", "::/0", Direction::Out, 5), "x"));
  EXPECT_TRUE(v6 == "v6" || v6 == "v6wide") << v6;
}

// The reference: every held policy, scanned in full with the overlap rule the header states.
struct Reference {
  struct Entry {
    PolicyBook::Key key;
    PolicyBook::Held held;
  };
  std::vector<Entry> entries;

  void put(const PolicyBook::Key& key, const PolicyBook::Held& held) {
    for (Entry& e : entries)
      if (e.key == key) {
        e.held = held;
        return;
      }
    entries.push_back({key, held});
  }
  void erase(const PolicyBook::Key& key) {
    std::erase_if(entries, [&](const Entry& e) { return e.key == key; });
  }
  std::vector<std::string> overlapping(const PolicySpec& p, const std::string& owner) const {
    std::vector<std::string> owners;
    if (p.direction != Direction::Out) return owners;
    for (const Entry& e : entries) {
      const PolicySpec& h = e.held.spec;
      if (h.direction == p.direction && h.src.intersect(p.src) && h.dst.intersect(p.dst) &&
          *e.held.owner != owner)
        owners.push_back(*e.held.owner);
    }
    return owners;
  }
  std::vector<PolicyBook::Key> keys_of(std::uint32_t reqid) const {
    std::vector<PolicyBook::Key> keys;
    for (const Entry& e : entries)
      if (e.held.spec.reqid == reqid) keys.push_back(e.key);
    std::sort(keys.begin(), keys.end());
    return keys;
  }
};

// Selectors drawn from a small space so that overlaps, misses and replacements all happen often.
struct RandomSpecs {
  std::mt19937 rng{20261207};
  int below(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); }

  std::string address(bool v6, int net, int host) {
    return v6 ? "fd00:0:0:" + std::to_string(net) + "::" + std::to_string(host)
              : "10.0." + std::to_string(net) + "." + std::to_string(host);
  }
  TrafficSelector selector(bool v6) {
    const int net = below(3);
    const int host = below(16);
    TrafficSelector t;
    switch (below(4)) {
      case 0:
      case 1:  // a host (most road-warrior policies)
        t = ts(address(v6, net, host) + (v6 ? "/128" : "/32"));
        break;
      case 2:  // a small subnet
        t = ts(address(v6, net, host & ~3) + (v6 ? "/126" : "/30"));
        break;
      default:  // a site subnet
        t = ts(address(v6, net, 0) + (v6 ? "/64" : "/24"));
        break;
    }
    switch (below(6)) {
      case 0:
        t.ip_protocol = 6;
        break;
      case 1:
        t.ip_protocol = 6;
        t.start_port = t.end_port = static_cast<std::uint16_t>(below(2) ? 22 : 80);
        break;
      case 2:
        t.ip_protocol = 17;
        break;
      default:
        break;
    }
    return t;
  }
  PolicySpec spec() {
    PolicySpec p;
    const bool v6 = below(2) == 1;
    p.src = selector(v6);
    p.dst = selector(v6);
    const int d = below(5);
    p.direction = d < 3 ? Direction::Out : d == 3 ? Direction::In : Direction::Fwd;
    p.reqid = static_cast<std::uint32_t>(1 + below(12));
    p.tunnel_src = Endpoint{*IpAddress::parse("192.0.2.1"), 4500};
    p.tunnel_dst = Endpoint{*IpAddress::parse("198.51.100.1"), 4500};
    return p;
  }
  std::string owner() { return "o" + std::to_string(below(6)); }
};

TEST(PolicyBook, AgreesWithALinearScan) {
  PolicyBook book;
  Reference ref;
  RandomSpecs random;
  int found = 0;
  int none = 0;
  for (int step = 0; step < 6000; ++step) {
    const int op = random.below(10);
    if (op < 4) {
      PolicySpec p = random.spec();
      std::string owner = random.owner();
      // Half the time the inbound or forward twin of a held outbound policy, as the installer
      // puts them (the book keeps such a twin as a bit of its outbound entry): mostly the exact
      // mirror, sometimes under another reqid or owner (a hand-over in the middle).
      std::vector<const Reference::Entry*> outs;
      for (const auto& e : ref.entries)
        if (e.held.spec.direction == Direction::Out) outs.push_back(&e);
      if (random.below(2) == 0 && !outs.empty()) {
        const auto& out = *outs[static_cast<std::size_t>(random.below(static_cast<int>(outs.size())))];
        p = twin_of(out.held.spec, random.below(2) == 0 ? Direction::In : Direction::Fwd);
        owner = *out.held.owner;
        if (random.below(5) == 0) p.reqid += 1;
        if (random.below(5) == 0) owner = random.owner();
      }
      const PolicyBook::Held held{std::make_shared<const std::string>(owner), p};
      book.put(PolicyBook::key_of(p), held);
      ref.put(PolicyBook::key_of(p), held);
    } else if (op < 6 && !ref.entries.empty()) {
      // Erase something held (or, one time in four, something that is not).
      const PolicyBook::Key key =
          random.below(4) == 0
              ? PolicyBook::key_of(random.spec())
              : ref.entries[static_cast<std::size_t>(random.below(static_cast<int>(ref.entries.size())))].key;
      book.erase(key);
      ref.erase(key);
    } else {
      PolicySpec q = random.spec();
      q.direction = random.below(8) == 0 ? Direction::In : Direction::Out;
      const std::string owner = random.owner();
      const std::vector<std::string> expected = ref.overlapping(q, owner);
      const PolicyBook::Held* got = book.overlapping(q, owner);
      if (expected.empty()) {
        ++none;
        EXPECT_EQ(got, nullptr) << "step " << step << ": " << q.src.to_string() << " -> " << q.dst.to_string()
                                << " found " << *got->owner << "'s " << got->spec.src.to_string() << " -> "
                                << got->spec.dst.to_string();
      } else {
        ++found;
        ASSERT_NE(got, nullptr) << "step " << step << ": " << q.src.to_string() << " -> " << q.dst.to_string()
                                << " missed " << expected.size() << " overlapping";
        // Any of them will do, but it must be one of them.
        EXPECT_NE(*got->owner, owner);
        EXPECT_TRUE(got->spec.direction == Direction::Out && got->spec.src.intersect(q.src) &&
                    got->spec.dst.intersect(q.dst))
            << "step " << step;
        EXPECT_NE(std::find(expected.begin(), expected.end(), *got->owner), expected.end())
            << "step " << step;
      }
    }
    ASSERT_EQ(book.size(), ref.entries.size()) << "step " << step;
    if (step % 50 == 0) {
      for (const auto& e : ref.entries) {
        const auto got = book.find(e.key);
        ASSERT_TRUE(got.has_value()) << "step " << step;
        EXPECT_EQ(*got->owner, *e.held.owner) << "step " << step;
        EXPECT_EQ(got->spec.reqid, e.held.spec.reqid) << "step " << step;
        EXPECT_EQ(PolicyBook::key_of(got->spec), e.key) << "step " << step;
        EXPECT_EQ(got->spec.tunnel_src, e.held.spec.tunnel_src) << "step " << step;
        EXPECT_EQ(got->spec.tunnel_dst, e.held.spec.tunnel_dst) << "step " << step;
      }
      for (std::uint32_t reqid = 1; reqid <= 12; ++reqid) {
        auto keys = book.keys_of(reqid);
        std::sort(keys.begin(), keys.end());
        auto text = [](const std::vector<PolicyBook::Key>& ks) {
          std::string t;
          for (const auto& k : ks)
            t += std::get<0>(k).to_string() + ">" + std::get<1>(k).to_string() + "/" +
                 std::to_string(static_cast<int>(std::get<2>(k))) + " ";
          return t;
        };
        ASSERT_EQ(keys, ref.keys_of(reqid)) << "step " << step << " reqid " << reqid << ": " << text(keys)
                                            << "vs " << text(ref.keys_of(reqid));
        const PolicyBook::Held* any = book.any_of(reqid);
        ASSERT_EQ(any != nullptr, !keys.empty());
        if (any) {
          EXPECT_EQ(any->spec.reqid, reqid);
        }
      }
    }
  }
  // The draw exercised both answers often.
  EXPECT_GT(found, 300);
  EXPECT_GT(none, 300);
}

}  // namespace
}  // namespace natgate::gateway::core
