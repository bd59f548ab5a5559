// What the config loader tests share: the error lines of a load (file:line:column: key: message,
// as natgated --check prints them) and the smallest remote-access gateway a connection-level
// feature is added to.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/config_loader.h"

namespace natgate::gateway::test {

inline std::vector<std::string> error_lines(const ConfigLoadResult& r) {
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.push_back(e.to_string());
  return out;
}

// A road-warrior gateway with a PSK, a /24 pool and one connection `rw`; the text ends inside
// `connections.rw`, so appended lines indented by four spaces become keys of that connection.
inline std::string road_warrior_gateway(std::string_view ike_proposals = "aes256gcm16-prfsha256-x25519") {
  return std::string(R"(daemon:
  listen: [0.0.0.0]
  control_socket: /run/natgate/test.sock
secrets:
  rw: { psk: "lab-secret" }
pools:
  rw: { addresses: [10.99.0.0/24] }
connections:
  rw:
    local: { id: gw.example.net, subnets: [10.2.0.0/24] }
    remote: { address: any, id: any }
    pool: rw
    auth: psk
    ike_proposals: [)") +
         std::string(ike_proposals) + "]\n    esp_proposals: [aes256gcm16]\n";
}

}  // namespace natgate::gateway::test
