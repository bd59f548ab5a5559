#include "esp/sa/sa_table.h"

#include <algorithm>

namespace natgate::esp {

namespace {

// Leading bits shared by start and end: the prefix length for a CIDR selector, and a measure
// of how narrow any range is.
int narrowness(const TrafficSelector& ts) {
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

int port_span(const TrafficSelector& ts) { return ts.end_port - ts.start_port; }

// XFRM-like precedence: explicit priority, then the narrower destination, the narrower source,
// a named protocol, the narrower port ranges; then installation order.
bool more_specific(const std::pair<PolicyRule, std::uint64_t>& x,
                   const std::pair<PolicyRule, std::uint64_t>& y) {
  const PolicyRule& a = x.first;
  const PolicyRule& b = y.first;
  auto pa = a.priority == 0 ? ~0u : a.priority;
  auto pb = b.priority == 0 ? ~0u : b.priority;
  if (pa != pb) return pa < pb;
  if (narrowness(a.dst) != narrowness(b.dst)) return narrowness(a.dst) > narrowness(b.dst);
  if (narrowness(a.src) != narrowness(b.src)) return narrowness(a.src) > narrowness(b.src);
  const bool proto_a = a.src.ip_protocol != 0 || a.dst.ip_protocol != 0;
  const bool proto_b = b.src.ip_protocol != 0 || b.dst.ip_protocol != 0;
  if (proto_a != proto_b) return proto_a;
  const int ports_a = port_span(a.src) + port_span(a.dst);
  const int ports_b = port_span(b.src) + port_span(b.dst);
  if (ports_a != ports_b) return ports_a < ports_b;
  return x.second < y.second;
}

std::size_t max_inner_for(const SaState& sa, const OuterPath& p) {
  const IpFamily outer = p.remote.address.family();
  return sa.max_inner(outer, p.udp_encap);
}

}  // namespace

SaTable::OutboundMatch SaTable::outbound(const InnerPacket& pkt) const {
  for (const auto& p : out_policies_) {
    if (!selector_admits(p.src, pkt, true) || !selector_admits(p.dst, pkt, false)) continue;
    auto it = outbound_by_reqid_.find(p.reqid);
    return {&p, it == outbound_by_reqid_.end() ? nullptr : &it->second};
  }
  return {};
}

bool SaTable::inbound_admits(const SaState& sa, const InnerPacket& pkt) const {
  if (!sa.local_ts().empty() || !sa.remote_ts().empty())
    return selectors_admit(sa.local_ts(), sa.remote_ts(), pkt);
  for (const auto& p : in_policies_) {
    if (p.reqid != sa.reqid()) continue;
    // An inbound policy's src is the remote side, its dst the local side.
    if (selector_admits(p.src, pkt, true) && selector_admits(p.dst, pkt, false)) return true;
  }
  return false;
}

SaRegistry::SaRegistry() : current_(std::make_shared<SaTable>()) {}

SaRegistry::Key SaRegistry::key_of(Spi spi, dataplane::Direction d, const IpAddress& remote) const {
  return {spi.value, d, d == dataplane::Direction::In ? IpAddress() : remote};
}

Status SaRegistry::add_sa(const SaConfig& config, std::size_t path_mtu) {
  auto sa = SaState::create(config, path_mtu, Clock::now());
  if (!sa) return unexpected(sa.error());
  std::lock_guard lock(mutex_);
  const Key key = key_of(config.spi, config.direction, config.path.remote.address);
  if (sas_.count(key))
    return unexpected("SA with SPI " + std::to_string(config.spi.value) + " is already installed");
  sas_.emplace(key, Entry{std::move(*sa), config.path, next_order_++});
  publish_locked();
  return {};
}

Status SaRegistry::remove_sa(Spi spi, dataplane::Direction direction, const IpAddress& remote) {
  std::lock_guard lock(mutex_);
  if (sas_.erase(key_of(spi, direction, remote)) == 0)
    return unexpected("no SA with SPI " + std::to_string(spi.value));
  publish_locked();
  return {};
}

Status SaRegistry::update_path(Spi spi, dataplane::Direction direction, const IpAddress& remote,
                               const OuterPath& path) {
  std::lock_guard lock(mutex_);
  auto it = sas_.find(key_of(spi, direction, remote));
  if (it == sas_.end()) return unexpected("no SA with SPI " + std::to_string(spi.value));
  Entry e = it->second;
  e.path = path;
  // The peer address is part of an outbound SA's name: re-key the map entry.
  sas_.erase(it);
  sas_.emplace(key_of(spi, direction, path.remote.address), std::move(e));
  publish_locked();
  return {};
}

std::shared_ptr<SaState> SaRegistry::find(Spi spi, dataplane::Direction direction,
                                          const IpAddress& remote) const {
  std::lock_guard lock(mutex_);
  auto it = sas_.find(key_of(spi, direction, remote));
  return it == sas_.end() ? nullptr : it->second.sa;
}

std::optional<OuterPath> SaRegistry::path_of(Spi spi, dataplane::Direction direction,
                                             const IpAddress& remote) const {
  std::lock_guard lock(mutex_);
  auto it = sas_.find(key_of(spi, direction, remote));
  if (it == sas_.end()) return std::nullopt;
  return it->second.path;
}

bool SaRegistry::inbound_spi_in_use(std::uint32_t spi) const {
  std::lock_guard lock(mutex_);
  return sas_.count(key_of(Spi(spi), dataplane::Direction::In, IpAddress())) != 0;
}

Status SaRegistry::add_policy(const PolicyRule& rule) {
  std::lock_guard lock(mutex_);
  for (const auto& [p, order] : policies_)
    if (p.src == rule.src && p.dst == rule.dst && p.direction == rule.direction)
      return unexpected("policy " + rule.src.to_string() + " -> " + rule.dst.to_string() + " exists");
  policies_.emplace_back(rule, next_order_++);
  publish_locked();
  return {};
}

Status SaRegistry::replace_policy(const PolicyRule& rule) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(policies_.begin(), policies_.end(), [&](const auto& e) {
    return e.first.src == rule.src && e.first.dst == rule.dst && e.first.direction == rule.direction;
  });
  if (it == policies_.end())
    return unexpected("no policy " + rule.src.to_string() + " -> " + rule.dst.to_string() + " to replace");
  if (it->first == rule) return {};
  it->first = rule;  // keeps its installation order
  publish_locked();
  return {};
}

Status SaRegistry::remove_policy(const PolicyRule& rule) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(policies_.begin(), policies_.end(), [&](const auto& e) {
    return e.first.src == rule.src && e.first.dst == rule.dst && e.first.direction == rule.direction;
  });
  if (it == policies_.end())
    return unexpected("no policy " + rule.src.to_string() + " -> " + rule.dst.to_string());
  policies_.erase(it);
  publish_locked();
  return {};
}

