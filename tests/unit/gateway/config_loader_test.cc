#include "gateway/config/config_loader.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/unit/gateway/config_test_support.h"

namespace natgate::gateway {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Line numbers in the expectations below refer to this text (1-based).
constexpr const char* kGood = R"(daemon:
  listen: [0.0.0.0]
  control_socket: /run/natgate/test.sock
secrets:
  office-b: { psk: "lab-secret" }
connections:
  office-b:
    local:
      id: gw-a.example.net
      subnets: [10.1.0.0/24]
    remote: { address: 198.51.100.20, id: gw-b.example.net, subnets: [10.2.0.0/24] }
    auth: psk
    ike_proposals: [aes256gcm16-prfsha384-x25519]
    esp_proposals: [aes256gcm16]
    start: initiate
)";

// kGood with one piece of text replaced (which must occur exactly once).
std::string with(std::string_view from, std::string_view to, std::string text = kGood) {
  auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  EXPECT_EQ(text.find(from, at + 1), std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

ConfigLoadResult load(const std::string& text, const std::string& base_dir = "/nonexistent") {
  return load_config_text(text, "office.yaml", base_dir);
}

std::vector<std::string> errors_of(const std::string& text, const std::string& base_dir = "/nonexistent") {
  auto r = load(text, base_dir);
  EXPECT_FALSE(r.ok());
  return test::error_lines(r);
}

using Lines = std::vector<std::string>;

TEST(ConfigLoader, ReadsTheGoodConfigIntoTypedValues) {
  auto r = load(kGood);
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  EXPECT_TRUE(r.warnings.empty()) << format_diagnostics(r.warnings);
  const Config& c = *r.config;
  EXPECT_EQ(c.source, "office.yaml");
  EXPECT_EQ(c.daemon.listen, std::vector<IpAddress>{*IpAddress::parse("0.0.0.0")});
  EXPECT_EQ(c.daemon.ike_port, 500);
  EXPECT_EQ(c.daemon.natt_port, 4500);
  EXPECT_EQ(c.daemon.dataplane, DataplaneMode::Auto);
  EXPECT_EQ(c.daemon.control_socket, "/run/natgate/test.sock");
  ASSERT_EQ(c.connections.size(), 1u);
  const ConnectionConfig& conn = c.connections[0];
  EXPECT_EQ(conn.name, "office-b");
  EXPECT_EQ(conn.local.id.kind(), ConfiguredIdentity::Kind::Fqdn);
  EXPECT_EQ(conn.local.id.text(), "gw-a.example.net");
  EXPECT_EQ(conn.local.subnets, std::vector<Subnet>{*Subnet::parse("10.1.0.0/24")});
  EXPECT_EQ(conn.remote.address, IpAddress::parse("198.51.100.20"));
  EXPECT_EQ(conn.remote.port, 500);
  EXPECT_EQ(conn.remote.subnets, std::vector<Subnet>{*Subnet::parse("10.2.0.0/24")});
  EXPECT_EQ(conn.start, StartAction::Initiate);
  // Defaults for what the file leaves out.
  EXPECT_EQ(conn.dpd, 30s);
  EXPECT_EQ(conn.lifetimes.ike, 4h);
  EXPECT_EQ(conn.lifetimes.child, 1h);
  EXPECT_EQ(conn.natt.keepalive, 20s);
  EXPECT_FALSE(conn.natt.force_encap);
  ASSERT_NE(c.psk_for("office-b"), nullptr);
  EXPECT_TRUE(*c.psk_for("office-b") == SecretBytes(as_bytes("lab-secret")));
}

TEST(ConfigLoader, BadSubnetNamesFileLineColumnKeyAndExpectation) {
  auto text = with("      subnets: [10.1.0.0/24]\n",
                   "      subnets:\n"
                   "        - 10.1.0.0/24\n"
                   "        - 10.1.0.0/33\n");
  EXPECT_EQ(errors_of(text),
            Lines{"office.yaml:12:11: connections.office-b.local.subnets[1]: \"10.1.0.0/33\" "
                  "is not a subnet (expected CIDR like 10.1.0.0/24)"});
}

TEST(ConfigLoader, SubnetWithHostBitsIsRefusedWithTheNetworkMeant) {
  EXPECT_EQ(
      errors_of(with("[10.1.0.0/24]", "[10.1.0.7/24]")),
      Lines{"office.yaml:10:17: connections.office-b.local.subnets[0]: \"10.1.0.7/24\" has host bits set "
            "(expected the network address, like 10.1.0.0/24)"});
}

TEST(ConfigLoader, UnknownKeyIsAnErrorListingTheAllowedKeys) {
  EXPECT_EQ(
      errors_of(with("    auth: psk", "    auht: psk")),
      (Lines{
          "office.yaml:12:5: connections.office-b.auht: unknown key (did you mean \"auth\"?); allowed keys: "
          "local, remote, auth, ike_proposals, esp_proposals, start, dpd, lifetimes, natt, fragmentation, "
          "pool, mediation, legacy_proposals, children, updown, mobike, redirect, interface",
          "office.yaml:8:5: connections.office-b.auth: required key is missing (expected psk, pubkey, "
          "eap-mschapv2 or eap-tls)"}));
  EXPECT_EQ(
      errors_of(with("daemon:\n", "daemon:\n  colour: blue\n")),
      Lines{"office.yaml:2:3: daemon.colour: unknown key; allowed keys: listen, ike_port, natt_port, "
            "dataplane, control_socket, log_level, tun, ca, crl, limits, metrics, state_dir, relay_forward"});
  EXPECT_EQ(
      errors_of(with("daemon:", "deamon:")),
      Lines{"office.yaml:1:1: deamon: unknown key (did you mean \"daemon\"?); allowed keys: daemon, secrets, "
            "eap_users, pools, connections, include, secrets_file, eap_users_file"});
}

TEST(ConfigLoader, PskConnectionWithoutSecretIsRefused) {
  auto r = load(with("  office-b: { psk:", "  office-c: { psk:"));
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string(),
            "office.yaml:12:11: connections.office-b.auth: no secret for \"office-b\" "
            "(expected secrets.office-b with psk or psk_file)");
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].to_string(),
            "office.yaml:5:3: secrets.office-c: no connection of this name uses it");
}

