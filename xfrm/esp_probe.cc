#include "xfrm/esp_probe.h"

#include <linux/xfrm.h>

#include <cerrno>

#include "xfrm/sa_message.h"
#include "xfrm/xfrm_socket.h"

namespace natgate::xfrm {

namespace {

constexpr std::uint32_t kProbeSpi = 0xff;

dataplane::SaSpec probe_sa() {
  dataplane::SaSpec sa;
  sa.spi = kProbeSpi;
  sa.direction = dataplane::Direction::Out;
  sa.mode = dataplane::Mode::Tunnel;
  auto loopback = *IpAddress::parse("127.0.0.1");
  sa.src = Endpoint{loopback, 4500};
  sa.dst = Endpoint{loopback, 4500};
  sa.encap = dataplane::UdpEncap{4500, 4500};
  sa.transform.encr = iana::EncrId::AesGcm16;
  sa.transform.encr_key_bits = 128;
  // The key is never used for a packet; zeros are as good as any.
  sa.encr_key = SecretBytes(sa.transform.encr_keymat_bytes());
  return sa;
}

}  // namespace

EspSupport probe_kernel_esp() {
  auto socket = XfrmSocket::open_requests();
  if (!socket) return {false, "kernel has no XFRM netlink interface: " + socket.error()};

  const dataplane::SaSpec sa = probe_sa();
  auto add = build_sa_add(sa, false);
  if (!add) return {false, "cannot build the probe SA: " + add.error()};
  auto added = socket->transact(*add, "probe SA");
  if (!added) {
    const KernelError& e = added.error();
    if (e.error == EEXIST) {
      return {true, "an ESP SA with the probe SPI exists already, so the kernel holds ESP SAs"};
    }
    if (e.error == EPERM || e.error == EACCES) {
      return {false, "not permitted to program XFRM (needs CAP_NET_ADMIN): " + e.detail};
    }
    return {false, "kernel has no ESP: " + e.detail};
  }
  auto del = build_sa_id(XFRM_MSG_DELSA, sa.spi, sa.dst.address, 0);
  if (!del)
    return {true, "kernel accepted an ESP-in-UDP SA, but the probe SA could not be removed: " + del.error()};
  auto deleted = socket->transact(*del, "probe SA delete");
  if (!deleted) {
    return {true,
            "kernel accepted an ESP-in-UDP SA, but removing the probe SA failed: " + deleted.error().detail};
  }
  return {true, "kernel accepted an ESP SA with rfc4106(gcm(aes)) and UDP encapsulation"};
}

}  // namespace natgate::xfrm