std::size_t SaRegistry::sa_count() const {
  std::lock_guard lock(mutex_);
  return sas_.size();
}

std::size_t SaRegistry::policy_count() const {
  std::lock_guard lock(mutex_);
  return policies_.size();
}

void SaRegistry::clear() {
  std::lock_guard lock(mutex_);
  sas_.clear();
  policies_.clear();
  publish_locked();
}

std::shared_ptr<const SaTable> SaRegistry::snapshot() const {
  std::lock_guard lock(mutex_);
  return current_;
}

void SaRegistry::publish_locked() {
  auto t = std::make_shared<SaTable>();
  std::map<std::uint32_t, std::uint64_t> newest;  // reqid -> order of the SA chosen
  for (const auto& [key, e] : sas_) {
    SaRef ref{e.sa, e.path, max_inner_for(*e.sa, e.path)};
    t->all_.push_back(ref);
    if (e.sa->direction() == dataplane::Direction::In) {
      t->inbound_.emplace(e.sa->spi().value, ref);
    } else {
      auto& order = newest[e.sa->reqid()];
      if (e.order > order) {
        order = e.order;
        t->outbound_by_reqid_[e.sa->reqid()] = ref;
      }
    }
  }
  auto sorted = policies_;
  std::stable_sort(sorted.begin(), sorted.end(), more_specific);
  for (const auto& [p, order] : sorted) {
    if (p.direction == dataplane::Direction::Out)
      t->out_policies_.push_back(p);
    else
      t->in_policies_.push_back(p);
  }
  current_ = std::move(t);
  version_.fetch_add(1, std::memory_order_release);
}

}  // namespace natgate::esp
