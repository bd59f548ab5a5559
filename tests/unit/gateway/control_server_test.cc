#include "gateway/control/control_server.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "fake_control_handler.h"
#include "gateway/control/control_client.h"
#include "sample_status.h"
#include "sys/unique_fd.h"

namespace natgate::gateway {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::FakeHandler;

// A bare client for what ControlClient never does: partial lines, floods, holding slots.
class RawClient {
 public:
  explicit RawClient(const std::string& path) {
    fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    connected_ = ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  bool connected() const { return connected_; }
  void send(const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
      ssize_t n = ::send(fd_.get(), data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<std::size_t>(n);
    }
  }
  // Reads until `lines` newlines arrived, EOF, or 3 s passed.
  std::string read_lines(int lines) {
    std::string in;
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    while (std::count(in.begin(), in.end(), '\n') < lines && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
      if (n <= 0) break;
      in.append(buf, static_cast<std::size_t>(n));
    }
    return in;
  }
  // Whether the server hung up within the time given.
  bool closed_within(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buf[256];
      ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
      if (n <= 0) return true;
    }
    return false;
  }

 private:
  sys::UniqueFd fd_;
  bool connected_ = false;
};

class ControlServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/natgate-control-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/run/natgate.sock";  // run/ does not exist yet
  }
  void TearDown() override {
    stop();
    fs::remove_all(dir_);
  }

  void start(ControlServerLimits limits = {}) {
    auto server = ControlServer::open(io_, path_, handler_, limits);
    ASSERT_TRUE(server) << server.error();
    server_ = std::move(server.value());
    thread_ = std::thread([this] { io_.run(); });
  }
  void stop() {
    if (!thread_.joinable()) return;
    std::promise<void> closed;
    asio::post(io_, [&] {
      server_->close();
      closed.set_value();
    });
    closed.get_future().wait();
    work_.reset();
    io_.stop();
    thread_.join();
    server_.reset();
  }

  // The server's state belongs to the io thread; ask it there.
  std::size_t clients_on_io_thread() {
    std::promise<std::size_t> count;
    asio::post(io_, [&] { count.set_value(server_->client_count()); });
    return count.get_future().get();
  }

  ControlReplyMessage ask(const ControlRequest& request) {
    auto client = ControlClient::connect(path_);
    EXPECT_TRUE(client) << client.error();
    if (!client) return {};
    auto reply = client->request(request, 3s);
    EXPECT_TRUE(reply) << reply.error();
    return reply ? *reply : ControlReplyMessage{};
  }

  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{io_.get_executor()};
  FakeHandler handler_{io_};
  std::unique_ptr<ControlServer> server_;
  std::thread thread_;
  std::string dir_;
  std::string path_;
};

TEST_F(ControlServerTest, StatusRoundTrip) {
  start();
  auto reply = ask({ControlRequest::Command::Status, ""});
  EXPECT_TRUE(reply.ok);
  ASSERT_TRUE(reply.status);
  EXPECT_EQ(*reply.status, testing::sample_status());
  auto raw = nlohmann::json::parse(reply.raw_status_json);
  EXPECT_EQ(raw.at("connections").at(0).at("name"), "office-b");
  EXPECT_EQ(handler_.calls(), std::vector<std::string>{"status"});
}

TEST_F(ControlServerTest, UpDownReloadReachTheHandler) {
  start();
  auto up = ask({ControlRequest::Command::Up, "office-b"});
  EXPECT_TRUE(up.ok);
  EXPECT_EQ(up.message, "initiating office-b");
  auto unknown = ask({ControlRequest::Command::Up, "office-x"});
  EXPECT_FALSE(unknown.ok);
  EXPECT_EQ(unknown.message, "no connection named \"office-x\"");
  auto down = ask({ControlRequest::Command::Down, "office-b"});  // answered later, from a timer
  EXPECT_TRUE(down.ok);
  EXPECT_EQ(down.message, "closed office-b");
  auto reload = ask({ControlRequest::Command::Reload, ""});
  EXPECT_TRUE(reload.ok);
  EXPECT_EQ(reload.message, "reloaded: unchanged: 2");
  EXPECT_EQ(handler_.calls(),
            (std::vector<std::string>{"up office-b", "up office-x", "down office-b", "reload"}));
}

