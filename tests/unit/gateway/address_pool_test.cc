// Virtual IP pools (RFC 7296 §2.19): leases by identity, the same address again for the same
// identity, released leases kept for their owner until the pool runs out.
#include "gateway/pool/address_pool.h"

#include <gtest/gtest.h>

#include <set>

namespace natgate::gateway::pool {
namespace {

IpAddress ip(const char* t) { return *IpAddress::parse(t); }
Subnet net(const char* t) { return *Subnet::parse(t); }

TEST(AddressPool, SkipsNetworkAndBroadcastAndHandsOutInOrder) {
  AddressPool p("rw", {net("10.99.0.0/30")});
  EXPECT_EQ(p.capacity(IpFamily::V4), 2u);
  EXPECT_EQ(*p.acquire("fqdn:a", IpFamily::V4), ip("10.99.0.1"));
  EXPECT_EQ(*p.acquire("fqdn:b", IpFamily::V4), ip("10.99.0.2"));
  auto full = p.acquire("fqdn:c", IpFamily::V4);
  ASSERT_FALSE(full);
  EXPECT_NE(full.error().find("exhausted"), std::string::npos);
}

TEST(AddressPool, SameIdentitySameAddressOnlineOrNot) {
  AddressPool p("rw", {net("10.99.0.0/24")});
  const IpAddress a = *p.acquire("fqdn:alice", IpFamily::V4);
  const IpAddress b = *p.acquire("fqdn:bob", IpFamily::V4);
  EXPECT_NE(a, b);
  // A reconnect while the old SA is still there (INITIAL_CONTACT replaces it afterwards).
  EXPECT_EQ(*p.acquire("fqdn:alice", IpFamily::V4), a);
  p.release("fqdn:alice", a);
  EXPECT_EQ(p.online(), 2u) << "still held by the newer SA";
  p.release("fqdn:alice", a);
  EXPECT_EQ(p.online(), 1u);
  EXPECT_EQ(*p.acquire("fqdn:carol", IpFamily::V4), ip("10.99.0.3")) << "alice's offline lease stays hers";
  EXPECT_EQ(*p.acquire("fqdn:alice", IpFamily::V4), a);
  auto leases = p.leases();
  ASSERT_EQ(leases.size(), 3u);
  EXPECT_EQ(leases[0].identity, "fqdn:alice");
  EXPECT_EQ(leases[0].holders, 1u);
}

TEST(AddressPool, FullPoolReusesTheLeaseReleasedLongestAgo) {
  AddressPool p("rw", {net("10.99.0.0/30")});
  const IpAddress a = *p.acquire("fqdn:a", IpFamily::V4);
  const IpAddress b = *p.acquire("fqdn:b", IpFamily::V4);
  p.release("fqdn:b", b);
  p.release("fqdn:a", a);
  EXPECT_EQ(*p.acquire("fqdn:c", IpFamily::V4), b);
  EXPECT_EQ(*p.acquire("fqdn:b", IpFamily::V4), a) << "b's old address went to c; b gets what is left";
}

TEST(AddressPool, Ipv6AndFamilies) {
  AddressPool p("rw", {net("10.99.0.0/24"), net("fd00:99::/120")});
  EXPECT_EQ(*p.acquire("fqdn:a", IpFamily::V6), ip("fd00:99::1"));
  EXPECT_EQ(*p.acquire("fqdn:a", IpFamily::V4), ip("10.99.0.1"));
  AddressPool v4only("v4", {net("10.99.0.0/24")});
  EXPECT_FALSE(v4only.acquire("fqdn:a", IpFamily::V6));
}

TEST(AddressPool, HundredClientsHundredDistinctAddresses) {
  AddressPool p("rw", {net("10.99.0.0/24")});
  std::set<IpAddress> seen;
  for (int i = 0; i < 100; ++i) seen.insert(*p.acquire("fqdn:load" + std::to_string(i), IpFamily::V4));
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_EQ(p.online(), 100u);
}

TEST(AddressPool, ReleaseByAnotherIdentityIsIgnored) {
  AddressPool p("rw", {net("10.99.0.0/24")});
  const IpAddress a = *p.acquire("fqdn:alice", IpFamily::V4);
  p.release("fqdn:mallory", a);
  EXPECT_EQ(p.online(), 1u);
}

}  // namespace
}  // namespace natgate::gateway::pool

namespace natgate::gateway::pool {
namespace {

// Issue 12 (3): the pool's memory per identity is bounded. An identity whose last address went
// to someone else is forgotten, and the offline leases kept for returning identities hold at
// most the configured bytes of identity text.
TEST(AddressPoolMemory, AnIdentityWithoutAnAddressIsForgotten) {
  AddressPool p("rw", {net("10.99.0.0/30")});
  const IpAddress a = *p.acquire("fqdn:a", IpFamily::V4);
  const IpAddress b = *p.acquire("fqdn:b", IpFamily::V4);
  p.release("fqdn:a", a);
  p.release("fqdn:b", b);
  ASSERT_TRUE(p.acquire("fqdn:c", IpFamily::V4));
  ASSERT_TRUE(p.acquire("fqdn:d", IpFamily::V4));
  EXPECT_EQ(p.identities(), 2u) << "a and b hold nothing any more";
  EXPECT_EQ(p.offline_identity_bytes(), 0u);
}

TEST(AddressPoolMemory, OfflineLeasesAreCappedByIdentityBytesAndTheirAddressesReused) {
  // 6 usable addresses; room for two offline identities of 1000 octets.
  AddressPool p("rw", {net("10.99.0.0/29")}, 2500);
  auto who = [](int i) { return "fqdn:" + std::string(995, static_cast<char>('a' + i)); };
  std::vector<IpAddress> first;
  first.reserve(6);
  for (int i = 0; i < 6; ++i) first.push_back(*p.acquire(who(i), IpFamily::V4));
  for (int i = 0; i < 6; ++i) p.release(who(i), first[static_cast<std::size_t>(i)]);
  EXPECT_LE(p.offline_identity_bytes(), 2500u);
  EXPECT_EQ(p.identities(), 2u) << "the two released last are remembered";
  EXPECT_EQ(p.leases().size(), 2u);
  // The remembered ones come back to their address; the forgotten addresses serve newcomers.
  EXPECT_EQ(*p.acquire(who(5), IpFamily::V4), first[5]);
  std::set<IpAddress> handed;
  for (int i = 6; i < 11; ++i) {
    auto a = p.acquire(who(i), IpFamily::V4);
    ASSERT_TRUE(a) << i << ": " << a.error();
    EXPECT_TRUE(handed.insert(*a).second);
  }
  EXPECT_EQ(p.online(), 6u);
  EXPECT_FALSE(p.acquire(who(11), IpFamily::V4)) << "six addresses, six online";
}

TEST(AddressPoolMemory, ThousandsOfDistinctIdentitiesStayBounded) {
  AddressPool p("rw", {net("10.99.0.0/16")}, std::size_t{64} * 1024);
  const std::string big(4000, 'x');
  for (int i = 0; i < 5000; ++i) {
    const std::string id = "fqdn:" + std::to_string(i) + big;
    auto a = p.acquire(id, IpFamily::V4);
    ASSERT_TRUE(a);
    p.release(id, *a);
  }
  EXPECT_LE(p.offline_identity_bytes(), 64u * 1024);
  EXPECT_LE(p.identities(), 16u);
  EXPECT_LE(p.leases().size(), 16u);
}

}  // namespace
}  // namespace natgate::gateway::pool
