// include:, secrets_file: and eap_users_file: (config_include.h): files merged in order, every
// finding located in the file it is about, conflicts between files named with both places.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gateway/config/config_loader.h"

namespace natgate::gateway {
namespace {

namespace fs = std::filesystem;

constexpr const char* kMain = R"(daemon:
  listen: [0.0.0.0]
  control_socket: /run/natgate/test.sock
include: conf.d/*.yaml
secrets:
  office-b: { psk: "lab-secret" }
)";

// A connection named NAME to a peer at .20 + index.
std::string connection(const std::string& name, int index) {
  return "connections:\n  " + name +
         ":\n    local: { id: gw-a.example.net, subnets: [10.1.0.0/24] }\n"
         "    remote: { address: 198.51.100." +
         std::to_string(20 + index) + ", id: " + name + ".example.net, subnets: [10.2." +
         std::to_string(index) +
         ".0/24] }\n    auth: psk\n    ike_proposals: [aes256gcm16-prfsha384-x25519]\n"
         "    esp_proposals: [aes256gcm16]\n";
}

class ConfigInclude : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/natgate-include-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ + "/conf.d");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& content, mode_t mode = 0600) {
    std::ofstream(dir_ + "/" + name) << content;
    ASSERT_EQ(::chmod((dir_ + "/" + name).c_str(), mode), 0);
  }
  static std::string with_include(const std::string& value) {
    std::string text = kMain;
    text.replace(text.find("conf.d/*.yaml"), 13, value);
    return text;
  }
  ConfigLoadResult load() { return load_config_file(dir_ + "/natgate.yaml"); }
  std::vector<std::string> errors() {
    auto r = load();
    EXPECT_FALSE(r.ok());
    std::vector<std::string> out;
    for (const auto& e : r.errors) out.push_back(e.to_string());
    return out;
  }
  std::string dir_;
};

using Lines = std::vector<std::string>;

TEST_F(ConfigInclude, MergesTheMatchesInSortedOrderWithPathsRelativeToEachFile) {
  write("natgate.yaml", kMain);
  write("conf.d/20-office-c.yaml", connection("office-c", 2));
  write("conf.d/10-office-b.yaml", connection("office-b", 1));
  // A secret with a key file next to the file that names it.
  write("conf.d/30-secret.yaml", "secrets:\n  office-c: { psk_file: office-c.psk }\n");
  write("conf.d/office-c.psk", "from-conf-d\n");
  write("conf.d/notes.txt", "not: yaml: at all: [");  // does not match *.yaml
  auto r = load();
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  const Config& c = *r.config;
  EXPECT_EQ(c.source, dir_ + "/natgate.yaml");
  ASSERT_EQ(c.connections.size(), 2u);
  EXPECT_EQ(c.connections[0].name, "office-b");
  EXPECT_EQ(c.connections[1].name, "office-c");
  ASSERT_NE(c.psk_for("office-c"), nullptr);
  EXPECT_EQ(c.secrets.at("office-c").psk_file, dir_ + "/conf.d/office-c.psk");
  EXPECT_EQ(std::string(c.psk_for("office-c")->view().begin(), c.psk_for("office-c")->view().end()),
            "from-conf-d");
  EXPECT_EQ(c.daemon.control_socket, "/run/natgate/test.sock");
}

TEST_F(ConfigInclude, AConnectionInTwoFilesIsReportedWithBothLocations) {
  write("natgate.yaml", std::string(kMain) + connection("office-b", 1));
  write("conf.d/office-b.yaml", "\n" + connection("office-b", 2));
  EXPECT_EQ(errors(), Lines{dir_ + "/conf.d/office-b.yaml:3:3: connections.office-b: defined twice, at " +
                            dir_ + "/natgate.yaml:8:3 and at " + dir_ +
                            "/conf.d/office-b.yaml:3:3 (expected it in one file only)"});
}

TEST_F(ConfigInclude, ADaemonKeySecretOrPoolInTwoFilesIsAConflictToo) {
  write("natgate.yaml", std::string(kMain) + connection("office-b", 1));
  write("conf.d/a.yaml",
        "daemon:\n  listen: [127.0.0.1]\nsecrets:\n  office-b: { psk: other }\npools:\n  rw: { addresses: "
        "10.9.0.0/24 }\n");
  write("conf.d/b.yaml", "pools:\n  rw: { addresses: 10.8.0.0/24 }\n");
  const std::string a = dir_ + "/conf.d/a.yaml", b = dir_ + "/conf.d/b.yaml", m = dir_ + "/natgate.yaml";
  EXPECT_EQ(errors(), (Lines{a + ":2:3: daemon.listen: defined twice, at " + m + ":2:3 and at " + a +
                                 ":2:3 (expected it in one file only)",
                             a + ":4:3: secrets.office-b: defined twice, at " + m + ":6:3 and at " + a +
                                 ":4:3 (expected it in one file only)",
                             b + ":2:3: pools.rw: defined twice, at " + a + ":6:3 and at " + b +
                                 ":2:3 (expected it in one file only)"}));
}

TEST_F(ConfigInclude, UnknownKeysAndSyntaxErrorsAreLocatedInTheIncludedFile) {
  write("natgate.yaml", kMain);
  write("conf.d/a.yaml", connection("office-b", 1) + "    colour: blue\n");
  write("conf.d/b.yaml", "connections: [\n");
  write("conf.d/c.yaml", "deamon: {}\n");
  const std::string d = dir_ + "/conf.d/";
  auto e = errors();
  ASSERT_EQ(e.size(), 3u) << testing::PrintToString(e);
  EXPECT_EQ(e[0].rfind(d + "b.yaml:2:1: YAML syntax error: ", 0), 0u) << e[0];
  EXPECT_EQ(e[1],
            d + "c.yaml:1:1: deamon: unknown key (did you mean \"daemon\"?); allowed keys: daemon, secrets, "
                "eap_users, pools, connections, include, secrets_file, eap_users_file");
  EXPECT_EQ(e[2].rfind(d + "a.yaml:8:5: connections.office-b.colour: unknown key; allowed keys: local,", 0),
            0u)
      << e[2];
}

TEST_F(ConfigInclude, NestedIncludesAreRelativeToTheIncludingFileAndCyclesAreRefused) {
  write("natgate.yaml", kMain);
  fs::create_directories(dir_ + "/conf.d/sites");
  write("conf.d/sites.yaml", "include: [sites/*.yaml]\n");
  write("conf.d/sites/b.yaml", connection("office-b", 1));
  auto r = load();
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  ASSERT_EQ(r.config->connections.size(), 1u);

  write("conf.d/sites/c.yaml", "include: ../../natgate.yaml\n");
  auto e = errors();
  ASSERT_EQ(e.size(), 1u) << testing::PrintToString(e);
  EXPECT_EQ(
      e[0],
      dir_ + "/conf.d/sites/c.yaml:1:10: include: \"" + dir_ +
          "/conf.d/sites/../../natgate.yaml\" is already part of the configuration (an include cycle, or "
          "two patterns matching one file)");
}

TEST_F(ConfigInclude, AMissingNamedFileIsAnErrorButAnEmptyConfDIsNot) {
  write("natgate.yaml", with_include("conf.d/*.yaml"));
  EXPECT_TRUE(load().ok());
  write("natgate.yaml", with_include("[conf.d/*.yaml, extra.yaml]"));
  EXPECT_EQ(errors(), Lines{dir_ + "/natgate.yaml:4:26: include[1]: \"" + dir_ +
                            "/extra.yaml\": cannot open: No such file or directory"});
  write("natgate.yaml", with_include("{ a: b }"));
  EXPECT_EQ(
      errors(),
      Lines{dir_ +
            "/natgate.yaml:4:10: include: expected a file pattern like conf.d/*.yaml, or a list of them"});
}

TEST_F(ConfigInclude, SecretsFileHoldsTheSecretsAndMustBePrivate) {
  write("natgate.yaml", std::string(R"(daemon: { control_socket: /run/natgate/test.sock }
secrets_file: secrets.yaml
)") + connection("office-b", 1));
  write("secrets.yaml", "office-b: { psk: \"from-secrets-file\" }\n", 0600);
  auto r = load();
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  ASSERT_NE(r.config->psk_for("office-b"), nullptr);
  EXPECT_EQ(r.config->psk_for("office-b")->size(), std::string("from-secrets-file").size());

  ASSERT_EQ(::chmod((dir_ + "/secrets.yaml").c_str(), 0640), 0);
  EXPECT_EQ(errors(),
            Lines{dir_ + "/secrets.yaml: mode 0640 is readable by group or others; expected 0600 or "
                         "stricter (file holds secrets)"});

  ASSERT_EQ(::chmod((dir_ + "/secrets.yaml").c_str(), 0600), 0);
  write("secrets.yaml", "office-b: { psk: x, pks_file: y }\n", 0600);
  EXPECT_EQ(errors(), Lines{dir_ + "/secrets.yaml:1:21: secrets.office-b.pks_file: unknown key (did you mean "
                                   "\"psk_file\"?); allowed keys: id, psk, psk_file"});
}

TEST_F(ConfigInclude, EapUsersFileHoldsThePasswordsAndMustBePrivate) {
  std::string main_text = R"(daemon: { control_socket: /run/natgate/test.sock }
eap_users_file: )" + dir_ +
                          "/eap-users.yaml\n";
  write("natgate.yaml", main_text);
  write("eap-users.yaml", "carol: { password: \"carol-pass\" }\ndave: { password: \"dave-pass\" }\n", 0600);
  auto r = load();
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  EXPECT_EQ(r.config->eap_users.size(), 2u);
  EXPECT_EQ(r.config->eap_users.count("carol"), 1u);

  ASSERT_EQ(::chmod((dir_ + "/eap-users.yaml").c_str(), 0604), 0);
  EXPECT_EQ(errors(),
            Lines{dir_ + "/eap-users.yaml: mode 0604 is readable by group or others; expected 0600 or "
                         "stricter (file holds EAP passwords)"});
  // The same user inline and in the file: a conflict, not a silent override.
  ASSERT_EQ(::chmod((dir_ + "/eap-users.yaml").c_str(), 0600), 0);
  write("natgate.yaml", main_text + "eap_users:\n  carol: { password: other }\n", 0600);
  EXPECT_EQ(errors(),
            Lines{dir_ + "/eap-users.yaml:1:1: eap_users.carol: defined twice, at " + dir_ +
                  "/natgate.yaml:4:3 and at " + dir_ + "/eap-users.yaml:1:1 (expected it in one file only)"});
}

TEST_F(ConfigInclude, InlineSecretsInAnIncludedFileNeedItToBePrivate) {
  std::string main_text = kMain;
  main_text.erase(main_text.find("secrets:"));
  write("natgate.yaml", main_text + connection("office-b", 1), 0644);
  write("conf.d/secrets.yaml", "secrets:\n  office-b: { psk: \"lab-secret\" }\n", 0644);
  EXPECT_EQ(errors(),
            Lines{dir_ + "/conf.d/secrets.yaml: mode 0644 is readable by group or others; expected 0600 "
                         "or stricter (file holds secrets)"});
}

}  // namespace
}  // namespace natgate::gateway
