// An EventListener that keeps every event it hears, in order of kind: what tests (and tools that
// drive a backend by hand) read after SaBackend::poll_events().
#pragma once

#include <vector>

#include "dataplane/events.h"

namespace natgate::dataplane {

class EventLog final : public EventListener {
 public:
  void on_expire(const ExpireEvent& event) override { expires.push_back(event); }
  void on_acquire(const AcquireEvent& event) override { acquires.push_back(event); }
  void on_mapping(const MappingEvent& event) override { mappings.push_back(event); }

  std::vector<ExpireEvent> expires;
  std::vector<AcquireEvent> acquires;
  std::vector<MappingEvent> mappings;
};

}  // namespace natgate::dataplane
