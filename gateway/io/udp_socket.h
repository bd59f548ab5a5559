// A UDP socket for IKE (ports 500 and 4500) on the daemon's io_context. Bound to one local
// address; receives each datagram together with the address it was sent to (IP_PKTINFO /
// IPV6_RECVPKTINFO), so that when bound to 0.0.0.0 or :: the reply can leave from exactly
// that address — a peer or NAT that sees a reply from another address drops it, and RFC 7296
// §2.11 has the responder reply from the address the request came to. The socket itself, its
// control messages and the datagram type are sys/udp_socket.h; this class puts it on asio.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/expected.h"
#include "common/ip_address.h"
#include "sys/udp_socket.h"

namespace boost::asio {
class io_context;
}

namespace natgate::gateway {

enum class SocketRole : std::uint8_t {
  Ike,   // ike_port (500): plain IKE
  NatT,  // natt_port (4500): IKE behind a non-ESP marker, and ESP in UDP (RFC 3948 §2.2)
};
std::string to_string(SocketRole r);  // "ike", "natt"

class UdpSocket {
 public:
  struct Counters {
    std::uint64_t received = 0;
    std::uint64_t truncated = 0;  // larger than the receive buffer: dropped
    std::uint64_t receive_errors = 0;
    std::uint64_t sent = 0;
    std::uint64_t send_errors = 0;
  };
  using ReceiveHandler = std::function<void(UdpSocket& socket, const sys::UdpDatagram& datagram)>;

  // Opens, sets SO_REUSEADDR (and IPV6_V6ONLY, so 0.0.0.0 and :: can both be bound on the
  // same port) and binds. Port 0 picks a free port (tests).
  static Expected<std::unique_ptr<UdpSocket>> bind(boost::asio::io_context& io, const Endpoint& local,
                                                   SocketRole role);
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  // Starts delivering datagrams to handler on the io_context thread, until close(). A datagram's
  // payload is valid only during the callback.
  void start(ReceiveHandler handler);
  // Sends one datagram. `from` selects the source address when the socket is bound to the
  // wildcard address (pass the UdpDatagram's local address when replying). Never
  // blocks: a full send buffer is an error the caller's retransmission covers.
  Status send_to(ByteView payload, const Endpoint& to, const std::optional<IpAddress>& from = std::nullopt);
  void close();

  const Endpoint& local_endpoint() const { return local_; }
  SocketRole role() const { return role_; }
  const Counters& counters() const { return counters_; }
  // For socket options other layers own (e.g. UDP_ENCAP on the NAT-T socket for the kernel
  // data plane); the socket stays owned by this object.
  int native_handle() const;

  struct Impl;

 private:
  UdpSocket(std::unique_ptr<Impl> impl, Endpoint local, SocketRole role);
  void wait_readable();
  void drain();
  std::unique_ptr<Impl> impl_;
  Endpoint local_;
  SocketRole role_;
  Counters counters_;
  ReceiveHandler handler_;
};

}  // namespace natgate::gateway
