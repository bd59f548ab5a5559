// The sockets that carry ESP between the gateways: the UDP NAT-T socket (RFC 3948; shared with
// IKE, so one NAT mapping serves both) and a raw IP protocol 50 socket for SAs without
// encapsulation. Both are opened once, blocking for sends (a full buffer slows the sender rather
// than dropping) and read with MSG_DONTWAIT after poll().
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

#include "common/expected.h"
#include "common/ip_address.h"
#include "sys/unique_fd.h"

namespace natgate::esp {

class OuterSocket {
 public:
  enum class Kind : std::uint8_t { Udp, RawEsp };

  // UDP bound to `local` (address may be unspecified), with packet-info (to learn and choose the
  // local address), UDP GRO on receive, and buffers forced to buffer_bytes (SO_*BUFFORCE: root
  // may exceed rmem_max, which cannot be raised inside a child netns).
  static Expected<std::unique_ptr<OuterSocket>> open_udp(const Endpoint& local, std::size_t buffer_bytes);
  static Expected<std::unique_ptr<OuterSocket>> open_raw_esp(IpFamily family, std::size_t buffer_bytes);

  int fd() const { return fd_.get(); }
  Kind kind() const { return kind_; }
  IpFamily family() const { return family_; }
  const Endpoint& local() const { return local_; }
  // UDP GSO (UDP_SEGMENT) works until a send says otherwise; then sends go one by one.
  bool gso() const { return gso_.load(std::memory_order_relaxed); }
  void disable_gso() { gso_.store(false, std::memory_order_relaxed); }
  bool gro() const { return gro_; }

 private:
  OuterSocket(sys::UniqueFd fd, Kind kind, IpFamily family, Endpoint local, bool gso, bool gro)
      : fd_(std::move(fd)), kind_(kind), family_(family), local_(local), gso_(gso), gro_(gro) {}
  sys::UniqueFd fd_;
  Kind kind_;
  IpFamily family_;
  Endpoint local_;
  std::atomic<bool> gso_;
  bool gro_;
};

}  // namespace natgate::esp
