#include "gateway/io/host_resolver.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>

namespace natgate::gateway {

Expected<std::vector<IpAddress>> resolve_host(const std::string& host) {
  if (auto addr = IpAddress::parse(host)) return std::vector<IpAddress>{*addr};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;  // one entry per address, not one per socket type
  hints.ai_flags = AI_ADDRCONFIG;  // no AAAA answers a host without IPv6 could not use
  addrinfo* raw = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &raw);
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(raw, &::freeaddrinfo);
  if (rc != 0) return unexpected(std::string(::gai_strerror(rc)));
  std::vector<IpAddress> out;
  for (const addrinfo* a = list.get(); a != nullptr; a = a->ai_next) {
    std::optional<IpAddress> ip;
    if (a->ai_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(a->ai_addr);
      ip = IpAddress::from_bytes(IpFamily::V4,
                                 ByteView(reinterpret_cast<const std::uint8_t*>(&sin->sin_addr), 4));
    } else if (a->ai_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(a->ai_addr);
      ip = IpAddress::from_bytes(IpFamily::V6,
                                 ByteView(reinterpret_cast<const std::uint8_t*>(&sin6->sin6_addr), 16));
    }
    if (ip && std::find(out.begin(), out.end(), *ip) == out.end()) out.push_back(*ip);
  }
  if (out.empty()) return unexpected(std::string("no IPv4 or IPv6 address"));
  return out;
}

}  // namespace natgate::gateway
