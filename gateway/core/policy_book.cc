#include "gateway/core/policy_book.h"

#include <algorithm>

namespace natgate::gateway::core {

namespace {

bool is_host(const TrafficSelector& ts) { return ts.start == ts.end; }

bool overlaps(const dataplane::PolicySpec& a, const dataplane::PolicySpec& b) {
  return a.direction == b.direction && a.src.intersect(b.src) && a.dst.intersect(b.dst);
}

}  // namespace

const PolicyBook::Held* PolicyBook::find(const Key& key) const {
  auto it = held_.find(key);
  return it == held_.end() ? nullptr : &it->second;
}

void PolicyBook::put(const Key& key, Held held) {
  auto it = held_.find(key);
  if (it != held_.end()) {
    unindex(key, it->second);
    it->second = std::move(held);
  } else {
    it = held_.emplace(key, std::move(held)).first;
  }
  index(key, it->second);
}

void PolicyBook::erase(const Key& key) {
  auto it = held_.find(key);
  if (it == held_.end()) return;
  unindex(key, it->second);
  held_.erase(it);
}

std::vector<PolicyBook::Key> PolicyBook::keys_of(std::uint32_t reqid) const {
  auto it = by_reqid_.find(reqid);
  if (it == by_reqid_.end()) return {};
  std::vector<Key> keys;
  keys.reserve(it->second.size());
  for (const Key* k : it->second) keys.push_back(*k);
  std::sort(keys.begin(), keys.end());  // in key order, as before the index held pointers
  return keys;
}

const PolicyBook::Held* PolicyBook::any_of(std::uint32_t reqid) const {
  auto it = by_reqid_.find(reqid);
  if (it == by_reqid_.end() || it->second.empty()) return nullptr;
  // The lowest key, as before the index held pointers (a reqid has a handful of policies).
  const Key* first = *std::min_element(it->second.begin(), it->second.end(),
                                       [](const Key* a, const Key* b) { return *a < *b; });
  return find(*first);
}

const PolicyBook::Held* PolicyBook::overlapping(const dataplane::PolicySpec& p,
                                                const std::string& owner) const {
  if (p.direction != dataplane::Direction::Out) return nullptr;
  auto check = [&](const Key& key) -> const Held* {
    const Held& h = held_.at(key);
    return h.owner != owner && overlaps(p, h.spec) ? &h : nullptr;
  };
  // Single-address destinations inside p's destination range.
  for (auto it = out_host_dst_.lower_bound(p.dst.start); it != out_host_dst_.end() && it->first <= p.dst.end;
       ++it)
    if (const Held* h = check(*it->second)) return h;
  for (const Key& key : out_wide_dst_)
    if (const Held* h = check(key)) return h;
  return nullptr;
}

void PolicyBook::index(const Key& key, const Held& held) {
  // `key` is the caller's; the indexes take held_'s own copy of it.
  const Key* stored = &held_.find(key)->first;
  by_reqid_[held.spec.reqid].push_back(stored);
  if (held.spec.direction != dataplane::Direction::Out) return;
  if (is_host(held.spec.dst))
    out_host_dst_.emplace(held.spec.dst.start, stored);
  else
    out_wide_dst_.insert(key);
}

void PolicyBook::unindex(const Key& key, const Held& held) {
  if (auto it = by_reqid_.find(held.spec.reqid); it != by_reqid_.end()) {
    auto& keys = it->second;
    keys.erase(std::remove_if(keys.begin(), keys.end(), [&](const Key* k) { return *k == key; }), keys.end());
    if (keys.empty()) by_reqid_.erase(it);
  }
  if (held.spec.direction != dataplane::Direction::Out) return;
  if (!is_host(held.spec.dst)) {
    out_wide_dst_.erase(key);
    return;
  }
  auto [first, last] = out_host_dst_.equal_range(held.spec.dst.start);
  for (auto it = first; it != last; ++it) {
    if (*it->second == key) {
      out_host_dst_.erase(it);
      return;
    }
  }
}

}  // namespace natgate::gateway::core
