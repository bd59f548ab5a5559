// Socket options the kernel data plane needs on the daemon's own UDP sockets.
#pragma once

#include "common/expected.h"
#include "common/ip_address.h"

namespace natgate::xfrm {

// RFC 3948 §2.2 on the socket bound to UDP 4500: the kernel then takes ESP-in-UDP packets off
// this socket for decryption, drops NAT-keepalives (a single 0xff byte) and passes datagrams
// that start with the four-byte non-ESP marker (IKE) up to the socket, marker included.
// Inbound ESP-in-UDP is only decapsulated when such a socket exists; `encap espinudp` on an
// SA covers the sending side only.
Status enable_udp_encap(int fd);

// Exempts the socket's own packets from IPsec policies, in and out, so IKE messages to a peer
// whose traffic a policy protects are not themselves sent into the tunnel or dropped for
// arriving in the clear (strongSwan's bypass_socket). `family` is the socket's family.
Status bypass_ipsec_policies(int fd, IpFamily family);

}  // namespace natgate::xfrm
