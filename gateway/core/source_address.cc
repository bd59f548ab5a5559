#include "gateway/core/source_address.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sys/unique_fd.h"

namespace natgate::gateway::core {

namespace {}  // namespace

Expected<IpAddress> source_address_for(const IpAddress& remote, const std::vector<IpAddress>& listen) {
  for (const auto& a : listen)
    if (a.family() == remote.family() && !a.is_unspecified()) return a;

  sys::UniqueFd fd(::socket(remote.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return unexpected(std::string("socket: ") + std::strerror(errno));
  sockaddr_storage to{};
  socklen_t to_len = Endpoint{remote, 500}.to_sockaddr(to);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&to), to_len) != 0)
    return unexpected("no route to " + remote.to_string() + ": " + std::strerror(errno));
  sockaddr_storage local{};
  socklen_t local_len = sizeof local;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local), &local_len) != 0)
    return unexpected(std::string("getsockname: ") + std::strerror(errno));
  auto e = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&local), local_len);
  if (!e) return unexpected(std::string("getsockname: unexpected address family"));
  return e->address;
}

}  // namespace natgate::gateway::core
