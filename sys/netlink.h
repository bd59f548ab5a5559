// libnl objects behind owning pointers, and a NETLINK_ROUTE socket whose requests report the
// errno the kernel answered (libnl alone folds it into its own error codes and words, and the
// messages natgate logs name the kernel's reason, e.g. "File exists").
#pragma once

#include <memory>
#include <string>

#include "common/expected.h"
#include "common/ip_address.h"

struct nl_sock;
struct nl_addr;
struct rtnl_addr;
struct rtnl_route;
struct sockaddr_nl;
struct nlmsgerr;

namespace natgate::sys {

template <auto FreeFn>
struct NlDeleter {
  template <typename T>
  void operator()(T* p) const {
    FreeFn(p);
  }
};

void free_nl_sock(nl_sock* sk);
void put_nl_addr(nl_addr* a);
void put_rtnl_addr(rtnl_addr* a);
void put_rtnl_route(rtnl_route* r);

using NlSockPtr = std::unique_ptr<nl_sock, NlDeleter<free_nl_sock>>;
using NlAddrPtr = std::unique_ptr<nl_addr, NlDeleter<put_nl_addr>>;
using RtnlAddrPtr = std::unique_ptr<rtnl_addr, NlDeleter<put_rtnl_addr>>;
using RtnlRoutePtr = std::unique_ptr<rtnl_route, NlDeleter<put_rtnl_route>>;

// `address` as a libnl address with a prefix length (nullptr only when out of memory).
NlAddrPtr to_nl_addr(const IpAddress& address, unsigned prefix_len);

// A request the kernel (or libnl) refused.
struct RtnlError {
  int kernel_errno = 0;  // what the kernel answered; 0 when the request never reached it
  std::string reason;    // strerror of that errno, else libnl's words
};

// A NETLINK_ROUTE socket in the network namespace that is current when it is opened.
class RtnlSocket {
 public:
  static Expected<RtnlSocket> open();  // errors read "rtnetlink socket: <reason>"
  RtnlSocket(RtnlSocket&&) noexcept;
  RtnlSocket& operator=(RtnlSocket&&) noexcept;
  ~RtnlSocket();

  nl_sock* get() const;
  bool valid() const { return state_ != nullptr; }  // false once moved from
  // The outcome of one libnl request sent on this socket (rtnl_route_add(get(), ...) etc.),
  // given what that call returned.
  Expected<void, RtnlError> outcome(int libnl_rc) const;

 private:
  struct State;
  explicit RtnlSocket(std::unique_ptr<State> state);
  static int remember_errno(sockaddr_nl* from, nlmsgerr* error, void* state);
  std::unique_ptr<State> state_;  // on the heap: the error callback keeps its address
};

}  // namespace natgate::sys
