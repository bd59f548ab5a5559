#include "esp/net/outer_socket.h"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

namespace natgate::esp {

namespace {

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

void set_buffers(int fd, std::size_t bytes) {
  const int v = static_cast<int>(bytes);
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof v) != 0)
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof v) != 0)
    (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
}

Status enable_pktinfo(int fd, IpFamily family) {
  const int on = 1;
  const bool ok = family == IpFamily::V4
                      ? ::setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on) == 0
                      : ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on) == 0;
  if (!ok) return unexpected(errno_text("enable packet info"));
  return {};
}

}  // namespace

Expected<std::unique_ptr<OuterSocket>> OuterSocket::open_udp(const Endpoint& local,
                                                             std::size_t buffer_bytes) {
  const IpFamily family = local.address.family();
  sys::UniqueFd fd(::socket(family == IpFamily::V4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP));
  if (!fd.valid()) return unexpected(errno_text("UDP socket"));
  const int on = 1;
  if (family == IpFamily::V6) (void)::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  (void)::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (auto s = enable_pktinfo(fd.get(), family); !s) return unexpected(s.error());
  set_buffers(fd.get(), buffer_bytes);
  sockaddr_storage ss{};
  const socklen_t len = local.to_sockaddr(ss);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&ss), len) != 0)
    return unexpected(errno_text("bind UDP " + local.to_string()));
  // Coalesced receive: one recvmmsg slot takes a train of same-sized datagrams of one flow.
  const bool gro = ::setsockopt(fd.get(), IPPROTO_UDP, UDP_GRO, &on, sizeof on) == 0;
  // Probe UDP_SEGMENT support by reading the option (kernels without it refuse the getsockopt).
  int seg = 0;
  socklen_t seg_len = sizeof seg;
  const bool gso = ::getsockopt(fd.get(), IPPROTO_UDP, UDP_SEGMENT, &seg, &seg_len) == 0;
  Endpoint bound = local;
  sockaddr_storage actual{};
  socklen_t actual_len = sizeof actual;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&actual), &actual_len) == 0) {
    if (auto e = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&actual), actual_len)) bound = *e;
  }
  return std::unique_ptr<OuterSocket>(new OuterSocket(std::move(fd), Kind::Udp, family, bound, gso, gro));
}

Expected<std::unique_ptr<OuterSocket>> OuterSocket::open_raw_esp(IpFamily family, std::size_t buffer_bytes) {
  sys::UniqueFd fd(::socket(family == IpFamily::V4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ESP));
  if (!fd.valid()) return unexpected(errno_text("raw ESP socket"));
  if (auto s = enable_pktinfo(fd.get(), family); !s) return unexpected(s.error());
  set_buffers(fd.get(), buffer_bytes);
  Endpoint local{IpAddress::any(family), 0};
  return std::unique_ptr<OuterSocket>(
      new OuterSocket(std::move(fd), Kind::RawEsp, family, local, false, false));
}

}  // namespace natgate::esp