TEST(ConfigLoader, UnreadablePskFileIsRefusedOnce) {
  // One error where the file is named, not a second "no secret" at the connection.
  EXPECT_EQ(errors_of(with("{ psk: \"lab-secret\" }", "{ psk_file: /nonexistent/office-b.psk }")),
            Lines{"office.yaml:5:25: secrets.office-b.psk_file: cannot read \"/nonexistent/office-b.psk\": "
                  "No such file or directory"});
}

TEST(ConfigLoader, SecretNeedsExactlyOneSource) {
  EXPECT_EQ(errors_of(with("{ psk: \"lab-secret\" }", "{ psk: \"x\", psk_file: /etc/x }")),
            Lines{"office.yaml:5:13: secrets.office-b: has both psk and psk_file (expected exactly one)"});
  EXPECT_EQ(
      errors_of(with("{ psk: \"lab-secret\" }", "{ }")),
      Lines{"office.yaml:5:13: secrets.office-b: has neither psk nor psk_file (expected one: psk: \"...\" or "
            "psk_file: /etc/natgate/NAME.psk)"});
  EXPECT_EQ(errors_of(with("{ psk: \"lab-secret\" }", "{ psk: \"\" }")),
            Lines{"office.yaml:5:20: secrets.office-b.psk: is empty (expected a pre-shared key)"});
}

TEST(ConfigLoader, AKeyWrittenInPlaceOfTheSecretMappingIsNeverEchoed) {
  auto errors = errors_of(with("{ psk: \"lab-secret\" }", "\"hunter2-secret\""));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].find("hunter2"), std::string::npos) << errors[0];
  EXPECT_EQ(errors[0],
            "office.yaml:5:13: secrets.office-b: expected a mapping with psk or psk_file, like "
            "{ psk_file: /etc/natgate/office-b.psk } (value not shown: it may be a key)");
}

