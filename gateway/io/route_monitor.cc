#include "gateway/io/route_monitor.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <cstring>

#include "gateway/io/timer.h"

namespace natgate::gateway {

namespace asio = boost::asio;

struct RouteMonitor::Impl {
  Impl(asio::io_context& io, int fd, std::chrono::milliseconds d, std::function<void()> f, Counters& c)
      : descriptor(io, fd), timer(io), debounce(d), on_change(std::move(f)), counters(c) {}
  asio::posix::stream_descriptor descriptor;
  Timer timer;
  std::chrono::milliseconds debounce;
  std::function<void()> on_change;
  Counters& counters;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);

  void wait() {
    std::weak_ptr<bool> guard = alive;
    descriptor.async_wait(asio::posix::descriptor_base::wait_read,
                          [this, guard](const boost::system::error_code& ec) {
                            if (ec || guard.expired()) return;
                            drain();
                            wait();
                          });
  }

  void drain() {
    // Bounded: at most 64 reads per wake-up; the rest waits for the next one.
    std::array<char, 16384> buf{};
    bool any = false;
    for (int i = 0; i < 64; ++i) {
      const ssize_t n = ::recv(descriptor.native_handle(), buf.data(), buf.size(), MSG_DONTWAIT);
      if (n < 0 && errno == ENOBUFS) {
        ++counters.overruns;
        any = true;
        continue;
      }
      if (n <= 0) break;
      ++counters.messages;
      any = true;
    }
    if (any && !timer.armed()) {
      timer.arm_after(debounce, [this] {
        ++counters.changes;
        on_change();
      });
    }
  }
};

RouteMonitor::RouteMonitor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RouteMonitor::~RouteMonitor() {
  if (impl_) {
    *impl_->alive = false;
    impl_->timer.cancel();
    boost::system::error_code ignored;
    impl_->descriptor.close(ignored);
  }
}

Expected<std::unique_ptr<RouteMonitor>> RouteMonitor::open(asio::io_context& io,
                                                           std::chrono::milliseconds debounce,
                                                           std::function<void()> on_change) {
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  if (fd < 0) return unexpected("route monitor: netlink socket: " + std::string(std::strerror(errno)));
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    return unexpected("route monitor: netlink bind: " + why);
  }
  std::unique_ptr<RouteMonitor> m(new RouteMonitor(nullptr));
  m->impl_ = std::make_unique<Impl>(io, fd, debounce, std::move(on_change), m->counters_);
  m->impl_->wait();
  return m;
}

}  // namespace natgate::gateway
