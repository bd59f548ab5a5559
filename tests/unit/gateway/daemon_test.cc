#include "gateway/daemon/daemon.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <cstring>
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
#include "gateway/daemon/systemd_watchdog.h"
#include "sys/unique_fd.h"

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
  Status connection_status(const StatusQuery& query, DaemonStatus& out) override {
    if (query.summary) {
      std::lock_guard lock(mu);
      out.summary = summary;
    }
    return {};
  }
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
  StatusSummary summary;
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

// A datagram socket standing in for systemd's $NOTIFY_SOCKET, with the watchdog variables set
// for this process while it lives.
class FakeSystemd {
 public:
  explicit FakeSystemd(const std::string& dir) : path_(dir + "/notify") {
    fd_ = sys::UniqueFd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
    timeval tv{0, 100'000};
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
    ::setenv("WATCHDOG_USEC", "100000", 1);
    ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  }
  ~FakeSystemd() {
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
  }
  FakeSystemd(const FakeSystemd&) = delete;
  FakeSystemd& operator=(const FakeSystemd&) = delete;

  // The next notification, "" after 100 ms without one.
  std::string next() {
    char buf[512];
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }

 private:
  std::string path_;
  sys::UniqueFd fd_;
};

TEST_F(DaemonTest, PingsTheSystemdWatchdogFromTheLoopAndReportsStatus) {
  FakeSystemd systemd(dir_);
  write_config(conn("a", "10.1.0.0/24") + conn("b", "10.3.0.0/24"));
  auto config = loaded();
  start(config);
  std::vector<std::string> seen;
  int pings = 0;
  bool status_changed = false;
  for (int i = 0; i < 60 && (pings < 3 || !status_changed); ++i) {  // at most ~6 s
    std::string n = systemd.next();
    if (n.empty()) continue;
    seen.push_back(n);
    pings += n == "WATCHDOG=1" ? 1 : 0;
    if (n == "STATUS=0 of 0 connections up, 0 IKE SAs, 0 CHILD SAs") {
      std::lock_guard lock(core_->mu);
      ConnectionSummary a;
      a.name = "a";
      a.ike_sas = a.established = a.child_sas = 1;
      ConnectionSummary b;
      b.name = "b";
      core_->summary.connections = {a, b};
      core_->summary.ike_sas = 1;
      core_->summary.child_sas = 1;
    }
    status_changed = status_changed || n == "STATUS=1 of 2 connections up, 1 IKE SA, 1 CHILD SA";
  }
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front(), "READY=1");
  EXPECT_GE(pings, 3) << "watchdog every 50 ms expected";
  EXPECT_TRUE(status_changed);
  // The status line is sent when it changes, not with every ping.
  EXPECT_EQ(std::count(seen.begin(), seen.end(), "STATUS=1 of 2 connections up, 1 IKE SA, 1 CHILD SA"), 1);
}

TEST(SystemdWatchdog, IntervalOnlyForThisProcess) {
  ::setenv("WATCHDOG_USEC", "30000000", 1);
  ::setenv("WATCHDOG_PID", "1", 1);
  EXPECT_FALSE(systemd_watchdog_interval()) << "pid 1's watchdog is not ours";
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  ASSERT_TRUE(systemd_watchdog_interval());
  EXPECT_EQ(systemd_tick_interval(systemd_watchdog_interval()), 10s) << "at least every 10 s";
  ::setenv("WATCHDOG_USEC", "4000000", 1);
  EXPECT_EQ(systemd_tick_interval(systemd_watchdog_interval()), 2s);
  ::setenv("WATCHDOG_USEC", "junk", 1);
  EXPECT_FALSE(systemd_watchdog_interval());
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
  EXPECT_FALSE(systemd_watchdog_interval());
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
