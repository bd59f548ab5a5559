#include "esp/tun/route_table.h"

#include <ifaddrs.h>
#include <sys/socket.h>

#include <memory>

namespace natgate::esp {

namespace {

using U128 = unsigned __int128;

U128 to_u128(const IpAddress& a) {
  U128 v = 0;
  for (auto b : a.bytes()) v = v << 8 | b;
  return v;
}

IpAddress from_u128(U128 v, IpFamily f) {
  const std::size_t n = f == IpFamily::V4 ? 4 : 16;
  std::uint8_t b[16] = {};
  for (std::size_t i = n; i-- > 0;) {
    b[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
  return IpAddress::from_bytes(f, ByteView(b, n));
}

std::vector<Subnet> blocks_covering(const TrafficSelector& ts) {
  std::vector<Subnet> out;
  if (auto s = ts.as_subnet()) {
    out.push_back(*s);
    return out;
  }
  const IpFamily f = ts.family();
  const unsigned bits = f == IpFamily::V4 ? 32 : 128;
  U128 lo = to_u128(ts.start);
  const U128 hi = to_u128(ts.end);
  // Greedy: the largest aligned block that starts at lo and does not pass hi, repeatedly.
  while (lo <= hi && out.size() < 256) {
    unsigned size_bits = 0;
    while (size_bits < bits) {
      const U128 block = U128{1} << (size_bits + 1);
      if ((lo & (block - 1)) != 0 || lo + block - 1 > hi) break;
      ++size_bits;
    }
    out.push_back(Subnet{from_u128(lo, f), static_cast<std::uint8_t>(bits - size_bits)});
    const U128 next = lo + (U128{1} << size_bits);
    if (next == 0 || (bits == 32 && next > 0xFFFFFFFFull)) break;  // wrapped past the top
    lo = next;
  }
  return out;
}

}  // namespace

std::vector<Subnet> subnets_covering(const TrafficSelector& ts) {
  std::vector<Subnet> out = blocks_covering(ts);
  if (out.size() == 1 && out[0].prefix_len == 0) {  // a whole family: its two halves (see the header)
    const IpFamily f = out[0].address.family();
    const unsigned bits = f == IpFamily::V4 ? 32 : 128;
    out = {Subnet{from_u128(0, f), 1}, Subnet{from_u128(U128{1} << (bits - 1), f), 1}};
  }
  return out;
}

std::optional<IpAddress> local_address_in(const TrafficSelector& ts) {
  // A selector for everything (a full tunnel's 0.0.0.0/0) contains every address of the host,
  // loopback first: no address is better than the kernel's own choice.
  if (auto s = ts.as_subnet(); s && s->prefix_len == 0) return std::nullopt;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return std::nullopt;
  std::unique_ptr<ifaddrs, decltype(&::freeifaddrs)> guard(list, &::freeifaddrs);
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    const socklen_t len = i->ifa_addr->sa_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    auto e = Endpoint::from_sockaddr(i->ifa_addr, len);
    if (e && ts.contains(e->address)) return e->address;
  }
  return std::nullopt;
}

std::optional<IpAddress> LocalAddressCache::address_in(const TrafficSelector& ts, Clock::time_point now) {
  if (auto it = entries_.find(ts); it != entries_.end() && now - it->second.looked_up < ttl_)
    return it->second.address;
  if (entries_.size() >= kMaxEntries) entries_.clear();
  auto address = lookup_(ts);
  entries_.insert_or_assign(ts, Entry{address, now});
  return address;
}

Expected<RouteTable> RouteTable::open(int ifindex, std::uint32_t table) {
  auto socket = sys::RtnlSocket::open();
  if (!socket) return unexpected(socket.error());
  return RouteTable(std::move(*socket), ifindex, table);
}

RouteTable::~RouteTable() {
  if (socket_.valid()) remove_all();
}

sys::DeviceRoute RouteTable::route_to(const Subnet& dst,
                                      const std::optional<IpAddress>& preferred_source) const {
  return sys::DeviceRoute{dst, ifindex_, table_, preferred_source, std::nullopt};
}

Subnet RouteTable::routed_for(const Subnet& requested) const {
  for (const auto& a : aggregates_)
    if (a.address.family() == requested.address.family() && a.prefix_len <= requested.prefix_len &&
        a.contains(requested.address))
      return a;
  return requested;
}

Expected<Subnet> RouteTable::add(const Subnet& requested, const std::optional<IpAddress>& preferred_source) {
  const Subnet dst = routed_for(requested);
  auto it = routes_.find(dst);
  if (it != routes_.end()) {
    ++it->second.count;
    return dst;
  }
  if (auto s = sys::add_route(socket_, route_to(dst, preferred_source)); !s) return unexpected(s.error());
  routes_.emplace(dst, Owned{1, preferred_source});
  return dst;
}

Status RouteTable::remove(const Subnet& requested) {
  // The route add() chose for it: its own if one was added before the aggregates were set, else
  // the aggregate's (the callers keep no record of which; the aggregates change only at start).
  auto it = routes_.find(requested);
  if (it == routes_.end()) it = routes_.find(routed_for(requested));
  if (it == routes_.end()) return unexpected("route " + requested.to_string() + " was not added by natgate");
  const Subnet dst = it->first;
  if (--it->second.count > 0) return {};
  routes_.erase(it);
  return sys::delete_route(socket_, route_to(dst, std::nullopt));
}

void RouteTable::remove_all() {
  for (const auto& [dst, owned] : routes_) (void)sys::delete_route(socket_, route_to(dst, std::nullopt));
  routes_.clear();
  for (const auto& [peer, pin] : pins_)
    if (pin.added) (void)sys::delete_route(socket_, *pin.added);
  pins_.clear();
}

Status RouteTable::pin_outside(const IpAddress& peer) {
  if (auto it = pins_.find(peer); it != pins_.end()) {
    ++it->second.count;
    return {};
  }
  auto path = sys::route_towards(socket_, peer);
  if (!path) return unexpected(path.error());
  if (path->ifindex == ifindex_)
    return unexpected("the route to " + peer.to_string() + " leads into the TUN already");
  path->table = table_;
  auto added = sys::add_route_unless_present(socket_, *path);
  if (!added) return unexpected(added.error());
  Pin pin{1, std::nullopt};
  if (*added) pin.added = *path;
  pins_.emplace(peer, pin);
  return {};
}

void RouteTable::unpin_outside(const IpAddress& peer) {
  auto it = pins_.find(peer);
  if (it == pins_.end() || --it->second.count > 0) return;
  if (it->second.added) (void)sys::delete_route(socket_, *it->second.added);
  pins_.erase(it);
}

}  // namespace natgate::esp
