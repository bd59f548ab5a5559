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
};

// Adds the route; one that exists already is an error. Errors read "add route <dst>: <reason>".
Status add_route(const RtnlSocket& socket, const DeviceRoute& route);
// Deletes it (the preferred source is not matched). Errors read "delete route <dst>: <reason>".
Status delete_route(const RtnlSocket& socket, const DeviceRoute& route);

}  // namespace natgate::sys
