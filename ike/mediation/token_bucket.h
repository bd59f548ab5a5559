// A token bucket on the caller's clock: `burst` tokens, one more every `refill` up to the burst.
#pragma once

#include <algorithm>
#include <cstdint>

#include "ike/exchange/time.h"

namespace natgate::ike::mediation {

class TokenBucket {
 public:
  TokenBucket(std::uint32_t burst, Duration refill, TimePoint now)
      : burst_(burst), refill_(refill), tokens_(burst), last_(now) {}

  // Takes one token if there is one.
  bool take(TimePoint now) {
    top_up(now);
    if (tokens_ == 0) return false;
    --tokens_;
    return true;
  }
  // Full again, i.e. the entry holding it may be forgotten.
  bool full(TimePoint now) const { return tokens_ + earned(now) >= burst_; }

 private:
  std::uint64_t earned(TimePoint now) const {
    if (refill_.count() <= 0 || now <= last_) return 0;
    return static_cast<std::uint64_t>((now - last_) / refill_);
  }
  void top_up(TimePoint now) {
    std::uint64_t more = earned(now);
    if (more == 0) return;
    tokens_ = static_cast<std::uint32_t>(std::min<std::uint64_t>(burst_, tokens_ + more));
    last_ += refill_ * static_cast<Duration::rep>(more);
    if (tokens_ == burst_) last_ = now;
  }

  std::uint32_t burst_;
  Duration refill_;
  std::uint32_t tokens_;
  TimePoint last_;
};

}  // namespace natgate::ike::mediation