TEST_F(ControlServerTest, BadRequestsGetErrorsAndTheConnectionStaysUsable) {
  start();
  RawClient c(path_);
  ASSERT_TRUE(c.connected());
  c.send("this is not json\n{\"cmd\":\"explode\"}\n{\"cmd\":\"up\"}\n[1,2]\n{\"cmd\":\"status\"}\n");
  std::string replies = c.read_lines(5);
  std::vector<nlohmann::json> lines;
  std::size_t start = 0;
  for (std::size_t nl; (nl = replies.find('\n', start)) != std::string::npos; start = nl + 1)
    lines.push_back(nlohmann::json::parse(replies.substr(start, nl - start)));
  ASSERT_EQ(lines.size(), 5u) << replies;
  EXPECT_EQ(lines[0], (nlohmann::json{{"ok", false}, {"error", "request is not valid JSON"}}));
  EXPECT_EQ(lines[1], (nlohmann::json{{"ok", false},
                                      {"error",
                                       "unknown command \"explode\" (expected one of status, up, down, "
                                       "reload, terminate, rekey, events)"}}));
  EXPECT_EQ(lines[2],
            (nlohmann::json{{"ok", false}, {"error", "\"up\" needs \"name\": the connection's name"}}));
  EXPECT_EQ(lines[3], (nlohmann::json{{"ok", false}, {"error", "request must be a JSON object"}}));
  EXPECT_EQ(lines[4].at("ok"), true);
  EXPECT_EQ(lines[4].at("status").at("connections").size(), 2u);
}

TEST_F(ControlServerTest, OversizedRequestIsRefusedAndDisconnected) {
  ControlServerLimits limits;
  limits.max_request_bytes = 1024;
  start(limits);
  RawClient c(path_);
  c.send(std::string(4096, 'x'));
  EXPECT_EQ(c.read_lines(1), "{\"error\":\"request too large (limit 1024 bytes)\",\"ok\":false}\n");
  EXPECT_TRUE(c.closed_within(2s));
  EXPECT_TRUE(handler_.calls().empty());
}

TEST_F(ControlServerTest, ASlowClientDoesNotBlockOthers) {
  start();
  RawClient slow(path_);
  slow.send("{\"cmd\":\"sta");  // and never finishes the line
  auto reply = ask({ControlRequest::Command::Status, ""});
  EXPECT_TRUE(reply.ok);
  slow.send("tus\"}\n");
  EXPECT_NE(slow.read_lines(1).find("\"ok\":true"), std::string::npos);
}

TEST_F(ControlServerTest, IdleClientIsDisconnected) {
  ControlServerLimits limits;
  limits.idle_timeout = 100ms;
  start(limits);
  RawClient idle(path_);
  ASSERT_TRUE(idle.connected());
  EXPECT_TRUE(idle.closed_within(2s));
}

TEST_F(ControlServerTest, ClientsBeyondTheLimitAreTurnedAway) {
  ControlServerLimits limits;
  limits.max_clients = 2;
  start(limits);
  RawClient a(path_), b(path_);
  // Both must hold their slots before the third arrives.
  for (int i = 0; i < 300 && clients_on_io_thread() < 2; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(clients_on_io_thread(), 2u);
  RawClient c(path_);
  EXPECT_EQ(c.read_lines(1), "{\"error\":\"too many control clients (limit 2)\",\"ok\":false}\n");
  EXPECT_TRUE(c.closed_within(2s));
}

TEST_F(ControlServerTest, SocketIsPrivateAndRemovedOnClose) {
  start();
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir_ + "/run").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  stop();
  EXPECT_FALSE(fs::exists(path_));
}

TEST_F(ControlServerTest, StaleSocketIsReplaced) {
  fs::create_directories(dir_ + "/run");
  {
    // Bound and closed without unlinking: what a crashed daemon leaves.
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);
  }
  ASSERT_TRUE(fs::exists(path_));
  start();
  EXPECT_TRUE(ask({ControlRequest::Command::Status, ""}).ok);
}

TEST_F(ControlServerTest, RefusesWhenAnotherDaemonServesThePath) {
  start();
  asio::io_context other_io;
  FakeHandler other(other_io);
  auto second = ControlServer::open(other_io, path_, other);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), "another process (natgated?) is already serving " + path_);
  EXPECT_TRUE(ask({ControlRequest::Command::Status, ""}).ok);  // the first one is untouched
}

TEST_F(ControlServerTest, NeverRemovesAFileThatIsNotASocket) {
  fs::create_directories(dir_ + "/run");
  std::ofstream(path_) << "precious";
  auto server = ControlServer::open(io_, path_, handler_);
  ASSERT_FALSE(server);
  EXPECT_EQ(server.error(), path_ + " exists and is not a socket; not replacing it");
  std::ifstream in(path_);
  std::string content;
  in >> content;
  EXPECT_EQ(content, "precious");
}

TEST(ControlClient, SaysWhenTheDaemonIsNotRunning) {
  auto client = ControlClient::connect("/nonexistent/natgate.sock");
  ASSERT_FALSE(client);
  EXPECT_EQ(
      client.error(),
      "cannot connect to /nonexistent/natgate.sock: No such file or directory \u2014 is natgated running?");
}

}  // namespace
}  // namespace natgate::gateway
