// N road warriors as the userspace SA registry sees them, for the table benchmark and the scale
// guard (tests/scale/): per peer an inbound and an outbound SA and the two policies of its
// virtual IP, as the gateway installs them for one CHILD SA (docs/performance.md, "Scale: SA
// tables").
#pragma once

#include <string_view>

#include "esp/sa/sa_table.h"

namespace natgate::esp::bench {

// Road warrior i: virtual IP 10.128.0.0 + i (room for 2^22 peers), outer address 198.18.0.0 + i.
inline IpAddress virtual_ip(std::uint32_t i) { return IpAddress::v4(0x0A800000u + i); }

inline SaConfig road_warrior_sa(std::uint32_t i, dataplane::Direction dir, std::string_view suite) {
  SaConfig c;
  c.spi = Spi((dir == dataplane::Direction::In ? 0x10000000u : 0x20000000u) + i);
  c.direction = dir;
  c.reqid = 0x10000 + i;
  c.suite = *Suite::parse(suite, true);
  c.encr_keymat = SecretBytes(Bytes(c.suite.encr_key_bytes(), static_cast<std::uint8_t>(i)));
  c.integ_key = SecretBytes(Bytes(c.suite.integ_key_bytes(), 0x5a));
  c.path = OuterPath{{*IpAddress::parse("192.0.2.2"), 4500}, {IpAddress::v4(0xC6120000u + i), 4500}, true};
  return c;
}

// Four installs: two SAs, two policies. False if the registry refused one.
inline bool install_road_warrior(SaRegistry& r, std::uint32_t i, std::string_view suite = "aes256gcm16") {
  const IpAddress vip = virtual_ip(i);
  const TrafficSelector host{vip, vip, 0, 0, 65535};
  const TrafficSelector any = TrafficSelector::from_subnet(*Subnet::parse("0.0.0.0/0"));
  const std::uint32_t reqid = 0x10000 + i;
  return r.add_sa(road_warrior_sa(i, dataplane::Direction::In, suite), 1500).has_value() &&
         r.add_sa(road_warrior_sa(i, dataplane::Direction::Out, suite), 1500).has_value() &&
         r.add_policy({any, host, dataplane::Direction::Out, reqid, 0}).has_value() &&
         r.add_policy({host, any, dataplane::Direction::In, reqid, 0}).has_value();
}

}  // namespace natgate::esp::bench
