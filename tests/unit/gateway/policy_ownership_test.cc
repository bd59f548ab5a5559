// Policy ownership in ChildSaInstaller (issue 12 item 2): an owner's successor takes its policies
// over in place, releasing the predecessor's reqid leaves them alone, and another owner's
// overlapping selectors are refused without touching what is installed. A recording SaBackend
// with the data planes' naming rule (selectors + direction) stands in for them.
#include <gtest/gtest.h>

#include <map>
#include <tuple>

#include "gateway/config/config.h"
#include "gateway/config/policy_overlap.h"
#include "gateway/core/child_sa_installer.h"

namespace natgate::gateway::core {
namespace {

TrafficSelector ts(const char* cidr) { return TrafficSelector::from_subnet(*Subnet::parse(cidr)); }
Endpoint ep(const char* ip) { return Endpoint{*IpAddress::parse(ip), 4500}; }

// Policies as the data planes hold them; every call is logged, and every moment without a
// policy for a name that had one is counted as a gap.
class RecordingBackend final : public dataplane::SaBackend {
 public:
  using Key = std::tuple<TrafficSelector, TrafficSelector, dataplane::Direction>;
  std::map<Key, dataplane::PolicySpec> policies;
  std::vector<std::string> calls;
  std::map<std::tuple<std::uint32_t, IpAddress>, dataplane::SaSpec> sas;

  std::string name() const override { return "recording"; }
  Expected<std::uint32_t> allocate_spi(const AddressPair&, std::uint32_t) override { return 0x1000u; }
  Status add_sa(const dataplane::SaSpec& sa) override {
    sas[{sa.spi, sa.dst.address}] = sa;
    return {};
  }
  Status update_sa_endpoints(std::uint32_t, const IpAddress&, const EndpointPair&, bool) override {
    return {};
  }
  Expected<dataplane::SaCounters> query_sa(std::uint32_t, const IpAddress&) override {
    return dataplane::SaCounters{};
  }
  Status delete_sa(std::uint32_t spi, const IpAddress& dst) override {
    sas.erase({spi, dst});
    return {};
  }
  Status add_policy(const dataplane::PolicySpec& p) override {
    calls.push_back("add " + text(p));
    auto [it, fresh] = policies.try_emplace(key(p), p);
    if (!fresh) return unexpected(std::string("exists"));
    return {};
  }
  Status replace_policy(const dataplane::PolicySpec& p) override {
    calls.push_back("replace " + text(p));
    auto it = policies.find(key(p));
    if (it == policies.end()) return unexpected(std::string("none to replace"));
    it->second = p;
    return {};
  }
  Status delete_policy(const dataplane::PolicySpec& p) override {
    calls.push_back("delete " + text(p));
    if (policies.erase(key(p)) == 0) return unexpected(std::string("none"));
    return {};
  }
  void set_listener(dataplane::EventListener*) override {}
  int event_fd() const override { return -1; }
  void poll_events() override {}
  void flush() override {}

  std::optional<std::uint32_t> reqid_of(const char* src, const char* dst, dataplane::Direction d) const {
    auto it = policies.find({ts(src), ts(dst), d});
    if (it == policies.end()) return std::nullopt;
    return it->second.reqid;
  }
  std::size_t count(const std::string& prefix) const {
    std::size_t n = 0;
    for (const auto& c : calls) n += c.rfind(prefix, 0) == 0;
    return n;
  }

