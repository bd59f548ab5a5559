#include "esp/sa/sa_table.h"

#include <algorithm>
#include <string>
#include <utility>

#include "esp/tun/mtu.h"
#include "natt/tcp_shim.h"

namespace natgate::esp {

namespace {

std::size_t max_inner_for(const SaState& sa, const OuterPath& p) {
  // An SA towards a TCP encapsulation shim (natt/tcp_shim.h) reaches its peer as frames in a TCP
  // stream, not as ESP in UDP: sized so that one frame fills at most one TCP segment
  // (esp/tun/mtu.h, stream_inner_mtu). The streams' outer family is IPv4.
  if (natt::tcp::is_shim(p.remote.address)) return stream_inner_mtu(sa.path_mtu(), sa.suite(), IpFamily::V4);
  const IpFamily outer = p.remote.address.family();
  return sa.max_inner(outer, p.udp_encap);
}

std::string policy_text(const PolicyRule& r) { return r.src.to_string() + " -> " + r.dst.to_string(); }

std::uint64_t hash_address(const IpAddress& a, std::uint64_t seed) {
  std::uint64_t h = seed ^ static_cast<std::uint64_t>(a.family());
  std::uint64_t word = 0;
  const auto b = a.bytes();
  for (std::size_t i = 0; i < b.size(); ++i) {
    word = word << 8 | b[i];
    if (i % 8 == 7 || i + 1 == b.size()) {
      h = mix64(h ^ word);
      word = 0;
    }
  }
  return h;
}

std::uint64_t hash_selector(const TrafficSelector& ts, std::uint64_t seed) {
  const std::uint64_t h = hash_address(ts.end, hash_address(ts.start, seed));
  return mix64(h ^ (std::uint64_t{ts.ip_protocol} << 32 | std::uint64_t{ts.start_port} << 16 | ts.end_port));
}

}  // namespace

SaTable::OutboundMatch SaTable::outbound(const InnerPacket& pkt) const {
  const PolicyRule* p = out_policies_.match(pkt);
  if (p == nullptr) return {};
  return {p, outbound_by_reqid_.find(p->reqid)};
}

bool SaTable::inbound_admits(const SaState& sa, const InnerPacket& pkt) const {
  if (!sa.local_ts().empty() || !sa.remote_ts().empty())
    return selectors_admit(sa.local_ts(), sa.remote_ts(), pkt);
  const auto* policies = in_policies_.find(sa.reqid());
  if (policies == nullptr) return false;
  for (const auto& p : **policies) {
    // An inbound policy's src is the remote side, its dst the local side.
    if (selector_admits(p.src, pkt, true) && selector_admits(p.dst, pkt, false)) return true;
  }
  return false;
}

SaRegistry::SaRegistry() : current_(std::make_shared<SaTable>()) {}

std::size_t SaRegistry::KeyHash::operator()(const Key& k) const {
  const auto& [spi, direction, remote] = k;
  return hash_address(remote, mix64(std::uint64_t{spi} << 8 | static_cast<std::uint64_t>(direction)));
}

std::size_t SaRegistry::PolicyNameHash::operator()(const PolicyName& n) const {
  const auto& [src, dst, direction] = n;
  return hash_selector(dst, hash_selector(src, static_cast<std::uint64_t>(direction)));
}

SaRegistry::Key SaRegistry::key_of(Spi spi, dataplane::Direction d, const IpAddress& remote) const {
  return {spi.value, d, d == dataplane::Direction::In ? IpAddress() : remote};
}

void SaRegistry::index_sa(const Key& key, const Entry& e) {
  ++next_.sa_count_;
  if (e.sa->direction() == dataplane::Direction::In) {
    next_.inbound_.set(e.sa->spi().value, SaRef{e.sa, e.path, max_inner_for(*e.sa, e.path)});
  } else {
    auto& order = outbound_order_[e.sa->reqid()];
    const auto at = std::lower_bound(order.begin(), order.end(), e.order,
                                     [](const auto& entry, std::uint64_t o) { return entry.first < o; });
    order.insert(at, {e.order, key});
    choose_outbound(e.sa->reqid());
  }
}

void SaRegistry::unindex_sa(const Entry& e) {
  --next_.sa_count_;
  if (e.sa->direction() == dataplane::Direction::In) {
    next_.inbound_.erase(e.sa->spi().value);
    return;
  }
  auto it = outbound_order_.find(e.sa->reqid());
  if (it == outbound_order_.end()) return;
  std::erase_if(it->second, [&](const auto& entry) { return entry.first == e.order; });
  if (it->second.empty()) outbound_order_.erase(it);
  choose_outbound(e.sa->reqid());
}

void SaRegistry::choose_outbound(std::uint32_t reqid) {
  auto it = outbound_order_.find(reqid);
  if (it == outbound_order_.end()) {
    next_.outbound_by_reqid_.erase(reqid);
    return;
  }
  const Entry& newest = sas_.at(it->second.rbegin()->second);
  next_.outbound_by_reqid_.set(reqid, SaRef{newest.sa, newest.path, max_inner_for(*newest.sa, newest.path)});
}

void SaRegistry::index_policy(const RankedPolicy& p) {
  if (p.first.direction == dataplane::Direction::Out) {
    next_.out_policies_.add(p);
    return;
  }
  if (bare_inbound_.empty()) return;  // no SA reads them (see count_bare_inbound)
  auto list = std::make_shared<SaTable::InPolicies>();
  if (const auto* old = next_.in_policies_.find(p.first.reqid)) *list = **old;
  list->push_back(p.first);
  next_.in_policies_.set(p.first.reqid, std::move(list));
}

void SaRegistry::unindex_policy(const RankedPolicy& p) {
  if (p.first.direction == dataplane::Direction::Out) {
    next_.out_policies_.remove(p);
    return;
  }
  const auto* old = next_.in_policies_.find(p.first.reqid);
  if (old == nullptr) return;
  auto list = std::make_shared<SaTable::InPolicies>(**old);
  std::erase(*list, p.first);
  if (list->empty())
    next_.in_policies_.erase(p.first.reqid);
  else
    next_.in_policies_.set(p.first.reqid, std::move(list));
}

namespace {
bool carries_selectors(const SaState& sa) { return !sa.local_ts().empty() || !sa.remote_ts().empty(); }
}  // namespace

void SaRegistry::count_bare_inbound(const SaState& sa, bool add) {
  if (sa.direction() != dataplane::Direction::In || carries_selectors(sa)) return;
  if (!add) {
    // The count only: once a registry has had such an SA it keeps every reqid's list until
    // clear(), so an SA coming and going never costs a second look at every rule.
    if (auto it = bare_inbound_.find(sa.reqid()); it != bare_inbound_.end() && it->second > 0) --it->second;
    return;
  }
  const bool first = bare_inbound_.empty();
  ++bare_inbound_[sa.reqid()];
  if (!first) return;
  // The first such SA: every reqid's inbound rules into the snapshot, in one pass over the rules
  // (O(n) once per registry, not per SA: the install cost stays flat, tests/scale); from now on
  // index_policy keeps them as rules come and go. A gateway's SAs all carry selectors, so its
  // registry never gets here.
  std::unordered_map<std::uint32_t, std::shared_ptr<SaTable::InPolicies>> lists;
  for (const auto& [name, rest] : policies_) {
    if (std::get<2>(name) == dataplane::Direction::Out) continue;
    auto& list = lists[rest.reqid];
    if (!list) list = std::make_shared<SaTable::InPolicies>();
    list->push_back(ranked(name, rest).first);
  }
  for (auto& [reqid, list] : lists) next_.in_policies_.set(reqid, std::move(list));
}

Status SaRegistry::add_sa(const SaConfig& config, std::size_t path_mtu) {
  std::lock_guard lock(mutex_);
  auto sa = SaState::create(config, path_mtu, Clock::now(), &selectors_);
  if (!sa) return unexpected(sa.error());
  const Key key = key_of(config.spi, config.direction, config.path.remote.address);
  if (installed(config.spi, config.direction, key))
    return unexpected("SA with SPI " + std::to_string(config.spi.value) + " is already installed");
  const Entry e{std::move(*sa), config.path, next_order_++};
  if (config.direction == dataplane::Direction::Out) sas_.emplace(key, e);
  index_sa(key, e);
  count_bare_inbound(*e.sa, true);
  publish_locked();
  schedule(*e.sa, true);
  return {};
}

bool SaRegistry::installed(Spi spi, dataplane::Direction direction, const Key& key) const {
  if (direction == dataplane::Direction::In) return next_.inbound_.find(spi.value) != nullptr;
  return sas_.count(key) != 0;
}

std::optional<SaRegistry::Entry> SaRegistry::entry_of(Spi spi, dataplane::Direction direction,
                                                      const IpAddress& remote) const {
  if (direction == dataplane::Direction::In) {
    const SaRef* ref = next_.inbound_.find(spi.value);
    if (ref == nullptr) return std::nullopt;
    return Entry{ref->sa, ref->path, 0};
  }
  auto it = sas_.find(key_of(spi, direction, remote));
  if (it == sas_.end()) return std::nullopt;
  return it->second;
}

Status SaRegistry::remove_sa(Spi spi, dataplane::Direction direction, const IpAddress& remote) {
  std::lock_guard lock(mutex_);
  const auto e = entry_of(spi, direction, remote);
  if (!e) return unexpected("no SA with SPI " + std::to_string(spi.value));
  if (direction == dataplane::Direction::Out) sas_.erase(key_of(spi, direction, remote));
  unindex_sa(*e);
  count_bare_inbound(*e->sa, false);
  publish_locked();
  schedule(*e->sa, false);
  return {};
}

Status SaRegistry::update_path(Spi spi, dataplane::Direction direction, const IpAddress& remote,
                               const OuterPath& path) {
  std::lock_guard lock(mutex_);
  if (direction == dataplane::Direction::In) {
    // Named by SPI alone: the snapshot's entry is the record, and only its path changes.
    const SaRef* ref = next_.inbound_.find(spi.value);
    if (ref == nullptr) return unexpected("no SA with SPI " + std::to_string(spi.value));
    const std::shared_ptr<SaState> sa = ref->sa;
    next_.inbound_.set(spi.value, SaRef{sa, path, max_inner_for(*sa, path)});
    publish_locked();
    return {};
  }
  auto it = sas_.find(key_of(spi, direction, remote));
  if (it == sas_.end()) return unexpected("no SA with SPI " + std::to_string(spi.value));
  // The peer address is part of an outbound SA's name: re-key the map entry.
  const Key new_key = key_of(spi, direction, path.remote.address);
  if (new_key != it->first && sas_.count(new_key))
    return unexpected("SA with SPI " + std::to_string(spi.value) + " to " + path.remote.address.to_string() +
                      " is already installed");
  Entry e = it->second;
  unindex_sa(e);
  sas_.erase(it);
  e.path = path;
  auto [moved, added] = sas_.emplace(new_key, std::move(e));
  index_sa(new_key, moved->second);
  publish_locked();
  return {};
}

std::shared_ptr<SaState> SaRegistry::find(Spi spi, dataplane::Direction direction,
                                          const IpAddress& remote) const {
  std::lock_guard lock(mutex_);
  auto e = entry_of(spi, direction, remote);
  return e ? std::move(e->sa) : nullptr;
}

std::optional<OuterPath> SaRegistry::path_of(Spi spi, dataplane::Direction direction,
                                             const IpAddress& remote) const {
  std::lock_guard lock(mutex_);
  auto e = entry_of(spi, direction, remote);
  if (!e) return std::nullopt;
  return e->path;
}

bool SaRegistry::inbound_spi_in_use(std::uint32_t spi) const {
  std::lock_guard lock(mutex_);
  return next_.inbound_.find(spi) != nullptr;
}

RankedPolicy SaRegistry::ranked(const PolicyName& name, const PolicyRest& rest) {
  const auto& [src, dst, direction] = name;
  return {PolicyRule{src, dst, direction, rest.reqid, rest.priority}, rest.order};
}

Status SaRegistry::add_policy(const PolicyRule& rule, std::uint8_t holder) {
  std::lock_guard lock(mutex_);
  auto [it, added] = policies_.try_emplace(PolicyName{rule.src, rule.dst, rule.direction},
                                           PolicyRest{rule.reqid, rule.priority, next_order_, holder});
  if (!added) {
    if (it->second.holders & holder)
      return unexpected("policy " + policy_text(rule) + " exists (reqid " + std::to_string(it->second.reqid) +
                        ")");
    it->second.holders |= holder;  // shared: the rule and the snapshot stay as they are
    return {};
  }
  ++next_order_;
  index_policy(ranked(it->first, it->second));
  publish_locked();
  return {};
}

Status SaRegistry::replace_policy(const PolicyRule& rule) {
  std::lock_guard lock(mutex_);
  auto it = policies_.find(PolicyName{rule.src, rule.dst, rule.direction});
  if (it == policies_.end()) return unexpected("no policy " + policy_text(rule) + " to replace");
  if (it->second.reqid == rule.reqid && it->second.priority == rule.priority) return {};
  unindex_policy(ranked(it->first, it->second));
  it->second.reqid = rule.reqid;  // keeps its installation order
  it->second.priority = rule.priority;
  index_policy(ranked(it->first, it->second));
  publish_locked();
  return {};
}

Status SaRegistry::remove_policy(const PolicyRule& rule, std::uint8_t holder) {
  std::lock_guard lock(mutex_);
  auto it = policies_.find(PolicyName{rule.src, rule.dst, rule.direction});
  if (it == policies_.end() || !(it->second.holders & holder))
    return unexpected("no policy " + policy_text(rule));
  it->second.holders &= static_cast<std::uint8_t>(~holder);
  if (it->second.holders != 0) return {};  // another holder keeps it
  unindex_policy(ranked(it->first, it->second));
  policies_.erase(it);
  publish_locked();
  return {};
}

std::uint8_t SaRegistry::policy_holders(const TrafficSelector& src, const TrafficSelector& dst,
                                        dataplane::Direction direction, std::uint32_t* reqid) const {
  std::lock_guard lock(mutex_);
  auto it = policies_.find(PolicyName{src, dst, direction});
  if (it == policies_.end()) return 0;
  if (reqid) *reqid = it->second.reqid;
  return static_cast<std::uint8_t>(it->second.holders);
}

std::vector<std::pair<PolicyRule, std::uint8_t>> SaRegistry::policies() const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<PolicyRule, std::uint8_t>> all;
  all.reserve(policies_.size());
  for (const auto& [name, rest] : policies_)
    all.emplace_back(ranked(name, rest).first, static_cast<std::uint8_t>(rest.holders));
  return all;
}

