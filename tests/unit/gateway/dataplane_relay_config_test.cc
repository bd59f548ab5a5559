// daemon.dataplane as a mode or as { mode, relay } (issue 14, the engine's SA-to-SA relay):
// defaults, values, and errors that name file, line, column and key.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/config/config_diff.h"
#include "gateway/config/config_loader.h"
#include "tests/unit/gateway/config_test_support.h"

namespace natgate::gateway {
namespace {

std::string hub(const std::string& dataplane) {
  return "daemon:\n  control_socket: /run/natgate/test.sock\n" +
         (dataplane.empty() ? std::string() : "  dataplane: " + dataplane + "\n") + R"(secrets:
  spoke: { psk: "lab-secret" }
connections:
  spoke:
    local: { id: hub.example.net, subnets: [10.2.0.0/16] }
    remote: { address: any, id: spoke.example.net, subnets: [10.1.0.0/16] }
    auth: psk
    ike_proposals: [aes256gcm16-prfsha384-x25519]
    esp_proposals: [aes256gcm16]
    start: listen
)";
}

ConfigLoadResult load(const std::string& text) { return load_config_text(text, "hub.yaml", "/nonexistent"); }

std::vector<std::string> errors_of(const std::string& text) {
  auto r = load(text);
  EXPECT_FALSE(r.ok());
  return test::error_lines(r);
}

TEST(DataplaneRelayConfig, RelayIsOnByDefaultWithEitherForm) {
  for (const std::string& d : {std::string(), std::string("userspace"), std::string("{ mode: userspace }")}) {
    auto r = load(hub(d));
    ASSERT_TRUE(r.ok()) << d << ": " << format_diagnostics(r.errors);
    EXPECT_TRUE(r.config->daemon.dataplane_relay) << d;
  }
}

TEST(DataplaneRelayConfig, ReadsModeAndRelay) {
  auto r = load(hub("{ mode: kernel, relay: off }"));
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  EXPECT_EQ(r.config->daemon.dataplane, DataplaneMode::Kernel);
  EXPECT_FALSE(r.config->daemon.dataplane_relay);
  r = load(hub("{ relay: on }"));  // the mode keeps its default
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  EXPECT_EQ(r.config->daemon.dataplane, DataplaneMode::Auto);
  EXPECT_TRUE(r.config->daemon.dataplane_relay);
}

TEST(DataplaneRelayConfig, BadValuesNameTheKey) {
  EXPECT_EQ(errors_of(hub("{ mode: userspace, relay: maybe }")),
            std::vector<std::string>{"hub.yaml:3:40: daemon.dataplane.relay: \"maybe\" is not allowed here "
                                     "(expected one of on | off)"});
  EXPECT_EQ(errors_of(hub("{ mode: dpdk }")),
            std::vector<std::string>{"hub.yaml:3:22: daemon.dataplane.mode: \"dpdk\" is not allowed here "
                                     "(expected one of auto | kernel | userspace)"});
  const auto unknown = errors_of(hub("{ relay: on, fast: yes }"));
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_NE(unknown[0].find("daemon.dataplane.fast"), std::string::npos) << unknown[0];
}

TEST(DataplaneRelayConfig, AReloadNamesAChangedRelay) {
  auto on = load(hub(""));
  auto off = load(hub("{ relay: off }"));
  ASSERT_TRUE(on.ok() && off.ok());
  const auto diff = diff_configs(*on.config, *off.config);
  EXPECT_EQ(diff.daemon_changes, std::vector<std::string>{"dataplane.relay"});
}

}  // namespace
}  // namespace natgate::gateway
