#include "esp/net/outer_socket.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "sys/udp_cmsg.h"
#include "sys/udp_socket.h"

namespace natgate::esp {

Expected<std::unique_ptr<OuterSocket>> OuterSocket::open_udp(const Endpoint& local,
                                                             std::size_t buffer_bytes) {
  auto opened = sys::open_udp_socket(local, {.buffer_bytes = buffer_bytes});
  if (!opened) return unexpected(opened.error());
  const bool gro = sys::enable_udp_gro(opened->fd.get());
  const bool gso = sys::udp_gso_supported(opened->fd.get());
  return std::unique_ptr<OuterSocket>(
      new OuterSocket(std::move(opened->fd), Kind::Udp, local.address.family(), opened->local, gso, gro));
}

Expected<std::unique_ptr<OuterSocket>> OuterSocket::open_raw_esp(IpFamily family, std::size_t buffer_bytes) {
  sys::UniqueFd fd(
      ::socket(family == IpFamily::V4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ESP));
  if (!fd.valid()) return unexpected(std::string("raw ESP socket: ") + std::strerror(errno));
  if (!sys::enable_local_address(fd.get(), family))
    return unexpected(std::string("enable packet info: ") + std::strerror(errno));
  sys::set_socket_buffers(fd.get(), buffer_bytes);
  Endpoint local{IpAddress::any(family), 0};
  return std::unique_ptr<OuterSocket>(
      new OuterSocket(std::move(fd), Kind::RawEsp, family, local, false, false));
}

}  // namespace natgate::esp
