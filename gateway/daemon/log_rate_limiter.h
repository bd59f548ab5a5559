// A token bucket for log lines that strangers' packets cause (a dropped datagram, ESP nobody
// takes, a debug line per message): at debug level a flood would otherwise write one line per
// packet, as fast as the attacker sends. Lines over the rate are counted, and the next admitted
// line is preceded by how many were left out, so the log says that something was suppressed.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <utility>

namespace natgate::gateway {

class LogRateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  LogRateLimiter(double lines_per_second, double burst)
      : rate_(lines_per_second), burst_(burst), tokens_(burst) {}

  // Whether a line may be written at `now`; a refused line is counted.
  bool admit(Clock::time_point now) {
    if (last_ != Clock::time_point{}) {
      const double elapsed = std::chrono::duration<double>(now - last_).count();
      tokens_ = std::min(burst_, tokens_ + std::max(0.0, elapsed) * rate_);
    }
    last_ = now;
    if (tokens_ >= 1.0) {
      tokens_ -= 1.0;
      return true;
    }
    ++suppressed_;
    ++suppressed_total_;
    return false;
  }

  // Lines refused since the last call (to report them once), and since the start.
  std::uint64_t take_suppressed() { return std::exchange(suppressed_, 0); }
  std::uint64_t suppressed_total() const { return suppressed_total_; }

 private:
  double rate_;
  double burst_;
  double tokens_;
  Clock::time_point last_{};
  std::uint64_t suppressed_ = 0;
  std::uint64_t suppressed_total_ = 0;
};

}  // namespace natgate::gateway
