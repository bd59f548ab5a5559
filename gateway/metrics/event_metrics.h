// What the metrics endpoint counts from the daemon's SA events (gateway/control/daemon_events.h)
// rather than from the status model: the IKE setup-latency histogram and, per connection, how
// many IKE SAs came up and went down and how many rekeys happened. Memory is bounded by the
// connection names (the config's), not by peers.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include "gateway/control/daemon_events.h"

namespace natgate::gateway::metrics {

// A Prometheus histogram with fixed upper bounds (seconds), cumulative when rendered.
class Histogram {
 public:
  static constexpr std::array<double, 12> kBounds = {0.005, 0.01, 0.025, 0.05, 0.1,  0.25,
                                                     0.5,   1.0,  2.5,   5.0,  10.0, 30.0};
  void observe(double value);
  // Observations ≤ kBounds[i] (cumulative), and all of them with their sum.
  std::uint64_t cumulative(std::size_t bound_index) const;
  std::uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::array<std::uint64_t, kBounds.size()> buckets_{};  // not cumulative: the first bound that holds it
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

struct ConnectionEventCounts {
  std::uint64_t ike_up = 0;
  std::uint64_t ike_down = 0;
  std::uint64_t ike_rekeys = 0;
  std::uint64_t child_rekeys = 0;
};

class EventMetrics {
 public:
  void on_event(const DaemonEvent& event);
  const Histogram& setup_latency() const { return setup_; }
  const std::map<std::string, ConnectionEventCounts>& by_connection() const { return by_connection_; }

 private:
  Histogram setup_;
  std::map<std::string, ConnectionEventCounts> by_connection_;
};

}  // namespace natgate::gateway::metrics
