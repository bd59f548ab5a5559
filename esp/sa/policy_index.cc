#include "esp/sa/policy_index.h"

#include <algorithm>

namespace natgate::esp {

namespace {

std::uint32_t effective_priority(const PolicyRule& r) { return r.priority == 0 ? ~0u : r.priority; }

int port_span(const TrafficSelector& ts) { return ts.end_port - ts.start_port; }

std::uint64_t load_be(const std::uint8_t* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = v << 8 | p[i];
  return v;
}

// The top `len` bits of a `width`-bit value (len in 0..width).
std::uint64_t top_bits(std::uint64_t v, int len, int width) {
  if (len <= 0) return 0;
  if (len >= width) return v;
  return v & ~((std::uint64_t{1} << (width - len)) - 1);
}

}  // namespace

int selector_narrowness(const TrafficSelector& ts) {
  auto a = ts.start.bytes();
  auto b = ts.end.bytes();
  int bits = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::uint8_t x = a[i] ^ b[i];
    if (x == 0) {
      bits += 8;
      continue;
    }
    for (int bit = 7; bit >= 0 && !(x >> bit & 1); --bit) ++bits;
    break;
  }
  return bits;
}

bool more_specific(const RankedPolicy& x, const RankedPolicy& y) {
  const PolicyRule& a = x.first;
  const PolicyRule& b = y.first;
  const auto pa = effective_priority(a);
  const auto pb = effective_priority(b);
  if (pa != pb) return pa < pb;
  const int da = selector_narrowness(a.dst), db = selector_narrowness(b.dst);
  if (da != db) return da > db;
  const int sa = selector_narrowness(a.src), sb = selector_narrowness(b.src);
  if (sa != sb) return sa > sb;
  const bool proto_a = a.src.ip_protocol != 0 || a.dst.ip_protocol != 0;
  const bool proto_b = b.src.ip_protocol != 0 || b.dst.ip_protocol != 0;
  if (proto_a != proto_b) return proto_a;
  const int ports_a = port_span(a.src) + port_span(a.dst);
  const int ports_b = port_span(b.src) + port_span(b.dst);
  if (ports_a != ports_b) return ports_a < ports_b;
  return x.second < y.second;
}

std::vector<RankedPolicy> PolicyIndex::all_of(const Bucket& b) {
  std::vector<RankedPolicy> all;
  all.reserve(1 + (b.rest ? b.rest->size() : 0));
  all.push_back(b.first);
  if (b.rest) all.insert(all.end(), b.rest->begin(), b.rest->end());
  return all;
}

PolicyIndex::Bucket PolicyIndex::bucket_of(const std::vector<RankedPolicy>& sorted) {
  Bucket b{sorted.front(), nullptr};
  if (sorted.size() > 1)
    b.rest = std::make_shared<const std::vector<RankedPolicy>>(sorted.begin() + 1, sorted.end());
  return b;
}

PolicyIndex::PrefixKey PolicyIndex::key_of(const std::uint8_t* addr, bool v4) {
  if (v4) return {0, load_be(addr, 4)};
  return {load_be(addr, 8), load_be(addr + 8, 8)};
}

PolicyIndex::PrefixKey PolicyIndex::masked(PrefixKey k, bool v4, int len) {
  if (v4) return {0, top_bits(k.lo, len, 32)};
  if (len <= 64) return {top_bits(k.hi, len, 64), 0};
  return {k.hi, top_bits(k.lo, len - 64, 64)};
}

const PolicyRule* PolicyIndex::match(const InnerPacket& pkt) const {
  const bool v4 = pkt.family == IpFamily::V4;
  const PrefixKey dst = key_of(pkt.dst, v4);
  for (const auto& cls : classes_) {
    for (const auto& level : v4 ? cls.v4 : cls.v6) {
      const Bucket* bucket = level.buckets.find(masked(dst, v4, level.len));
      if (bucket == nullptr) continue;
      const PolicyRule& first = bucket->first.first;
      if (selector_admits(first.src, pkt, true) && selector_admits(first.dst, pkt, false)) return &first;
      if (!bucket->rest) continue;
      for (const auto& [rule, order] : *bucket->rest)
        if (selector_admits(rule.src, pkt, true) && selector_admits(rule.dst, pkt, false)) return &rule;
    }
  }
  return nullptr;
}

PolicyIndex::Level* PolicyIndex::level_for(const RankedPolicy& p, bool create, std::size_t* class_at) {
  const std::uint32_t prio = effective_priority(p.first);
  auto cit = std::lower_bound(classes_.begin(), classes_.end(), prio,
                              [](const Class& c, std::uint32_t v) { return c.priority < v; });
  if (cit == classes_.end() || cit->priority != prio) {
    if (!create) return nullptr;
    cit = classes_.insert(cit, Class{prio, {}, {}});
  }
  *class_at = static_cast<std::size_t>(cit - classes_.begin());
  auto& levels = p.first.dst.family() == IpFamily::V4 ? cit->v4 : cit->v6;
  const int len = selector_narrowness(p.first.dst);
  auto lit =
      std::lower_bound(levels.begin(), levels.end(), len, [](const Level& l, int v) { return l.len > v; });
  if (lit == levels.end() || lit->len != len) {
    if (!create) return nullptr;
    lit = levels.insert(lit, Level{len, {}});
  }
  return &*lit;
}

void PolicyIndex::add(const RankedPolicy& p) {
  std::size_t class_at = 0;
  Level* level = level_for(p, true, &class_at);
  const bool v4 = p.first.dst.family() == IpFamily::V4;
  const PrefixKey key = masked(key_of(p.first.dst.start.bytes().data(), v4), v4, level->len);
  std::vector<RankedPolicy> all;
  if (const auto* old = level->buckets.find(key)) all = all_of(*old);
  all.insert(std::upper_bound(all.begin(), all.end(), p, more_specific), p);
  level->buckets.set(key, bucket_of(all));
}

void PolicyIndex::remove(const RankedPolicy& p) {
  std::size_t class_at = 0;
  Level* level = level_for(p, false, &class_at);
  if (level == nullptr) return;
  const bool v4 = p.first.dst.family() == IpFamily::V4;
  const PrefixKey key = masked(key_of(p.first.dst.start.bytes().data(), v4), v4, level->len);
  const auto* old = level->buckets.find(key);
  if (old == nullptr) return;
  std::vector<RankedPolicy> all = all_of(*old);
  std::erase_if(all, [&](const RankedPolicy& x) { return x.second == p.second; });
  if (!all.empty()) {
    level->buckets.set(key, bucket_of(all));
    return;
  }
  level->buckets.erase(key);
  if (!level->buckets.empty()) return;
  const int len = level->len;  // `level` points into the vector about to change
  Class& cls = classes_[class_at];
  auto& levels = v4 ? cls.v4 : cls.v6;
  std::erase_if(levels, [&](const Level& l) { return l.len == len; });
  if (cls.v4.empty() && cls.v6.empty())
    classes_.erase(classes_.begin() + static_cast<std::ptrdiff_t>(class_at));
}

}  // namespace natgate::esp
