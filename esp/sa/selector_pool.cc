#include "esp/sa/selector_pool.h"

#include <algorithm>

#include "esp/sa/persistent_map.h"

namespace natgate::esp {

std::uint64_t SelectorPool::hash_of(const std::vector<TrafficSelector>& ts) {
  std::uint64_t h = mix64(ts.size());
  for (const auto& t : ts) {
    for (const auto* a : {&t.start, &t.end}) {
      std::uint64_t hi = 0, lo = 0;
      const auto b = a->bytes();
      for (std::size_t i = 0; i < b.size(); ++i) (i < 8 ? hi : lo) = (i < 8 ? hi : lo) << 8 | b[i];
      h = mix64(h ^ mix64(hi ^ static_cast<std::uint64_t>(a->family())) ^ lo);
    }
    h = mix64(h ^ (std::uint64_t{t.ip_protocol} << 32 | std::uint64_t{t.start_port} << 16 | t.end_port));
  }
  return h;
}

SelectorPool::List SelectorPool::intern(const std::vector<TrafficSelector>& ts) {
  if (ts.empty()) return nullptr;
  const std::uint64_t h = hash_of(ts);
  auto [first, last] = lists_.equal_range(h);
  for (auto it = first; it != last; ++it) {
    if (it->second.count != ts.size()) continue;
    List known = it->second.list.lock();
    if (known && std::equal(ts.begin(), ts.end(), known.get())) return known;
  }
  // One allocation with its counts: an expired list's bytes stay until the sweep after it, which
  // comes once the pool has doubled, so they are at most as many as the live ones.
  auto list = std::make_shared<TrafficSelector[]>(ts.size());
  std::copy(ts.begin(), ts.end(), list.get());
  lists_.emplace(h, Known{list, ts.size()});
  if (lists_.size() >= sweep_at_) sweep();
  return list;
}

void SelectorPool::sweep() {
  std::erase_if(lists_, [](const auto& entry) { return entry.second.list.expired(); });
  sweep_at_ = std::max<std::size_t>(64, 2 * lists_.size());
}

}  // namespace natgate::esp
