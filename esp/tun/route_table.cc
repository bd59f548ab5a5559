#include "esp/tun/route_table.h"

#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
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

void add_attr(std::uint8_t* buf, std::size_t& len, std::uint16_t type, const void* data, std::size_t size) {
  auto* rta = reinterpret_cast<rtattr*>(buf + NLMSG_ALIGN(len));
  rta->rta_type = type;
  rta->rta_len = static_cast<unsigned short>(RTA_LENGTH(size));
  std::memcpy(RTA_DATA(rta), data, size);
  len = NLMSG_ALIGN(len) + RTA_ALIGN(rta->rta_len);
}

}  // namespace

std::vector<Subnet> subnets_covering(const TrafficSelector& ts) {
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

std::optional<IpAddress> local_address_in(const TrafficSelector& ts) {
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

Expected<RouteTable> RouteTable::open(int ifindex, std::uint32_t table) {
  sys::UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd.valid()) return unexpected(std::string("rtnetlink socket: ") + std::strerror(errno));
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0)
    return unexpected(std::string("bind rtnetlink: ") + std::strerror(errno));
  return RouteTable(std::move(fd), ifindex, table);
}

RouteTable::~RouteTable() {
  if (fd_.valid()) remove_all();
}

Status RouteTable::request(bool add, const Subnet& dst, const std::optional<IpAddress>& src) {
  alignas(nlmsghdr) std::uint8_t buf[256] = {};
  auto* nh = reinterpret_cast<nlmsghdr*>(buf);
  nh->nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
  nh->nlmsg_flags =
      static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_ACK | (add ? (NLM_F_CREATE | NLM_F_EXCL) : 0u));
  nh->nlmsg_seq = seq_++;
  auto* rt = reinterpret_cast<rtmsg*>(NLMSG_DATA(nh));
  const bool v4 = dst.address.is_v4();
  rt->rtm_family = v4 ? AF_INET : AF_INET6;
  rt->rtm_dst_len = dst.prefix_len;
  rt->rtm_table = static_cast<unsigned char>(table_ < 256 ? table_ : std::uint32_t{RT_TABLE_UNSPEC});
  rt->rtm_protocol = RTPROT_STATIC;
  rt->rtm_scope = RT_SCOPE_LINK;
  rt->rtm_type = RTN_UNICAST;
  std::size_t len = NLMSG_LENGTH(sizeof(rtmsg));
  add_attr(buf, len, RTA_DST, dst.address.bytes().data(), dst.address.size());
  const std::uint32_t oif = static_cast<std::uint32_t>(ifindex_);
  add_attr(buf, len, RTA_OIF, &oif, sizeof oif);
  if (table_ >= 256) add_attr(buf, len, RTA_TABLE, &table_, sizeof table_);
  if (add && src && src->family() == dst.address.family())
    add_attr(buf, len, RTA_PREFSRC, src->bytes().data(), src->size());
  nh->nlmsg_len = static_cast<std::uint32_t>(len);

  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd_.get(), buf, len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
    return unexpected(std::string("rtnetlink send: ") + std::strerror(errno));
  alignas(nlmsghdr) std::uint8_t reply[1024];
  for (int attempts = 0; attempts < 8; ++attempts) {
    const ssize_t n = ::recv(fd_.get(), reply, sizeof reply, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return unexpected(std::string("rtnetlink receive: ") + std::strerror(errno));
    }
    int remaining = static_cast<int>(n);
    for (auto* r = reinterpret_cast<nlmsghdr*>(reply); NLMSG_OK(r, static_cast<unsigned>(remaining));
         r = NLMSG_NEXT(r, remaining)) {
      if (r->nlmsg_seq != nh->nlmsg_seq || r->nlmsg_type != NLMSG_ERROR) continue;
      if (r->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr)))
        return unexpected(std::string("short rtnetlink reply"));
      const auto* err = reinterpret_cast<const nlmsgerr*>(NLMSG_DATA(r));
      if (err->error == 0) return {};
      return unexpected(std::string(add ? "add" : "delete") + " route " + dst.to_string() + ": " +
                        std::strerror(-err->error));
    }
  }
  return unexpected(std::string("no rtnetlink acknowledgement"));
}

Status RouteTable::add(const Subnet& dst, const std::optional<IpAddress>& preferred_source) {
  auto it = routes_.find(dst);
  if (it != routes_.end()) {
    ++it->second.count;
    return {};
  }
  if (auto s = request(true, dst, preferred_source); !s) return s;
  routes_.emplace(dst, Owned{1, preferred_source});
  return {};
}

Status RouteTable::remove(const Subnet& dst) {
  auto it = routes_.find(dst);
  if (it == routes_.end()) return unexpected("route " + dst.to_string() + " was not added by natgate");
  if (--it->second.count > 0) return {};
  routes_.erase(it);
  return request(false, dst, std::nullopt);
}

void RouteTable::remove_all() {
  for (const auto& [dst, owned] : routes_) (void)request(false, dst, std::nullopt);
  routes_.clear();
}

}  // namespace natgate::esp
