#include "sys/routes.h"

#include <linux/rtnetlink.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <sys/socket.h>

#include <cerrno>
#include <string>

namespace natgate::sys {

namespace {

enum class Change : std::uint8_t { Add, Delete };

Status change_route(const RtnlSocket& socket, const DeviceRoute& r, Change change, bool* existed = nullptr) {
  const bool add = change == Change::Add;
  const std::string what = std::string(add ? "add" : "delete") + " route " + r.destination.to_string();
  RtnlRoutePtr route(rtnl_route_alloc());
  NlAddrPtr dst = to_nl_addr(r.destination.address, r.destination.prefix_len);
  rtnl_nexthop* nexthop = rtnl_route_nh_alloc();
  if (!route || !dst || !nexthop) {
    if (nexthop) rtnl_route_nh_free(nexthop);
    return unexpected(what + ": out of memory");
  }
  rtnl_route_set_family(route.get(),
                        static_cast<std::uint8_t>(r.destination.address.is_v4() ? AF_INET : AF_INET6));
  rtnl_route_set_dst(route.get(), dst.get());  // takes its own reference
  rtnl_route_set_table(route.get(), r.table);
  rtnl_route_set_protocol(route.get(), RTPROT_STATIC);
  rtnl_route_set_scope(route.get(), r.gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
  rtnl_route_set_type(route.get(), RTN_UNICAST);
  rtnl_route_nh_set_ifindex(nexthop, r.ifindex);
  if (r.gateway) {
    NlAddrPtr via = to_nl_addr(*r.gateway, r.gateway->is_v4() ? 32 : 128);
    if (!via) {
      rtnl_route_nh_free(nexthop);
      return unexpected(what + ": out of memory");
    }
    rtnl_route_nh_set_gateway(nexthop, via.get());  // takes its own reference
  }
  rtnl_route_add_nexthop(route.get(), nexthop);  // the route owns it from here
  if (add && r.preferred_source && r.preferred_source->family() == r.destination.address.family()) {
    NlAddrPtr src = to_nl_addr(*r.preferred_source, r.preferred_source->is_v4() ? 32 : 128);
    if (!src) return unexpected(what + ": out of memory");
    rtnl_route_set_pref_src(route.get(), src.get());
  }
  // NLM_F_EXCL: a route someone else put there is theirs, not ours to take over.
  const int rc = add ? rtnl_route_add(socket.get(), route.get(), NLM_F_EXCL)
                     : rtnl_route_delete(socket.get(), route.get(), 0);
  if (auto o = socket.outcome(rc); !o) {
    if (existed && add && o.error().kernel_errno == EEXIST) {
      *existed = true;
      return {};
    }
    return unexpected(what + ": " + o.error().reason);
  }
  return {};
}

std::optional<IpAddress> from_nl_addr(nl_addr* a) {
  if (!a) return std::nullopt;
  const auto len = nl_addr_get_len(a);
  const auto family = nl_addr_get_family(a);
  if (family == AF_INET && len == 4)
    return IpAddress::from_bytes(IpFamily::V4,
                                 ByteView(static_cast<const std::uint8_t*>(nl_addr_get_binary_addr(a)), 4));
  if (family == AF_INET6 && len == 16)
    return IpAddress::from_bytes(IpFamily::V6,
                                 ByteView(static_cast<const std::uint8_t*>(nl_addr_get_binary_addr(a)), 16));
  return std::nullopt;
}

}  // namespace

Status add_route(const RtnlSocket& socket, const DeviceRoute& route) {
  return change_route(socket, route, Change::Add);
}

Expected<bool> add_route_unless_present(const RtnlSocket& socket, const DeviceRoute& route) {
  bool existed = false;
  if (Status s = change_route(socket, route, Change::Add, &existed); !s) return unexpected(s.error());
  return !existed;
}

Expected<DeviceRoute> route_towards(const RtnlSocket& socket, const IpAddress& destination) {
  const std::string what = "route towards " + destination.to_string();
  NlAddrPtr dst = to_nl_addr(destination, destination.is_v4() ? 32 : 128);
  if (!dst) return unexpected(what + ": out of memory");
  rtnl_route* found = nullptr;
  const int rc = rtnl_route_lookup(socket.get(), dst.get(), &found);
  RtnlRoutePtr route(found);
  if (auto o = socket.outcome(rc); !o) return unexpected(what + ": " + o.error().reason);
  if (!route) return unexpected(what + ": no answer");
  if (rtnl_route_get_type(route.get()) != RTN_UNICAST)
    return unexpected(what + ": not a unicast route (type " +
                      std::to_string(rtnl_route_get_type(route.get())) + ")");
  rtnl_nexthop* hop = rtnl_route_nexthop_n(route.get(), 0);
  if (!hop) return unexpected(what + ": no next hop");
  DeviceRoute r;
  r.destination = Subnet{destination, static_cast<std::uint8_t>(destination.is_v4() ? 32 : 128)};
  r.ifindex = rtnl_route_nh_get_ifindex(hop);
  r.gateway = from_nl_addr(rtnl_route_nh_get_gateway(hop));
  return r;
}

Status delete_route(const RtnlSocket& socket, const DeviceRoute& route) {
  return change_route(socket, route, Change::Delete);
}

}  // namespace natgate::sys
