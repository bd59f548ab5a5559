// libFuzzer target for the userspace ESP engine's receive path (docs/security.md, strangers: the packet
// path facing the network is the attack surface): the NAT-T port's demultiplexing (RFC 3948),
// SPI lookup, replay window, ESP decryption and trailer checks (RFC 4303), inner packet parsing,
// selector admission (RFC 4301 §5.2), MSS clamping and TCP coalescing. See esp_inbound_fuzz_world.h
// for the input layout and the invariants checked after each record.
#include <cstdint>

#include "esp_inbound_fuzz_world.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  natgate::esp::fuzzing::EspWorld world;
  world.run(natgate::ByteView(data, size));
  return 0;
}
