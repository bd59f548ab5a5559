// Test-only pieces shared by the engine path tests that drive InboundPath/OutboundPath directly
// (relay_test.cc, interface_tun_test.cc): a TUN that records what it is given, keyed SA configs
// and selectors.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "esp/inner/tcp_coalescer.h"
#include "esp/sa/sa_state.h"
#include "esp/tun/virtio_net_hdr.h"

namespace natgate::esp::testing {

inline TrafficSelector ts(const char* subnet) { return TrafficSelector::from_subnet(*Subnet::parse(subnet)); }

// A TUN that keeps every packet written to it, without the virtio-net header the workers put first.
struct Recorder final : TunSink {
  std::vector<Bytes> packets;
  void write_packet(const iovec* iov, int n) override {
    Bytes b;
    for (int i = 0; i < n; ++i) {
      auto* p = static_cast<const std::uint8_t*>(iov[i].iov_base);
      b.insert(b.end(), p, p + iov[i].iov_len);
    }
    packets.emplace_back(b.begin() + sizeof(VirtioNetHdr), b.end());
  }
};

// An aes128gcm16 SA whose 20 bytes of key material are all `key`.
inline SaConfig keyed(std::uint32_t spi, dataplane::Direction d, std::uint32_t reqid, std::uint8_t key) {
  SaConfig c;
  c.spi = Spi(spi);
  c.direction = d;
  c.reqid = reqid;
  c.suite = *Suite::parse("aes128gcm16");
  c.encr_keymat = SecretBytes(Bytes(20, key));
  return c;
}

}  // namespace natgate::esp::testing
