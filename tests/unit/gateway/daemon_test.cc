#include "gateway/daemon/daemon.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

#include "gateway/config/config_loader.h"
#include "gateway/control/control_client.h"
#include "gateway/daemon/check_command.h"
#include "gateway/daemon/config_only_core.h"

namespace natgate::gateway {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// ---- data plane choice ------------------------------------------------------------------

KernelEspProber kernel(bool ok) {
  return [ok] {
    return KernelEspProbe{ok, ok ? "ESP SA accepted" : "XFRM refused an ESP SA: Protocol not supported"};
  };
}

TEST(DataplaneChoice, AutoPrefersAKernelWithEsp) {
  auto d = choose_dataplane(DataplaneMode::Auto, {true, true}, kernel(true));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->name, "kernel");
  EXPECT_EQ(d->reason, "auto: kernel has ESP (ESP SA accepted)");
}

TEST(DataplaneChoice, AutoFallsBackToUserspaceAndSaysWhy) {
  auto d = choose_dataplane(DataplaneMode::Auto, {true, true}, kernel(false));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->name, "userspace");
  EXPECT_EQ(d->reason, "auto: kernel ESP not usable (XFRM refused an ESP SA: Protocol not supported)");
}

TEST(DataplaneChoice, KernelDemandedButMissingIsAnError) {
  auto d = choose_dataplane(DataplaneMode::Kernel, {true, true}, kernel(false));
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error(),
            "dataplane: kernel, but the kernel cannot do ESP (XFRM refused an ESP SA: Protocol not "
            "supported); use dataplane: userspace or auto");
  EXPECT_FALSE(choose_dataplane(DataplaneMode::Kernel, {false, true}, kernel(true)));
  EXPECT_FALSE(choose_dataplane(DataplaneMode::Userspace, {true, false}, kernel(true)));
}

TEST(DataplaneChoice, NoBackendAtAllIsNoneNotAnError) {
  auto d = choose_dataplane(DataplaneMode::Auto, {}, {});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->name, "none");
  EXPECT_EQ(d->reason,
            "auto: no data plane available: no kernel backend in this build; no userspace ESP engine in "
            "this build");
}

// ---- the daemon shell -------------------------------------------------------------------

// Records what the shell hands the core. Touched on the io thread and read by the test
// thread, hence the lock.
class RecordingCore : public DaemonCore {
 public:
  std::string description() const override { return "recording core"; }
  void start(const Config& config, DaemonServices& services) override {
    std::lock_guard lock(mu);
    started_with = config.connections.size();
    ike_sockets = services.ike_sockets.size();
    natt_sockets = services.natt_sockets.size();
    dataplane = services.dataplane.name;
  }
  void on_datagram(UdpSocket& socket, const sys::UdpDatagram& d) override {
    std::lock_guard lock(mu);
    datagrams.push_back(to_string(socket.role()) + " " + d.remote.address.to_string() + " -> " +
                        d.local.to_string() + " " + std::string(d.payload.begin(), d.payload.end()));
  }
  Status connection_status(const StatusQuery&, DaemonStatus&) override { return {}; }
  std::map<std::string, std::uint64_t> counters() override { return {{"malformed_dropped", 0}}; }
  void up(const std::string& name, ControlReply reply) override { reply(ControlResult("up " + name)); }
  void down(const std::string& name, ControlReply reply) override { reply(ControlResult("down " + name)); }
  void apply_config(const Config& config, const ConfigDiff& diff) override {
    std::lock_guard lock(mu);
    applied.push_back(diff.summary());
    applied_connections = config.connections.size();
  }
  void shutdown(std::function<void()> done) override {
    std::lock_guard lock(mu);
    shutdowns++;
    if (finish_shutdown) done();
  }

  std::mutex mu;
  std::size_t started_with = 0, ike_sockets = 0, natt_sockets = 0, applied_connections = 0;
  std::string dataplane;
  std::vector<std::string> datagrams;
  std::vector<std::string> applied;
  int shutdowns = 0;
  bool finish_shutdown = true;
};

