// The mediation server's registry (ike/mediation/mediation_registry.h): forwarding, ME_CONNECT_FAILED
// and callbacks, and the rate limits that keep one authenticated peer from flooding others.
#include "ike/mediation/mediation_registry.h"

#include <gtest/gtest.h>

namespace natgate::ike::mediation {
namespace {

using std::chrono::milliseconds;

PeerId peer(const char* name) {
  std::string s(name);
  return PeerId{iana::IdType::Fqdn, Bytes(s.begin(), s.end())};
}
Endpoint ep(const char* addr, std::uint16_t port) { return Endpoint{*IpAddress::parse(addr), port}; }
const MeEndpoint kHost{0x00ffffff, MeEndpointType::Host, Endpoint{*IpAddress::parse("10.1.0.2"), 4500}};

std::vector<Payload> ask_for(const char* target, std::uint64_t seed = 1) {
  crypto::DeterministicRandom random(seed);
  return payloads_from_peer(make_connect_request(random, peer(target).to_id_peer(), {kHost}));
}

const TimePoint t0{std::chrono::seconds(100)};

TEST(MediationRegistry, ForwardsToTheTargetNamingTheRequester) {
  MediationRegistry r;
  EXPECT_TRUE(r.peer_online(peer("alice"), 1, ep("203.0.113.1", 40000)).empty());
  EXPECT_TRUE(r.peer_online(peer("bob"), 2, std::nullopt).empty());
  EXPECT_EQ(r.server_reflexive(peer("alice")), ep("203.0.113.1", 40000));

  auto d = r.on_me_connect(1, ask_for("bob"), t0);
  auto* f = std::get_if<Forward>(&d);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->to, 2u);
  EXPECT_EQ(PeerId::of(f->message.peer), peer("alice"));
  EXPECT_FALSE(f->message.callback);  // forwarded as a plain request
  EXPECT_EQ(f->message.endpoints, std::vector<MeEndpoint>{kHost});
  EXPECT_EQ(r.counters().forwarded, 1u);
}

TEST(MediationRegistry, OfflineTargetFailsAndTheCallbackFollowsWhenItRegisters) {
  MediationRegistry r;
  r.peer_online(peer("alice"), 1, std::nullopt);
  auto d = r.on_me_connect(1, ask_for("bob"), t0);
  auto* refused = std::get_if<Refuse>(&d);
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->notify, me_notify::kConnectFailed);
  EXPECT_EQ(r.counters().target_offline, 1u);

  auto callbacks = r.peer_online(peer("bob"), 2, std::nullopt);
  ASSERT_EQ(callbacks.size(), 1u);
  EXPECT_EQ(callbacks[0].to, 1u);
  EXPECT_TRUE(callbacks[0].message.callback);
  EXPECT_EQ(PeerId::of(callbacks[0].message.peer), peer("bob"));
  // Only once.
  r.peer_offline(2);
  EXPECT_TRUE(r.peer_online(peer("bob"), 3, std::nullopt).empty());
}

TEST(MediationRegistry, WaitingRequesterThatLeftIsNotCalledBack) {
  MediationRegistry r;
  r.peer_online(peer("alice"), 1, std::nullopt);
  r.on_me_connect(1, ask_for("bob"), t0);
  r.peer_offline(1);
  EXPECT_TRUE(r.peer_online(peer("bob"), 2, std::nullopt).empty());
  EXPECT_FALSE(r.online(peer("alice")));
}

TEST(MediationRegistry, NewerSaOfTheSameIdentityReplacesTheOlder) {
  MediationRegistry r;
  r.peer_online(peer("alice"), 1, std::nullopt);
  r.peer_online(peer("bob"), 2, std::nullopt);
  r.peer_online(peer("bob"), 5, std::nullopt);
  auto d = r.on_me_connect(1, ask_for("bob"), t0);
  ASSERT_TRUE(std::holds_alternative<Forward>(d));
  EXPECT_EQ(std::get<Forward>(d).to, 5u);
  r.peer_offline(2);  // the old handle no longer means bob
  EXPECT_TRUE(r.online(peer("bob")));
  EXPECT_EQ(r.online_count(), 2u);
}

