// The SAs whose cipher contexts one data plane worker keyed, so that it can release those that
// have carried no ESP packet for a while (EspCrypto::Keying::Lazy; docs/performance.md, "Scale:
// memory per road warrior"). A road warrior held idle by NAT keepalives (RFC 3948 §2.3, not ESP)
// then holds its key bytes but no ~1 KiB context per direction.
//
// Cost: O(1) per keying and O(released + re-armed) per sweep, never a walk over every SA. Entries
// are queued in the order they were armed, so the ones due are at the front; a context still in
// use when its turn comes is armed again at the back. It is released between `idle` and twice
// `idle` after its last packet, and each live context is looked at once per `idle`.
//
// Owned and driven by one worker, the only one that seals or opens with the SAs it tracks: no
// lock, and releasing cannot race with a packet.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>

#include "esp/sa/sa_state.h"

namespace natgate::esp {

class IdleContexts {
 public:
  explicit IdleContexts(Clock::duration idle) : idle_(idle) {}

  // Keys up the SA's released contexts (the caller checked crypto().keyed() on its packet) and
  // tracks them. False when OpenSSL failed.
  bool key_up(const std::shared_ptr<SaState>& sa, Clock::time_point now);

  struct Swept {
    std::size_t released = 0;  // idle: contexts freed, keys kept
    std::size_t gone = 0;      // removed SAs (their contexts went with them)
    std::size_t rearmed = 0;
  };
  // Releases the contexts of tracked SAs with no packet since they were armed `idle` ago (and
  // forgets SAs that are gone). Looks at most at `budget` entries, so a sweep stays short when
  // many come due together; the rest wait for the next one.
  Swept sweep(Clock::time_point now, std::size_t budget = 8192);

  std::size_t tracked() const { return queue_.size(); }
  std::size_t keyed_total() const { return keyed_; }

 private:
  struct Entry {
    std::weak_ptr<SaState> sa;  // an SA removed meanwhile is not kept alive by this queue
    Clock::time_point armed;
  };
  Clock::duration idle_;
  std::deque<Entry> queue_;  // by `armed`, oldest first
  std::size_t keyed_ = 0;
};

}  // namespace natgate::esp