std::string conn(const std::string& name, const std::string& net) {
  return "  " + name + ":\n    local: { id: gw-a.example.net, subnets: [" + net +
         "] }\n    remote: { address: 127.0.0.1, id: gw-b.example.net, subnets: [10.2.0.0/24] }\n"
         "    auth: psk\n    ike_proposals: [aes256gcm16-prfsha384-x25519]\n    esp_proposals: "
         "[aes256gcm16]\n";
}

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/natgate-daemon-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    socket_ = dir_ + "/run/natgate.sock";
    config_path_ = dir_ + "/natgate.yaml";
  }
  void TearDown() override {
    stop_and_join();
    daemon_.reset();
    fs::remove_all(dir_);
  }

  void write_config(const std::string& connections, const std::string& extra_daemon = "") {
    std::ofstream(config_path_) << "daemon:\n  listen: [127.0.0.1]\n  ike_port: 500\n  natt_port: 4500\n"
                                << "  control_socket: " << socket_ << "\n"
                                << extra_daemon
                                << "secrets:\n  a: { psk: one }\n  b: { psk: two }\n  c: { psk: three }\n"
                                << "connections:\n"
                                << connections;
    fs::permissions(config_path_, fs::perms::owner_read | fs::perms::owner_write);  // it holds keys
  }
  // The file as loaded, with port 0 so parallel tests never collide on a port.
  Config loaded() {
    auto r = load_config_file(config_path_);
    EXPECT_TRUE(r.ok()) << format_diagnostics(r.errors);
    Config c = *r.config;
    c.daemon.ike_port = 0;
    c.daemon.natt_port = 0;
    return c;
  }
  void start(Config config, std::chrono::milliseconds deadline = 2s) {
    DaemonOptions options;
    options.config_path = config_path_;
    options.handle_signals = false;
    options.shutdown_deadline = deadline;
    auto core = std::make_unique<RecordingCore>();
    core_ = core.get();
    daemon_ = std::make_unique<Daemon>(io_, options, std::move(core));
    Status s = daemon_->start(std::move(config));
    ASSERT_TRUE(s) << s.error();
    thread_ = std::thread([this] { io_.run(); });
  }
  void stop_and_join() {
    if (!thread_.joinable()) return;
    asio::post(io_, [this] { daemon_->request_stop(); });
    thread_.join();
  }
  ControlReplyMessage ask(const ControlRequest& r) {
    auto client = ControlClient::connect(socket_);
    EXPECT_TRUE(client) << client.error();
    if (!client) return {};
    auto reply = client->request(r, 3s);
    EXPECT_TRUE(reply) << reply.error();
    return reply ? *reply : ControlReplyMessage{};
  }

  asio::io_context io_;
  std::unique_ptr<Daemon> daemon_;
  RecordingCore* core_ = nullptr;
  std::thread thread_;
  std::string dir_, socket_, config_path_;
};

TEST_F(DaemonTest, StartsBindsAndAnswersStatus) {
  write_config(conn("a", "10.1.0.0/24") + conn("b", "10.3.0.0/24"));
  start(loaded());
  {
    std::lock_guard lock(core_->mu);
    EXPECT_EQ(core_->started_with, 2u);
    EXPECT_EQ(core_->ike_sockets, 1u);
    EXPECT_EQ(core_->natt_sockets, 1u);
    EXPECT_EQ(core_->dataplane, "none");
  }
  auto reply = ask({ControlRequest::Command::Status, ""});
  ASSERT_TRUE(reply.status);
  const DaemonInfo& d = reply.status->daemon;
  EXPECT_EQ(d.pid, ::getpid());
  EXPECT_EQ(d.config, config_path_);
  EXPECT_EQ(d.ike_core, "recording core");
  EXPECT_EQ(d.dataplane.name, "none");
  ASSERT_EQ(d.listening.size(), 2u);
  EXPECT_EQ(d.listening[0].rfind("127.0.0.1:", 0), 0u);
  EXPECT_EQ(d.counters.at("malformed_dropped"), 0u);  // the core's counters are merged in
  EXPECT_EQ(d.counters.at("udp_datagrams_received"), 0u);
}

