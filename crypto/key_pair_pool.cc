#include "crypto/key_pair_pool.h"

#include <pthread.h>

#include "common/capabilities.h"
#include "crypto/random.h"

namespace natgate::crypto {

KeyPairPool::KeyPairPool(std::size_t depth)
    : depth_(depth == 0 ? 1 : depth), worker_([this](const std::stop_token& stop) { run(stop); }) {}

KeyPairPool::~KeyPairPool() {
  worker_.request_stop();
  wake_.notify_all();
}

std::optional<DhKeyPair> KeyPairPool::take(iana::DhGroup group) {
  std::optional<DhKeyPair> out;
  bool refill = false;
  {
    std::lock_guard lock(mutex_);
    auto& queue = ready_[group];  // a new group: from now on the worker keeps it filled
    if (queue.empty()) {
      ++counters_.missed;
      refill = true;
    } else {
      out.emplace(std::move(queue.front()));
      queue.pop_front();
      ++counters_.taken;
      refill = queue.size() < depth_ / 2 + 1;
    }
  }
  if (refill) wake_.notify_one();
  return out;
}

bool KeyPairPool::prepare(FindPeerValue find, Prepared done, std::size_t max_pending) {
  {
    std::lock_guard lock(mutex_);
    if (jobs_.size() >= max_pending) return false;
    jobs_.push_back(Job{std::move(find), std::move(done)});
  }
  wake_.notify_one();
  return true;
}

// Called with the lock held; releases it for the computation and holds it again on return.
void KeyPairPool::run_job(Job& job, RandomSource& random, std::unique_lock<std::mutex>& lock) {
  lock.unlock();
  std::optional<DhKeyPair> pair;
  if (auto peer = job.find(); peer) {
    lock.lock();
    // A group seen here is kept filled from now on, as one asked for by take().
    if (auto& queue = ready_[peer->group]; !queue.empty()) {
      pair.emplace(std::move(queue.front()));
      queue.pop_front();
    }
    lock.unlock();
    if (!pair) {
      if (auto made = DhKeyPair::generate(peer->group, random)) pair.emplace(std::move(*made));
    }
    if (pair && !pair->precompute_shared_secret(peer->value)) pair.reset();
  }
  const bool ok = pair.has_value();
  job.done(std::move(pair));
  lock.lock();
  if (ok) ++counters_.prepared;
}

KeyPairPool::Counters KeyPairPool::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

std::size_t KeyPairPool::ready(iana::DhGroup group) const {
  std::lock_guard lock(mutex_);
  auto it = ready_.find(group);
  return it == ready_.end() ? 0 : it->second.size();
}

std::optional<iana::DhGroup> KeyPairPool::next_group_locked() const {
  std::optional<iana::DhGroup> best;
  std::size_t fewest = depth_;
  for (const auto& [group, queue] : ready_) {
    if (queue.size() < fewest) {
      fewest = queue.size();
      best = group;
    }
  }
  return best;
}

void KeyPairPool::run(const std::stop_token& stop) {
  (void)::pthread_setname_np(::pthread_self(), "natgate-keys");
  // Capabilities are per thread, and this one starts before natgated drops its own: it only
  // computes, so it gives up all of them (and may never regain any) before anything else.
  drop_all_thread_capabilities();
  SystemRandom random;
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    // Sleep until a group runs below half (take() wakes us) or we are stopped.
    const auto below_half = [&] {
      for (const auto& [group, queue] : ready_)
        if (queue.size() < depth_ / 2 + 1) return true;
      return false;
    };
    if (!wake_.wait(lock, stop, [&] { return !jobs_.empty() || below_half(); })) break;
    // Jobs first: each has a request waiting for it.
    while (!jobs_.empty() && !stop.stop_requested()) {
      Job job = std::move(jobs_.front());
      jobs_.pop_front();
      run_job(job, random, lock);
    }
    // Fill every group up to depth, one pair at a time and without the lock while generating,
    // so take() never waits for a key generation.
    while (!stop.stop_requested() && jobs_.empty()) {
      const auto group = next_group_locked();
      if (!group) break;
      lock.unlock();
      auto pair = DhKeyPair::generate(*group, random);
      lock.lock();
      if (!pair) {
        // An unsupported group: forget it, its callers generate (and report) themselves.
        ready_.erase(*group);
        continue;
      }
      ready_[*group].push_back(std::move(*pair));
    }
  }
}

}  // namespace natgate::crypto
