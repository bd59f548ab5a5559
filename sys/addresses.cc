#include "sys/addresses.h"

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/route/addr.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "sys/netlink.h"

namespace natgate::sys {

namespace {

enum class Change : std::uint8_t { Add, Remove };

Status change_address(const std::string& interface, const IpAddress& address, Change change) {
  const bool add = change == Change::Add;
  const unsigned ifindex = ::if_nametoindex(interface.c_str());
  if (ifindex == 0) return unexpected("no interface " + interface + ": " + std::strerror(errno));
  auto socket = RtnlSocket::open();
  if (!socket) return unexpected(socket.error());
  const std::string what = std::string(add ? "adding " : "removing ") + address.to_string() +
                           (add ? " to " : " from ") + interface;
  RtnlAddrPtr a(rtnl_addr_alloc());
  NlAddrPtr local = to_nl_addr(address, address.is_v4() ? 32 : 128);
  if (!a || !local) return unexpected(what + ": out of memory");
  rtnl_addr_set_ifindex(a.get(), static_cast<int>(ifindex));
  rtnl_addr_set_family(a.get(), address.is_v4() ? AF_INET : AF_INET6);
  rtnl_addr_set_scope(a.get(), RT_SCOPE_UNIVERSE);
  if (int rc = rtnl_addr_set_local(a.get(), local.get()); rc < 0)  // IFA_LOCAL and IFA_ADDRESS
    return unexpected(what + ": " + nl_geterror(rc));
  // No duplicate address detection: the gateway vouches for the address.
  if (!address.is_v4()) rtnl_addr_set_flags(a.get(), IFA_F_NODAD);
  const int rc = add ? rtnl_addr_add(socket->get(), a.get(), NLM_F_REPLACE)
                     : rtnl_addr_delete(socket->get(), a.get(), 0);
  auto o = socket->outcome(rc);
  if (o) return {};
  const int err = o.error().kernel_errno;
  if ((add && err == EEXIST) || (!add && err == EADDRNOTAVAIL)) return {};
  return unexpected(what + ": " + o.error().reason);
}

}  // namespace

Status add_interface_address(const std::string& interface, const IpAddress& address) {
  return change_address(interface, address, Change::Add);
}

Status remove_interface_address(const std::string& interface, const IpAddress& address) {
  return change_address(interface, address, Change::Remove);
}

}  // namespace natgate::sys
