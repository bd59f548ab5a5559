// Tells the daemon that its addresses or routes changed (MOBIKE, RFC 4555 §3.5: a road warrior
// moves its SAs when its path to the gateway changes). A NETLINK_ROUTE socket subscribed to the
// address and route groups of IPv4 and IPv6 (RTM_NEWADDR, RTM_DELADDR, RTM_NEWROUTE,
// RTM_DELROUTE) on the daemon's io_context; the messages themselves are not parsed: any of them
// means "ask the routing table again", which the IKE core does per SA
// (ike::Endpoint::local_addresses_changed). Bursts (an interface going down drops its addresses
// and routes one message each) are debounced: the handler runs once, `debounce` after the first
// message of a burst, and again only for messages after that.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "common/expected.h"

namespace boost::asio {
class io_context;
}

namespace natgate::gateway {

class RouteMonitor {
 public:
  struct Counters {
    std::uint64_t messages = 0;  // netlink datagrams read
    std::uint64_t changes = 0;   // handler runs
    std::uint64_t overruns = 0;  // ENOBUFS: messages lost, treated as a change
  };
  static Expected<std::unique_ptr<RouteMonitor>> open(boost::asio::io_context& io,
                                                      std::chrono::milliseconds debounce,
                                                      std::function<void()> on_change);
  ~RouteMonitor();
  RouteMonitor(const RouteMonitor&) = delete;
  RouteMonitor& operator=(const RouteMonitor&) = delete;

  const Counters& counters() const { return counters_; }

  struct Impl;

 private:
  explicit RouteMonitor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  Counters counters_;
};

}  // namespace natgate::gateway
