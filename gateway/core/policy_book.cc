#include "gateway/core/policy_book.h"

#include <algorithm>

namespace natgate::gateway::core {

namespace {

using dataplane::Direction;

bool is_host(const TrafficSelector& ts) { return ts.start == ts.end; }

bool overlaps(const dataplane::PolicySpec& a, const dataplane::PolicySpec& b) {
  return a.direction == b.direction && a.src.intersect(b.src) && a.dst.intersect(b.dst);
}

bool same_spec(const dataplane::PolicySpec& a, const dataplane::PolicySpec& b) {
  return a.src == b.src && a.dst == b.dst && a.direction == b.direction && a.reqid == b.reqid &&
         a.mode == b.mode && a.tunnel_src == b.tunnel_src && a.tunnel_dst == b.tunnel_dst &&
         a.priority == b.priority;
}

}  // namespace

std::uint8_t PolicyBook::mirror_bit(Direction d) {
  return d == Direction::In ? kIn : d == Direction::Fwd ? kFwd : 0;
}

PolicyBook::Key PolicyBook::mirror_key(const Key& key, Direction d) {
  return {std::get<1>(key), std::get<0>(key), d};
}

dataplane::PolicySpec PolicyBook::mirror(const dataplane::PolicySpec& out, Direction d) {
  dataplane::PolicySpec p = out;
  p.src = out.dst;
  p.dst = out.src;
  p.direction = d;
  p.tunnel_src = out.tunnel_dst;
  p.tunnel_dst = out.tunnel_src;
  return p;
}

const PolicyBook::Entry* PolicyBook::find_entry(const Key& key) const {
  auto it = held_.find(key);
  return it == held_.end() ? nullptr : &*it;
}

std::optional<PolicyBook::Held> PolicyBook::find(const Key& key) const {
  if (const Entry* e = find_entry(key)) return e->held;
  const Direction d = std::get<2>(key);
  if (d == Direction::Out) return std::nullopt;
  const Entry* out = find_entry(mirror_key(key, Direction::Out));
  if (out == nullptr || !(out->mirrors & mirror_bit(d))) return std::nullopt;
  return Held{out->held.owner, mirror(out->held.spec, d)};
}

const PolicyBook::Entry* PolicyBook::insert(Held held) {
  const Entry* e = &*held_.insert(Entry{std::move(held), 0}).first;
  index(*e);
  return e;
}

void PolicyBook::remove(const Entry& e) {
  unindex(e);
  held_.erase(held_.find(ByKey::key(e)));
}

void PolicyBook::materialize(const Entry& out) {
  for (const Direction d : {Direction::In, Direction::Fwd}) {
    if (!(out.mirrors & mirror_bit(d))) continue;
    out.mirrors &= static_cast<std::uint8_t>(~mirror_bit(d));
    --mirrored_;
    insert(Held{out.held.owner, mirror(out.held.spec, d)});
  }
}

void PolicyBook::absorb_twins(const Entry& out) {
  for (const Direction d : {Direction::In, Direction::Fwd}) {
    const Entry* twin = find_entry(mirror_key(key_of(out.held.spec), d));
    if (twin == nullptr || *twin->held.owner != *out.held.owner ||
        !same_spec(twin->held.spec, mirror(out.held.spec, d)))
      continue;
    remove(*twin);
    out.mirrors |= mirror_bit(d);
    ++mirrored_;
  }
}

void PolicyBook::put(const Key& key, Held held) {
  const Direction d = std::get<2>(key);
  if (d == Direction::Out) {
    if (const Entry* old = find_entry(key)) {
      // Its twins stay as they were: entries of their own until they are put again.
      materialize(*old);
      remove(*old);
    }
    absorb_twins(*insert(std::move(held)));
    return;
  }
  // An inbound or forward policy (callers pass key_of(held.spec)).
  if (const Entry* old = find_entry(key)) remove(*old);
  const Entry* out = find_entry(mirror_key(key, Direction::Out));
  if (out != nullptr && (out->mirrors & mirror_bit(d))) {
    out->mirrors &= static_cast<std::uint8_t>(~mirror_bit(d));
    --mirrored_;
  }
  if (out != nullptr && *out->held.owner == *held.owner && same_spec(held.spec, mirror(out->held.spec, d))) {
    out->mirrors |= mirror_bit(d);
    ++mirrored_;
    return;
  }
  insert(std::move(held));
}

void PolicyBook::put(const Key& key, const std::string& owner, dataplane::PolicySpec spec) {
  std::shared_ptr<const std::string> name;
  if (auto it = by_reqid_.find(spec.reqid);
      it != by_reqid_.end() && !it->second.empty() && *it->second.front()->held.owner == owner)
    name = it->second.front()->held.owner;
  else
    name = std::make_shared<const std::string>(owner);
  put(key, Held{std::move(name), spec});
}

void PolicyBook::erase(const Key& key) {
  if (const Entry* e = find_entry(key)) {
    materialize(*e);  // an outbound policy goes, its twins stay
    remove(*e);
    return;
  }
  const Direction d = std::get<2>(key);
  if (d == Direction::Out) return;
  const Entry* out = find_entry(mirror_key(key, Direction::Out));
  if (out != nullptr && (out->mirrors & mirror_bit(d))) {
    out->mirrors &= static_cast<std::uint8_t>(~mirror_bit(d));
    --mirrored_;
  }
}

std::vector<PolicyBook::Key> PolicyBook::keys_of(std::uint32_t reqid) const {
  auto it = by_reqid_.find(reqid);
  if (it == by_reqid_.end()) return {};
  std::vector<Key> keys;
  keys.reserve(it->second.size());
  for (const Entry* e : it->second) {
    const Key key = key_of(e->held.spec);
    keys.push_back(key);
    for (const Direction d : {Direction::In, Direction::Fwd})
      if (e->mirrors & mirror_bit(d)) keys.push_back(mirror_key(key, d));
  }
  std::sort(keys.begin(), keys.end());  // in key order, as before the index held pointers
  return keys;
}

const PolicyBook::Held* PolicyBook::any_of(std::uint32_t reqid) const {
  auto it = by_reqid_.find(reqid);
  if (it == by_reqid_.end() || it->second.empty()) return nullptr;
  // The lowest key stored (a twin held as a bit has its outbound policy's owner and reqid).
  return &(*std::min_element(it->second.begin(), it->second.end(), [](const Entry* a, const Entry* b) {
            return ByKey::key(*a) < ByKey::key(*b);
          }))->held;
}

const PolicyBook::Held* PolicyBook::overlapping(const dataplane::PolicySpec& p,
                                                const std::string& owner) const {
  if (p.direction != Direction::Out) return nullptr;
  auto check = [&](const Entry& e) -> const Held* {
    return *e.held.owner != owner && overlaps(p, e.held.spec) ? &e.held : nullptr;
  };
  // Single-address destinations inside p's destination range.
  for (auto it = out_host_dst_.lower_bound(p.dst.start); it != out_host_dst_.end() && it->first <= p.dst.end;
       ++it)
    if (const Held* h = check(*it->second)) return h;
  for (const Key& key : out_wide_dst_)
    if (const Held* h = check(*held_.find(key))) return h;
  return nullptr;
}

void PolicyBook::index(const Entry& e) {
  // `e` is held_'s own entry.
  const auto& spec = e.held.spec;
  by_reqid_[spec.reqid].push_back(&e);
  if (spec.direction != Direction::Out) return;
  if (is_host(spec.dst))
    out_host_dst_.emplace(spec.dst.start, &e);
  else
    out_wide_dst_.insert(key_of(spec));
}

void PolicyBook::unindex(const Entry& e) {
  const auto& spec = e.held.spec;
  if (auto it = by_reqid_.find(spec.reqid); it != by_reqid_.end()) {
    auto& entries = it->second;
    entries.erase(std::remove(entries.begin(), entries.end(), &e), entries.end());
    if (entries.empty()) by_reqid_.erase(it);
  }
  if (spec.direction != Direction::Out) return;
  if (!is_host(spec.dst)) {
    out_wide_dst_.erase(key_of(spec));
    return;
  }
  auto [first, last] = out_host_dst_.equal_range(spec.dst.start);
  for (auto it = first; it != last; ++it) {
    if (it->second == &e) {
      out_host_dst_.erase(it);
      return;
    }
  }
}

}  // namespace natgate::gateway::core
