// connections.NAME.natt.tcp / tcp_port / tcp_after_retransmits (issue 15, RFC 9329): defaults,
// values, and errors that name file, line, column and key.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gateway/config/config_loader.h"
#include "gateway/control/status_model.h"
#include "tests/unit/gateway/config_test_support.h"

namespace natgate::gateway {
namespace {

constexpr const char* kClient = R"(daemon:
  listen: [0.0.0.0]
  control_socket: /run/natgate/test.sock
secrets:
  office: { psk: "lab-secret" }
connections:
  office:
    local: { id: alice.example.net, vips: [0.0.0.0] }
    remote: { address: 198.51.100.20, id: gw.example.net }
    auth: psk
    ike_proposals: [aes256gcm16-prfsha256-x25519]
    esp_proposals: [aes256gcm16]
    start: initiate
)";

std::string with_natt(const std::string& natt) { return std::string(kClient) + "    natt: " + natt + "\n"; }

std::vector<std::string> errors_of(const std::string& text) {
  auto r = load_config_text(text, "client.yaml", "/nonexistent");
  EXPECT_FALSE(r.ok());
  return test::error_lines(r);
}

TEST(TcpEncapConfig, DefaultsToNeverOnPort4500AfterOneRetransmit) {
  auto r = load_config_text(kClient, "client.yaml", "/nonexistent");
  ASSERT_TRUE(r.ok());
  const auto& natt = r.config->connections.at(0).natt;
  EXPECT_EQ(natt.tcp, TcpEncapMode::Never);
  EXPECT_EQ(natt.tcp_port, 4500);
  EXPECT_EQ(natt.tcp_after_retransmits, 1u);
}

TEST(TcpEncapConfig, ReadsModePortAndRetransmits) {
  for (auto [text, mode] : {std::pair{"auto", TcpEncapMode::Auto}, std::pair{"always", TcpEncapMode::Always},
                            std::pair{"never", TcpEncapMode::Never}}) {
    auto r = load_config_text(
        with_natt(std::string("{ tcp: ") + text + ", tcp_port: 443, tcp_after_retransmits: 3 }"),
        "client.yaml", "/nonexistent");
    ASSERT_TRUE(r.ok()) << text;
    const auto& natt = r.config->connections.at(0).natt;
    EXPECT_EQ(natt.tcp, mode);
    EXPECT_EQ(natt.tcp_port, 443);
    EXPECT_EQ(natt.tcp_after_retransmits, 3u);
  }
}

TEST(TcpEncapConfig, BadValuesNameFileLineAndKey) {
  EXPECT_EQ(
      errors_of(with_natt("{ tcp: sometimes }")),
      std::vector<std::string>{"client.yaml:14:18: connections.office.natt.tcp: \"sometimes\" is not allowed "
                               "here (expected one of never | auto | always)"});
  EXPECT_EQ(
      errors_of(with_natt("{ tcp: auto, tcp_port: 0 }")),
      std::vector<std::string>{"client.yaml:14:34: connections.office.natt.tcp_port: \"0\" is not a port "
                               "(expected an integer 1-65535)"});
  auto e = errors_of(with_natt("{ tcp: auto, tcp_after_retransmits: 9 }"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].rfind("client.yaml:14:47: connections.office.natt.tcp_after_retransmits: \"9\"", 0), 0u)
      << e[0];
  e = errors_of(with_natt("{ tcp: auto, tcp_prot: 443 }"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("connections.office.natt.tcp_prot: unknown key"), std::string::npos) << e[0];
}

// The kernel data plane has no RFC 9329 here (no espintcp, docs/design.md): `always` with
// daemon.dataplane: kernel is an error at natt.tcp's line; `auto` a warning there, and the
// connection is loaded without the fallback (UDP only), so natgated starts on the kernel.
TEST(TcpEncapConfig, KernelDataPlaneRefusesAlwaysAndRunsAutoWithoutTheFallback) {
  auto kernel = [](const std::string& natt) {
    std::string text = with_natt(natt);
    text.insert(text.find("secrets:"), "  dataplane: kernel\n");
    return text;
  };
  auto e = errors_of(kernel("{ tcp: always, tcp_port: 443 }"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].rfind("client.yaml:15:18: connections.office.natt.tcp: tcp: always needs the userspace data "
                       "plane: the kernel data plane (daemon.dataplane: kernel) has no espintcp",
                       0),
            0u)
      << e[0];

  auto r = load_config_text(kernel("{ tcp: auto, tcp_port: 443 }"), "client.yaml", "/nonexistent");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.warnings.size(), 1u);
  const std::string w = r.warnings[0].to_string();
  EXPECT_EQ(
      w.rfind("client.yaml:15:18: connections.office.natt.tcp: tcp: auto with daemon.dataplane: kernel", 0),
      0u)
      << w;
  EXPECT_NE(w.find("stays on UDP"), std::string::npos) << w;
  EXPECT_EQ(r.config->connections.at(0).natt.tcp, TcpEncapMode::Never);
  EXPECT_EQ(r.config->daemon.dataplane, DataplaneMode::Kernel);

  // daemon.dataplane: auto (or userspace) keeps what the connection asked for.
  for (const char* mode : {"auto", "userspace"}) {
    std::string text = with_natt("{ tcp: always }");
    text.insert(text.find("secrets:"), std::string("  dataplane: ") + mode + "\n");
    auto ok = load_config_text(text, "client.yaml", "/nonexistent");
    ASSERT_TRUE(ok.ok()) << mode;
    EXPECT_TRUE(ok.warnings.empty()) << mode;
    EXPECT_EQ(ok.config->connections.at(0).natt.tcp, TcpEncapMode::Always) << mode;
  }
}

}  // namespace
}  // namespace natgate::gateway

