#include "gateway/core/remote_access.h"

#include <spdlog/spdlog.h>

namespace natgate::gateway::core {

void RemoteAccess::configure(const Config& config) {
  for (auto it = pools_.begin(); it != pools_.end();) {
    auto now = config.pools.find(it->first);
    if (now == config.pools.end() || !(now->second == configs_[it->first])) {
      // Leases held by running SAs are simply forgotten with the pool; those SAs are restarted
      // by the reload (their connection changed).
      configs_.erase(it->first);
      it = pools_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [name, pc] : config.pools) {
    if (pools_.count(name)) continue;
    pools_[name] = std::make_unique<pool::AddressPool>(name, pc.addresses);
    configs_[name] = pc;
    std::size_t restored = 0;
    for (const auto& l : restored_) {
      if (l.pool != name) continue;
      if (Status r = pools_[name]->restore(l.identity, l.address); !r)
        spdlog::warn("{}: lease of {} not restored: {}", lease_file_, l.identity, r.error());
      else
        ++restored;
    }
    if (restored) spdlog::info("pool {}: {} leases restored from {}", name, restored, lease_file_);
  }
  restored_.clear();  // only the pools of the first config: a changed pool starts afresh
  for (auto& [sa, h] : holds_) {
    if (!pools_.count(h.pool)) h.addresses.clear();
  }
}

void RemoteAccess::use_lease_file(std::string path) {
  lease_file_ = std::move(path);
  pool::LoadedLeases loaded = pool::load_leases(lease_file_);
  for (const auto& w : loaded.warnings) spdlog::warn("{}", w);
  restored_ = std::move(loaded.leases);
}

Status RemoteAccess::save() {
  if (lease_file_.empty()) return {};
  std::vector<pool::StoredLease> all;
  for (const auto& [name, p] : pools_)
    for (const auto& l : p->leases())
      if (!l.identity.empty()) all.push_back({name, l.address, l.identity});
  Status s = pool::save_leases(lease_file_, all);
  if (s) dirty_ = false;
  return s;
}

std::optional<Expected<ike::VirtualIpAttributes>> RemoteAccess::assign(const std::string& peer_config,
                                                                       const ike::Identity& peer,
                                                                       const ike::VirtualIpRequest& request) {
  auto profile = registry_.find(peer_config);
  if (!profile || !profile->config.pool) return std::nullopt;
  auto it = pools_.find(*profile->config.pool);
  if (it == pools_.end()) return std::nullopt;
  pool::AddressPool& pool = *it->second;
  const PoolConfig& pc = configs_[pool.name()];
  const std::string who = peer.to_string();

  ike::VirtualIpAttributes out;
  std::string errors;
  std::vector<IpFamily> families;
  for (const auto& want : request.addresses) {
    const IpFamily f = want.family();
    if (std::find(families.begin(), families.end(), f) != families.end()) continue;  // one per family
    families.push_back(f);
    if (!pool.has_family(f)) continue;  // §3.15.4: answer what we can
    auto a = pool.acquire(who, f);
    if (!a) {
      errors += (errors.empty() ? "" : "; ") + a.error();
      continue;
    }
    out.addresses.push_back(*a);
    dirty_ = true;
  }
  if (out.addresses.empty()) {
    for (const auto& a : out.addresses) pool.release(who, a);
    return Expected<ike::VirtualIpAttributes>(unexpected(
        errors.empty() ? "pool " + pool.name() + " has no address of the family asked for" : errors));
  }
  for (const auto& d : pc.dns) {
    if (std::find(families.begin(), families.end(), d.family()) != families.end()) out.dns.push_back(d);
  }
  // Split tunnel: the networks behind us (§3.15.1 INTERNAL_IP4/6_SUBNET); a full tunnel
  // (0.0.0.0/0) goes as it is.
  for (const auto& s : profile->config.local.subnets) {
    if (std::find(families.begin(), families.end(), s.address.family()) != families.end())
      out.subnets.push_back(s);
  }
  return Expected<ike::VirtualIpAttributes>(std::move(out));
}

void RemoteAccess::hold(std::uint64_t sa, const std::string& peer_config, const ike::Identity& peer,
                        const std::vector<IpAddress>& addresses) {
  auto profile = registry_.find(peer_config);
  if (!profile || !profile->config.pool) return;
  Hold& h = holds_[sa];
  h.pool = *profile->config.pool;
  h.identity = peer.to_string();
  h.addresses.insert(h.addresses.end(), addresses.begin(), addresses.end());
}

std::optional<std::uint32_t> RemoteAccess::release(std::uint64_t sa) {
  if (auto it = holds_.find(sa); it != holds_.end()) {
    if (auto p = pools_.find(it->second.pool); p != pools_.end())
      for (const auto& a : it->second.addresses) p->second->release(it->second.identity, a);
    holds_.erase(it);
  }
  std::optional<std::uint32_t> reqid;
  if (auto it = reqids_.find(sa); it != reqids_.end()) {
    reqid = it->second;
    reqids_.erase(it);
  }
  return reqid;
}

void RemoteAccess::transfer(std::uint64_t from, std::uint64_t to) {
  if (auto it = holds_.find(from); it != holds_.end()) {
    holds_[to] = std::move(it->second);
    holds_.erase(it);
  }
  if (auto it = reqids_.find(from); it != reqids_.end()) {
    reqids_[to] = it->second;
    reqids_.erase(it);
  }
}

std::uint32_t RemoteAccess::reqid_for(std::uint64_t sa, const ConnectionProfile& profile) {
  if (!profile.config.pool) return profile.reqid;
  auto [it, fresh] = reqids_.try_emplace(sa, next_reqid_);
  if (fresh) ++next_reqid_;
  return it->second;
}

std::vector<IpAddress> RemoteAccess::addresses_of(std::uint64_t sa) const {
  auto it = holds_.find(sa);
  return it == holds_.end() ? std::vector<IpAddress>{} : it->second.addresses;
}

std::vector<LeaseStatus> RemoteAccess::leases(const std::string& pool) const {
  std::vector<LeaseStatus> out;
  auto it = pools_.find(pool);
  if (it == pools_.end()) return out;
  for (const auto& l : it->second->leases())
    out.push_back({pool, l.address.to_string(), l.identity, l.holders > 0});
  return out;
}

std::vector<LeaseStatus> RemoteAccess::leases_of(const std::string& pool, const std::string& identity) const {
  std::vector<LeaseStatus> out;
  auto it = pools_.find(pool);
  if (it == pools_.end()) return out;
  for (const auto& l : it->second->leases_of(identity))
    out.push_back({pool, l.address.to_string(), l.identity, l.holders > 0});
  return out;
}

std::optional<RemoteAccess::PoolCounts> RemoteAccess::pool_counts(const std::string& pool) const {
  auto it = pools_.find(pool);
  if (it == pools_.end()) return std::nullopt;
  const pool::AddressPool& p = *it->second;
  return PoolCounts{p.online(), p.size(), p.capacity(IpFamily::V4) + p.capacity(IpFamily::V6)};
}

std::size_t RemoteAccess::online() const {
  std::size_t n = 0;
  for (const auto& [name, p] : pools_) n += p->online();
  return n;
}

}  // namespace natgate::gateway::core