std::vector<std::tuple<Spi, dataplane::Direction, IpAddress>> SaRegistry::sa_names() const {
  std::lock_guard lock(mutex_);
  std::vector<std::tuple<Spi, dataplane::Direction, IpAddress>> names;
  names.reserve(sas_.size() + next_.inbound_.size());
  next_.inbound_.for_each([&](std::uint32_t, const SaRef& ref) {
    names.emplace_back(ref.sa->spi(), ref.sa->direction(), ref.path.remote.address);
  });
  for (const auto& [key, e] : sas_) names.emplace_back(e.sa->spi(), e.sa->direction(), e.path.remote.address);
  return names;
}

std::size_t SaRegistry::sa_count() const {
  std::lock_guard lock(mutex_);
  return next_.sa_count_;
}

std::size_t SaRegistry::policy_count() const {
  std::lock_guard lock(mutex_);
  return policies_.size();
}

void SaRegistry::clear() {
  std::lock_guard lock(mutex_);
  sas_.clear();
  outbound_order_.clear();
  policies_.clear();
  bare_inbound_.clear();
  selectors_.clear();
  next_ = SaTable();
  publish_locked();
  std::lock_guard due_lock(deadlines_mutex_);
  deadlines_.clear();
}

namespace {
// The SA's deadlines after `after` (a time_point's minimum: all of them), earliest first.
std::optional<Clock::time_point> next_deadline(const SaState& sa, std::optional<Clock::time_point> after) {
  std::optional<Clock::time_point> next;
  for (const auto& due : {sa.soft_due(), sa.hard_due()}) {
    if (!due || (after && *due <= *after)) continue;
    if (!next || *due < *next) next = due;
  }
  return next;
}
}  // namespace

