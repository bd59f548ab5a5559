// KeyPairPool (crypto/key_pair_pool.h): pairs made on the worker thread are fresh, usable, never
// handed out twice, refilled after use, and a group is learnt from its first (missed) request.
#include "crypto/key_pair_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <utility>
#include <vector>

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

// prepare(): the responder's key exchange on the worker thread (issue 13). Each job's pair comes
// back with the shared secret for the peer's value already in it, equal to what the peer
// computes; a refused value (low-order point) and a job whose find fails come back empty; jobs
// past max_pending are refused. The IKE thread's side (done posting back) is modelled by a
// mutex-guarded list, which ASan/UBSan and the thread checkers see exercised from two threads.
TEST(KeyPairPool, PrepareComputesTheSharedSecretOnTheWorker) {
  KeyPairPool pool(4);
  SystemRandom random;
  constexpr int kJobs = 24;
  std::vector<DhKeyPair> peers;
  for (int i = 0; i < kJobs; ++i) {
    auto peer = DhKeyPair::generate(DhGroup::Curve25519, random);
    ASSERT_TRUE(peer.has_value());
    peers.push_back(std::move(*peer));
  }
  std::mutex mutex;
  std::vector<std::pair<int, std::optional<DhKeyPair>>> results;
  auto done_for = [&](int i) {
    return [&, i](std::optional<DhKeyPair> pair) {
      std::lock_guard lock(mutex);
      results.emplace_back(i, std::move(pair));
    };
  };
  for (int i = 0; i < kJobs; ++i) {
    Bytes value(peers[static_cast<std::size_t>(i)].public_value().begin(),
                peers[static_cast<std::size_t>(i)].public_value().end());
    ASSERT_TRUE(pool.prepare(
        [value] {
          return KeyPairPool::PeerValue{DhGroup::Curve25519, value};
        },
        done_for(i), 64));
  }
  // A low-order peer point (u = 0): shared_secret refuses it, so no pair comes back.
  ASSERT_TRUE(pool.prepare(
      [] {
        return KeyPairPool::PeerValue{DhGroup::Curve25519, Bytes(32, 0)};
      },
      done_for(100), 64));
  // find() found no key exchange payload.
  ASSERT_TRUE(pool.prepare([] { return std::optional<KeyPairPool::PeerValue>(); }, done_for(101), 64));

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (;;) {
    {
      std::lock_guard lock(mutex);
      if (results.size() == kJobs + 2) break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the worker did not finish the jobs";
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::lock_guard lock(mutex);
  std::set<Bytes> publics;
  for (auto& [i, pair] : results) {
    if (i >= 100) {
      EXPECT_FALSE(pair.has_value()) << i;
      continue;
    }
    ASSERT_TRUE(pair.has_value()) << i;
    EXPECT_TRUE(pair->has_precomputed_secret());
    EXPECT_TRUE(publics.emplace(pair->public_value().begin(), pair->public_value().end()).second);
    const DhKeyPair& peer = peers[static_cast<std::size_t>(i)];
    auto ours = pair->shared_secret(peer.public_value());
    auto theirs = peer.shared_secret(pair->public_value());
    ASSERT_TRUE(ours && theirs);
    EXPECT_TRUE(*ours == *theirs) << i;
    // Another peer value is computed, not answered from the kept secret.
    const DhKeyPair& other = peers[static_cast<std::size_t>((i + 1) % kJobs)];
    auto with_other = pair->shared_secret(other.public_value());
    auto other_side = other.shared_secret(pair->public_value());
    ASSERT_TRUE(with_other && other_side);
    EXPECT_TRUE(*with_other == *other_side);
    EXPECT_FALSE(*with_other == *ours);
  }
  EXPECT_EQ(publics.size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(pool.counters().prepared, static_cast<std::uint64_t>(kJobs));
}

TEST(KeyPairPool, PrepareRefusesPastMaxPending) {
  KeyPairPool pool(1);
  std::mutex mutex;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> finished{0};
  std::atomic<bool> entered{false};
  // The first job blocks the worker inside find() until released, so the queue stays full.
  ASSERT_TRUE(pool.prepare(
      [&]() -> std::optional<KeyPairPool::PeerValue> {
        entered = true;
        std::unique_lock lock(mutex);
        cv.wait_for(lock, std::chrono::seconds(10), [&] { return release; });
        return std::nullopt;
      },
      [&](std::optional<DhKeyPair>) { ++finished; }, 2));
  const auto entered_by = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!entered.load() && std::chrono::steady_clock::now() < entered_by)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_TRUE(entered.load());
  auto none = [] { return std::optional<KeyPairPool::PeerValue>(); };
  auto count = [&](std::optional<DhKeyPair>) { ++finished; };
  // The worker is busy with the first: two more wait, the next is refused.
  EXPECT_TRUE(pool.prepare(none, count, 2));
  EXPECT_TRUE(pool.prepare(none, count, 2));
  const int queued = 3;
  EXPECT_FALSE(pool.prepare(none, count, 2));
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  cv.notify_all();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (finished.load() < queued && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_EQ(finished.load(), queued);
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