TEST_F(DaemonTest, DatagramsReachTheCoreWithBothEndpoints) {
  write_config(conn("a", "10.1.0.0/24"));
  start(loaded());
  const Endpoint ike = daemon_->sockets()[0]->local_endpoint();
  const Endpoint natt = daemon_->sockets()[1]->local_endpoint();
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  for (auto [to, text] : {std::pair{ike, "sa_init"}, std::pair{natt, "marker"}}) {
    sockaddr_storage ss{};
    socklen_t len = to.to_sockaddr(ss);
    ::sendto(fd, text, std::strlen(text), 0, reinterpret_cast<sockaddr*>(&ss), len);
  }
  ::close(fd);
  for (int i = 0; i < 100; ++i) {
    {
      std::lock_guard lock(core_->mu);
      if (core_->datagrams.size() == 2) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  {
    std::lock_guard lock(core_->mu);
    EXPECT_EQ(core_->datagrams,
              (std::vector<std::string>{"ike 127.0.0.1 -> " + ike.to_string() + " sa_init",
                                        "natt 127.0.0.1 -> " + natt.to_string() + " marker"}));
  }
  auto reply = ask({ControlRequest::Command::Status, ""});
  ASSERT_TRUE(reply.status);
  EXPECT_EQ(reply.status->daemon.counters.at("udp_datagrams_received"), 2u);
}

TEST_F(DaemonTest, ReloadDiffsTheFileAndHandsTheDiffToTheCore) {
  write_config(conn("a", "10.1.0.0/24") + conn("b", "10.3.0.0/24"));
  start(loaded());
  write_config(conn("a", "10.1.0.0/24") + conn("b", "10.4.0.0/24") + conn("c", "10.5.0.0/24"));
  auto reply = ask({ControlRequest::Command::Reload, ""});
  EXPECT_TRUE(reply.ok);
  // The running sockets came from port 0, the file says 500/4500: a restart's business.
  EXPECT_EQ(reply.message,
            "reloaded " + config_path_ +
                ": added: c; changed: b (local.subnets); unchanged: 1; daemon settings changed: "
                "ike_port, natt_port");
  std::lock_guard lock(core_->mu);
  ASSERT_EQ(core_->applied.size(), 1u);
  EXPECT_EQ(core_->applied_connections, 3u);
}

TEST_F(DaemonTest, FailedReloadKeepsTheRunningConfig) {
  write_config(conn("a", "10.1.0.0/24"));
  start(loaded());
  write_config(conn("a", "10.1.0.0/33"));
  auto reply = ask({ControlRequest::Command::Reload, ""});
  EXPECT_FALSE(reply.ok);
  EXPECT_EQ(reply.message,
            "reload failed, still running the previous config: " + config_path_ +
                ":12:46: connections.a.local.subnets[0]: \"10.1.0.0/33\" is not a subnet (expected "
                "CIDR like 10.1.0.0/24)");
  {
    std::lock_guard lock(core_->mu);
    EXPECT_TRUE(core_->applied.empty());
  }
  auto status = ask({ControlRequest::Command::Status, ""});
  ASSERT_TRUE(status.status);
  EXPECT_EQ(status.status->daemon.counters.at("config_reload_failures"), 1u);
  EXPECT_EQ(status.status->daemon.counters.at("config_reloads"), 0u);
}

TEST_F(DaemonTest, UpAndDownGoToTheCore) {
  write_config(conn("a", "10.1.0.0/24"));
  start(loaded());
  EXPECT_EQ(ask({ControlRequest::Command::Up, "a"}).message, "up a");
  EXPECT_EQ(ask({ControlRequest::Command::Down, "a"}).message, "down a");
}

TEST_F(DaemonTest, StopRunsTheCoreShutdownAndRemovesTheSocket) {
  write_config(conn("a", "10.1.0.0/24"));
  start(loaded());
  ASSERT_TRUE(fs::exists(socket_));
  stop_and_join();  // returns only once io_.run() has returned
  {
    std::lock_guard lock(core_->mu);
    EXPECT_EQ(core_->shutdowns, 1);
  }
  EXPECT_FALSE(fs::exists(socket_));
}

TEST_F(DaemonTest, ACoreThatNeverFinishesIsStoppedAtTheDeadline) {
  write_config(conn("a", "10.1.0.0/24"));
  start(loaded(), 100ms);
  {
    std::lock_guard lock(core_->mu);
    core_->finish_shutdown = false;
  }
  const auto t0 = std::chrono::steady_clock::now();
  asio::post(io_, [this] { daemon_->request_stop(); });
  thread_.join();
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 100ms);
  {
    std::lock_guard lock(core_->mu);
    EXPECT_EQ(core_->shutdowns, 1);
  }
  EXPECT_FALSE(fs::exists(socket_));
}

TEST_F(DaemonTest, BindFailureLeavesNothingBehind) {
  write_config(conn("a", "10.1.0.0/24"));
  Config c = loaded();
  c.daemon.listen.push_back(*IpAddress::parse("192.0.2.1"));  // not ours
  DaemonOptions options;
  options.config_path = config_path_;
  options.handle_signals = false;
  Daemon d(io_, options, std::make_unique<RecordingCore>());
  Status s = d.start(c);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), "cannot bind UDP 192.0.2.1:0: Cannot assign requested address");
  EXPECT_FALSE(fs::exists(socket_));
  EXPECT_TRUE(d.sockets().empty());
}