namespace natgate::gateway {
namespace {

// `natgate status --json`: an IKE SA's transport and why (issue 15) survive both writers and the reader;
// JSON without it (an older natgated) reads as udp.
TEST(TcpEncapStatus, TransportRoundTripsThroughTheJson) {
  DaemonStatus st;
  ConnectionStatus c;
  c.name = "office";
  c.state = ConnectionState::Established;
  IkeSaStatus ike;
  ike.spi_i = 0x0102030405060708u;
  ike.spi_r = 0x1112131415161718u;
  ike.proposal = "aes256gcm16-prfsha256-x25519";
  ike.transport = "tcp";
  ike.transport_reason =
      "tcp: auto, INFORMATIONAL (MOBIKE update or liveness check) request unanswered over UDP (2 sends)";
  c.ike_sa = ike;
  st.connections.push_back(c);
  std::string streamed;
  append_status_json(st, streamed);
  EXPECT_NE(streamed.find("\"transport\":\"tcp\""), std::string::npos) << streamed;
  EXPECT_EQ(status_to_json(st).dump(), streamed);
  auto back = status_from_json(streamed);
  ASSERT_TRUE(back) << back.error();
  ASSERT_TRUE(back->connections.at(0).ike_sa.has_value());
  EXPECT_EQ(back->connections.at(0).ike_sa->transport, "tcp");
  EXPECT_EQ(back->connections.at(0).ike_sa->transport_reason, ike.transport_reason);

  std::string old = streamed;
  old.erase(old.find(",\"transport\":\"tcp\""), std::string(",\"transport\":\"tcp\"").size());
  auto old_back = status_from_json(old);
  ASSERT_TRUE(old_back) << old_back.error();
  EXPECT_EQ(old_back->connections.at(0).ike_sa->transport, "udp");
  // and without the reason (natgated before the MOBIKE move to TCP) as none.
  std::string no_reason = streamed;
  const std::string reason_field = ",\"transport_reason\":\"" + ike.transport_reason + "\"";
  ASSERT_NE(no_reason.find(reason_field), std::string::npos) << streamed;
  no_reason.erase(no_reason.find(reason_field), reason_field.size());
  auto no_reason_back = status_from_json(no_reason);
  ASSERT_TRUE(no_reason_back) << no_reason_back.error();
  EXPECT_EQ(no_reason_back->connections.at(0).ike_sa->transport, "tcp");
  EXPECT_EQ(no_reason_back->connections.at(0).ike_sa->transport_reason, "");
}

}  // namespace
}  // namespace natgate::gateway
