// Routes that send a remote selector's traffic into the engine's TUN, added and removed over
// rtnetlink (sys/routes.h) in the current network namespace. The table remembers what it added
// (with a count per prefix, since several policies may share a destination) and removes exactly
// that.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <tuple>
#include <vector>

#include "common/expected.h"
#include "common/ip_address.h"
#include "common/traffic_selector.h"
#include "sys/netlink.h"
#include "sys/routes.h"

namespace natgate::esp {

// The CIDR blocks that exactly cover a selector's address range (a range like 10.0.0.1-10.0.0.9
// needs several). A whole family (0.0.0.0/0, ::/0: a full tunnel) comes back as its two halves
// (0.0.0.0/1 + 128.0.0.0/1, ::/1 + 8000::/1), as OpenVPN's def1 does: more specific than any
// default route, so they win over it without replacing it (the existing default stays in place
// and is untouched when the tunnel goes), and adding them never collides with it.
std::vector<Subnet> subnets_covering(const TrafficSelector& ts);

// An address configured on this host that lies inside ts, for the route's preferred source (so
// the gateway's own traffic to the remote side leaves with an inside address, as strongSwan does).
std::optional<IpAddress> local_address_in(const TrafficSelector& ts);

// local_address_in, remembered per selector for a short while. The lookup dumps every interface
// address over rtnetlink (getifaddrs: a socket, a dump, parsing), which was about 15 % of the
// responder's work per road warrior when done for every CHILD SA (issue 13), while its answer
// changes only when the host's addresses do; a route's preferred source that lags an address
// change by up to `ttl` is harmless (the route still points into the TUN).
class LocalAddressCache {
 public:
  using Clock = std::chrono::steady_clock;
  using Lookup = std::function<std::optional<IpAddress>(const TrafficSelector&)>;
  static constexpr std::size_t kMaxEntries = 256;

  explicit LocalAddressCache(Lookup lookup = local_address_in, Clock::duration ttl = std::chrono::seconds(1))
      : lookup_(std::move(lookup)), ttl_(ttl) {}

  std::optional<IpAddress> address_in(const TrafficSelector& ts, Clock::time_point now = Clock::now());

 private:
  struct Entry {
    std::optional<IpAddress> address;
    Clock::time_point looked_up;
  };
  Lookup lookup_;
  Clock::duration ttl_;
  std::map<TrafficSelector, Entry> entries_;  // at most kMaxEntries (cleared when full)
};

class RouteTable {
 public:
  static constexpr std::uint32_t kMainTable = sys::kMainRouteTable;

  static Expected<RouteTable> open(int ifindex, std::uint32_t table = kMainTable);
  RouteTable(RouteTable&&) = default;
  RouteTable& operator=(RouteTable&&) = default;
  ~RouteTable();  // removes what it added (errors ignored: the TUN may already be gone)

  // Routes dst into the TUN, or the aggregate that contains it (set_aggregates); returns the
  // subnet actually routed. remove() takes the same dst as add() and releases what add() chose.
  Expected<Subnet> add(const Subnet& dst, const std::optional<IpAddress>& preferred_source);
  Status remove(const Subnet& dst);
  // Address pools (RFC 7296 §2.19): a destination inside one of them is routed by one route for
  // the whole pool, added with the first such destination and removed with the last, instead
  // of a kernel route per virtual IP (a netlink round trip under the rtnl lock for each road
  // warrior: ~10 % of a setup, issue 13). Destinations routed before a change keep their route.
  void set_aggregates(std::vector<Subnet> aggregates) { aggregates_ = std::move(aggregates); }
  void remove_all();
  std::size_t size() const { return routes_.size(); }

  // Keeps the tunnel's own outer peer out of the TUN (a full tunnel, or any remote selector that
  // contains the peer's public address): a host route for `peer` along the path the kernel
  // takes to it now (its interface and next hop), added before the TUN routes that would
  // otherwise capture the IKE and ESP packets themselves and loop them into the tunnel. A host
  // route rather than policy routing (an fwmark on every natgated socket plus ip rules, as
  // wg-quick does): it needs nothing from the sockets and shows in `ip route`. Counted per peer;
  // a host route that exists already is left as it is (and not removed). An error when the path
  // to the peer leads into the TUN already (a peer that moved after the routes went in).
  Status pin_outside(const IpAddress& peer);
  void unpin_outside(const IpAddress& peer);
  std::size_t pinned() const { return pins_.size(); }

 private:
  RouteTable(sys::RtnlSocket socket, int ifindex, std::uint32_t table)
      : socket_(std::move(socket)), ifindex_(ifindex), table_(table) {}
  sys::DeviceRoute route_to(const Subnet& dst, const std::optional<IpAddress>& preferred_source) const;

  struct Owned {
    int count = 0;
    std::optional<IpAddress> source;
  };
  sys::RtnlSocket socket_;
  int ifindex_ = 0;
  std::uint32_t table_ = kMainTable;
  std::map<Subnet, Owned> routes_;
  Subnet routed_for(const Subnet& requested) const;

  std::vector<Subnet> aggregates_;  // a few pools: a linear scan

  struct Pin {
    int count = 0;
    std::optional<sys::DeviceRoute> added;  // unset: the host route was there before us
  };
  std::map<IpAddress, Pin> pins_;
};

}  // namespace natgate::esp