TEST(MediationRegistry, InvalidAndUnregisteredSendersAreRefused) {
  MediationRegistry r;
  r.peer_online(peer("alice"), 1, std::nullopt);
  auto bad = ask_for("bob");
  bad.pop_back();  // no ME_ENDPOINT
  auto d = r.on_me_connect(1, bad, t0);
  ASSERT_TRUE(std::holds_alternative<Refuse>(d));
  EXPECT_EQ(std::get<Refuse>(d).notify, iana::NotifyType::InvalidSyntax);
  EXPECT_EQ(r.counters().invalid, 1u);
  d = r.on_me_connect(99, ask_for("alice"), t0);
  EXPECT_EQ(std::get<Refuse>(d).notify, me_notify::kConnectFailed);
  EXPECT_EQ(r.counters().unknown_sender, 1u);
}

TEST(MediationRegistry, OneSenderCannotFloodOneTarget) {
  MediationRegistry r;  // pair bucket: 3, then one per 2 s
  r.peer_online(peer("mallory"), 1, std::nullopt);
  r.peer_online(peer("bob"), 2, std::nullopt);
  int forwarded = 0;
  for (int i = 0; i < 1000; ++i)
    forwarded += std::holds_alternative<Forward>(r.on_me_connect(1, ask_for("bob"), t0 + milliseconds(i)));
  EXPECT_EQ(forwarded, 3);
  EXPECT_EQ(r.counters().pair_limited + r.counters().sender_limited, 997u);
  // A token comes back after the refill interval.
  EXPECT_TRUE(std::holds_alternative<Forward>(r.on_me_connect(1, ask_for("bob"), t0 + milliseconds(3000))));
  // Others still reach bob.
  r.peer_online(peer("alice"), 3, std::nullopt);
  EXPECT_TRUE(std::holds_alternative<Forward>(r.on_me_connect(3, ask_for("bob"), t0 + milliseconds(3000))));
}

TEST(MediationRegistry, OneSenderCannotFloodManyTargets) {
  MediationRegistry r;  // sender bucket: 10, then one per second
  r.peer_online(peer("mallory"), 1, std::nullopt);
  for (std::uint64_t i = 0; i < 50; ++i)
    r.peer_online(peer(("v" + std::to_string(i)).c_str()), 100 + i, std::nullopt);
  int forwarded = 0;
  for (int round = 0; round < 10; ++round)
    for (int i = 0; i < 50; ++i)
      forwarded += std::holds_alternative<Forward>(
          r.on_me_connect(1, ask_for(("v" + std::to_string(i)).c_str()), t0 + milliseconds(round)));
  EXPECT_EQ(forwarded, 10);
  EXPECT_EQ(r.counters().sender_limited, 490u);
}

TEST(MediationRegistry, CallbackListsAreBounded) {
  RegistryLimits limits;
  limits.sender_burst = 1000;
  limits.max_waits_per_requester = 4;
  MediationRegistry r(limits);
  r.peer_online(peer("mallory"), 1, std::nullopt);
  for (int i = 0; i < 100; ++i) r.on_me_connect(1, ask_for(("ghost" + std::to_string(i)).c_str()), t0);
  EXPECT_EQ(r.counters().callbacks_dropped, 96u);
  int called_back = 0;
  for (int i = 0; i < 100; ++i)
    called_back += static_cast<int>(r.peer_online(peer(("ghost" + std::to_string(i)).c_str()),
                                                  1000 + static_cast<SaHandle>(i), std::nullopt)
                                        .size());
  EXPECT_EQ(called_back, 4);
}

}  // namespace
}  // namespace natgate::ike::mediation