 private:
  static Key key(const dataplane::PolicySpec& p) { return {p.src, p.dst, p.direction}; }
  static std::string text(const dataplane::PolicySpec& p) {
    return p.src.to_string() + " " + p.dst.to_string() + " r" + std::to_string(p.reqid);
  }
};

const std::vector<TrafficSelector> kAll{ts("0.0.0.0/0")};

class PolicyOwnership : public ::testing::Test {
 protected:
  RecordingBackend backend;
  ChildSaInstaller installer{&backend};
  const std::string alice = "rw (email:alice@example.net)";
  const std::string bob = "rw (email:bob@example.net)";
};

TEST_F(PolicyOwnership, SuccessorOfTheSameIdentityTakesOverInPlace) {
  const std::vector<TrafficSelector> vip{ts("10.99.0.1/32")};
  ASSERT_TRUE(installer.install_policies(0x10000, alice, kAll, vip,
                                         {.local = ep("192.0.2.1"), .remote = ep("198.51.100.7")}));
  EXPECT_EQ(backend.policies.size(), 3u);  // out, in, fwd

  // The restarted client (new IKE SA, new reqid, same virtual IP, maybe a new NAT mapping).
  auto s = installer.install_policies(0x10001, alice, kAll, vip,
                                      {.local = ep("192.0.2.1"), .remote = ep("198.51.100.8")});
  ASSERT_TRUE(s) << s.error();
  EXPECT_EQ(backend.count("replace"), 3u);
  EXPECT_EQ(backend.count("delete"), 0u);  // never a moment without a policy
  EXPECT_EQ(backend.reqid_of("0.0.0.0/0", "10.99.0.1/32", dataplane::Direction::Out), 0x10001u);
  EXPECT_EQ(backend.reqid_of("10.99.0.1/32", "0.0.0.0/0", dataplane::Direction::Fwd), 0x10001u);

  // The old IKE SA goes (DPD, INITIAL_CONTACT): its reqid holds nothing any more.
  installer.release_policies(0x10000);
  EXPECT_EQ(backend.count("delete"), 0u);
  EXPECT_EQ(backend.policies.size(), 3u);
  EXPECT_FALSE(installer.has_policies(0x10000));
  EXPECT_TRUE(installer.has_policies(0x10001));

  installer.release_policies(0x10001);
  EXPECT_EQ(backend.policies.size(), 0u);
}

// natgated's shutdown (docs/performance.md, "Exit on SIGTERM"): the backend's flush removed every
// policy at once, so the installer forgets its book instead of removing each policy again, and a
// late release of a road warrior's reqid asks the data plane for nothing.
TEST_F(PolicyOwnership, ForgettingThePoliciesAsksTheDataPlaneForNothing) {
  for (int i = 0; i < 3; ++i) {
    const std::vector<TrafficSelector> vip{ts(("10.99.0." + std::to_string(i + 1) + "/32").c_str())};
    ASSERT_TRUE(installer.install_policies(0x10000 + i, alice, kAll, vip,
                                           {.local = ep("192.0.2.1"), .remote = ep("198.51.100.7")}));
  }
  ASSERT_EQ(installer.policy_count(), 9u);
  const auto calls_before = backend.calls.size();
  installer.forget_policies();
  EXPECT_EQ(installer.policy_count(), 0u);
  EXPECT_FALSE(installer.has_policies(0x10001));
  installer.release_policies(0x10001);
  EXPECT_EQ(backend.calls.size(), calls_before);
  EXPECT_EQ(backend.count("delete"), 0u);
}

TEST_F(PolicyOwnership, APredecessorCannotTakeItsPoliciesBack) {
  const std::vector<TrafficSelector> vip{ts("10.99.0.1/32")};
  ASSERT_TRUE(installer.install_policies(0x10000, alice, kAll, vip,
                                         {.local = ep("192.0.2.1"), .remote = ep("198.51.100.7")}));
  ASSERT_TRUE(installer.install_policies(0x10001, alice, kAll, vip,
                                         {.local = ep("192.0.2.1"), .remote = ep("198.51.100.8")}));
  // The old IKE SA, not yet dead by DPD, rekeys its CHILD SA.
  auto s = installer.install_policies(0x10000, alice, kAll, vip,
                                      {.local = ep("192.0.2.1"), .remote = ep("198.51.100.7")});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().find("newer SA"), std::string::npos) << s.error();
  EXPECT_EQ(backend.reqid_of("0.0.0.0/0", "10.99.0.1/32", dataplane::Direction::Out), 0x10001u);
}

TEST_F(PolicyOwnership, AnotherIdentityWithTheSameSelectorsIsRefusedAndChangesNothing) {
  const std::vector<TrafficSelector> vip{ts("10.99.0.1/32")};
  ASSERT_TRUE(installer.install_policies(0x10000, alice, kAll, vip,
                                         {.local = ep("192.0.2.1"), .remote = ep("198.51.100.7")}));
  const auto calls_before = backend.calls.size();
  auto s = installer.install_policies(0x10002, bob, kAll, vip,
                                      {.local = ep("192.0.2.1"), .remote = ep("198.51.100.9")});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().find("held by " + alice), std::string::npos) << s.error();
  EXPECT_EQ(backend.calls.size(), calls_before);  // refused before the data plane was asked
  EXPECT_EQ(backend.reqid_of("0.0.0.0/0", "10.99.0.1/32", dataplane::Direction::Out), 0x10000u);
  auto check = installer.check_policies(bob, kAll, vip);
  ASSERT_FALSE(check);
  EXPECT_TRUE(installer.check_policies(alice, kAll, vip));
  EXPECT_TRUE(installer.check_policies(bob, kAll, {ts("10.99.0.2/32")}));
}

