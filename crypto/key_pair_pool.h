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
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "common/iana.h"
#include "crypto/key_exchange.h"
#include "crypto/key_pair_source.h"

namespace natgate::crypto {

class KeyPairPool final : public KeyPairSource {
 public:
  struct Counters {
    std::uint64_t taken = 0;   // served from the pool
    std::uint64_t missed = 0;  // asked for while empty (or a group not yet kept)
  };

  // Keeps up to `depth` pairs of each group that has been asked for, refilling below half.
  // Groups are learnt from take(): the first request of a group misses and starts its filling.
  explicit KeyPairPool(std::size_t depth = 256);
  ~KeyPairPool() override;  // stops and joins the worker; pending pairs are freed (OpenSSL wipes them)
  KeyPairPool(const KeyPairPool&) = delete;
  KeyPairPool& operator=(const KeyPairPool&) = delete;

  std::optional<DhKeyPair> take(iana::DhGroup group) override;
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
  Counters counters_;
  std::jthread worker_;  // last: started after everything it uses exists, joined first
};

}  // namespace natgate::crypto
