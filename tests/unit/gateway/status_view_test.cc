// `natgate status` filters and summary on the daemon side (gateway/core/status_view.h), through
// the real status_view over an IKE SA table of road warriors (gateway/bench/road_warrior_status.h):
// each filter returns exactly the SAs a brute-force scan of the table selects, unknown connections
// and garbage filters are errors, never crashes.
#include "gateway/core/status_view.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "gateway/bench/road_warrior_status.h"
#include "gateway/control/control_protocol.h"
#include "gateway/metrics/exposition.h"

namespace natgate::gateway::core {
namespace {

using bench::RoadWarriorStatus;

constexpr std::size_t kPeers = 2000;

class StatusViewTest : public ::testing::Test {
 protected:
  // Built once for the suite's tests (2,000 road warriors take a moment).
  static void SetUpTestSuite() { world_ = std::make_unique<RoadWarriorStatus>(kPeers); }
  static void TearDownTestSuite() { world_.reset(); }
  static DaemonStatus status(const StatusQuery& q) {
    DaemonStatus out;
    Status s = world_->render(q, out);
    EXPECT_TRUE(s) << s.error();
    return out;
  }
  static std::string error_of(const StatusQuery& q) {
    DaemonStatus out;
    Status s = world_->render(q, out);
    return s ? std::string("no error") : s.error();
  }
  // The (remote_id, remote) of every peer shown, across connections.
  static std::multiset<std::string> peers_of(const DaemonStatus& s) {
    std::multiset<std::string> out;
    for (const auto& c : s.connections)
      for (const auto& p : c.peers) out.insert(p.remote_id + "@" + p.remote->to_string());
    return out;
  }
  // What a scan of the whole table selects for `keep`, in the same form.
  template <typename Keep>
  static std::multiset<std::string> scan(const std::string& connection, Keep keep) {
    std::multiset<std::string> out;
    world_->table().for_each([&](const ike::IkeSaEntry& e) {
      if (e.connection() == connection && keep(e))
        out.insert(e.remote_id->to_string() + "@" + e.sa->remote().to_string());
    });
    return out;
  }
  static std::unique_ptr<RoadWarriorStatus> world_;
};

std::unique_ptr<RoadWarriorStatus> StatusViewTest::world_;

TEST_F(StatusViewTest, WithoutOptionsEveryConnectionWithEveryPeerAndLease) {
  DaemonStatus s = status({});
  ASSERT_EQ(s.connections.size(), 2u);
  const ConnectionStatus& rw = s.connections[0];
  EXPECT_EQ(rw.name, "rw");
  EXPECT_EQ(rw.peers.size(), kPeers);
  EXPECT_EQ(rw.leases.size(), kPeers);
  EXPECT_EQ(peers_of(s), scan("rw", [](const ike::IkeSaEntry&) { return true; }));
  EXPECT_EQ(rw.peers.front().remote_id, "fqdn:rw0.lab");  // oldest first
  EXPECT_EQ(rw.peers.front().child_sas, 1u);
  EXPECT_EQ(rw.peers.front().virtual_ips.size(), 1u);
  EXPECT_EQ(s.connections[1].name, "office");
  ASSERT_TRUE(s.connections[1].ike_sa);
  EXPECT_EQ(s.connections[1].child_sas.size(), 1u);
  EXPECT_FALSE(s.summary);
}

TEST_F(StatusViewTest, ConnectionFilterShowsThatConnectionOnly) {
  DaemonStatus office = status({.connection = "office"});
  ASSERT_EQ(office.connections.size(), 1u);
  EXPECT_EQ(office.connections[0].name, "office");
  EXPECT_EQ(office.connections[0].remote_id, "office.lab");
  DaemonStatus rw = status({.connection = "rw"});
  ASSERT_EQ(rw.connections.size(), 1u);
  EXPECT_EQ(rw.connections[0].peers.size(), kPeers);
  // The same as the unfiltered view's entry for it.
  EXPECT_EQ(rw.connections[0], status({}).connections[0]);
}

TEST_F(StatusViewTest, UnknownConnectionIsAnError) {
  EXPECT_EQ(error_of({.connection = "nope"}), "no connection named \"nope\"");
  EXPECT_EQ(error_of({.connection = "nope", .summary = true}), "no connection named \"nope\"");
  EXPECT_EQ(error_of({.connection = "RW"}), "no connection named \"RW\"");  // names are exact
}

TEST_F(StatusViewTest, IdentityFilterShowsThatIdentitysSasAndLeasesOnly) {
  for (const std::string id : {"fqdn:rw17.lab", "rw17.lab", "@rw17.lab"}) {
    DaemonStatus s = status({.identity = id});
    ASSERT_EQ(s.connections.size(), 1u) << id;
    const ConnectionStatus& c = s.connections[0];
    EXPECT_EQ(c.name, "rw");
    ASSERT_EQ(c.peers.size(), 1u) << id;
    EXPECT_EQ(c.peers[0].remote_id, "fqdn:rw17.lab");
    EXPECT_EQ(*c.peers[0].remote, RoadWarriorStatus::peer(17));
    ASSERT_EQ(c.leases.size(), 1u);
    EXPECT_EQ(c.leases[0].identity, "fqdn:rw17.lab");
    EXPECT_EQ(c.peers[0].virtual_ips, std::vector<std::string>{c.leases[0].address});
    // The connection's IKE SA and CHILD SAs shown are the matching SA's.
    ASSERT_TRUE(c.ike_sa);
    EXPECT_EQ(c.ike_sa->spi_r, 0xa500000000000000ULL + 17);
    ASSERT_EQ(c.child_sas.size(), 1u);
    EXPECT_EQ(c.child_sas[0].spi_in, 0xc0000000u + 17);
  }
  DaemonStatus office = status({.identity = "office.lab"});
  ASSERT_EQ(office.connections.size(), 1u);
  EXPECT_EQ(office.connections[0].name, "office");
  // Nobody of that name: nothing shown, not an error. Another connection's identity: nothing.
  EXPECT_TRUE(status({.identity = "fqdn:rw999999.lab"}).connections.empty());
  EXPECT_TRUE(status({.connection = "office", .identity = "rw17.lab"}).connections.empty());
}

TEST_F(StatusViewTest, PeerFilterMatchesAddressAndOptionallyPort) {
  // Road warriors 10 and 11 share an address (one NAT), on different ports.
  const Endpoint ten = RoadWarriorStatus::peer(10);
  ASSERT_EQ(ten.address, RoadWarriorStatus::peer(11).address);
  DaemonStatus both = status({.peer = ten.address.to_string()});
  EXPECT_EQ(peers_of(both),
            scan("rw", [&](const ike::IkeSaEntry& e) { return e.sa->remote().address == ten.address; }));
  EXPECT_EQ(peers_of(both).size(), 2u);
  DaemonStatus one = status({.peer = ten.to_string()});
  EXPECT_EQ(peers_of(one), scan("rw", [&](const ike::IkeSaEntry& e) { return e.sa->remote() == ten; }));
  ASSERT_EQ(peers_of(one).size(), 1u);
  EXPECT_EQ(one.connections[0].leases.size(), 1u);
  // Peer and identity together: both must hold.
  EXPECT_EQ(peers_of(status({.identity = "rw10.lab", .peer = ten.address.to_string()})).size(), 1u);
  EXPECT_TRUE(status({.identity = "rw12.lab", .peer = ten.address.to_string()}).connections.empty());
  EXPECT_TRUE(status({.peer = "203.0.113.1"}).connections.empty());
}

TEST_F(StatusViewTest, SummaryCountsWithoutListingSas) {
  DaemonStatus s = status({.summary = true});
  EXPECT_TRUE(s.connections.empty());
  ASSERT_TRUE(s.summary);
  const StatusSummary& sum = *s.summary;
  EXPECT_EQ(sum.ike_sas, kPeers + 1);
  EXPECT_EQ(sum.child_sas, kPeers + 1);
  // The fixture's SAs are as IKE_SA_INIT created them (no exchange ran).
  EXPECT_EQ(sum.ike_sas_by_state, (std::map<std::string, std::size_t>{{"connecting", kPeers + 1}}));
  ASSERT_EQ(sum.connections.size(), 2u);
  EXPECT_EQ(sum.connections[0].name, "rw");
  EXPECT_EQ(sum.connections[0].ike_sas, kPeers);
  EXPECT_EQ(sum.connections[0].child_sas, kPeers);
  EXPECT_EQ(sum.connections[0].established, 0u);
  EXPECT_EQ(sum.connections[0].pool, "rw");
  EXPECT_EQ(sum.connections[0].leases_online, kPeers);
  EXPECT_EQ(sum.connections[0].leases, kPeers);
  EXPECT_EQ(sum.connections[0].pool_size, 262142u);  // 10.64.0.0/14 without network and broadcast
  EXPECT_EQ(sum.connections[1].name, "office");
  EXPECT_EQ(sum.connections[1].ike_sas, 1u);
  EXPECT_EQ(sum.connections[1].pool, "");
  // Filters narrow the counts.
  DaemonStatus one = status({.identity = "rw5.lab", .summary = true});
  ASSERT_TRUE(one.summary);
  EXPECT_EQ(one.summary->ike_sas, 1u);
  EXPECT_EQ(one.summary->connections[0].ike_sas, 1u);
  EXPECT_EQ(one.summary->connections[1].ike_sas, 0u);
  DaemonStatus office = status({.connection = "office", .summary = true});
  ASSERT_EQ(office.summary->connections.size(), 1u);
  EXPECT_EQ(office.summary->ike_sas, 1u);
  // The JSON reply of a summary is small however many SAs there are.
  EXPECT_LT(encode_status_reply(s).size(), 1024u);
}

// The metrics endpoint's walk (StatusQuery::traffic, gateway/metrics/): NAT flags and traffic
// added up per connection, so the exposition has as many lines with 2,000 road warriors as with
// one; per CHILD SA and peer only with per_sa (then one entry per road warrior).
TEST_F(StatusViewTest, MetricsSummaryIsBoundedByConnectionsUnlessPerSa) {
  DaemonStatus all = status({.summary = true, .traffic = true});
  ASSERT_TRUE(all.summary);
  EXPECT_TRUE(all.summary->connections[0].per_child.empty());
  DaemonStatus one = status({.identity = "rw5.lab", .summary = true, .traffic = true});
  const std::string text_all = metrics::render_exposition(all, metrics::EventMetrics{});
  const std::string text_one = metrics::render_exposition(one, metrics::EventMetrics{});
  EXPECT_EQ(std::count(text_all.begin(), text_all.end(), '\n'),
            std::count(text_one.begin(), text_one.end(), '\n'));
  EXPECT_NE(text_all.find("natgate_connection_up{connection=\"rw\"} 0"), std::string::npos) << text_all;
  DaemonStatus per = status({.summary = true, .traffic = true, .per_sa = true});
  ASSERT_TRUE(per.summary);
  std::set<std::string> peers;
  for (const auto& c : per.summary->connections[0].per_child) peers.insert(c.peer);
  EXPECT_EQ(per.summary->connections[0].per_child.size(), kPeers);
  EXPECT_EQ(peers.size(), kPeers);
  EXPECT_TRUE(peers.count(RoadWarriorStatus::identity(5)));
  const std::string text_per = metrics::render_exposition(per, metrics::EventMetrics{});
  EXPECT_NE(text_per.find("peer=\"" + RoadWarriorStatus::identity(5) + "\""), std::string::npos);
}

TEST_F(StatusViewTest, GarbageFiltersAreErrorsOrMatchNothing) {
  EXPECT_NE(error_of({.identity = "fqdn:"}), "no error");
  EXPECT_NE(error_of({.identity = std::string("\xff\xfe\0(.*)[", 8)}), "no error");
  EXPECT_NE(error_of({.identity = "ipv4:300.1.1.1"}), "no error");
  EXPECT_EQ(error_of({.identity = ".*"}).substr(0, 5), "--id:");
  for (const char* bad : {"", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:45x", "[::1", "[::1]",
                          "[::1]:", "host.lab:500", ":::::", "1.2.3.4:-1", "[1.2.3.4]:500x"}) {
    if (std::string(bad).empty()) continue;  // "" means no filter
    EXPECT_NE(error_of({.peer = bad}), "no error") << bad;
  }
  // Patterns are literal: no regex, no wildcard.
  EXPECT_TRUE(status({.identity = "fqdn:rw1*.lab"}).connections.empty());
  EXPECT_TRUE(status({.identity = "email:.*@lab"}).connections.empty());
}

TEST(StatusFilters, ParseTheFormsStatusPrints) {
  EXPECT_EQ(status_view::parse_identity_filter("fqdn:a.lab"), ike::Identity::fqdn("a.lab"));
  EXPECT_EQ(status_view::parse_identity_filter("a.lab"), ike::Identity::fqdn("a.lab"));
  EXPECT_EQ(status_view::parse_identity_filter("email:a@b.lab"), ike::Identity::email("a@b.lab"));
  EXPECT_EQ(status_view::parse_identity_filter("a@b.lab"), ike::Identity::email("a@b.lab"));
  EXPECT_EQ(status_view::parse_identity_filter("ipv4:192.0.2.1"),
            ike::Identity::address(*IpAddress::parse("192.0.2.1")));
  EXPECT_EQ(status_view::parse_identity_filter("ipv6:2001:db8::1"),
            ike::Identity::address(*IpAddress::parse("2001:db8::1")));
  auto v6 = status_view::parse_peer_filter("[2001:db8::1]:4500");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->port, 4500);
  auto bare = status_view::parse_peer_filter("2001:db8::1");
  ASSERT_TRUE(bare);
  EXPECT_FALSE(bare->port);
  auto v4 = status_view::parse_peer_filter("192.0.2.1:500");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->matches(Endpoint{*IpAddress::parse("192.0.2.1"), 500}));
  EXPECT_FALSE(v4->matches(Endpoint{*IpAddress::parse("192.0.2.1"), 4500}));
}

}  // namespace
}  // namespace natgate::gateway::core