TEST_F(PolicyOwnership, NarrowingIntoAnotherConnectionsTrafficIsRefused) {
  // Connection Y: 10.1.0.0/16 <-> 10.2.0.0/16. A peer of X, whose config allows anything,
  // asks for a part of it (narrower selectors would win the lookup) or exactly it.
  ASSERT_TRUE(installer.install_policies(2, "y", {ts("10.1.0.0/16")}, {ts("10.2.0.0/16")},
                                         {.local = ep("192.0.2.1"), .remote = ep("203.0.113.2")}));
  for (const char* dst : {"10.2.0.0/16", "10.2.7.0/24", "10.0.0.0/8"}) {
    auto s = installer.install_policies(1, "x", {ts("10.1.0.0/16")}, {ts(dst)},
                                        {.local = ep("192.0.2.1"), .remote = ep("203.0.113.66")});
    ASSERT_FALSE(s) << dst;
    EXPECT_NE(s.error().find("held by y (reqid 2)"), std::string::npos) << s.error();
  }
  EXPECT_EQ(backend.policies.size(), 3u);
  EXPECT_EQ(backend.reqid_of("10.1.0.0/16", "10.2.0.0/16", dataplane::Direction::Out), 2u);
  // Traffic nobody holds is fine for X.
  EXPECT_TRUE(installer.install_policies(1, "x", {ts("10.1.0.0/16")}, {ts("10.3.0.0/16")},
                                         {.local = ep("192.0.2.1"), .remote = ep("203.0.113.66")}));
}

TEST_F(PolicyOwnership, AFailingPolicyUndoesTheSet) {
  ASSERT_TRUE(installer.install_policies(0x10000, alice, kAll, {ts("10.99.0.1/32")},
                                         {.local = ep("192.0.2.1"), .remote = ep("198.51.100.7")}));
  // Someone outside natgate holds the in policy of the second set: add_policy fails there.
  dataplane::PolicySpec foreign;
  foreign.src = ts("10.99.0.2/32");
  foreign.dst = ts("0.0.0.0/0");
  foreign.direction = dataplane::Direction::In;
  backend.policies[{foreign.src, foreign.dst, foreign.direction}] = foreign;
  auto s = installer.install_policies(0x10001, alice, kAll, {ts("10.99.0.1/32"), ts("10.99.0.2/32")},
                                      {.local = ep("192.0.2.1"), .remote = ep("198.51.100.8")});
  ASSERT_FALSE(s);
  // The takeover of 10.99.0.1 was put back to the old reqid; the added out policy is gone.
  EXPECT_EQ(backend.reqid_of("0.0.0.0/0", "10.99.0.1/32", dataplane::Direction::Out), 0x10000u);
  EXPECT_FALSE(backend.reqid_of("0.0.0.0/0", "10.99.0.2/32", dataplane::Direction::Out));
  EXPECT_TRUE(installer.has_policies(0x10000));
  EXPECT_FALSE(installer.has_policies(0x10001));
}

