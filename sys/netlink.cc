#include "sys/netlink.h"

#include <linux/netlink.h>
#include <netlink/errno.h>
#include <netlink/handlers.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include <cstring>
#include <utility>

namespace natgate::sys {

void free_nl_sock(nl_sock* sk) { nl_socket_free(sk); }
void put_nl_addr(nl_addr* a) { nl_addr_put(a); }
void put_rtnl_addr(rtnl_addr* a) { rtnl_addr_put(a); }
void put_rtnl_route(rtnl_route* r) { rtnl_route_put(r); }

NlAddrPtr to_nl_addr(const IpAddress& address, unsigned prefix_len) {
  NlAddrPtr a(nl_addr_build(address.is_v4() ? AF_INET : AF_INET6, address.bytes().data(), address.size()));
  if (a) nl_addr_set_prefixlen(a.get(), static_cast<int>(prefix_len));
  return a;
}

struct RtnlSocket::State {
  NlSockPtr sock;
  int kernel_errno = 0;
};

// Keeps the kernel's errno of a NLMSG_ERROR before libnl maps it to an NLE_* code.
int RtnlSocket::remember_errno(sockaddr_nl*, nlmsgerr* error, void* state) {
  static_cast<State*>(state)->kernel_errno = -error->error;
  return NL_STOP;
}

RtnlSocket::RtnlSocket(std::unique_ptr<State> state) : state_(std::move(state)) {}
RtnlSocket::RtnlSocket(RtnlSocket&&) noexcept = default;
RtnlSocket& RtnlSocket::operator=(RtnlSocket&&) noexcept = default;
RtnlSocket::~RtnlSocket() = default;

Expected<RtnlSocket> RtnlSocket::open() {
  auto state = std::make_unique<State>();
  state->sock.reset(nl_socket_alloc());
  if (!state->sock) return unexpected(std::string("rtnetlink socket: ") + std::strerror(ENOMEM));
  if (int rc = nl_connect(state->sock.get(), NETLINK_ROUTE); rc < 0)
    return unexpected(std::string("rtnetlink socket: ") + nl_geterror(rc));
  nl_socket_modify_err_cb(state->sock.get(), NL_CB_CUSTOM, remember_errno, state.get());
  return RtnlSocket(std::move(state));
}

nl_sock* RtnlSocket::get() const { return state_->sock.get(); }

Expected<void, RtnlError> RtnlSocket::outcome(int libnl_rc) const {
  const int err = std::exchange(state_->kernel_errno, 0);
  if (libnl_rc >= 0) return {};
  return unexpected(RtnlError{err, err != 0 ? std::strerror(err) : nl_geterror(libnl_rc)});
}

}  // namespace natgate::sys