TEST(ConfigLoader, BadDurationsAreRefused) {
  EXPECT_EQ(
      errors_of(with("    start: initiate\n", "    start: initiate\n    dpd: 30x\n")),
      Lines{"office.yaml:16:10: connections.office-b.dpd: \"30x\" is not a duration (expected a number and a "
            "unit s, m, h or d, like 30s, 5m, 4h, 1d)"});
  EXPECT_EQ(errors_of(with("    start: initiate\n",
                           "    start: initiate\n    lifetimes: { ike: 5s, child: 1h }\n")),
            Lines{"office.yaml:16:23: connections.office-b.lifetimes.ike: \"5s\" is too short (expected at "
                  "least 10s)"});
}

TEST(ConfigLoader, LimitsHaveDefaultsAndCanBeSet) {
  auto defaults = load(kGood);
  ASSERT_TRUE(defaults.ok()) << format_diagnostics(defaults.errors);
  EXPECT_EQ(defaults.config->daemon.limits, LimitsConfig{});
  EXPECT_EQ(defaults.config->daemon.limits.half_open_memory, 64u << 20);

  auto r = load(with("daemon:\n",
                     "daemon:\n  limits: { half_open_per_source: 7, selectors_per_ts: 4, "
                     "half_open_memory: 2G, eap_failures_per_identity: 3 }\n"));
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  EXPECT_EQ(r.config->daemon.limits.half_open_per_source, 7u);
  EXPECT_EQ(r.config->daemon.limits.selectors_per_ts, 4u);
  EXPECT_EQ(r.config->daemon.limits.half_open_memory, 2ull << 30);
  EXPECT_EQ(r.config->daemon.limits.eap_failures_per_identity, 3u);
  EXPECT_EQ(r.config->daemon.limits.cookie_threshold, LimitsConfig{}.cookie_threshold);
}

TEST(ConfigLoader, BadLimitsNameTheKey) {
  EXPECT_EQ(errors_of(with("daemon:\n", "daemon:\n  limits: { half_open: 0 }\n")),
            Lines{"office.yaml:2:24: daemon.limits.half_open: \"0\" is not a count (expected an integer "
                  "1-1000000000)"});
  EXPECT_EQ(errors_of(with("daemon:\n", "daemon:\n  limits: { half_open_memory: 12Q }\n")),
            Lines{"office.yaml:2:31: daemon.limits.half_open_memory: \"12Q\" is not a size from 1M to 1T "
                  "(expected like 64M or 1G)"});
  EXPECT_EQ(errors_of(with("daemon:\n", "daemon:\n  limits: { rekeys: 3 }\n")).size(), 1u);
}

TEST(ConfigLoader, BadPortsAreRefused) {
  EXPECT_EQ(
      errors_of(with("  control_socket: /run/natgate/test.sock", "  ike_port: 70000")),
      Lines{"office.yaml:3:13: daemon.ike_port: \"70000\" is not a port (expected an integer 1-65535)"});
  EXPECT_EQ(errors_of(with("  control_socket: /run/natgate/test.sock", "  ike_port: 0")),
            Lines{"office.yaml:3:13: daemon.ike_port: \"0\" is not a port (expected an integer 1-65535)"});
  EXPECT_EQ(
      errors_of(with("  control_socket: /run/natgate/test.sock", "  natt_port: 500")),
      Lines{
          "office.yaml:3:14: daemon.natt_port: equals ike_port 500 (expected a different port: RFC 3948 NAT "
          "traversal needs its own, normally 4500)"});
  EXPECT_EQ(
      errors_of(with("198.51.100.20,", "198.51.100.20, port: 45x00,")),
      Lines{
          "office.yaml:11:45: connections.office-b.remote.port: \"45x00\" is not a port (expected an integer "
          "1-65535)"});
}

TEST(ConfigLoader, DuplicateConnectionNamesAreRefused) {
  std::string text = std::string(kGood) +
                     "  office-b:\n"
                     "    local: { id: gw-a.example.net, subnets: [10.3.0.0/24] }\n";
  EXPECT_EQ(errors_of(text),
            Lines{"office.yaml:16:3: connections.office-b: duplicate key (first defined on line 7)"});
}

