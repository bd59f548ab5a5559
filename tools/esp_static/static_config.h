// natgate-esp-static's key file: a TEST-ONLY, manually keyed ESP tunnel (no IKE), for the netns
// tests and the data plane benchmark. Format: `key = value` lines, `#` comments.
//
//   tun            = natgate0              TUN device name
//   local          = 192.168.100.2:4500    outer address:port to bind (address may be 0.0.0.0)
//   remote         = 192.0.2.2:4500        outer peer address:port (a NAT's mapping is learned
//                                          from the first packet the peer receives anyway)
//   encap          = udp | none            ESP-in-UDP (RFC 3948) or IP protocol 50
//   transform      = aes256gcm16           aes128gcm16, chacha20poly1305, aes256-sha256, ...,
//                                          or `null` (benchmarks only: no protection at all)
//   esn            = no
//   spi_in, spi_out                         hex (0x...) or decimal
//   key_in, key_out                         hex encryption KEYMAT (key || salt for AEAD)
//   integ_key_in, integ_key_out             hex integrity keys (CBC suites)
//   local_subnets  = 10.1.0.0/24[, ...]
//   remote_subnets = 10.2.0.0/24[, ...]
//   mtu            = 1500                  outer path MTU
//   tun_mtu        = (computed)            override
//   mss_clamp      = yes
//   offload        = yes                   TUN TSO/checksum offload (segment + coalesce)
//   replay_window  = 64
//   icmp_source    = 192.0.2.99            source of ICMP too-big errors (default: the packet's
//                                          destination; not an address of this host, which the
//                                          kernel would drop coming from the TUN)
//   keepalive      = 20                    seconds between NAT-keepalives (0 = none)
//
// With encap = udp the peer's endpoint follows authenticated ESP (NAT mappings are not known in
// advance without IKE), so the side behind the NAT must send first.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "common/ip_address.h"
#include "common/secret_bytes.h"
#include "esp/crypto/suite.h"

namespace natgate::tools {

struct StaticConfig {
  std::string tun = "natgate0";
  Endpoint local{IpAddress::any(IpFamily::V4), 4500};
  Endpoint remote;
  bool udp_encap = true;
  esp::Suite suite;
  std::uint32_t spi_in = 0;
  std::uint32_t spi_out = 0;
  SecretBytes key_in, key_out, integ_key_in, integ_key_out;
  std::vector<Subnet> local_subnets;
  std::vector<Subnet> remote_subnets;
  std::size_t mtu = 1500;
  std::optional<std::size_t> tun_mtu;
  bool mss_clamp = true;
  bool offload = true;
  std::uint32_t replay_window = 64;
  std::optional<IpAddress> icmp_source;
  unsigned keepalive_seconds = 20;
};

// Errors name the line and the key.
Expected<StaticConfig> parse_static_config(const std::string& text);

}  // namespace natgate::tools
