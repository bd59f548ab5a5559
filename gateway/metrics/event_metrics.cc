#include "gateway/metrics/event_metrics.h"

namespace natgate::gateway::metrics {

void Histogram::observe(double value) {
  ++count_;
  sum_ += value;
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    if (value <= kBounds[i]) {
      ++buckets_[i];
      return;
    }
  }
  // Above the last bound: only in +Inf (count_).
}

std::uint64_t Histogram::cumulative(std::size_t bound_index) const {
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= bound_index && i < buckets_.size(); ++i) total += buckets_[i];
  return total;
}

void EventMetrics::on_event(const DaemonEvent& e) {
  // Events of SAs not tied to a connection yet carry none; they are not counted per connection.
  ConnectionEventCounts* c = e.connection.empty() ? nullptr : &by_connection_[e.connection];
  switch (e.kind) {
    case DaemonEvent::Kind::IkeUp:
      if (e.setup_seconds) setup_.observe(*e.setup_seconds);
      if (c) ++c->ike_up;
      break;
    case DaemonEvent::Kind::IkeDown:
      if (c) ++c->ike_down;
      break;
    case DaemonEvent::Kind::IkeRekey:
      if (c) ++c->ike_rekeys;
      break;
    case DaemonEvent::Kind::ChildRekey:
      if (c) ++c->child_rekeys;
      break;
    case DaemonEvent::Kind::ChildUp:
    case DaemonEvent::Kind::ChildDown:
      break;
  }
}

}  // namespace natgate::gateway::metrics
