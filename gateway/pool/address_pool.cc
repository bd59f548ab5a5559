#include "gateway/pool/address_pool.h"

#include <algorithm>

namespace natgate::gateway::pool {

namespace {

constexpr std::uint64_t kCap = std::uint64_t{1} << 32;

// Adds n to an address (big-endian), saturating is not needed: callers stay inside the subnet.
IpAddress add(const IpAddress& base, std::uint64_t n) {
  auto b = base.bytes();
  std::vector<std::uint8_t> out(b.begin(), b.end());
  for (std::size_t i = out.size(); i-- > 0 && n != 0;) {
    const std::uint64_t sum = out[i] + (n & 0xff);
    out[i] = static_cast<std::uint8_t>(sum);
    n = (n >> 8) + (sum >> 8);
  }
  return IpAddress::from_bytes(base.family(), ByteView(out.data(), out.size()));
}

}  // namespace

AddressPool::AddressPool(std::string name, std::vector<Subnet> ranges, std::size_t offline_identity_bytes)
    : name_(std::move(name)),
      ranges_(std::move(ranges)),
      offline_cap_(offline_identity_bytes),
      next_fresh_(ranges_.size(), 0) {}

void AddressPool::unlink(const std::string& identity, const IpAddress& a) {
  auto it = by_identity_.find(identity);
  if (it == by_identity_.end()) return;
  auto& list = it->second;
  list.erase(std::remove(list.begin(), list.end(), a), list.end());
  if (list.empty()) by_identity_.erase(it);
}

void AddressPool::forget(const IpAddress& a) {
  auto it = leases_.find(a);
  if (it == leases_.end() || it->second.holders != 0) return;
  offline_bytes_ -= std::min(offline_bytes_, it->second.identity.size());
  unlink(it->second.identity, a);
  if (auto r = released_at_.find(a); r != released_at_.end()) {
    release_order_.erase(r->second);
    released_at_.erase(r);
  }
  leases_.erase(it);
  forgotten_.insert(a);
}

void AddressPool::trim() {
  while (offline_bytes_ > offline_cap_ && !release_order_.empty()) {
    const IpAddress a = release_order_.begin()->second;
    release_order_.erase(release_order_.begin());
    released_at_.erase(a);
    forget(a);
  }
}

bool AddressPool::has_family(IpFamily f) const {
  return std::any_of(ranges_.begin(), ranges_.end(),
                     [&](const Subnet& s) { return s.address.family() == f; });
}

std::uint64_t AddressPool::usable(const Subnet& s) const {
  const unsigned bits = (s.address.is_v4() ? 32u : 128u) - s.prefix_len;
  if (bits >= 32) return kCap;
  const std::uint64_t size = std::uint64_t{1} << bits;
  // The network address is skipped; an IPv4 broadcast address too (from /30 up, as /31 and /32
  // have none).
  if (size == 1) return 1;
  if (s.address.is_v4() && size > 2) return size - 2;
  return size - 1;
}

std::optional<IpAddress> AddressPool::nth(const Subnet& s, std::uint64_t n) const {
  if (n >= usable(s)) return std::nullopt;
  const bool single = s.prefix_len == (s.address.is_v4() ? 32 : 128);
  return add(s.address, single ? n : n + 1);
}

std::uint64_t AddressPool::capacity(IpFamily f) const {
  std::uint64_t total = 0;
  for (const auto& s : ranges_)
    if (s.address.family() == f) total = std::min(kCap, total + usable(s));
  return total;
}

Expected<IpAddress> AddressPool::acquire(const std::string& identity, IpFamily f) {
  auto hold = [&](const IpAddress& a) {
    Lease& l = leases_[a];
    if (l.holders == 0) offline_bytes_ -= std::min(offline_bytes_, l.identity.size());  // online again
    if (l.identity != identity) {
      // Taking over an offline lease of someone else: it is theirs no more.
      if (!l.identity.empty()) unlink(l.identity, a);
      l.identity = identity;
      by_identity_[identity].push_back(a);
    }
    l.address = a;
    ++l.holders;
    if (auto r = released_at_.find(a); r != released_at_.end()) {
      release_order_.erase(r->second);
      released_at_.erase(r);
    }
    forgotten_.erase(a);
    return a;
  };
  // The identity's own address first: a reconnect (online or not) gets the same one back.
  if (auto it = by_identity_.find(identity); it != by_identity_.end())
    for (const auto& a : it->second)
      if (a.family() == f) return hold(a);
  // Then one never handed out.
  for (std::size_t i = 0; i < ranges_.size(); ++i) {
    if (ranges_[i].address.family() != f) continue;
    while (auto a = nth(ranges_[i], next_fresh_[i])) {
      ++next_fresh_[i];
      if (!leases_.count(*a)) return hold(*a);
    }
  }
  // Then one handed out before and forgotten since.
  for (auto it = forgotten_.begin(); it != forgotten_.end(); ++it)
    if (it->family() == f) return hold(IpAddress(*it));
  // Then the offline lease released longest ago.
  const IpAddress* oldest = nullptr;
  std::uint64_t when = 0;
  for (const auto& [a, t] : released_at_) {
    if (a.family() != f) continue;
    if (!oldest || t < when) {
      oldest = &a;
      when = t;
    }
  }
  if (oldest) return hold(IpAddress(*oldest));
  if (!has_family(f))
    return unexpected("pool " + name_ + " has no " + std::string(f == IpFamily::V4 ? "IPv4" : "IPv6") +
                      " addresses");
  return unexpected("pool " + name_ + " is exhausted (" + std::to_string(capacity(f)) + " addresses online)");
}

void AddressPool::release(const std::string& identity, const IpAddress& address) {
  auto it = leases_.find(address);
  if (it == leases_.end() || it->second.identity != identity || it->second.holders == 0) return;
  if (--it->second.holders == 0) {
    released_at_[address] = ++release_clock_;
    release_order_[release_clock_] = address;
    offline_bytes_ += it->second.identity.size();
    trim();
  }
}

Status AddressPool::restore(const std::string& identity, const IpAddress& address) {
  if (identity.empty()) return unexpected(std::string("no identity"));
  const bool usable_here = std::any_of(ranges_.begin(), ranges_.end(), [&](const Subnet& s) {
    // What nth() hands out: a single address itself, else never the network address, nor the
    // broadcast address of an IPv4 prefix up to /30.
    if (!s.contains(address)) return false;
    if (s.prefix_len == (s.address.is_v4() ? 32 : 128)) return true;
    if (address == s.first()) return false;
    return !(s.address.is_v4() && s.prefix_len < 31 && address == s.last());
  });
  if (!usable_here) return unexpected(address.to_string() + " is not an address of pool " + name_);
  if (leases_.count(address)) return unexpected(address.to_string() + " is leased already");
  leases_[address] = Lease{address, identity, 0};
  by_identity_[identity].push_back(address);
  released_at_[address] = ++release_clock_;
  release_order_[release_clock_] = address;
  offline_bytes_ += identity.size();
  forgotten_.erase(address);
  trim();
  return {};
}

std::vector<Lease> AddressPool::leases() const {
  std::vector<Lease> out;
  for (const auto& [a, l] : leases_) out.push_back(l);
  return out;
}

std::vector<Lease> AddressPool::leases_of(const std::string& identity) const {
  std::vector<Lease> out;
  auto it = by_identity_.find(identity);
  if (it == by_identity_.end()) return out;
  for (const IpAddress& a : it->second)
    if (auto l = leases_.find(a); l != leases_.end()) out.push_back(l->second);
  return out;
}

std::size_t AddressPool::online() const {
  return static_cast<std::size_t>(
      std::count_if(leases_.begin(), leases_.end(), [](const auto& kv) { return kv.second.holders > 0; }));
}

}  // namespace natgate::gateway::pool
