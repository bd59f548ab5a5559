// Key pairs made ahead of time on another thread (issue 13). A responder's IKE_SA_INIT costs one
// key generation (an X25519 scalar multiplication, or an ECP/MODP exponentiation) and one shared
// secret; the generation needs nothing from the peer, so a worker thread on the other core can
// make it before the request arrives and the IKE thread only takes one. Every key pair is fresh
// and used once (RFC 7296 §2.12 allows reuse; we do not), drawn from the system's CSPRNG.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "common/iana.h"
#include "crypto/key_exchange.h"
#include "crypto/key_pair_source.h"
#include "crypto/random.h"

namespace natgate::crypto {

class KeyPairPool final : public KeyPairSource {
 public:
  struct Counters {
    std::uint64_t taken = 0;     // served from the pool
    std::uint64_t missed = 0;    // asked for while empty (or a group not yet kept)
    std::uint64_t prepared = 0;  // prepare() jobs done with the shared secret computed
  };

  // A peer's key exchange value, found by a prepare() job on the worker thread.
  struct PeerValue {
    iana::DhGroup group = iana::DhGroup::None;
    Bytes value;
  };
  using FindPeerValue = std::function<std::optional<PeerValue>()>;
  using Prepared = std::function<void(std::optional<DhKeyPair>)>;

  // Keeps up to `depth` pairs of each group that has been asked for, refilling below half.
  // Groups are learnt from take(): the first request of a group misses and starts its filling.
  explicit KeyPairPool(std::size_t depth = 256);
  ~KeyPairPool() override;  // stops and joins the worker; pending pairs are freed (OpenSSL wipes them)
  KeyPairPool(const KeyPairPool&) = delete;
  KeyPairPool& operator=(const KeyPairPool&) = delete;

  std::optional<DhKeyPair> take(iana::DhGroup group) override;

  // A responder's whole key exchange on the worker (issue 13): `find` (run there, e.g. decoding
  // an IKE_SA_INIT) names the peer's group and value, the worker takes a ready pair of that
  // group (or makes one), computes the shared secret into it (precompute_shared_secret) and
  // calls `done` with it, on the worker thread: `done` only hands it over (posts it to the IKE
  // thread). `done` gets nullopt when find or the computation failed: the exchange then does
  // its own work, and refuses what it must. Jobs go before refills. Returns false, queueing
  // nothing, while `max_pending` jobs wait already. Jobs still queued at destruction are
  // dropped without a call.
  bool prepare(FindPeerValue find, Prepared done, std::size_t max_pending);
  Counters counters() const;
  std::size_t ready(iana::DhGroup group) const;  // for tests and status

 private:
  void run(const std::stop_token& stop);
  // The group most in need of pairs (empty map: none), under the lock.
  std::optional<iana::DhGroup> next_group_locked() const;

  const std::size_t depth_;
  mutable std::mutex mutex_;
  std::condition_variable_any wake_;
  std::map<iana::DhGroup, std::deque<DhKeyPair>> ready_;
  struct Job {
    FindPeerValue find;
    Prepared done;
  };
  std::deque<Job> jobs_;
  void run_job(Job& job, RandomSource& random, std::unique_lock<std::mutex>& lock);
  Counters counters_;
  std::jthread worker_;  // last: started after everything it uses exists, joined first
};

}  // namespace natgate::crypto
