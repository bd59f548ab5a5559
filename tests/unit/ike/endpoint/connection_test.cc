// The connections' runtime in ike::Endpoint: start actions, up/down/teardown and their replies,
// restarts after a dead peer with back-off, acquire, failed installs, reload and shutdown.
#include <gtest/gtest.h>

#include "endpoint_world.h"

namespace natgate::ike::testing {
namespace {

using namespace std::chrono_literals;

struct EndpointConnections : ::testing::Test {
  EndpointWorld world;
  Node& moon = world.add_node("moon", "192.0.2.1");
  Node& sun = world.add_node("sun", "192.0.2.2");
  std::shared_ptr<ConnectionSettings> conn =
      world.connect(moon, sun, "s2s", "moon.lab", "sun.lab", ConnectionStart::Initiate);

  const ControlReply& reply(Node& n, std::uint64_t token) {
    static const ControlReply none{0, false, "no reply", 0};
    auto it = n.replies.find(token);
    return it == n.replies.end() ? none : it->second;
  }
  std::optional<std::chrono::milliseconds> restart_in(Node& n) {
    auto at = n.timer(EndpointTimer::Restart);
    if (!at) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::milliseconds>(*at - world.now);
  }
};

TEST_F(EndpointConnections, StartActionsListenTrapOrInitiate) {
  Node& mars = world.add_node("mars", "192.0.2.5");
  auto trap = world.connect(mars, sun, "trap", "mars.lab", "sun.lab", ConnectionStart::OnTraffic);
  world.start_all();
  EXPECT_EQ(mars.traffic_policies, (std::vector<std::string>{"trap"}));
  EXPECT_EQ(mars.endpoint->table().size(), 0u);
  EXPECT_TRUE(sun.logged("s2s: waiting for moon.lab to connect from any address (start: listen)"));
  EXPECT_EQ(moon.established().size(), 1u);
}

// remote.address by name (issue 17): resolved on every attempt, its addresses tried in order.
TEST_F(EndpointConnections, ANamedPeerIsResolvedOnEveryAttemptAndItsAddressesTriedInOrder) {
  conn->remote.reset();
  conn->remote_hosts = {"sun.dyn.lab"};
  conn->remote_port = 500;
  moon.dns["sun.dyn.lab"] = {*IpAddress::parse("192.0.2.99"), sun.address};  // the first is dead
  world.start_all();
  EXPECT_EQ(moon.dns_queries, std::vector<std::string>{"sun.dyn.lab"});
  EXPECT_TRUE(moon.logged("s2s: remote.address resolves to 192.0.2.99, 192.0.2.2; trying 192.0.2.99"));
  EXPECT_TRUE(moon.established().empty());
  // Retransmissions to the dead address run out, then the restart resolves again and tries the next.
  for (int i = 0; i < 120 && moon.established().empty(); ++i) world.advance(1s);
  ASSERT_EQ(moon.established().size(), 1u);
  EXPECT_EQ(moon.dns_queries.size(), 2u);
  EXPECT_TRUE(moon.logged("s2s: remote.address resolves to 192.0.2.99, 192.0.2.2; trying 192.0.2.2"));
  EXPECT_EQ(moon.established().front()->peer.address, sun.address);
}

TEST_F(EndpointConnections, ANameThatDoesNotResolveIsRetriedWithBackOff) {
  conn->remote.reset();
  conn->remote_hosts = {"nowhere.lab"};
  world.start_all();
  EXPECT_TRUE(moon.logged(
      "s2s: cannot initiate: cannot resolve remote.address (nowhere.lab: Name or service not known)"));
  EXPECT_TRUE(restart_in(moon).has_value());
  moon.dns["nowhere.lab"] = {sun.address};  // the record appears
  for (int i = 0; i < 30 && moon.established().empty(); ++i) world.advance(1s);
  EXPECT_EQ(moon.established().size(), 1u);
}

TEST_F(EndpointConnections, AcquireInitiatesOnceForTheTrappedConnection) {
  conn->start = ConnectionStart::OnTraffic;
  world.start_all();
  EXPECT_EQ(moon.endpoint->table().size(), 0u);
  world.apply(moon, moon.endpoint->acquire(conn->reqid, "10.1.0.5 -> 10.2.0.5", world.now));
  // A second packet while the first initiation is under way starts nothing more.
  world.apply(moon, moon.endpoint->acquire(conn->reqid, "10.1.0.5 -> 10.2.0.6", world.now));
  world.run();
  EXPECT_EQ(moon.counter("ike_sas_initiated"), 1u);
  EXPECT_EQ(moon.established().size(), 1u);
  EXPECT_TRUE(moon.logged("traffic 10.1.0.5 -> 10.2.0.5 (start: on-traffic)"));
  // An unknown reqid is nobody's.
  world.apply(moon, moon.endpoint->acquire(99, "x -> y", world.now));
  EXPECT_EQ(moon.counter("ike_sas_initiated"), 1u);
}

// Lines about one IKE SA carry its connection, name and peer for the journal's fields
// (docs/operations.md): what `journalctl CONNECTION=s2s` finds.
TEST_F(EndpointConnections, LinesAboutAnIkeSaNameItsConnectionSaAndPeer) {
  world.start_all();
  ASSERT_EQ(moon.established().size(), 1u);
  const std::string name = sa_name(*moon.established().front()->sa);
  std::size_t about_the_sa = 0;
  for (const LogLine& l : moon.logs) {
    if (l.connection.empty()) continue;
    EXPECT_EQ(l.connection, "s2s") << l.text;
    if (l.ike_sa != name) continue;
    ++about_the_sa;
    EXPECT_EQ(l.peer.rfind("192.0.2.2", 0), 0u) << l.peer;
    EXPECT_NE(l.text.find("s2s: "), std::string::npos) << l.text;
  }
  EXPECT_GE(about_the_sa, 1u);
}

TEST_F(EndpointConnections, DownDeletesTellsThePeerAndStaysDown) {
  world.start_all();
  const auto token = world.next_token();
  world.apply(moon, moon.endpoint->down("s2s", token, world.now));
  EXPECT_EQ(moon.replies.count(token), 0u);  // waits for the Delete exchange
  world.run();
  EXPECT_TRUE(reply(moon, token).ok);
  EXPECT_EQ(reply(moon, token).text, "s2s is down");
  EXPECT_EQ(moon.endpoint->table().size(), 0u);
  EXPECT_EQ(sun.endpoint->table().size(), 0u);
  EXPECT_TRUE(moon.children.empty());
  EXPECT_TRUE(sun.children.empty());
  EXPECT_TRUE(moon.endpoint->runtime("s2s")->admin_down);
  EXPECT_EQ(moon.released_policies, (std::vector<std::uint32_t>{conn->reqid}));
  EXPECT_FALSE(moon.timer(EndpointTimer::Restart));
  world.advance(120s);
  EXPECT_EQ(moon.counter("ike_sas_initiated"), 1u);
}

TEST_F(EndpointConnections, UpBringsItBackAndAnswersOnceTheChildSaIsIn) {
  world.start_all();
  world.apply(moon, moon.endpoint->down("s2s", world.next_token(), world.now));
  world.run();
  const auto token = world.next_token();
  world.apply(moon, moon.endpoint->up("s2s", token, world.now));
  EXPECT_EQ(moon.replies.count(token), 0u);
  world.run();
  ASSERT_EQ(moon.replies.count(token), 1u);
  EXPECT_TRUE(reply(moon, token).ok);
  EXPECT_EQ(reply(moon, token).text.rfind("s2s is up: CHILD SA ", 0), 0u);
  EXPECT_FALSE(moon.endpoint->runtime("s2s")->admin_down);
  EXPECT_EQ(moon.established().size(), 1u);
  // Up again: nothing new, it says so.
  const auto again = world.next_token();
  world.apply(moon, moon.endpoint->up("s2s", again, world.now));
  EXPECT_NE(reply(moon, again).text.find("is already up"), std::string::npos);
  EXPECT_EQ(moon.counter("ike_sas_initiated"), 2u);
}

TEST_F(EndpointConnections, UpOrDownOfAnUnknownConnectionIsRefused) {
  world.start_all();
  const auto a = world.next_token();
  const auto b = world.next_token();
  world.apply(moon, moon.endpoint->up("nope", a, world.now));
  world.apply(moon, moon.endpoint->down("nope", b, world.now));
  EXPECT_FALSE(reply(moon, a).ok);
  EXPECT_EQ(reply(moon, a).text, "no connection named \"nope\"");
  EXPECT_FALSE(reply(moon, b).ok);
}

TEST_F(EndpointConnections, DeadPeerIsDetectedDeletedAndTheTunnelRestarted) {
  world.ike->dpd_interval = 10s;
  world.ike->retransmit.retransmits = 2;
  world.start_all();
  bool cut = true;
  world.deliver_if = [&](const WirePacket&) { return !cut; };
  // DPD at 10 s, then 1 + 2 + 4 s of retransmissions.
  world.advance(17500ms);
  EXPECT_EQ(moon.counter("ike_sas_timed_out"), 1u);
  EXPECT_TRUE(moon.children.empty());
  EXPECT_EQ(moon.endpoint->runtime("s2s")->detail,
            "the peer stopped answering (dead peer detection, RFC 7296 §2.4)");
  // An established SA lost: start again after 1 s.
  ASSERT_TRUE(restart_in(moon));
  EXPECT_LE(*restart_in(moon), 1000ms);
  cut = false;
  world.advance(2s);
  EXPECT_EQ(moon.counter("ike_sas_initiated"), 2u);
  EXPECT_EQ(moon.established().size(), 1u);
  EXPECT_EQ(moon.children.size(), 1u);
}

TEST_F(EndpointConnections, FailedAttemptsBackOff) {
  world.ike->retransmit.retransmits = 0;
  world.ike->retransmit.initial_timeout = 1s;
  world.deliver_if = [](const WirePacket&) { return false; };
  world.start_all();
  std::vector<std::chrono::milliseconds> pauses;
  for (int attempt = 0; attempt < 5; ++attempt) {
    world.advance(1s);  // the attempt times out
    ASSERT_TRUE(restart_in(moon)) << attempt;
    pauses.push_back(*restart_in(moon));
    world.advance(pauses.back());
  }
  EXPECT_EQ(pauses, (std::vector<std::chrono::milliseconds>{5s, 10s, 20s, 40s, 40s}));
  EXPECT_EQ(moon.endpoint->runtime("s2s")->failures, 5u);
  EXPECT_EQ(moon.counter("ike_sas_initiated"), 6u);
}

TEST_F(EndpointConnections, ARefusedInstallDeletesThePairAndFailsTheUpReply) {
  world.start(sun);
  conn->start = ConnectionStart::Listen;
  world.start(moon);
  moon.fail_installs = true;
  const auto token = world.next_token();
  world.apply(moon, moon.endpoint->up("s2s", token, world.now));
  world.run();
  EXPECT_EQ(moon.counter("child_sa_install_failures"), 1u);
  EXPECT_EQ(moon.counter("child_sas_installed"), 0u);
  EXPECT_FALSE(reply(moon, token).ok);
  EXPECT_NE(moon.endpoint->runtime("s2s")->detail.find("failed: refused by the test"), std::string::npos);
  // The pair was deleted with the peer too; the IKE SA stays.
  EXPECT_TRUE(sun.children.empty());
  EXPECT_EQ(moon.established().size(), 1u);
  EXPECT_EQ(moon.established()[0]->children.size(), 0u);
}

TEST_F(EndpointConnections, ReloadRestartsAChangedConnectionAndForgetsARemovedOne) {
  world.start_all();
  auto changed = std::make_shared<ConnectionSettings>(*conn);
  changed->child_lifetime = 600s;
  world.apply(moon, moon.endpoint->reload({changed}, {}, {{"s2s", "lifetimes"}}, {}, world.now));
  world.run();
  EXPECT_EQ(moon.counter("ike_sas_initiated"), 2u);
  ASSERT_EQ(moon.established().size(), 1u);
  // The new SA runs with the new settings.
  EXPECT_TRUE(moon.timer(EndpointTimer::ChildExpire));
  ASSERT_FALSE(moon.released_policies.empty());
  for (auto reqid : moon.released_policies) EXPECT_EQ(reqid, conn->reqid);
  world.apply(moon, moon.endpoint->reload({}, {"s2s"}, {}, {}, world.now));
  world.run();
  EXPECT_EQ(moon.endpoint->table().size(), 0u);
  EXPECT_EQ(moon.endpoint->runtime("s2s"), nullptr);
}

TEST_F(EndpointConnections, InitiateBringsUpAListeningConnectionOnlyWithAnAddress) {
  conn->start = ConnectionStart::Listen;
  world.start_all();
  EXPECT_EQ(moon.endpoint->table().size(), 0u);
  world.apply(moon, moon.endpoint->initiate("s2s", "test", world.now));
  world.run();
  EXPECT_EQ(moon.established().size(), 1u);
  EXPECT_TRUE(moon.logged("(test)"));
  // sun's side has no peer address: it can only respond.
  world.apply(sun, sun.endpoint->initiate("s2s", "test", world.now));
  EXPECT_TRUE(sun.logged("s2s: cannot initiate: remote.address is any"));
  EXPECT_EQ(sun.endpoint->table().size(), 1u);
}

TEST_F(EndpointConnections, TeardownDeletesButKeepsTheTrapsOfAStartedConnection) {
  world.start_all();
  world.apply(moon, moon.endpoint->teardown("s2s", world.now));
  world.run();
  EXPECT_EQ(moon.endpoint->table().size(), 0u);
  EXPECT_EQ(sun.endpoint->table().size(), 0u);
  EXPECT_TRUE(moon.children.empty());
  // Not taken down by the user: the policies stay for the next SA, and a local delete is no
  // reason to restart.
  EXPECT_TRUE(moon.released_policies.empty());
  EXPECT_FALSE(moon.timer(EndpointTimer::Restart));
  // sun's listening side lets its policies go with the last SA.
  EXPECT_EQ(sun.released_policies, (std::vector<std::uint32_t>{sun.connections.front()->reqid}));
}

TEST_F(EndpointConnections, ShutdownDeletesEverySaAndCompletesWhenTheyAreGone) {
  world.start_all();
  world.apply(moon, moon.endpoint->shutdown(world.now));
  EXPECT_FALSE(moon.shutdown_complete);
  world.run();
  EXPECT_TRUE(moon.shutdown_complete);
  EXPECT_EQ(sun.endpoint->table().size(), 0u);
  // No restart while stopping.
  EXPECT_FALSE(moon.timer(EndpointTimer::Restart));
}

TEST_F(EndpointConnections, ShutdownDeadlineRemovesTheChildSasOfSilentPeers) {
  world.start_all();
  world.deliver_if = [](const WirePacket&) { return false; };
  world.apply(moon, moon.endpoint->shutdown(world.now));
  EXPECT_FALSE(moon.shutdown_complete);
  world.apply(moon, moon.endpoint->shutdown_deadline_passed(world.now));
  EXPECT_TRUE(moon.shutdown_complete);
  EXPECT_TRUE(moon.children.empty());
}

}  // namespace
}  // namespace natgate::ike::testing
