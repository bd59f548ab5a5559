// Device routes over rtnetlink (libnl-route), in the current network namespace: how the
// userspace data plane sends a remote selector's traffic into its TUN (esp/tun/route_table.h
// keeps the count of who asked for which route).
#pragma once

#include <cstdint>
#include <optional>

#include "common/expected.h"
#include "common/ip_address.h"
#include "sys/netlink.h"

namespace natgate::sys {

inline constexpr std::uint32_t kMainRouteTable = 254;  // RT_TABLE_MAIN

// A unicast route out of one interface (scope link, protocol static), as `ip route add DST dev IF
// [table T] [src S]` makes it.
struct DeviceRoute {
  Subnet destination;
  int ifindex = 0;
  std::uint32_t table = kMainRouteTable;
  std::optional<IpAddress> preferred_source;  // used when of the destination's family
  // A next hop on that interface (`via GW`, scope universe); unset: the destination is on-link.
  std::optional<IpAddress> gateway;
};

// Adds the route; one that exists already is an error. Errors read "add route <dst>: <reason>".
Status add_route(const RtnlSocket& socket, const DeviceRoute& route);
// add_route, except that a route that exists already is no error: false then (it is someone
// else's, and stays theirs).
Expected<bool> add_route_unless_present(const RtnlSocket& socket, const DeviceRoute& route);
// Where the kernel sends a packet for `destination` now (RTM_GETROUTE, `ip route get`): a host
// route for it (/32 or /128) out of that interface, through its next hop when it has one. Errors
// for an address that is not routed, or routed other than by a unicast route (local, blackhole).
Expected<DeviceRoute> route_towards(const RtnlSocket& socket, const IpAddress& destination);
// Deletes it (the preferred source is not matched). Errors read "delete route <dst>: <reason>".
Status delete_route(const RtnlSocket& socket, const DeviceRoute& route);

}  // namespace natgate::sys