TEST(ConfigLoader, AnyRemoteCannotInitiate) {
  EXPECT_EQ(errors_of(with("address: 198.51.100.20", "address: any")),
            Lines{"office.yaml:15:12: connections.office-b.start: start: initiate needs a peer address, but "
                  "remote.address is any (expected start: listen, or a remote address)"});
  EXPECT_EQ(
      errors_of(with("address: 198.51.100.20", "address: any", with("start: initiate", "start: on-traffic"))),
      Lines{"office.yaml:15:12: connections.office-b.start: start: on-traffic needs a peer address, but "
            "remote.address is any (expected start: listen, or a remote address)"});
  auto r = load(with("address: 198.51.100.20", "address: any", with("start: initiate", "start: listen")));
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  EXPECT_TRUE(r.config->connections[0].remote.accepts_any_address());
}

TEST(ConfigLoader, BadIdentitiesAndAddressesAreRefused) {
  EXPECT_EQ(
      errors_of(with("id: gw-a.example.net", "id: gw a.example.net")),
      Lines{"office.yaml:9:11: connections.office-b.local.id: \"gw a.example.net\" is not an identity "
            "(expected "
            "an FQDN, IPv4/IPv6 address, email or DN like gw-a.example.net or \"CN=gw-a, O=Example\")"});
  EXPECT_EQ(
      errors_of(with("198.51.100.20", "198.51.100.300")),
      Lines{"office.yaml:11:24: connections.office-b.remote.address: \"198.51.100.300\" is not an IP address "
            "or DNS name (expected like 198.51.100.20, vpn.example.net, or any)"});
  EXPECT_EQ(
      errors_of(with("[0.0.0.0]", "[0.0.0.0, 0.0.0.0]")),
      Lines{"office.yaml:2:21: daemon.listen[1]: 0.0.0.0 is listed twice (expected each address once)"});
}

TEST(ConfigLoader, EnumsSayWhatIsAllowed) {
  EXPECT_EQ(
      errors_of(with("daemon:\n", "daemon:\n  dataplane: dpdk\n")),
      Lines{
          "office.yaml:2:14: daemon.dataplane: \"dpdk\" is not allowed here (expected one of auto | kernel | "
          "userspace)"});
  EXPECT_EQ(errors_of(with("start: initiate", "start: now")),
            Lines{"office.yaml:15:12: connections.office-b.start: \"now\" is not allowed here (expected one "
                  "of initiate "
                  "| listen | on-traffic)"});
  EXPECT_EQ(errors_of(with("daemon:\n", "daemon:\n  tun: { name: natgate0, mtu: 100 }\n")),
            Lines{"office.yaml:2:31: daemon.tun.mtu: \"100\" is not an MTU (expected an integer 576-65535)"});
}

TEST(ConfigLoader, LogLevelIsOneLevelOrADefaultWithSubsystems) {
  auto one = load(with("daemon:\n", "daemon:\n  log_level: debug\n"));
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one.config->daemon.log_level, LogLevels::all(LogLevel::Debug));
  EXPECT_EQ(one.config->daemon.log_level.of(LogSubsystem::Knl), LogLevel::Debug);

  auto split = load(with("daemon:\n", "daemon:\n  log_level: { default: warn, ike: debug, esp: error }\n"));
  ASSERT_TRUE(split.ok());
  const LogLevels& l = split.config->daemon.log_level;
  EXPECT_EQ(l.of(LogSubsystem::Ike), LogLevel::Debug);
  EXPECT_EQ(l.of(LogSubsystem::Esp), LogLevel::Error);
  EXPECT_EQ(l.of(LogSubsystem::Net), LogLevel::Warn);
  EXPECT_EQ(l.of(LogSubsystem::Dmn), LogLevel::Warn);

  auto only_one = load(with("daemon:\n", "daemon:\n  log_level: { knl: trace }\n"));
  ASSERT_TRUE(only_one.ok());
  EXPECT_EQ(only_one.config->daemon.log_level.of(LogSubsystem::Knl), LogLevel::Trace);
  EXPECT_EQ(only_one.config->daemon.log_level.of(LogSubsystem::Cfg), LogLevel::Info);
}

