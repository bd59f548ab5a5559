// The configuration payload in IKE_AUTH (RFC 7296 §2.19, §3.15): a road warrior asks for a
// virtual IP, the gateway leases one, and the CHILD SA's selectors for the client narrow to it.
#include "ike/exchange/config_payload.h"

#include <gtest/gtest.h>

#include "ike/codec/message.h"
#include "sa_pair.h"

namespace natgate::ike {
namespace {

using namespace natgate::ike::testing;

IpAddress ip(const char* text) { return *IpAddress::parse(text); }
Subnet net(const char* text) { return *Subnet::parse(text); }

class ScriptedPool final : public VirtualIpProvider {
 public:
  std::optional<Expected<VirtualIpAttributes>> answer;
  std::vector<std::pair<std::string, Identity>> asked;
  VirtualIpRequest last_request;

  std::optional<Expected<VirtualIpAttributes>> assign(const std::string& peer_config, const Identity& peer,
                                                      const VirtualIpRequest& request) override {
    asked.emplace_back(peer_config, peer);
    last_request = request;
    return answer;
  }
};

TEST(ConfigPayloadWire, ReplyAttributesRoundTrip) {
  VirtualIpAttributes a;
  a.addresses = {ip("10.99.0.7"), ip("fd00:99::7")};
  a.dns = {ip("10.2.0.53"), ip("fd00:2::53")};
  a.subnets = {net("10.2.0.0/24"), net("fd00:2::/64"), net("0.0.0.0/0")};
  Configuration cp = make_cfg_reply(a);
  EXPECT_EQ(cp.type, iana::CfgType::Reply);
  // §3.15.1 lengths: IPv4 address 4, IPv6 address 17 (with prefix), IPv4 subnet 8 (with mask).
  EXPECT_EQ(cp.attributes[0].value.size(), 4u);
  EXPECT_EQ(cp.attributes[1].value.size(), 17u);
  EXPECT_EQ(cp.attributes[4].value, (Bytes{10, 2, 0, 0, 255, 255, 255, 0}));
  unsigned skipped = 99;
  EXPECT_EQ(parse_cfg_reply(cp, &skipped), a);
  EXPECT_EQ(skipped, 0u);
}

TEST(ConfigPayloadWire, MalformedAttributesAreSkippedNotFatal) {
  Configuration cp;
  cp.type = iana::CfgType::Reply;
  cp.attributes = {
      {iana::CfgAttribute::InternalIp4Address, {10, 99}},
      {iana::CfgAttribute::InternalIp4Subnet, {10, 2, 0, 0, 255, 0, 255, 0}},  // mask with a hole
      {iana::CfgAttribute::InternalIp4Address, {10, 99, 0, 8}}};
  unsigned skipped = 0;
  auto a = parse_cfg_reply(cp, &skipped);
  EXPECT_EQ(skipped, 2u);
  ASSERT_EQ(a.addresses.size(), 1u);
  EXPECT_EQ(a.addresses[0], ip("10.99.0.8"));
}

TEST(ConfigPayloadWire, RequestAsksWithEmptyValuesOrSuggestsAnAddress) {
  Configuration cp = make_cfg_request({IpAddress::any(IpFamily::V4), ip("fd00:99::5")});
  EXPECT_EQ(cp.type, iana::CfgType::Request);
  ASSERT_GE(cp.attributes.size(), 2u);
  EXPECT_TRUE(cp.attributes[0].value.empty());
  EXPECT_EQ(cp.attributes[1].value.size(), 17u);
  VirtualIpRequest r = parse_cfg_request(cp);
  ASSERT_EQ(r.addresses.size(), 2u);
  EXPECT_TRUE(r.addresses[0].is_unspecified() && r.addresses[0].is_v4());
  EXPECT_EQ(r.addresses[1], ip("fd00:99::5"));
  EXPECT_TRUE(r.dns);
}

class RoadWarrior : public ::testing::Test {
 protected:
  void SetUp() override {
    // The client asks for any IPv4 address and proposes 0.0.0.0/0 for itself (it does not know
    // its address yet); the gateway's side for the client is "dynamic".
    pair.peer_i->request_virtual_ips = {IpAddress::any(IpFamily::V4)};
    pair.peer_i->children[0].local_ts = {ts("0.0.0.0/0")};
    pair.peer_i->children[0].remote_ts = {ts("0.0.0.0/0")};
    pair.peer_r().children[0].remote_ts = {};
    pair.peer_r().children[0].local_ts = {ts("10.2.0.0/24"), ts("10.99.0.0/24")};
    pair.virtual_ips_r = &pool;
  }
  std::optional<Configuration> cp_in(std::size_t wire_index) const {
    for (const auto& p : pair.payloads_of(wire_index))
      if (const auto* c = std::get_if<Configuration>(&p)) return *c;
    return std::nullopt;
  }
  SaPair pair;
  ScriptedPool pool;
};

TEST_F(RoadWarrior, GetsAnAddressAndTheChildSaNarrowsToIt) {
  VirtualIpAttributes lease;
  lease.addresses = {ip("10.99.0.7")};
  lease.dns = {ip("10.2.0.53")};
  lease.subnets = {net("10.2.0.0/24")};
  pool.answer = Expected<VirtualIpAttributes>(lease);
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());

