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
  return it == held_.end() ? nullptr : &*it;
}

void PolicyBook::put(const Key& key, Held held) {
  auto it = held_.find(key);
  if (it != held_.end()) {
    unindex(key, *it);
    // The same key (callers pass key_of(held.spec)): the node is reused in place.
    auto node = held_.extract(it);
    node.value() = std::move(held);
    it = held_.insert(std::move(node)).position;
  } else {
    it = held_.insert(std::move(held)).first;
  }
  index(key, *it);
}

void PolicyBook::put(const Key& key, const std::string& owner, dataplane::PolicySpec spec) {
  std::shared_ptr<const std::string> name;
  if (auto it = by_reqid_.find(spec.reqid);
      it != by_reqid_.end() && !it->second.empty() && *it->second.front()->owner == owner)
    name = it->second.front()->owner;
  else
    name = std::make_shared<const std::string>(owner);
  put(key, Held{std::move(name), std::move(spec)});
}

void PolicyBook::erase(const Key& key) {
  auto it = held_.find(key);
  if (it == held_.end()) return;
  unindex(key, *it);
  held_.erase(it);
}

std::vector<PolicyBook::Key> PolicyBook::keys_of(std::uint32_t reqid) const {
  auto it = by_reqid_.find(reqid);
  if (it == by_reqid_.end()) return {};
  std::vector<Key> keys;
  keys.reserve(it->second.size());
  for (const Held* h : it->second) keys.push_back(key_of(h->spec));
  std::sort(keys.begin(), keys.end());  // in key order, as before the index held pointers
  return keys;
}

const PolicyBook::Held* PolicyBook::any_of(std::uint32_t reqid) const {
  auto it = by_reqid_.find(reqid);
  if (it == by_reqid_.end() || it->second.empty()) return nullptr;
  // The lowest key, as before the index held pointers (a reqid has a handful of policies).
  return *std::min_element(it->second.begin(), it->second.end(),
                           [](const Held* a, const Held* b) { return ByKey::key(*a) < ByKey::key(*b); });
}

const PolicyBook::Held* PolicyBook::overlapping(const dataplane::PolicySpec& p,
                                                const std::string& owner) const {
  if (p.direction != dataplane::Direction::Out) return nullptr;
  auto check = [&](const Held& h) -> const Held* {
    return *h.owner != owner && overlaps(p, h.spec) ? &h : nullptr;
  };
  // Single-address destinations inside p's destination range.
  for (auto it = out_host_dst_.lower_bound(p.dst.start); it != out_host_dst_.end() && it->first <= p.dst.end;
       ++it)
    if (const Held* h = check(*it->second)) return h;
  for (const Key& key : out_wide_dst_)
    if (const Held* h = check(*held_.find(key))) return h;
  return nullptr;
}

void PolicyBook::index(const Key& key, const Held& held) {
  // `held` is held_'s own entry.
  by_reqid_[held.spec.reqid].push_back(&held);
  if (held.spec.direction != dataplane::Direction::Out) return;
  if (is_host(held.spec.dst))
    out_host_dst_.emplace(held.spec.dst.start, &held);
  else
    out_wide_dst_.insert(key);
}

void PolicyBook::unindex(const Key& key, const Held& held) {
  if (auto it = by_reqid_.find(held.spec.reqid); it != by_reqid_.end()) {
    auto& keys = it->second;
    keys.erase(std::remove(keys.begin(), keys.end(), &held), keys.end());
    if (keys.empty()) by_reqid_.erase(it);
  }
  if (held.spec.direction != dataplane::Direction::Out) return;
  if (!is_host(held.spec.dst)) {
    out_wide_dst_.erase(key);
    return;
  }
  auto [first, last] = out_host_dst_.equal_range(held.spec.dst.start);
  for (auto it = first; it != last; ++it) {
    if (it->second == &held) {
      out_host_dst_.erase(it);
      return;
    }
  }
}

}  // namespace natgate::gateway::core