TEST(ConfigLoader, BadLogLevelsNameSubsystemAndLevel) {
  EXPECT_EQ(
      errors_of(with("daemon:\n", "daemon:\n  log_level: { ike: loud }\n")),
      Lines{"office.yaml:2:21: daemon.log_level.ike: \"loud\" is not a log level (expected one of trace | "
            "debug | info | warn | error | critical | off)"});
  auto unknown = errors_of(with("daemon:\n", "daemon:\n  log_level: { kernel: debug }\n"));
  ASSERT_EQ(unknown.size(), 1U);
  EXPECT_NE(unknown[0].find("daemon.log_level"), std::string::npos) << unknown[0];
  EXPECT_NE(unknown[0].find("default, dmn, cfg, ike, net, esp, knl, ctl"), std::string::npos) << unknown[0];
}

TEST(ConfigLoader, WrongShapesAreNamed) {
  EXPECT_EQ(errors_of(with("[10.2.0.0/24]", "10.2.0.0/24")),
            Lines{"office.yaml:11:70: connections.office-b.remote.subnets: expected a list of subnets, got "
                  "\"10.2.0.0/24\""});
  EXPECT_EQ(errors_of(with("[aes256gcm16]", "[]")),
            Lines{"office.yaml:14:20: connections.office-b.esp_proposals: is empty (expected at least one of "
                  "proposals)"});
  EXPECT_EQ(
      errors_of(with("  control_socket: /run/natgate/test.sock", "  control_socket: run/natgate.sock")),
      Lines{"office.yaml:3:19: daemon.control_socket: \"run/natgate.sock\" is not an absolute path (expected "
            "like /run/natgate/natgate.sock)"});
}

TEST(ConfigLoader, ProposalsGoThroughTheValidatorSeam) {
  ConfigLoadOptions options;
  std::vector<std::pair<ProposalKind, std::string>> asked;
  options.validate_proposal = [&](ProposalKind kind, std::string_view p) -> Status {
    asked.emplace_back(kind, std::string(p));
    if (p.find("x2551") != std::string_view::npos)
      return unexpected(std::string("unknown key exchange \"x2551\""));
    return {};
  };
  auto r = load_config_text(with("prfsha384-x25519", "prfsha384-x2551"), "office.yaml", "/", options);
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string(),
            "office.yaml:13:21: connections.office-b.ike_proposals[0]: "
            "\"aes256gcm16-prfsha384-x2551\" is not a valid IKE proposal: unknown key "
            "exchange \"x2551\"");
  EXPECT_EQ(asked,
            (std::vector<std::pair<ProposalKind, std::string>>{
                {ProposalKind::Ike, "aes256gcm16-prfsha384-x2551"}, {ProposalKind::Esp, "aes256gcm16"}}));
}

TEST(ConfigLoader, SyntaxValidatorChecksProposalShape) {
  ConfigLoadOptions options;
  options.validate_proposal = check_proposal_syntax;
  auto r = load_config_text(with("[aes256gcm16]", "[aes256gcm16--x25519]"), "office.yaml", "/", options);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(
      r.errors[0].to_string(),
      "office.yaml:14:21: connections.office-b.esp_proposals[0]: \"aes256gcm16--x25519\" is not a valid "
      "ESP proposal: empty algorithm name (expected algorithm names joined by '-', like aes256gcm16)");
  EXPECT_TRUE(check_proposal_syntax(ProposalKind::Ike, "aes256-sha256-modp2048"));
  EXPECT_FALSE(check_proposal_syntax(ProposalKind::Ike, "AES256"));
  EXPECT_FALSE(check_proposal_syntax(ProposalKind::Esp, ""));
}

