#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "fake_control_handler.h"
#include "gateway/control/control_server.h"
#include "sample_status.h"
#include "tools/cli/cli_app.h"
#include "tools/cli/status_view.h"

namespace natgate::cli {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using gateway::testing::sample_status;

TEST(StatusView, SecondsReadLikeAClock) {
  EXPECT_EQ(format_seconds(0), "0s");
  EXPECT_EQ(format_seconds(59), "59s");
  EXPECT_EQ(format_seconds(60), "1m");
  EXPECT_EQ(format_seconds(3725), "1h 2m 5s");
  EXPECT_EQ(format_seconds(90061), "1d 1h 1m 1s");
  EXPECT_EQ(format_seconds(7200), "2h");
}

TEST(StatusView, ShowsTheDaemonAndEachConnectionAsATree) {
  EXPECT_EQ(format_status(sample_status()),
            "natgated 0.1.0 (pid 4242), up 2h 3m 4s, config /etc/natgate/natgate.yaml\n"
            "  data plane: userspace (kernel has no ESP support (CONFIG_INET_ESP))\n"
            "  IKE core:   test core\n"
            "  listening:  0.0.0.0:500, 0.0.0.0:4500\n"
            "\n"
            "office-b: ESTABLISHED, IKEv2, 0123456789abcdef_i* fedcba9876543210_r (start initiate, remote "
            "198.51.100.20)\n"
            "  local  'gw-a.example.net' @ 192.168.1.10[4500] (behind NAT)\n"
            "  remote 'gw-b.example.net' @ 198.51.100.20[4500]\n"
            "  aes256gcm16-prfsha384-x25519\n"
            "  established 1h 2m 5s ago, rekeying in 2h 57m 55s\n"
            "  encapsulation: ESP in UDP (RFC 3948)\n"
            "  office-b: INSTALLED, TUNNEL-in-UDP, ESP SPIs: c1a2b3c4_i 0000beef_o\n"
            "    aes256gcm16, 1536000 bytes_i (1200 pkts), 2048 bytes_o (16 pkts), rekeying in 50m\n"
            "    local  10.1.0.0/24\n"
            "    remote 10.2.0.0/24\n"
            "\n"
            "office-c: DOWN (start listen, remote any)\n"
            "  local  'gw-a.example.net'\n"
            "  remote 'alice@example.net'\n"
            "  waiting for the peer\n");
}

TEST(StatusView, ResponderMarksThePeersSpiAsTheInitiators) {
  auto s = sample_status();
  s.connections[0].ike_sa->initiator = false;
  s.connections.resize(1);
  std::string text = format_status(s);
  EXPECT_NE(text.find("0123456789abcdef_i fedcba9876543210_r*"), std::string::npos) << text;
}

TEST(StatusView, AMediatedConnectionShowsItsPathAndWhy) {
  auto s = sample_status();
  s.connections[0].path = "direct";
  s.connections[0].path_reason = "candidate pair 3 192.168.1.2:4500 - 198.51.100.11:24711 succeeded";
  std::string text = format_status(s);
  EXPECT_NE(text.find("  path: direct (candidate pair 3 192.168.1.2:4500 - 198.51.100.11:24711 succeeded)\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("path:"), text.rfind("path:")) << "only the mediated connection has a path line";
}

TEST(StatusView, NoConnectionsSaysSo) {
  auto s = sample_status();
  s.connections.clear();
  std::string text = format_status(s);
  EXPECT_EQ(text.substr(text.rfind('\n', text.size() - 2) + 1), "no connections configured\n");
}

// The CLI against a control server on a temporary socket.
class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/natgate-cli-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    socket_ = dir_ + "/natgate.sock";
    auto server = gateway::ControlServer::open(io_, socket_, handler_);
    ASSERT_TRUE(server) << server.error();
    server_ = std::move(*server);
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    if (thread_.joinable()) {
      std::promise<void> closed;
      asio::post(io_, [&] {
        server_->close();
        closed.set_value();
      });
      closed.get_future().wait();
      work_.reset();
      io_.stop();
      thread_.join();
    }
    server_.reset();
    fs::remove_all(dir_);
  }
  int run(std::vector<std::string> args) {
    out_.str("");
    err_.str("");
    args.insert(args.begin(), {"natgate", "--socket", socket_});
    return run_cli(args, out_, err_);
  }

  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{io_.get_executor()};
  gateway::testing::FakeHandler handler_{io_};
  std::unique_ptr<gateway::ControlServer> server_;
  std::thread thread_;
  std::string dir_, socket_;
  std::ostringstream out_, err_;
};

TEST_F(CliTest, StatusPrintsTheTree) {
  EXPECT_EQ(run({"status"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), format_status(sample_status()));
  EXPECT_EQ(err_.str(), "");
}

TEST_F(CliTest, StatusJsonPrintsTheDaemonsJson) {
  EXPECT_EQ(run({"status", "--json"}), 0) << err_.str();
  EXPECT_EQ(nlohmann::json::parse(out_.str()), gateway::status_to_json(sample_status()));
}

TEST_F(CliTest, StatusFiltersGoToTheDaemon) {
  EXPECT_EQ(run({"status", "--conn", "office-b", "--id", "fqdn:alice.lab", "--peer", "192.0.2.7:4500"}), 0)
      << err_.str();
  EXPECT_EQ(handler_.calls(),
            (std::vector<std::string>{"status conn=office-b id=fqdn:alice.lab peer=192.0.2.7:4500"}));
  // The daemon answered with office-b alone (the fake filters by connection only).
  auto only = sample_status();
  only.connections.resize(1);
  EXPECT_EQ(out_.str(), format_status(only));
}

TEST_F(CliTest, StatusOfAnUnknownConnectionFails) {
  EXPECT_EQ(run({"status", "--conn", "office-x"}), 1);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(), "natgate: no connection named \"office-x\"\n");
  EXPECT_EQ(run({"status", "--json", "--conn", "office-x"}), 1);
  EXPECT_EQ(out_.str(), "");
}

TEST_F(CliTest, StatusSummaryPrintsCountsOnly) {
  EXPECT_EQ(run({"status", "--summary"}), 0) << err_.str();
  const std::string text = out_.str();
  EXPECT_NE(text.find("IKE SAs: 3 (connecting 1, established 2), CHILD SAs: 2, half-open: 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("rw: 3 IKE SAs (2 established), 2 CHILD SAs, pool rw: 2 leases online, 5 recorded, 254 "
                      "addresses\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("office-c: 0 IKE SAs (0 established), 0 CHILD SAs\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("office-b:"), std::string::npos) << "no connection listed";
  EXPECT_EQ(run({"status", "--summary", "--json"}), 0) << err_.str();
  auto j = nlohmann::json::parse(out_.str());
  EXPECT_EQ(j.at("summary").at("ike_sas"), 3);
  EXPECT_EQ(j.at("summary").at("connections").at(0).at("pool_size"), 254);
  EXPECT_TRUE(j.at("connections").empty());
  EXPECT_EQ(handler_.calls(), (std::vector<std::string>{"status summary", "status summary"}));
}

TEST_F(CliTest, OverlongFiltersAreUsageErrors) {
  const std::string huge(gateway::StatusQuery::kMaxFilterBytes + 1, 'a');
  EXPECT_NE(run({"status", "--id", huge}), 0);
  EXPECT_NE(run({"status", "--conn", huge}), 0);
  EXPECT_NE(run({"status", "--peer", huge}), 0);
  EXPECT_NE(run({"status", "--conn"}), 0);
  EXPECT_TRUE(handler_.calls().empty());
  // At the limit it goes through (and the daemon says what it thinks of it).
  EXPECT_EQ(run({"status", "--conn", huge.substr(1)}), 1);
  EXPECT_EQ(handler_.calls().size(), 1u);
}

TEST_F(CliTest, HelpNamesTheStatusOptions) {
  EXPECT_EQ(run({"status", "--help"}), 0);
  for (const char* option : {"--conn", "--id", "--peer", "--summary", "--json"})
    EXPECT_NE(out_.str().find(option), std::string::npos) << option;
}

TEST_F(CliTest, HelpStartsWithTheProgramName) {
  EXPECT_EQ(run({"--help"}), 0);
  EXPECT_EQ(out_.str().rfind("natgate", 0), 0u) << out_.str();
  EXPECT_NE(out_.str().find("Usage: natgate "), std::string::npos) << out_.str();
  for (const char* command : {"list", "rekey", "counters", "terminate", "events"})
    EXPECT_NE(out_.str().find(command), std::string::npos) << command;
}

// The daemon's counters left the human status for a command of their own.
TEST_F(CliTest, CountersPrintOneCounterALine) {
  EXPECT_EQ(run({"counters"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "ike_datagrams_received  12\nmalformed_dropped       3\n");
  EXPECT_EQ(run({"counters", "--json"}), 0) << err_.str();
  EXPECT_EQ(nlohmann::json::parse(out_.str()),
            nlohmann::json::parse(R"({"ike_datagrams_received":12,"malformed_dropped":3})"));
  EXPECT_EQ(run({"status"}), 0);
  EXPECT_EQ(out_.str().find("malformed_dropped"), std::string::npos);
  // Asked for without listing SAs: the summary.
  EXPECT_EQ(handler_.calls().front(), "status summary");
}

TEST_F(CliTest, ListPrintsEachIkeSaOnALineWithItsChildSasBeneath) {
  EXPECT_EQ(run({"list", "--conn", "office-b"}), 0) << err_.str();
  EXPECT_EQ(out_.str(),
            "office-b: ESTABLISHED 'gw-b.example.net' @ 198.51.100.20[4500] IKE 0123456789abcdef_i* "
            "fedcba9876543210_r up 1h 2m 5s rekey 2h 57m 55s\n"
            "  office-b c1a2b3c4_i 0000beef_o 10.1.0.0/24 === 10.2.0.0/24 1536000/2048 B in/out rekey 50m\n");
  EXPECT_EQ(handler_.calls().back(), "status conn=office-b list");
  EXPECT_EQ(run({"list"}), 0) << err_.str();
  EXPECT_NE(out_.str().find("\noffice-c: DOWN (waiting for the peer)\n"), std::string::npos) << out_.str();
  EXPECT_EQ(run({"list", "--json"}), 0) << err_.str();
  auto j = nlohmann::json::parse(out_.str());
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["connection"], "office-b");
  EXPECT_EQ(j[0]["ike_sa"]["spi_i"], "0123456789abcdef");
  EXPECT_EQ(j[0]["child_sas"][0]["spi_in"], "c1a2b3c4");
}

TEST_F(CliTest, RekeyGoesToTheDaemon) {
  EXPECT_EQ(run({"rekey", "--child", "c1a2b3c4"}), 0) << err_.str();
  EXPECT_EQ(out_.str(), "rekeying 1 CHILD SA\n");
  EXPECT_EQ(run({"rekey", "--ike", "0123456789abcdef"}), 0) << err_.str();
  EXPECT_EQ(run({"rekey", "--conn", "office-b", "--child", "office-b"}), 0) << err_.str();
  EXPECT_NE(run({"rekey"}), 0);                                       // needs a selector
  EXPECT_NE(run({"rekey", "--ike", "01", "--child", "x"}), 0);        // one kind at a time
  EXPECT_NE(run({"rekey", "--ike", "01", "--conn", "office-b"}), 0);  // --ike goes alone
  EXPECT_EQ(handler_.calls(), (std::vector<std::string>{"rekey child=c1a2b3c4", "rekey ike=0123456789abcdef",
                                                        "rekey child=office-b conn=office-b"}));
}

TEST_F(CliTest, UpDownReloadPrintTheDaemonsAnswer) {
  EXPECT_EQ(run({"up", "office-b"}), 0);
  EXPECT_EQ(out_.str(), "initiating office-b\n");
  EXPECT_EQ(run({"down", "office-b"}), 0);
  EXPECT_EQ(out_.str(), "closed office-b\n");
  EXPECT_EQ(run({"reload"}), 0);
  EXPECT_EQ(out_.str(), "reloaded: unchanged: 2\n");
  EXPECT_EQ(handler_.calls(), (std::vector<std::string>{"up office-b", "down office-b", "reload"}));
}

TEST_F(CliTest, RefusalsGoToStderrWithExitCode1) {
  EXPECT_EQ(run({"up", "office-x"}), 1);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(), "natgate: no connection named \"office-x\"\n");
}

TEST_F(CliTest, UsageErrorsFailWithoutContactingTheDaemon) {
  EXPECT_NE(run({}), 0);
  EXPECT_NE(run({"up"}), 0);
  EXPECT_NE(run({"frobnicate"}), 0);
  EXPECT_TRUE(handler_.calls().empty());
}

TEST(Cli, SaysWhenNatgatedIsNotRunning) {
  std::ostringstream out, err;
  EXPECT_EQ(run_cli({"natgate", "--socket", "/nonexistent/natgate.sock", "status"}, out, err), 1);
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(
      err.str(),
      "natgate: cannot connect to /nonexistent/natgate.sock: No such file or directory \u2014 is natgated "
      "running?\n");
}

}  // namespace
}  // namespace natgate::cli
