// The authentication part of the YAML (gateway/config/auth_settings.h): certificates, keys, CAs,
// CRLs, EAP users and fragmentation, with file:line:key errors for what cannot work. The test PKI
// is made at test time with the openssl command-line tool.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "gateway/config/config_loader.h"

namespace natgate::gateway {
namespace {

namespace fs = std::filesystem;

class AuthConfig : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("natgate-authcfg-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    const std::string d = dir_.string();
    const std::string ec = "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ";
    const std::string cmd =
        "cd " + d + " && " + ec + "ca.key && " + ec + "gw.key && " + ec + "other.key && " +
        "openssl req -x509 -new -key ca.key -subj /CN=Test-CA -days 30 -out ca.pem "
        "-addext basicConstraints=critical,CA:true && "
        "openssl req -new -key gw.key -subj /CN=gw.example.net -out gw.csr && "
        "printf 'subjectAltName=DNS:gw.example.net\\n' > gw.ext && "
        "openssl x509 -req -in gw.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 "
        "-extfile gw.ext -out gw.pem && "
        // A 1024-bit RSA key with its certificate, and a readable copy of gw.key.
        "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out weak.key && "
        "openssl req -new -key weak.key -subj /CN=gw.example.net -out weak.csr && "
        "openssl x509 -req -in weak.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 "
        "-extfile gw.ext -out weak.pem && "
        "cp gw.key readable.key && chmod 0644 readable.key";
    ASSERT_EQ(std::system((cmd + " >/dev/null 2>&1").c_str()), 0) << cmd;
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static std::string config(const std::string& auth_lines, const std::string& extra_top = "") {
    return extra_top +
           "connections:\n"
           "  gw:\n"
           "    local:\n"
           "      id: gw.example.net\n"
           "      subnets: [10.1.0.0/24]\n"
           "      cert: gw.pem\n"
           "      key: gw.key\n"
           "    remote: { address: any, id: carol@example.net, subnets: [10.3.0.0/24] }\n" +
           auth_lines +
           "    ike_proposals: [aes256gcm16-prfsha256-x25519]\n"
           "    esp_proposals: [aes256gcm16]\n";
  }
  static ConfigLoadResult load(const std::string& text) {
    return load_config_text(text, "gw.yaml", dir_.string());
  }
  static std::string errors(const std::string& text) {
    auto r = load(text);
    EXPECT_FALSE(r.ok());
    return format_diagnostics(r.errors);
  }
  static inline fs::path dir_;
};

TEST_F(AuthConfig, PubkeyWithDaemonCaLoads) {
  auto r = load(config("    auth: pubkey\n    fragmentation: { enabled: true, size: 1400 }\n",
                       "daemon: { ca: [ca.pem] }\n"));
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  const auto& c = r.config->connections.at(0);
  EXPECT_EQ(c.auth, AuthMode::Pubkey);
  EXPECT_EQ(c.local.auth.cert, (dir_ / "gw.pem").string());
  EXPECT_EQ(r.config->daemon.trust.ca.at(0), (dir_ / "ca.pem").string());
  EXPECT_EQ(c.fragmentation.size, 1400u);
  EXPECT_EQ(local_auth_mode(c.auth, c.local.auth), AuthMode::Pubkey);
}

TEST_F(AuthConfig, EapMschapv2GatewaySignsAndChecksUsers) {
  auto r = load(config("    auth: eap-mschapv2\n", "eap_users: { carol: { password: \"pw\" } }\n"));
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  const auto& c = r.config->connections.at(0);
  EXPECT_EQ(local_auth_mode(c.auth, c.local.auth), AuthMode::Pubkey);
  EXPECT_EQ(remote_auth_mode(c.auth, c.local.auth, c.remote.auth), AuthMode::EapMschapv2);
  EXPECT_EQ(r.config->connections.at(0).fragmentation.size, 1280u);  // strongSwan's default
  EXPECT_NE(errors(config("    auth: eap-mschapv2\n"))
                .find("gw.yaml:9:11: connections.gw.auth: the peer "
                      "authenticates by eap-mschapv2 but eap_users is empty"),
            std::string::npos)
      << errors(config("    auth: eap-mschapv2\n"));
}

TEST_F(AuthConfig, KeyOfAnotherCertificateIsRefusedAtTheKey) {
  std::string text = config("    auth: pubkey\n", "daemon: { ca: [ca.pem] }\n");
  text.replace(text.find("key: gw.key"), 11, "key: other.key");
  auto e = errors(text);
  EXPECT_NE(e.find("gw.yaml:8:12: connections.gw.local.key: "), std::string::npos) << e;
  EXPECT_NE(e.find("is not the key of the certificate"), std::string::npos) << e;
}

// Issue 12 items 8 and 9: our own private key must be private and strong enough.
TEST_F(AuthConfig, KeyFileOthersCanReadIsRefusedNamingFileAndMode) {
  std::string text = config("    auth: pubkey\n", "daemon: { ca: [ca.pem] }\n");
  text.replace(text.find("key: gw.key"), 11, "key: readable.key");
  EXPECT_EQ(errors(text),
            "gw.yaml:8:12: connections.gw.local.key: \"" + (dir_ / "readable.key").string() +
                "\": mode 0644 is readable by group or others; expected 0600 or stricter (file holds "
                "a private key)\n");
  EXPECT_TRUE(load(config("    auth: pubkey\n", "daemon: { ca: [ca.pem] }\n")).ok());  // gw.key is 0600
}

TEST_F(AuthConfig, WeakOwnKeyIsAConfigError) {
  std::string text = config("    auth: pubkey\n", "daemon: { ca: [ca.pem] }\n");
  text.replace(text.find("cert: gw.pem"), 12, "cert: weak.pem");
  text.replace(text.find("key: gw.key"), 11, "key: weak.key");
  const std::string e = errors(text);
  EXPECT_NE(e.find("gw.yaml:7:13: connections.gw.local.cert: \"" + (dir_ / "weak.pem").string() +
                   "\": the certificate's key RSA-1024 is below the minimum of 2048 bits"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("gw.yaml:8:12: connections.gw.local.key: \"" + (dir_ / "weak.key").string() +
                   "\": RSA-1024 is below the minimum of 2048 bits"),
            std::string::npos)
      << e;
}

TEST_F(AuthConfig, AuthSha1IsRefusedByDefaultAndCanBeAllowed) {
  auto r = load(config("    auth: pubkey\n", "daemon: { ca: [ca.pem] }\n"));
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  EXPECT_FALSE(r.config->connections.at(0).remote.auth.allow_sha1);
  std::string text = config("    auth: pubkey\n", "daemon: { ca: [ca.pem] }\n");
  text.replace(text.find("subnets: [10.3.0.0/24] }"), 24, "subnets: [10.3.0.0/24], auth_sha1: allow }");
  r = load(text);
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  EXPECT_TRUE(r.config->connections.at(0).remote.auth.allow_sha1);
  text.replace(text.find("auth_sha1: allow"), 16, "auth_sha1: maybe");
  EXPECT_NE(
      errors(text).find("connections.gw.remote.auth_sha1: \"maybe\" is not allowed here (expected allow or "
                        "refuse)"),
      std::string::npos)
      << errors(text);
}

TEST_F(AuthConfig, IdentityNotInCertificateIsRefusedAtTheCert) {
  std::string text = config("    auth: pubkey\n", "daemon: { ca: [ca.pem] }\n");
  text.replace(text.find("id: gw.example.net"), 18, "id: vpn.example.net");
  auto e = errors(text);
  EXPECT_NE(e.find("gw.yaml:7:13: connections.gw.local.cert: "), std::string::npos) << e;
  EXPECT_NE(e.find("does not carry local.id vpn.example.net"), std::string::npos) << e;
}

TEST_F(AuthConfig, PubkeyWithoutCaMissingFilesAndBadSizes) {
  auto e = errors(config("    auth: pubkey\n"));
  EXPECT_NE(e.find("gw.yaml:9:11: connections.gw.auth: the peer authenticates by pubkey but no CA"),
            std::string::npos)
      << e;
  e = errors(config("    auth: pubkey\n", "daemon: { ca: [missing.pem], crl: [gw.pem] }\n"));
  EXPECT_NE(e.find("gw.yaml:1:16: daemon.ca[0]: cannot use"), std::string::npos) << e;
  EXPECT_NE(e.find("daemon.crl[0]: cannot use"), std::string::npos) << e;
  e = errors(config("    auth: pubkey\n    fragmentation: { size: 100 }\n", "daemon: { ca: [ca.pem] }\n"));
  EXPECT_NE(e.find("connections.gw.fragmentation.size"), std::string::npos) << e;
  e = errors(config("    auth: certs\n"));
  EXPECT_NE(e.find("connections.gw.auth: \"certs\" is not allowed here (expected one of psk | pubkey | "
                   "eap-mschapv2 | eap-tls)"),
            std::string::npos)
      << e;
}

}  // namespace
}  // namespace natgate::gateway
