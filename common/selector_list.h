// One CHILD SA's negotiated traffic selectors (RFC 7296 §2.9), immutable and shared.
//
// A CHILD SA's selectors are settled once (narrowed when it is negotiated, kept by its rekeys,
// §2.8) and then only read: by the IKE SA's record of its children, the Endpoint's record of what
// it installed, the gateway's record of the installed pair and status. Each used to hold its own
// copy (two vectors, ~200 bytes of heap each, four times per road warrior); copies of a
// SelectorList share one list instead (docs/performance.md, "Scale: memory per road warrior").
// It reads like a const std::vector<TrafficSelector> and converts to one where an interface
// takes a vector.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <vector>

#include "common/traffic_selector.h"

namespace natgate {

class SelectorList {
 public:
  using value_type = TrafficSelector;
  using const_iterator = std::vector<TrafficSelector>::const_iterator;
  using iterator = const_iterator;

  SelectorList() = default;
  // NOLINTNEXTLINE(google-explicit-constructor): reads and assigns like the vector it replaced
  SelectorList(std::vector<TrafficSelector> list)
      : list_(list.empty() ? nullptr
                           : std::make_shared<const std::vector<TrafficSelector>>(std::move(list))) {}
  SelectorList(std::initializer_list<TrafficSelector> list)
      : SelectorList(std::vector<TrafficSelector>(list)) {}

  const std::vector<TrafficSelector>& get() const { return list_ ? *list_ : none(); }
  // NOLINTNEXTLINE(google-explicit-constructor)
  operator const std::vector<TrafficSelector>&() const { return get(); }

  const_iterator begin() const { return get().begin(); }
  const_iterator end() const { return get().end(); }
  std::size_t size() const { return get().size(); }
  bool empty() const { return get().empty(); }
  const TrafficSelector& front() const { return get().front(); }
  const TrafficSelector& operator[](std::size_t i) const { return get()[i]; }

  friend bool operator==(const SelectorList& a, const SelectorList& b) { return a.get() == b.get(); }
  friend bool operator==(const SelectorList& a, const std::vector<TrafficSelector>& b) {
    return a.get() == b;
  }

 private:
  static const std::vector<TrafficSelector>& none() {
    static const std::vector<TrafficSelector> empty;
    return empty;
  }
  std::shared_ptr<const std::vector<TrafficSelector>> list_;
};

}  // namespace natgate
