// KeyPairPool (crypto/key_pair_pool.h): pairs made on the worker thread are fresh, usable, never
// handed out twice, refilled after use, and a group is learnt from its first (missed) request.
#include "crypto/key_pair_pool.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <set>
#include <thread>

#include "crypto/random.h"

namespace natgate::crypto {
namespace {

using iana::DhGroup;

// Waits (bounded: 10 s) until the pool holds `n` pairs of `group`.
bool wait_ready(const KeyPairPool& pool, DhGroup group, std::size_t n) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (pool.ready(group) < n) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

TEST(KeyPairPool, FirstRequestMissesThenTheGroupIsKeptFilled) {
  KeyPairPool pool(8);
  EXPECT_FALSE(pool.take(DhGroup::Curve25519).has_value());
  EXPECT_EQ(pool.counters().missed, 1u);
  ASSERT_TRUE(wait_ready(pool, DhGroup::Curve25519, 8));
  EXPECT_EQ(pool.ready(DhGroup::Ecp256), 0u);  // only groups asked for are made
  auto pair = pool.take(DhGroup::Curve25519);
  ASSERT_TRUE(pair.has_value());
  EXPECT_EQ(pair->group(), DhGroup::Curve25519);
  EXPECT_EQ(pool.counters().taken, 1u);
}

TEST(KeyPairPool, PairsAreDistinctAndAgreeWithAPeer) {
  KeyPairPool pool(16);
  (void)pool.take(DhGroup::Curve25519);
  ASSERT_TRUE(wait_ready(pool, DhGroup::Curve25519, 16));
  SystemRandom random;
  std::set<Bytes> publics;
  for (int i = 0; i < 40; ++i) {  // more than the depth: the worker refills while we take
    auto ours = pool.take(DhGroup::Curve25519);
    if (!ours) {
      ASSERT_TRUE(wait_ready(pool, DhGroup::Curve25519, 1));
      ours = pool.take(DhGroup::Curve25519);
    }
    ASSERT_TRUE(ours.has_value());
    EXPECT_TRUE(publics.emplace(ours->public_value().begin(), ours->public_value().end()).second)
        << "a public value was handed out twice";
    auto peer = DhKeyPair::generate(DhGroup::Curve25519, random);
    ASSERT_TRUE(peer.has_value());
    auto a = ours->shared_secret(peer->public_value());
    auto b = peer->shared_secret(ours->public_value());
    ASSERT_TRUE(a && b);
    EXPECT_TRUE(*a == *b);
  }
  EXPECT_EQ(publics.size(), 40u);
}

TEST(KeyPairPool, KeepsSeveralGroupsAndStopsCleanly) {
  auto pool = std::make_unique<KeyPairPool>(4);
  (void)pool->take(DhGroup::Curve25519);
  (void)pool->take(DhGroup::Ecp256);
  EXPECT_TRUE(wait_ready(*pool, DhGroup::Curve25519, 4));
  EXPECT_TRUE(wait_ready(*pool, DhGroup::Ecp256, 4));
  auto p = pool->take(DhGroup::Ecp256);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->group(), DhGroup::Ecp256);
  pool.reset();  // joins the worker while it may be refilling; the taken pair stays valid
  EXPECT_EQ(p->public_value().size(), DhKeyPair::public_value_size(DhGroup::Ecp256));
}

}  // namespace
}  // namespace natgate::crypto