TEST_F(PolicyOwnership, ARekeyedPairOfTheSameReqidChangesNothing) {
  ASSERT_TRUE(installer.install_policies(7, "office", {ts("10.1.0.0/24")}, {ts("10.2.0.0/24")},
                                         {.local = ep("192.0.2.1"), .remote = ep("203.0.113.2")}));
  const auto calls_before = backend.calls.size();
  ASSERT_TRUE(installer.install_policies(7, "office", {ts("10.1.0.0/24")}, {ts("10.2.0.0/24")},
                                         {.local = ep("192.0.2.1"), .remote = ep("203.0.113.2")}));
  EXPECT_EQ(backend.calls.size(), calls_before);
  // A second CHILD SA of the connection with other selectors adds to the set.
  ASSERT_TRUE(installer.install_policies(7, "office", {ts("10.1.1.0/24")}, {ts("10.2.1.0/24")},
                                         {.local = ep("192.0.2.1"), .remote = ep("203.0.113.2")}));
  EXPECT_EQ(backend.policies.size(), 6u);
}

TEST_F(PolicyOwnership, InstallRefusesAnotherOwnersTrafficBeforeAddingSas) {
  ASSERT_TRUE(installer.install_policies(2, "y", {ts("10.1.0.0/16")}, {ts("10.2.0.0/16")},
                                         {.local = ep("192.0.2.1"), .remote = ep("203.0.113.2")}));
  ike::ChildSaEstablished e;
  e.child_config = "x";
  e.inbound_spi = 0x1000;
  e.outbound_spi = 0x2000;
  e.local_ts = {ts("10.1.0.0/16")};
  e.remote_ts = {ts("10.2.0.0/16")};
  e.local = ep("192.0.2.1");
  e.remote = ep("203.0.113.66");
  auto installed = installer.install(e, 1, "x", std::chrono::seconds(0), std::chrono::seconds(0));
  ASSERT_FALSE(installed);
  EXPECT_TRUE(backend.sas.empty());
}

TEST_F(PolicyOwnership, OwnerNamesTheIdentityOnlyForAnyIdConnections) {
  const auto id = ike::Identity::email("alice@example.net");
  EXPECT_EQ(policy_owner("office", false, id), "office");
  EXPECT_EQ(policy_owner("rw", true, id), "rw (" + id.to_string() + ")");
}

ConnectionConfig connection(const char* name, const std::vector<const char*>& local,
                            const std::vector<const char*>& remote) {
  ConnectionConfig c;
  c.name = name;
  for (auto s : local) c.local.subnets.push_back(*Subnet::parse(s));
  for (auto s : remote) c.remote.subnets.push_back(*Subnet::parse(s));
  return c;
}

TEST(PolicyOverlapCheck, NamesConnectionsThatCarryTheSameTraffic) {
  Config config;
  config.connections.push_back(connection("branch-a", {"10.1.0.0/16"}, {"10.2.0.0/16"}));
  config.connections.push_back(connection("branch-b", {"10.1.0.0/16"}, {"10.3.0.0/16"}));
  EXPECT_TRUE(policy_overlap_warnings(config).empty());
  config.connections.push_back(connection("branch-c", {"10.1.5.0/24"}, {"10.2.0.0/24"}));
  auto w = policy_overlap_warnings(config);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("connections.branch-a and connections.branch-c both carry 10.1.0.0/16 <-> 10.2.0.0/16"),
            std::string::npos)
      << w[0];
  EXPECT_NE(w[0].find("TS_UNACCEPTABLE"), std::string::npos);
}

TEST(PolicyOverlapCheck, PoolsAndDynamicSelectorsNeverConflict) {
  Config config;
  auto a = connection("rw-a", {"0.0.0.0/0"}, {});
  a.pool = "p";
  a.remote.any_id = true;
  auto b = connection("rw-b", {"0.0.0.0/0"}, {});
  b.pool = "p";
  b.remote.any_id = true;
  config.connections = {a, b, connection("host", {}, {"10.2.0.0/16"})};
  EXPECT_TRUE(policy_overlap_warnings(config).empty());
  auto hub = connection("hub", {"10.1.0.0/16"}, {"10.2.0.0/16"});
  hub.remote.any_id = true;
  config.connections.push_back(hub);
  auto w = policy_overlap_warnings(config);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("only one identity at a time"), std::string::npos) << w[0];
}

}  // namespace
}  // namespace natgate::gateway::core
