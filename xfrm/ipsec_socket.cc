#include "xfrm/ipsec_socket.h"

#include <linux/udp.h>
#include <linux/xfrm.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "xfrm/xfrm_socket.h"

namespace natgate::xfrm {

Status enable_udp_encap(int fd) {
  int type = UDP_ENCAP_ESPINUDP;
  if (setsockopt(fd, IPPROTO_UDP, UDP_ENCAP, &type, sizeof(type)) != 0) {
    return unexpected("setsockopt(UDP_ENCAP, UDP_ENCAP_ESPINUDP): " + errno_text(errno));
  }
  return {};
}

Status bypass_ipsec_policies(int fd, IpFamily family) {
  const int level = family == IpFamily::V4 ? IPPROTO_IP : IPPROTO_IPV6;
  const int option = family == IpFamily::V4 ? IP_XFRM_POLICY : IPV6_XFRM_POLICY;
  // A per-socket policy with no template and action ALLOW: it takes precedence over the
  // SPD for this socket's packets and asks for no transform.
  xfrm_userpolicy_info policy;
  std::memset(&policy, 0, sizeof(policy));
  policy.action = XFRM_POLICY_ALLOW;
  policy.sel.family = family == IpFamily::V4 ? AF_INET : AF_INET6;
  policy.lft.soft_byte_limit = XFRM_INF;
  policy.lft.hard_byte_limit = XFRM_INF;
  policy.lft.soft_packet_limit = XFRM_INF;
  policy.lft.hard_packet_limit = XFRM_INF;
  for (std::uint8_t dir : {std::uint8_t{XFRM_POLICY_OUT}, std::uint8_t{XFRM_POLICY_IN}}) {
    policy.dir = dir;
    if (setsockopt(fd, level, option, &policy, sizeof(policy)) != 0) {
      return unexpected(
          std::string(family == IpFamily::V4 ? "setsockopt(IP_XFRM_POLICY" : "setsockopt(IPV6_XFRM_POLICY") +
          (dir == XFRM_POLICY_OUT ? ", out)" : ", in)") + ": " + errno_text(errno));
    }
  }
  return {};
}

}  // namespace natgate::xfrm
