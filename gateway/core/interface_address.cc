#include "gateway/core/interface_address.h"

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace natgate::gateway::core {

namespace {

void add_attr(std::uint8_t* buf, std::size_t& len, std::uint16_t type, const void* data, std::size_t size) {
  auto* rta = reinterpret_cast<rtattr*>(buf + NLMSG_ALIGN(len));
  rta->rta_type = type;
  rta->rta_len = static_cast<unsigned short>(RTA_LENGTH(size));
  std::memcpy(RTA_DATA(rta), data, size);
  len = NLMSG_ALIGN(len) + RTA_ALIGN(rta->rta_len);
}

struct Socket {
  int fd = -1;
  ~Socket() {
    if (fd >= 0) ::close(fd);
  }
};

Status request(bool add, const std::string& interface, const IpAddress& address) {
  const unsigned ifindex = ::if_nametoindex(interface.c_str());
  if (ifindex == 0) return unexpected("no interface " + interface + ": " + std::strerror(errno));
  Socket s{::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)};
  if (s.fd < 0) return unexpected(std::string("rtnetlink socket: ") + std::strerror(errno));
  alignas(nlmsghdr) std::uint8_t buf[256] = {};
  auto* nh = reinterpret_cast<nlmsghdr*>(buf);
  nh->nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
  nh->nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_ACK | (add ? (NLM_F_CREATE | NLM_F_REPLACE) : 0u));
  nh->nlmsg_seq = 1;
  auto* ifa = reinterpret_cast<ifaddrmsg*>(NLMSG_DATA(nh));
  ifa->ifa_family = address.is_v4() ? AF_INET : AF_INET6;
  ifa->ifa_prefixlen = address.is_v4() ? 32 : 128;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = ifindex;
  std::size_t len = NLMSG_LENGTH(sizeof(ifaddrmsg));
  add_attr(buf, len, IFA_LOCAL, address.bytes().data(), address.size());
  add_attr(buf, len, IFA_ADDRESS, address.bytes().data(), address.size());
  if (!address.is_v4()) {
    // No duplicate address detection: the gateway vouches for the address.
    const std::uint32_t flags = IFA_F_NODAD;
    add_attr(buf, len, IFA_FLAGS, &flags, sizeof flags);
  }
  nh->nlmsg_len = static_cast<std::uint32_t>(len);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(s.fd, buf, len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
    return unexpected(std::string("rtnetlink send: ") + std::strerror(errno));
  alignas(nlmsghdr) std::uint8_t reply[1024];
  for (int attempts = 0; attempts < 8; ++attempts) {
    const ssize_t n = ::recv(s.fd, reply, sizeof reply, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return unexpected(std::string("rtnetlink receive: ") + std::strerror(errno));
    }
    int remaining = static_cast<int>(n);
    for (auto* r = reinterpret_cast<nlmsghdr*>(reply); NLMSG_OK(r, static_cast<unsigned>(remaining));
         r = NLMSG_NEXT(r, remaining)) {
      if (r->nlmsg_type != NLMSG_ERROR) continue;
      if (r->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) return unexpected(std::string("short rtnetlink reply"));
      const auto* err = reinterpret_cast<const nlmsgerr*>(NLMSG_DATA(r));
      if (err->error == 0 || (add && err->error == -EEXIST) || (!add && err->error == -EADDRNOTAVAIL)) return {};
      return unexpected(std::string(add ? "adding " : "removing ") + address.to_string() + (add ? " to " : " from ") +
                        interface + ": " + std::strerror(-err->error));
    }
  }
  return unexpected(std::string("no rtnetlink acknowledgement"));
}

}  // namespace

Status add_interface_address(const std::string& interface, const IpAddress& address) {
  return request(true, interface, address);
}

Status remove_interface_address(const std::string& interface, const IpAddress& address) {
  return request(false, interface, address);
}

}  // namespace natgate::gateway::core
