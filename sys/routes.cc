#include "sys/routes.h"

#include <linux/rtnetlink.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <sys/socket.h>

#include <string>

namespace natgate::sys {

namespace {

enum class Change : std::uint8_t { Add, Delete };

Status change_route(const RtnlSocket& socket, const DeviceRoute& r, Change change) {
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
  rtnl_route_set_scope(route.get(), RT_SCOPE_LINK);
  rtnl_route_set_type(route.get(), RTN_UNICAST);
  rtnl_route_nh_set_ifindex(nexthop, r.ifindex);
  rtnl_route_add_nexthop(route.get(), nexthop);  // the route owns it from here
  if (add && r.preferred_source && r.preferred_source->family() == r.destination.address.family()) {
    NlAddrPtr src = to_nl_addr(*r.preferred_source, r.preferred_source->is_v4() ? 32 : 128);
    if (!src) return unexpected(what + ": out of memory");
    rtnl_route_set_pref_src(route.get(), src.get());
  }
  // NLM_F_EXCL: a route someone else put there is theirs, not ours to take over.
  const int rc = add ? rtnl_route_add(socket.get(), route.get(), NLM_F_EXCL)
                     : rtnl_route_delete(socket.get(), route.get(), 0);
  if (auto o = socket.outcome(rc); !o) return unexpected(what + ": " + o.error().reason);
  return {};
}

}  // namespace

Status add_route(const RtnlSocket& socket, const DeviceRoute& route) {
  return change_route(socket, route, Change::Add);
}

Status delete_route(const RtnlSocket& socket, const DeviceRoute& route) {
  return change_route(socket, route, Change::Delete);
}

}  // namespace natgate::sys
