#include "esp/tun/tun_device.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace natgate::esp {

namespace {

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

Status with_ifreq(const std::string& name, unsigned long request, ifreq& ifr, const char* what) {
  sys::UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) return unexpected(errno_text("socket for interface ioctl"));
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (::ioctl(s.get(), request, &ifr) != 0) return unexpected(errno_text(std::string(what) + " " + name));
  return {};
}

}  // namespace

Expected<TunDevice> TunDevice::open(const std::string& name, bool offload) {
  if (name.empty() || name.size() >= IFNAMSIZ)
    return unexpected("TUN name '" + name + "' must be 1-15 characters");
  sys::UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) return unexpected(errno_text("open /dev/net/tun"));
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
  if (::ioctl(fd.get(), TUNSETIFF, &ifr) != 0) return unexpected(errno_text("TUNSETIFF " + name));
  int hdr_size = 10;  // struct virtio_net_hdr, without the num_buffers field
  if (::ioctl(fd.get(), TUNSETVNETHDRSZ, &hdr_size) != 0) return unexpected(errno_text("TUNSETVNETHDRSZ"));
  // Without offload the kernel completes checksums and segments before the TUN; the virtio-net
  // header is then always empty, and the engine's code path stays the same.
  unsigned flags = offload ? (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) : 0;
  if (::ioctl(fd.get(), TUNSETOFFLOAD, flags) != 0) {
    if (!offload) return unexpected(errno_text("TUNSETOFFLOAD"));
    offload = false;
    if (::ioctl(fd.get(), TUNSETOFFLOAD, 0u) != 0) return unexpected(errno_text("TUNSETOFFLOAD"));
  }
  const int index = static_cast<int>(::if_nametoindex(ifr.ifr_name));
  if (index == 0) return unexpected(errno_text("if_nametoindex " + name));
  return TunDevice(std::move(fd), ifr.ifr_name, index, offload);
}

Status TunDevice::set_mtu(unsigned mtu) {
  ifreq ifr{};
  ifr.ifr_mtu = static_cast<int>(mtu);
  return with_ifreq(name_, SIOCSIFMTU, ifr, "set MTU of");
}

Status TunDevice::set_up() {
  ifreq ifr{};
  if (auto s = with_ifreq(name_, SIOCGIFFLAGS, ifr, "read flags of"); !s) return s;
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  return with_ifreq(name_, SIOCSIFFLAGS, ifr, "bring up");
}

}  // namespace natgate::esp