void SaRegistry::schedule(const SaState& sa, bool add) {
  std::lock_guard lock(deadlines_mutex_);
  if (add) {
    if (const auto first = next_deadline(sa, std::nullopt)) deadlines_.emplace(*first, &sa);
    return;
  }
  for (const auto& due : {sa.soft_due(), sa.hard_due()})
    if (due) deadlines_.erase({*due, &sa});
}

std::vector<SaRegistry::Due> SaRegistry::take_due(Clock::time_point now) {
  std::vector<Due> due;
  std::lock_guard lock(deadlines_mutex_);
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    const auto [at, sa] = *deadlines_.begin();
    deadlines_.erase(deadlines_.begin());
    // Still installed (see deadlines_), so it may be read here.
    due.push_back(Due{sa, sa->spi(), sa->direction(), sa->reqid()});
    if (const auto next = next_deadline(*sa, at)) deadlines_.emplace(*next, sa);
  }
  return due;
}

const SaRef* SaRegistry::find_due(const SaTable& table, const Due& due) {
  const SaRef* ref =
      due.direction == dataplane::Direction::In ? table.inbound(due.spi.value) : table.outbound_of(due.reqid);
  return ref != nullptr && ref->sa.get() == due.sa ? ref : nullptr;
}

std::shared_ptr<const SaTable> SaRegistry::snapshot() const {
  std::lock_guard lock(published_mutex_);
  return current_;
}

void SaRegistry::publish_locked() {
  // A shallow copy: the maps' roots and the policy index's level lists, O(1) in the number of SAs.
  auto table = std::make_shared<const SaTable>(next_);
  std::shared_ptr<const SaTable> old;
  {
    std::lock_guard lock(published_mutex_);
    old = std::exchange(current_, std::move(table));
  }
  version_.fetch_add(1, std::memory_order_release);
  // `old` is released here, outside published_mutex_: if no worker holds it, its own nodes are
  // freed now, on the control plane's thread.
}

}  // namespace natgate::esp