// ---- ConfigOnlyCore: the shell's test core ---------------------------------------------------

TEST(ConfigOnlyCore, ReportsConfiguredConnectionsDownAndSaysWhy) {
  auto r = load_config_text(
      "secrets:\n  a: { psk: x }\nconnections:\n" + conn("a", "10.1.0.0/24") + "    start: initiate\n",
      "t.yaml", "/");
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  ConfigOnlyCore core;
  DaemonServices services;
  core.start(*r.config, services);
  DaemonStatus all;
  ASSERT_TRUE(core.connection_status({}, all));
  const auto& status = all.connections;
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0].name, "a");
  EXPECT_EQ(status[0].state, ConnectionState::Down);
  EXPECT_EQ(status[0].start, "initiate");
  EXPECT_EQ(status[0].configured_remote, "127.0.0.1");
  EXPECT_EQ(status[0].detail, "natgated has no IKE engine yet: it cannot negotiate");
  EXPECT_FALSE(status[0].ike_sa);

  std::optional<ControlResult> up;
  core.up("a", [&](const ControlResult& r) { up = r; });
  ASSERT_TRUE(up && !*up);
  EXPECT_EQ(up->error(), "cannot bring up a: natgated has no IKE engine yet: it cannot negotiate");
  core.down("zz", [&](const ControlResult& r) { up = r; });
  EXPECT_EQ(up->error(), "no connection named \"zz\"");
}

// ---- natgated --check ---------------------------------------------------------------------

TEST(CheckCommand, PrintsOkWithTheConnectionCount) {
  char tmpl[] = "/tmp/natgate-check-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  // Installed 0600, as the example's inline key requires.
  const std::string path = std::string(tmpl) + "/site-to-site-b.yaml";
  fs::copy_file(std::string(NATGATE_CONFIGS_DIR) + "/site-to-site-b.yaml", path);
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  std::ostringstream out, err;
  EXPECT_EQ(run_config_check(path, out, err), 0);
  EXPECT_EQ(out.str(), path + ": OK, 1 connection\n");
  EXPECT_EQ(err.str(), "");
  fs::remove_all(tmpl);
}

TEST(CheckCommand, PrintsEveryErrorAndFails) {
  char tmpl[] = "/tmp/natgate-check-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string path = std::string(tmpl) + "/bad.yaml";
  std::ofstream(path) << "daemon:\n  ike_port: 0\n  natt_port: 70000\n";
  std::ostringstream out, err;
  EXPECT_EQ(run_config_check(path, out, err), 1);
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(err.str(),
            path + ":2:13: daemon.ike_port: \"0\" is not a port (expected an integer 1-65535)\n" + path +
                ":3:14: daemon.natt_port: \"70000\" is not a port (expected an integer 1-65535)\n" + path +
                ": 2 errors\n");
  fs::remove_all(tmpl);
}

}  // namespace
}  // namespace natgate::gateway
