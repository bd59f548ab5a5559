// A map for the few entries an IKE SA keeps per CHILD SA being rekeyed (RFC 7296 §2.8.1): a
// vector searched in order. Empty it is 24 bytes and holds no heap, where an empty std::map is
// 48 bytes; every road warrior's IKE SA carries two of them, almost always empty
// (docs/performance.md, "Scale: memory per road warrior"). Not ordered; lookups are linear, so
// only for a handful of keys.
#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace natgate::ike {

template <typename K, typename V>
class SmallMap {
 public:
  using value_type = std::pair<K, V>;
  using iterator = typename std::vector<value_type>::iterator;
  using const_iterator = typename std::vector<value_type>::const_iterator;

  iterator begin() { return items_.begin(); }
  iterator end() { return items_.end(); }
  const_iterator begin() const { return items_.begin(); }
  const_iterator end() const { return items_.end(); }
  bool empty() const { return items_.empty(); }
  std::size_t size() const { return items_.size(); }

  iterator find(const K& key) {
    return std::find_if(items_.begin(), items_.end(), [&](const value_type& v) { return v.first == key; });
  }
  const_iterator find(const K& key) const {
    return std::find_if(items_.begin(), items_.end(), [&](const value_type& v) { return v.first == key; });
  }
  std::size_t count(const K& key) const { return find(key) == end() ? 0 : 1; }
  // The value of `key`, value-initialised if it was not there.
  V& operator[](const K& key) {
    if (auto it = find(key); it != end()) return it->second;
    return items_.emplace_back(key, V{}).second;
  }
  void erase(iterator it) {
    items_.erase(it);
    if (items_.empty()) std::vector<value_type>().swap(items_);  // back to no heap at all
  }
  std::size_t erase(const K& key) {
    auto it = find(key);
    if (it == end()) return 0;
    erase(it);
    return 1;
  }

 private:
  std::vector<value_type> items_;
};

}  // namespace natgate::ike
