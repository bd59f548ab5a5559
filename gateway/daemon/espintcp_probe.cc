#include "gateway/daemon/espintcp_probe.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "sys/unique_fd.h"

namespace natgate::gateway {

std::string probe_espintcp() {
  sys::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return std::string("espintcp unknown (no TCP socket: ") + std::strerror(errno) + ")";
  static constexpr char kUlp[] = "espintcp";
  // The kernel looks the upper-layer protocol up by name (loading tcp-ulp-espintcp if it may);
  // ENOENT means no such ULP: the kernel was built without CONFIG_INET_ESPINTCP.
  if (::setsockopt(fd.get(), IPPROTO_TCP, TCP_ULP, kUlp, sizeof kUlp - 1) == 0)
    return "this kernel has espintcp";
  if (errno == ENOENT) return "this kernel has no espintcp (CONFIG_INET_ESPINTCP is not set)";
  return std::string("espintcp unknown (setsockopt TCP_ULP: ") + std::strerror(errno) + ")";
}

}  // namespace natgate::gateway