  // IKE_AUTH request (wire[2]) carries CFG_REQUEST with an empty INTERNAL_IP4_ADDRESS; the
  // response (wire[3]) CFG_REPLY with the lease.
  auto req = cp_in(2);
  ASSERT_TRUE(req.has_value());
  EXPECT_EQ(req->type, iana::CfgType::Request);
  EXPECT_EQ(req->attributes[0].type, iana::CfgAttribute::InternalIp4Address);
  EXPECT_TRUE(req->attributes[0].value.empty());
  auto rep = cp_in(3);
  ASSERT_TRUE(rep.has_value());
  EXPECT_EQ(rep->type, iana::CfgType::Reply);
  EXPECT_EQ(parse_cfg_reply(*rep), lease);

  // The lease was asked for under the authenticated identity and the chosen peer config.
  ASSERT_EQ(pool.asked.size(), 1u);
  EXPECT_EQ(pool.asked[0].second, Identity::fqdn("moon.lab"));
  EXPECT_EQ(pool.asked[0].first, pair.peer_r().name);

  const auto* given = pair.log_r.first<VirtualIpsAssigned>();
  const auto* got = pair.log_i.first<VirtualIpsAssigned>();
  ASSERT_TRUE(given && got);
  EXPECT_TRUE(given->to_peer);
  EXPECT_FALSE(got->to_peer);
  EXPECT_EQ(got->attributes, lease);

  const auto* child_r = pair.log_r.first<ChildSaEstablished>();
  const auto* child_i = pair.log_i.first<ChildSaEstablished>();
  ASSERT_TRUE(child_r && child_i);
  EXPECT_EQ(child_r->remote_ts, std::vector<TrafficSelector>{ts("10.99.0.7/32")});
  EXPECT_EQ(child_i->local_ts, std::vector<TrafficSelector>{ts("10.99.0.7/32")});
  EXPECT_EQ(child_i->remote_ts, (std::vector<TrafficSelector>{ts("10.2.0.0/24"), ts("10.99.0.0/24")}));
}

TEST_F(RoadWarrior, ExhaustedPoolAnswersInternalAddressFailureAndNoChildSa) {
  pool.answer = Expected<VirtualIpAttributes>(unexpected(std::string("pool rw is full")));
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established()) << "the IKE SA itself stands (§1.2)";
  bool notified = false;
  for (const auto& p : pair.payloads_of(3))
    if (const auto* n = std::get_if<Notify>(&p))
      notified = notified || n->type == iana::NotifyType::InternalAddressFailure;
  EXPECT_TRUE(notified);
  EXPECT_FALSE(cp_in(3).has_value());
  EXPECT_EQ(pair.log_r.first<ChildSaEstablished>(), nullptr);
  EXPECT_EQ(pair.log_i.first<ChildSaEstablished>(), nullptr);
  EXPECT_EQ(pair.log_r.first<VirtualIpsAssigned>(), nullptr);
}

TEST_F(RoadWarrior, PeerConfigWithoutPoolIgnoresTheRequest) {
  pool.answer.reset();
  pair.peer_i->children[0].local_ts = {};  // dynamic: its own address
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  EXPECT_FALSE(cp_in(3).has_value());
  const auto* got = pair.log_i.first<VirtualIpsAssigned>();
  ASSERT_NE(got, nullptr);
  EXPECT_TRUE(got->attributes.addresses.empty());
  const auto* child_r = pair.log_r.first<ChildSaEstablished>();
  ASSERT_NE(child_r, nullptr);
  EXPECT_EQ(child_r->remote_ts, std::vector<TrafficSelector>{ts("192.0.2.1/32")});
}

TEST_F(RoadWarrior, NoRequestNoConfigPayload) {
  pair.peer_i->request_virtual_ips.clear();
  pair.peer_i->children[0].local_ts = {};
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  EXPECT_FALSE(cp_in(2).has_value());
  EXPECT_TRUE(pool.asked.empty());
  EXPECT_EQ(pair.log_i.first<VirtualIpsAssigned>(), nullptr);
}

}  // namespace
}  // namespace natgate::ike

namespace natgate::ike {
namespace {

// RFC 7296 §2.8: after an IKE SA rekey the virtual IP stays the peer's, so a CHILD SA rekeyed
// under the new IKE SA narrows to it as before.
TEST_F(RoadWarrior, VirtualIpSurvivesIkeRekeyForChildRekeys) {
  VirtualIpAttributes lease;
  lease.addresses = {ip("10.99.0.9")};
  pool.answer = Expected<VirtualIpAttributes>(lease);
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  pair.absorb_for_test(pair.initiator->rekey_ike_sa(pair.now), true);
  pair.run();
  ASSERT_TRUE(pair.both_established());
  ASSERT_EQ(pair.log_i.all<IkeSaRekeyed>().size(), 1u);
  ASSERT_EQ(pair.initiator->children().size(), 1u);
  const std::uint32_t old_spi = pair.initiator->children()[0].inbound_spi;
  pair.absorb_for_test(pair.initiator->rekey_child_sa(old_spi, pair.now), true);
  pair.run();
  const auto children = pair.log_r.all<ChildSaEstablished>();
  ASSERT_EQ(children.size(), 2u) << "the CHILD SA was rekeyed under the new IKE SA";
  EXPECT_EQ(children.back()->remote_ts, std::vector<TrafficSelector>{ts("10.99.0.9/32")});
  EXPECT_EQ(pool.asked.size(), 1u) << "no second lease";
}

}  // namespace
}  // namespace natgate::ike
