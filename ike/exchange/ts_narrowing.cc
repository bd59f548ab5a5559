#include "ike/exchange/ts_narrowing.h"

#include <algorithm>

namespace natgate::ike {

std::vector<TrafficSelector> narrow_selectors(const std::vector<TrafficSelector>& proposed,
                                              const std::vector<TrafficSelector>& allowed) {
  std::vector<TrafficSelector> out;
  for (const auto& ours : allowed) {
    for (const auto& theirs : proposed) {
      auto both = ours.intersect(theirs);
      if (both && std::find(out.begin(), out.end(), *both) == out.end()) out.push_back(*both);
    }
  }
  return out;
}

namespace {

bool within(const TrafficSelector& inner, const TrafficSelector& outer) {
  return inner.family() == outer.family() && outer.start <= inner.start && inner.end <= outer.end &&
         (outer.ip_protocol == 0 || inner.ip_protocol == outer.ip_protocol) &&
         outer.start_port <= inner.start_port && inner.end_port <= outer.end_port;
}

}  // namespace

bool selectors_within(const std::vector<TrafficSelector>& returned,
                      const std::vector<TrafficSelector>& proposed) {
  if (returned.empty()) return false;
  return std::all_of(returned.begin(), returned.end(), [&](const TrafficSelector& r) {
    return std::any_of(proposed.begin(), proposed.end(),
                       [&](const TrafficSelector& p) { return within(r, p); });
  });
}

bool is_single_host(const TrafficSelector& ts, const IpAddress& address) {
  return ts.start == address && ts.end == address;
}

std::vector<TrafficSelector> resolve_selectors(const std::vector<TrafficSelector>& configured,
                                               const IpAddress& own_address) {
  if (!configured.empty()) return configured;
  return {TrafficSelector{own_address, own_address, 0, 0, 65535}};
}

}  // namespace natgate::ike
