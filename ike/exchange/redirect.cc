#include "ike/exchange/redirect.h"

#include <optional>
#include <utility>

namespace natgate::ike {

const char* to_string(RedirectPolicy policy) {
  switch (policy) {
    case RedirectPolicy::RoundRobin:
      return "round-robin";
    case RedirectPolicy::LeastRedirected:
      return "least-redirected";
  }
  return "?";
}

Redirector::Redirector(std::vector<IpAddress> targets, RedirectPolicy policy)
    : targets_(std::move(targets)), sent_(targets_.size(), 0), policy_(policy) {}

std::optional<IpAddress> Redirector::choose(const IpAddress& self) {
  std::optional<std::size_t> pick;
  if (policy_ == RedirectPolicy::RoundRobin) {
    for (std::size_t step = 0; step < targets_.size() && !pick; ++step) {
      const std::size_t i = (next_ + step) % targets_.size();
      if (targets_[i] != self) pick = i;
    }
    if (pick) next_ = (*pick + 1) % targets_.size();
  } else {
    for (std::size_t i = 0; i < targets_.size(); ++i)
      if (targets_[i] != self && (!pick || sent_[i] < sent_[*pick])) pick = i;
  }
  if (!pick) return std::nullopt;
  ++sent_[*pick];
  return targets_[*pick];
}

RedirectCounters& redirect_counters() {
  static RedirectCounters counters;
  return counters;
}

}  // namespace natgate::ike