TEST(ConfigLoader, DefaultValidatorRefusesUnknownAlgorithms) {
  auto errors = errors_of(with("prfsha384-x25519", "prfsha384-x25591"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("office.yaml:13:21: connections.office-b.ike_proposals[0]: "
                            "\"aes256gcm16-prfsha384-x25591\" is not a valid IKE proposal: ",
                            0),
            0u)
      << errors[0];
  EXPECT_NE(errors[0].find("x25591"), std::string::npos);
  auto r = load(kGood);
  EXPECT_TRUE(r.ok()) << format_diagnostics(r.errors);
}

TEST(ConfigLoader, ReportsEveryErrorInOneRun) {
  auto text = with("    start: initiate\n", "    start: initiate\n    dpd: soon\n",
                   with("[10.2.0.0/24]", "[10.2.0.0/99]"));
  auto errors = errors_of(text);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].rfind("office.yaml:11:71: connections.office-b.remote.subnets[0]:", 0), 0u)
      << errors[0];
  EXPECT_EQ(errors[1].rfind("office.yaml:16:10: connections.office-b.dpd:", 0), 0u) << errors[1];
}

TEST(ConfigLoader, YamlSyntaxErrorIsLocated) {
  auto errors = errors_of(with("    auth: psk\n", "    auth: [psk\n"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("office.yaml:", 0), 0u) << errors[0];
  EXPECT_NE(errors[0].find("YAML syntax error"), std::string::npos) << errors[0];
}

TEST(ConfigLoader, MissingFileIsNamed) {
  auto r = load_config_file("/nonexistent/natgate.yaml");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string(), "/nonexistent/natgate.yaml: cannot open: No such file or directory");
}

class PskFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/natgate-config-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& content, mode_t mode) {
    std::ofstream(dir_ + "/" + name) << content;
    ASSERT_EQ(::chmod((dir_ + "/" + name).c_str(), mode), 0);
  }
  std::string dir_;
};

TEST_F(PskFileTest, RelativePathIsTakenFromTheConfigFolderAndTheNewlineDropped) {
  write("office-b.psk", "file-secret\n", 0600);
  write("natgate.yaml", with("{ psk: \"lab-secret\" }", "{ psk_file: office-b.psk }"), 0644);
  auto r = load_config_file(dir_ + "/natgate.yaml");
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  EXPECT_TRUE(r.warnings.empty()) << format_diagnostics(r.warnings);
  EXPECT_TRUE(*r.config->psk_for("office-b") == SecretBytes(as_bytes("file-secret")));
  EXPECT_EQ(r.config->secrets.at("office-b").psk_file, dir_ + "/office-b.psk");
}

TEST_F(PskFileTest, KeyFileOthersCanReadIsRefusedNamingFileAndMode) {
  write("office-b.psk", "file-secret", 0644);
  EXPECT_EQ(
      errors_of(with("{ psk: \"lab-secret\" }", "{ psk_file: office-b.psk }"), dir_),
      Lines{"office.yaml:5:25: secrets.office-b.psk_file: \"" + dir_ +
            "/office-b.psk\": mode 0644 is readable by group or others; expected 0600 or stricter (file "
            "holds a pre-shared key)"});
  write("office-b.psk", "file-secret", 0620);
  EXPECT_EQ(
      errors_of(with("{ psk: \"lab-secret\" }", "{ psk_file: office-b.psk }"), dir_),
      Lines{"office.yaml:5:25: secrets.office-b.psk_file: \"" + dir_ +
            "/office-b.psk\": mode 0620 gives access to group or others; expected 0600 or stricter (file "
            "holds a pre-shared key)"});
  write("office-b.psk", "file-secret", 0400);
  EXPECT_TRUE(load(with("{ psk: \"lab-secret\" }", "{ psk_file: office-b.psk }"), dir_).ok());
}

