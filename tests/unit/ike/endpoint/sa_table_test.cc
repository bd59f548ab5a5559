// IkeSaTable's indexes (ike/endpoint/sa_table.h): by connection and by authenticated peer
// identity (oldest first, following set_connection/set_remote_id and remove), and the responder
// index (RFC 7296 §2.1: a retransmitted IKE_SA_INIT finds its half-open SA) emptied on remove.
#include "ike/endpoint/sa_table.h"

#include <gtest/gtest.h>

#include "crypto/random.h"
#include "endpoint_world.h"

namespace natgate::ike::testing {
namespace {

natgate::Endpoint at(const char* ip, std::uint16_t port) {
  return natgate::Endpoint{*IpAddress::parse(ip), port};
}

struct IkeSaTableTest : ::testing::Test {
  crypto::DeterministicRandom random{7};
  std::shared_ptr<IkeSaConfig> ike = EndpointWorld::default_ike_config();
  IkeSaTable table;
  TimePoint now{};
  std::uint64_t next_spi = 1;

  std::shared_ptr<const ConnectionSettings> connection(const std::string& name) {
    auto s = std::make_shared<ConnectionSettings>();
    s->name = name;
    return s;
  }
  // A responder SA as the Endpoint makes one for an IKE_SA_INIT from `remote` with `spi_i`.
  IkeSaEntry& responder(const natgate::Endpoint& remote, std::uint64_t spi_i,
                        std::shared_ptr<const ConnectionSettings> settings = nullptr) {
    Environment env;
    env.random = &random;
    auto sa = IkeSa::create_responder(ike, IkeSpi::from_u64(spi_i), IkeSpi::from_u64(0x1000 + next_spi++),
                                      at("192.0.2.2", 500), remote, env);
    return table.add(std::move(sa), std::move(settings), now);
  }
  static std::vector<SaId> ids(const std::vector<IkeSaEntry*>& v) {
    std::vector<SaId> out;
    out.reserve(v.size());
    for (const IkeSaEntry* e : v) out.push_back(e->id);
    return out;
  }
  std::vector<SaId> of_connection(const std::string& name) const {
    std::vector<SaId> out;
    for (const IkeSaEntry* e : table.of_connection(name)) out.push_back(e->id);
    return out;
  }
};

TEST_F(IkeSaTableTest, ConnectionIndexOldestFirstAndFollowsChanges) {
  auto rw = connection("rw");
  auto s2s = connection("s2s");
  const SaId a = responder(at("198.18.0.1", 500), 11, rw).id;
  const SaId b = responder(at("198.18.0.2", 500), 12).id;  // connection known only at IKE_AUTH
  const SaId c = responder(at("198.18.0.3", 500), 13, rw).id;
  EXPECT_EQ(of_connection("rw"), (std::vector<SaId>{a, c}));
  EXPECT_TRUE(of_connection("s2s").empty());

  table.set_connection(*table.find(b), rw);
  EXPECT_EQ(of_connection("rw"), (std::vector<SaId>{a, b, c}));
  // Moving to another connection leaves the first one's index.
  table.set_connection(*table.find(a), s2s);
  EXPECT_EQ(of_connection("rw"), (std::vector<SaId>{b, c}));
  EXPECT_EQ(of_connection("s2s"), (std::vector<SaId>{a}));
  EXPECT_EQ(table.find(a)->connection(), "s2s");

  table.remove(b);
  EXPECT_EQ(of_connection("rw"), (std::vector<SaId>{c}));
  table.remove(a);
  EXPECT_TRUE(of_connection("s2s").empty());
  table.set_connection(*table.find(c), nullptr);
  EXPECT_TRUE(of_connection("rw").empty());
  EXPECT_EQ(table.find(c)->connection(), "");
  // The mutable overload agrees with the const one.
  table.set_connection(*table.find(c), rw);
  EXPECT_EQ(ids(table.of_connection(std::string("rw"))), (std::vector<SaId>{c}));
}

TEST_F(IkeSaTableTest, IdentityIndexOldestFirstAndFollowsChanges) {
  const Identity carol = Identity::fqdn("carol.lab");
  const Identity dave = Identity::fqdn("dave.lab");
  const SaId a = responder(at("198.18.0.1", 500), 11).id;
  const SaId b = responder(at("198.18.0.2", 500), 12).id;
  const SaId c = responder(at("198.18.0.3", 500), 13).id;
  EXPECT_TRUE(table.of_identity(carol).empty());
  // Authenticated out of order: the index still lists them oldest (first added) first.
  table.set_remote_id(*table.find(c), carol);
  table.set_remote_id(*table.find(a), carol);
  table.set_remote_id(*table.find(b), dave);
  EXPECT_EQ(ids(table.of_identity(carol)), (std::vector<SaId>{a, c}));
  EXPECT_EQ(ids(table.of_identity(dave)), (std::vector<SaId>{b}));

  table.set_remote_id(*table.find(c), dave);  // re-authenticated as someone else
  EXPECT_EQ(ids(table.of_identity(carol)), (std::vector<SaId>{a}));
  EXPECT_EQ(ids(table.of_identity(dave)), (std::vector<SaId>{b, c}));
  EXPECT_EQ(table.find(c)->remote_id, dave);

  table.remove(b);
  EXPECT_EQ(ids(table.of_identity(dave)), (std::vector<SaId>{c}));
  table.remove(a);
  EXPECT_TRUE(table.of_identity(carol).empty());
  table.remove(c);
  EXPECT_TRUE(table.of_identity(dave).empty());
  EXPECT_EQ(table.size(), 0u);
}

TEST_F(IkeSaTableTest, ResponderIndexFindsTheHalfOpenSaUntilItIsRemoved) {
  const natgate::Endpoint carol = at("198.18.0.1", 500);
  const SaId a = responder(carol, 11).id;
  const SaId b = responder(carol, 12).id;                  // same peer, another SPIi: another SA
  const SaId c = responder(at("198.18.0.2", 500), 11).id;  // same SPIi, another peer
  ASSERT_NE(table.find_responder(carol, IkeSpi::from_u64(11)), nullptr);
  EXPECT_EQ(table.find_responder(carol, IkeSpi::from_u64(11))->id, a);
  EXPECT_EQ(table.find_responder(carol, IkeSpi::from_u64(12))->id, b);
  EXPECT_EQ(table.find_responder(at("198.18.0.2", 500), IkeSpi::from_u64(11))->id, c);
  EXPECT_EQ(table.find_responder(at("198.18.0.1", 4500), IkeSpi::from_u64(11)), nullptr);
  EXPECT_EQ(table.responder_count(), 3u);
  EXPECT_EQ(table.find_by_local_spi(table.find(b)->sa->local_spi())->id, b);

  const IkeSpi b_local = table.find(b)->sa->local_spi();
  table.remove(b);
  EXPECT_EQ(table.find_responder(carol, IkeSpi::from_u64(12)), nullptr);
  EXPECT_EQ(table.find_by_local_spi(b_local), nullptr);
  EXPECT_EQ(table.find_responder(carol, IkeSpi::from_u64(11))->id, a);
  EXPECT_EQ(table.responder_count(), 2u);
  table.remove(a);
  table.remove(c);
  table.remove(c);  // twice: nothing happens
  EXPECT_EQ(table.responder_count(), 0u);
  EXPECT_EQ(table.size(), 0u);
}

// The responder index is keyed by where the IKE_SA_INIT came from; the peer may move later (NAT
// rebinding, RFC 7296 §2.23) and the entry must still go with its SA.
TEST(IkeSaTableEndpoint, AResponderThatMovedLeavesNothingInTheResponderIndex) {
  using namespace std::chrono_literals;
  EndpointWorld world;
  Node& moon = world.add_node("moon", "10.99.0.1");
  Node& sun = world.add_node("sun", "192.0.2.2");
  moon.nat_public = IpAddress::parse("198.51.100.1");
  moon.nat_shift = 1000;
  world.ike->dpd_interval = 10s;
  world.connect(moon, sun, "s2s", "moon.lab", "sun.lab", ConnectionStart::Initiate);
  world.start_all();
  ASSERT_EQ(sun.established().size(), 1u);
  const IkeSaEntry* e = sun.established()[0];
  ASSERT_TRUE(e->responder_key);
  const auto first_key = *e->responder_key;
  EXPECT_EQ(sun.endpoint->table().responder_count(), 1u);
  moon.nat_shift = 2000;  // the NAT made a new mapping; moon's liveness check shows it
  world.advance(11s);
  ASSERT_EQ(sun.counter("peer_address_changes"), 1u);
  ASSERT_EQ(sun.established().size(), 1u);
  ASSERT_NE(sun.established()[0]->sa->remote(), first_key.first);
  world.apply(moon, moon.endpoint->teardown("s2s", world.now));  // moon deletes it (§1.4.1)
  world.run();
  EXPECT_EQ(sun.endpoint->table().size(), 0u);
  EXPECT_EQ(sun.endpoint->table().responder_count(), 0u);
}

}  // namespace
}  // namespace natgate::ike::testing
