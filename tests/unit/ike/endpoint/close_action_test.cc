// close: restart (strongSwan's close_action = start) in ike::Endpoint: a CHILD SA the peer deletes
// alone is created again on the same IKE SA; our own deletes and the end of a rekey are not.
#include <gtest/gtest.h>

#include "endpoint_world.h"

namespace natgate::ike::testing {
namespace {

using namespace std::chrono_literals;

struct EndpointCloseAction : ::testing::Test {
  EndpointWorld world;
  Node& moon = world.add_node("moon", "192.0.2.1");
  Node& sun = world.add_node("sun", "192.0.2.2");
  std::shared_ptr<ConnectionSettings> conn =
      world.connect(moon, sun, "s2s", "moon.lab", "sun.lab", ConnectionStart::Initiate);
  ConnectionSettings& sun_conn = *sun.connections.front();
  std::string child = conn->peer->children.at(0).name;

  void setup(std::chrono::seconds child_lifetime) {
    conn->child_lifetime = sun_conn.child_lifetime = child_lifetime;
    conn->children_restarted_on_close = sun_conn.children_restarted_on_close = {child};
    world.start_all();
  }
  SaId moon_sa() { return moon.established().at(0)->id; }
  std::uint32_t moon_child() { return moon.children.begin()->first; }
  // moon deletes its pair at the hard expiry; sun sees the peer delete it.
  void moon_expires_its_child() {
    const auto key = EndpointTimerKey::of_sa(EndpointTimer::ChildExpire, moon_sa(), moon_child());
    moon.timers.erase(key);
    world.apply(moon, moon.endpoint->on_timer(key, world.now));
    world.run();
  }
  bool paired() {
    if (moon.children.size() != 1 || sun.children.size() != 1) return false;
    return moon.children.begin()->second.outbound_spi == sun.children.begin()->first &&
           sun.children.begin()->second.outbound_spi == moon.children.begin()->first;
  }
};

TEST_F(EndpointCloseAction, APairThePeerDeletedIsCreatedAgainOnTheSameIkeSa) {
  setup(100s);
  const SaId ike_before = moon_sa();
  const std::uint32_t old_moon = moon_child();
  const std::uint32_t old_sun = sun.children.begin()->first;
  moon_expires_its_child();
  EXPECT_EQ(moon.counter("child_sas_expired"), 1u);
  // sun was told by its peer: it creates the child again; moon deleted it itself: it does not.
  EXPECT_EQ(sun.counter("child_sas_restarted"), 1u);
  EXPECT_EQ(moon.counter("child_sas_restarted"), 0u);
  ASSERT_TRUE(paired());
  EXPECT_NE(moon_child(), old_moon);
  EXPECT_NE(sun.children.begin()->first, old_sun);
  EXPECT_EQ(moon_sa(), ike_before);  // no new IKE SA
  EXPECT_EQ(moon.established().size(), 1u);
  EXPECT_TRUE(sun.logged("creating it again (close: restart)"));
}

TEST_F(EndpointCloseAction, WithoutCloseRestartThePairStaysDeleted) {
  setup(100s);
  conn->children_restarted_on_close.clear();
  sun_conn.children_restarted_on_close.clear();
  moon_expires_its_child();
  EXPECT_EQ(sun.counter("child_sas_restarted"), 0u);
  EXPECT_TRUE(moon.children.empty());
  EXPECT_TRUE(sun.children.empty());
  EXPECT_EQ(moon.established().size(), 1u);
}

TEST_F(EndpointCloseAction, TheEndOfARekeyIsNoClose) {
  setup(1000s);
  const std::uint32_t old_moon = moon_child();
  // moon rekeys; the old pair is deleted once the new one is in: each side keeps one pair.
  world.apply(moon, moon.endpoint->data_plane_expire(old_moon, false, world.now));
  world.run();
  EXPECT_EQ(moon.counter("child_rekeys_started"), 1u);
  ASSERT_TRUE(paired());
  EXPECT_NE(moon_child(), old_moon);
  EXPECT_EQ(sun.counter("child_sas_restarted"), 0u);
  EXPECT_EQ(moon.counter("child_sas_restarted"), 0u);
}

}  // namespace
}  // namespace natgate::ike::testing