// Acceptance of issue 12: inline secrets at 0644 are refused naming the file and its mode; 0600 loads.
TEST_F(PskFileTest, ConfigWithInlineSecretsMustNotBeReadableByOthers) {
  const std::string file = dir_ + "/natgate.yaml";
  write("natgate.yaml", kGood, 0644);
  auto r = load_config_file(file);
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u) << format_diagnostics(r.errors);
  EXPECT_EQ(
      r.errors[0].to_string(),
      file + ": mode 0644 is readable by group or others; expected 0600 or stricter (file holds secrets)");
  ASSERT_EQ(::chmod(file.c_str(), 0640), 0);
  EXPECT_FALSE(load_config_file(file).ok());
  ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
  r = load_config_file(file);
  EXPECT_TRUE(r.ok()) << format_diagnostics(r.errors);
  // EAP passwords are secrets too.
  write("natgate.yaml", with("secrets:\n", "eap_users:\n  carol: { password: \"pw\" }\nsecrets:\n"), 0604);
  r = load_config_file(file);
  ASSERT_EQ(r.errors.size(), 1u) << format_diagnostics(r.errors);
  EXPECT_EQ(
      r.errors[0].to_string(),
      file + ": mode 0604 is readable by group or others; expected 0600 or stricter (file holds secrets)");
}

TEST_F(PskFileTest, ConfigWithoutInlineSecretsMayBeReadable) {
  write("office-b.psk", "file-secret", 0600);
  write("natgate.yaml", with("{ psk: \"lab-secret\" }", "{ psk_file: office-b.psk }"), 0644);
  auto r = load_config_file(dir_ + "/natgate.yaml");
  EXPECT_TRUE(r.ok()) << format_diagnostics(r.errors);
}

TEST_F(PskFileTest, EmptyFileIsRefused) {
  write("office-b.psk", "\n", 0600);
  EXPECT_EQ(errors_of(with("{ psk: \"lab-secret\" }", "{ psk_file: office-b.psk }"), dir_),
            Lines{"office.yaml:5:25: secrets.office-b.psk_file: \"" + dir_ +
                  "/office-b.psk\" is empty (expected the pre-shared key)"});
}

// The examples in configs/, copied as an admin installs them (install -m 0600): git checks them
// out 0644, which natgated refuses for files holding keys.
class ConfigExamples : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/natgate-examples-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    for (const auto& entry : fs::directory_iterator(NATGATE_CONFIGS_DIR)) {
      const fs::path to = fs::path(dir_) / entry.path().filename();
      fs::copy_file(entry.path(), to);
      fs::permissions(to, fs::perms::owner_read | fs::perms::owner_write);
    }
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

// Every example shipped in configs/ must load as it is.
TEST_F(ConfigExamples, EveryExampleLoads) {
  int count = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    if (entry.path().extension() != ".yaml") continue;
    ++count;
    auto r = load_config_file(entry.path().string());
    EXPECT_TRUE(r.ok()) << entry.path() << "\n" << format_diagnostics(r.errors);
    if (r.ok()) {
      EXPECT_FALSE(r.config->connections.empty()) << entry.path();
    }
  }
  EXPECT_GE(count, 2);
}

TEST_F(ConfigExamples, SiteToSitePairMirrorsEachOther) {
  auto a = load_config_file(dir_ + "/site-to-site-a.yaml");
  auto b = load_config_file(dir_ + "/site-to-site-b.yaml");
  ASSERT_TRUE(a.ok()) << format_diagnostics(a.errors);
  ASSERT_TRUE(b.ok()) << format_diagnostics(b.errors);
  const auto& ca = a.config->connections.at(0);
  const auto& cb = b.config->connections.at(0);
  EXPECT_EQ(ca.local.subnets, std::vector<Subnet>{*Subnet::parse("10.1.0.0/24")});
  EXPECT_EQ(ca.local.subnets, cb.remote.subnets);
  EXPECT_EQ(ca.remote.subnets, cb.local.subnets);
  EXPECT_EQ(ca.local.id, cb.remote.id);
  EXPECT_EQ(ca.remote.id, cb.local.id);
  EXPECT_EQ(ca.start, StartAction::Initiate);
  EXPECT_EQ(cb.start, StartAction::Listen);
  EXPECT_TRUE(cb.remote.accepts_any_address());
  // The file on one side and the inline key on the other are the same lab key.
  EXPECT_TRUE(*a.config->psk_for(ca.name) == *b.config->psk_for(cb.name));
}

}  // namespace
}  // namespace natgate::gateway
