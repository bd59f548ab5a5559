// The engine's TUN device: IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, so every packet carries a virtio-net
// header, and with offload TUNSETOFFLOAD(CSUM | TSO4 | TSO6): the kernel hands over TCP
// super-packets (up to 64 KB) and CHECKSUM_PARTIAL packets, and accepts GSO super-packets back.
// That cut the per-packet kernel work that bounds a userspace data plane here
// (docs/performance.md). The device disappears when the descriptor closes.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/expected.h"
#include "sys/unique_fd.h"

namespace natgate::esp {

class TunDevice {
 public:
  // Creates (or attaches to) the device `name` in the current network namespace.
  static Expected<TunDevice> open(const std::string& name, bool offload);

  int fd() const { return fd_.get(); }
  const std::string& name() const { return name_; }
  int ifindex() const { return ifindex_; }
  bool offload() const { return offload_; }

  Status set_mtu(unsigned mtu);
  Status set_up();

 private:
  TunDevice(sys::UniqueFd fd, std::string name, int ifindex, bool offload)
      : fd_(std::move(fd)), name_(std::move(name)), ifindex_(ifindex), offload_(offload) {}
  sys::UniqueFd fd_;
  std::string name_;
  int ifindex_ = 0;
  bool offload_ = false;
};

}  // namespace natgate::esp
