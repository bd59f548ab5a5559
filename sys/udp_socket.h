// UDP sockets as natgate opens them, once for the IKE sockets (gateway/io/) and the ESP engine's
// NAT-T socket (esp/net/): bound to one local endpoint, reporting each datagram's local address,
// and sending from a chosen source address when bound to the wildcard (sys/udp_cmsg.h).
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

#include "common/bytes.h"
#include "common/expected.h"
#include "common/ip_address.h"
#include "sys/unique_fd.h"

namespace natgate::sys {

struct UdpSocketOptions {
  bool nonblocking = false;
  // SO_RCVBUF/SO_SNDBUF, forced (SO_*BUFFORCE) where privileged: root may exceed rmem_max, which
  // cannot be raised inside a child netns. 0 keeps the system default.
  std::size_t buffer_bytes = 0;
};

struct BoundUdpSocket {
  UniqueFd fd;
  Endpoint local;  // as bound: the port the kernel picked when asked for 0
};

// Opens a UDP socket, sets SO_REUSEADDR (and IPV6_V6ONLY, so 0.0.0.0 and :: can both be bound on
// one port), turns on the local-address report and binds. Errors read
// "cannot <step> UDP <local>: <reason>".
Expected<BoundUdpSocket> open_udp_socket(const Endpoint& local, const UdpSocketOptions& options = {});

// Sets the socket buffers as UdpSocketOptions::buffer_bytes describes (also for raw sockets).
void set_socket_buffers(int fd, std::size_t bytes);

// UDP GRO on receive (one recvmmsg slot then takes a train of same-sized datagrams of one flow);
// false when the kernel has no UDP GRO.
bool enable_udp_gro(int fd);
// Whether sends may carry UDP_SEGMENT (kernels without UDP GSO refuse to report the option).
bool udp_gso_supported(int fd);

// One datagram received by receive_datagram().
struct UdpDatagram {
  Endpoint local;    // the address and port it was sent to
  Endpoint remote;   // who sent it
  ByteView payload;  // points into the caller's buffer
};

enum class ReceiveStatus : std::uint8_t {
  Received,   // `out` holds a datagram
  Empty,      // nothing queued (EAGAIN)
  Truncated,  // larger than the buffer: dropped
  Failed,     // an error (e.g. ECONNREFUSED from an ICMP error after an earlier send) or a sender
              // address of unknown family
};
// Receives one datagram without blocking into `buffer`. `bound` is the socket's local endpoint;
// its address is replaced by the reported local address when there is one.
ReceiveStatus receive_datagram(int fd, MutableByteView buffer, const Endpoint& bound, UdpDatagram& out);

// Sends one datagram to `to` with sendmsg(flags), from `source` when it is specified and of `to`'s
// family (otherwise the kernel picks the source). Retries EINTR; returns 0 or the errno.
int send_datagram(int fd, ByteView payload, const Endpoint& to, const IpAddress& source, int flags);

}  // namespace natgate::sys
