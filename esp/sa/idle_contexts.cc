#include "esp/sa/idle_contexts.h"

namespace natgate::esp {

bool IdleContexts::key_up(const std::shared_ptr<SaState>& sa, Clock::time_point now) {
  if (!sa->crypto().key_up()) return false;
  ++keyed_;
  queue_.push_back({sa, now});
  return true;
}

IdleContexts::Swept IdleContexts::sweep(Clock::time_point now, std::size_t budget) {
  Swept swept;
  for (std::size_t looked = 0; looked < budget && !queue_.empty(); ++looked) {
    Entry& front = queue_.front();
    if (front.armed + idle_ > now) break;
    std::shared_ptr<SaState> sa = front.sa.lock();
    const Clock::time_point armed = front.armed;
    queue_.pop_front();
    if (!sa || !sa->crypto().keyed()) {
      ++swept.gone;
      continue;
    }
    // last_use_ns is written by this worker for the SA's direction (authenticated packets only:
    // a forged packet may key the contexts up, but does not keep them).
    const std::int64_t last = sa->stats().last_use_ns.load(std::memory_order_relaxed);
    if (last >= armed.time_since_epoch().count()) {
      queue_.push_back({sa, now});
      ++swept.rearmed;
      continue;
    }
    sa->crypto().release();
    ++swept.released;
  }
  return swept;
}

}  // namespace natgate::esp
