// One copy of each selector list the registry's inbound SAs carry as their local side.
//
// A road warrior's inbound SA admits traffic from its virtual IP to the gateway's local subnets
// (RFC 4301 §5.2). Its remote side is its own, but its local side is the same list for every road
// warrior of a connection: ~100 bytes of heap per road warrior as a vector each. SAs now hold a
// shared immutable array of it, handed out here (docs/performance.md, "Scale: memory per road
// warrior", sixth round). Reading it on the packet path is the same one load a vector's data is.
//
// Control plane only (the registry's mutex): the pool keeps weak references, so a list goes with
// its last SA, on whichever thread drops it; the pool forgets expired lists in a sweep each time
// it has doubled since the last one (amortized O(1) per list handed out).
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "common/traffic_selector.h"

namespace natgate::esp {

class SelectorPool {
 public:
  using List = std::shared_ptr<const TrafficSelector[]>;
  // The shared array holding `ts` (nullptr for an empty list); its length is ts.size().
  List intern(const std::vector<TrafficSelector>& ts);
  // Lists the pool still knows of (some may have expired since the last sweep).
  std::size_t size() const { return lists_.size(); }
  void clear() { lists_.clear(); }

 private:
  struct Known {
    std::weak_ptr<const TrafficSelector[]> list;
    std::size_t count = 0;
  };
  static std::uint64_t hash_of(const std::vector<TrafficSelector>& ts);
  void sweep();

  std::unordered_multimap<std::uint64_t, Known> lists_;
  std::size_t sweep_at_ = 64;
};

}  // namespace natgate::esp
