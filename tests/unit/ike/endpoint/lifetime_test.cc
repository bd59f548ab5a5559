// EndpointLifetimes in ike::Endpoint: rekeys due at 80-90 % of the lifetime (jitter), retries until the
// hard expiry, the expiry itself, data-plane expires, and both ends rekeying at once.
#include <gtest/gtest.h>

#include "endpoint_world.h"

namespace natgate::ike::testing {
namespace {

using namespace std::chrono_literals;

struct EndpointLifetimes : ::testing::Test {
  EndpointWorld world;
  Node& moon = world.add_node("moon", "192.0.2.1");
  Node& sun = world.add_node("sun", "192.0.2.2");
  std::shared_ptr<ConnectionSettings> conn =
      world.connect(moon, sun, "s2s", "moon.lab", "sun.lab", ConnectionStart::Initiate);
  ConnectionSettings& sun_conn = *sun.connections.front();

  void lifetimes(std::chrono::seconds ike, std::chrono::seconds child) {
    conn->ike_lifetime = sun_conn.ike_lifetime = ike;
    conn->child_lifetime = sun_conn.child_lifetime = child;
  }
  SaId moon_sa() { return moon.established().at(0)->id; }
  SaId sun_sa() { return sun.established().at(0)->id; }
  std::uint32_t moon_child() { return moon.children.begin()->first; }
  std::uint32_t sun_child() { return sun.children.begin()->first; }
  bool paired() {
    if (moon.children.size() != 1 || sun.children.size() != 1) return false;
    return moon.children.begin()->second.outbound_spi == sun_child() &&
           sun.children.begin()->second.outbound_spi == moon_child();
  }
};

TEST_F(EndpointLifetimes, IkeRekeyIsDueBetween80And90PercentAndExpiresAt100) {
  lifetimes(1000s, 0s);
  world.start_all();
  for (Node* n : {&moon, &sun}) {
    const IkeSaEntry* e = n->established().at(0);
    auto rekey = n->timer(EndpointTimer::IkeRekey, e->id);
    auto expire = n->timer(EndpointTimer::IkeExpire, e->id);
    ASSERT_TRUE(rekey && expire) << n->name;
    EXPECT_GE(*rekey, world.now + 800s);
    EXPECT_LE(*rekey, world.now + 900s);
    EXPECT_EQ(*expire, world.now + 1000s);
    EXPECT_EQ(e->rekey_at, rekey);
  }
  // The jitter makes the two ends differ.
  EXPECT_NE(moon.timer(EndpointTimer::IkeRekey), sun.timer(EndpointTimer::IkeRekey));
}

TEST_F(EndpointLifetimes, ChildRekeyIsDueBetween80And90PercentAndExpiresAt100) {
  lifetimes(0s, 600s);
  world.start_all();
  auto rekey = moon.timer(EndpointTimer::ChildRekey, moon_sa(), moon_child());
  auto expire = moon.timer(EndpointTimer::ChildExpire, moon_sa(), moon_child());
  ASSERT_TRUE(rekey && expire);
  EXPECT_GE(*rekey, world.now + 480s);
  EXPECT_LE(*rekey, world.now + 540s);
  EXPECT_EQ(*expire, world.now + 600s);
  EXPECT_FALSE(moon.timer(EndpointTimer::IkeRekey));  // no IKE lifetime: no IKE rekey
}

TEST_F(EndpointLifetimes, ChildRekeyReplacesThePairMakeBeforeBreak) {
  lifetimes(0s, 100s);
  world.start_all();
  const std::uint32_t old_moon = moon_child();
  const std::uint32_t old_sun = sun_child();
  world.advance(95s);
  EXPECT_GE(moon.counter("child_rekeys_started") + sun.counter("child_rekeys_started"), 1u);
  EXPECT_GE(moon.counter("child_sas_rekeyed") + sun.counter("child_sas_rekeyed"), 1u);
  ASSERT_TRUE(paired());
  EXPECT_NE(moon_child(), old_moon);
  EXPECT_NE(sun_child(), old_sun);
  // The old pairs left the data plane only after the new ones were in.
  EXPECT_EQ(moon.installs.size(), 2u);
  EXPECT_EQ(moon.removes, (std::vector<std::uint32_t>{old_moon}));
  EXPECT_EQ(sun.removes, (std::vector<std::uint32_t>{old_sun}));
  // Whoever answered the rekey sends on the new pair now that the old one is deleted.
  EXPECT_TRUE(moon.children.begin()->second.outbound_switched);
  EXPECT_TRUE(sun.children.begin()->second.outbound_switched);
  // The new pair has its own lifetime; the old one's timers are gone.
  EXPECT_TRUE(moon.timer(EndpointTimer::ChildExpire, 0, moon_child()));
  EXPECT_FALSE(moon.timer(EndpointTimer::ChildExpire, 0, old_moon));
}

TEST_F(EndpointLifetimes, IkeRekeyMovesTheChildSasToTheNewIkeSa) {
  lifetimes(100s, 0s);
  world.start_all();
  const SaId old_moon = moon_sa();
  const std::uint32_t child = moon_child();
  world.advance(95s);
  EXPECT_EQ(moon.counter("ike_sas_rekeyed"), 1u);
  EXPECT_EQ(sun.counter("ike_sas_rekeyed"), 1u);
  ASSERT_EQ(moon.endpoint->table().size(), 1u);
  ASSERT_EQ(sun.endpoint->table().size(), 1u);
  EXPECT_NE(moon_sa(), old_moon);
  // The data plane did not notice: the same pair, installed once, now under the new IKE SA.
  EXPECT_EQ(moon.installs.size(), 1u);
  EXPECT_EQ(moon_child(), child);
  EXPECT_EQ(moon.established().at(0)->children.size(), 1u);
  EXPECT_TRUE(moon.timer(EndpointTimer::IkeExpire, moon_sa()));
  EXPECT_FALSE(moon.timer(EndpointTimer::IkeExpire, old_moon));
}

TEST_F(EndpointLifetimes, AnUnansweredRekeyIsRetriedAndTheHardExpiryDeletesTheSa) {
  lifetimes(100s, 0s);
  world.ike->retransmit.retransmits = 1;
  world.ike->retransmit.initial_timeout = 20s;
  world.start_all();
  const SaId sa = moon_sa();
  const TimePoint expire = *moon.timer(EndpointTimer::IkeExpire, sa);
  const TimePoint due = *moon.timer(EndpointTimer::IkeRekey, sa);
  world.deliver_if = [](const WirePacket&) { return false; };  // the peer is gone
  world.advance(std::chrono::duration_cast<std::chrono::milliseconds>(due - world.now) + 1ms);
  EXPECT_EQ(moon.counter("ike_rekeys_started"), 1u);
  // A retry point between 1 s (+ jitter) and the hard expiry.
  auto retry = moon.timer(EndpointTimer::IkeRekey, sa);
  ASSERT_TRUE(retry);
  EXPECT_GT(*retry, world.now);
  EXPECT_LT(*retry, expire);
  world.advance(std::chrono::duration_cast<std::chrono::milliseconds>(expire - world.now) + 1ms);
  EXPECT_EQ(moon.counter("ike_sas_expired"), 1u);
  // start: initiate builds a new one.
  EXPECT_TRUE(moon.timer(EndpointTimer::Restart));
  // The unanswered Delete ends the SA, and its CHILD SA leaves the data plane.
  world.advance(60s);
  EXPECT_TRUE(moon.children.empty());
  EXPECT_EQ(moon.endpoint->table().find(sa), nullptr);
}

TEST_F(EndpointLifetimes, ChildHardExpiryDeletesThePairOnBothSides) {
  lifetimes(0s, 100s);
  world.start_all();
  const auto key = EndpointTimerKey::of_sa(EndpointTimer::ChildExpire, moon_sa(), moon_child());
  moon.timers.erase(key);
  world.apply(moon, moon.endpoint->on_timer(key, world.now));
  world.run();
  EXPECT_EQ(moon.counter("child_sas_expired"), 1u);
  EXPECT_TRUE(moon.children.empty());
  EXPECT_TRUE(sun.children.empty());
  EXPECT_EQ(moon.established().size(), 1u);  // the IKE SA stays
}

TEST_F(EndpointLifetimes, DataPlaneSoftExpireStartsARekeyAndHardExpireDeletes) {
  lifetimes(0s, 1000s);
  world.start_all();
  const std::uint32_t old_moon = moon_child();
  world.apply(moon, moon.endpoint->data_plane_expire(old_moon, false, world.now));
  world.run();
  EXPECT_EQ(moon.counter("child_soft_expires"), 1u);
  EXPECT_EQ(moon.counter("child_rekeys_started"), 1u);
  ASSERT_TRUE(paired());
  EXPECT_NE(moon_child(), old_moon);
  // A hard expire names the outbound SPI as well as the inbound one.
  const std::uint32_t outbound = moon.children.begin()->second.outbound_spi;
  world.apply(moon, moon.endpoint->data_plane_expire(outbound, true, world.now));
  world.run();
  EXPECT_EQ(moon.counter("child_sas_expired"), 1u);
  EXPECT_TRUE(moon.children.empty());
  EXPECT_TRUE(sun.children.empty());
}

TEST_F(EndpointLifetimes, BothEndsRekeyingTheChildSaAtOnceEndWithOnePair) {
  lifetimes(0s, 1000s);
  world.start_all();
  const std::uint32_t old_moon = moon_child();
  const std::uint32_t old_sun = sun_child();
  // Both requests are on the wire before either arrives (RFC 7296 §2.8.1).
  world.apply(moon, moon.endpoint->rekey_child_sa(moon_sa(), old_moon, world.now));
  world.apply(sun, sun.endpoint->rekey_child_sa(sun_sa(), old_sun, world.now));
  world.run();
  world.advance(5s);
  EXPECT_EQ(moon.counter("child_rekeys_started"), 1u);
  EXPECT_EQ(sun.counter("child_rekeys_started"), 1u);
  ASSERT_TRUE(paired());
  EXPECT_NE(moon_child(), old_moon);
  EXPECT_EQ(moon.established().size(), 1u);
  EXPECT_EQ(sun.established().size(), 1u);
}

TEST_F(EndpointLifetimes, BothEndsRekeyingTheIkeSaAtOnceEndWithOneIkeSa) {
  lifetimes(1000s, 0s);
  world.start_all();
  const std::uint32_t child = moon_child();
  world.apply(moon, moon.endpoint->rekey_ike_sa(moon_sa(), world.now));
  world.apply(sun, sun.endpoint->rekey_ike_sa(sun_sa(), world.now));
  world.run();
  world.advance(30s);
  EXPECT_EQ(moon.endpoint->table().size(), 1u);
  EXPECT_EQ(sun.endpoint->table().size(), 1u);
  ASSERT_EQ(moon.established().size(), 1u);
  ASSERT_EQ(sun.established().size(), 1u);
  EXPECT_EQ(moon.established()[0]->sa->spi_i(), sun.established()[0]->sa->spi_i());
  EXPECT_EQ(moon.counter("ike_sas_rekeyed") + sun.counter("ike_sas_rekeyed"), 2u);
  EXPECT_EQ(moon_child(), child);
  EXPECT_TRUE(paired());
}

}  // namespace
}  // namespace natgate::ike::testing
