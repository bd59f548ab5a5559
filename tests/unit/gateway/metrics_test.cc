// The Prometheus endpoint (gateway/metrics/): the exposition text from a status summary and the
// SA events, the HTTP answers, the server over loopback with its limits, daemon.metrics in the
// config, and the SA events' JSON lines (gateway/control/daemon_events.h).
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "gateway/config/config_loader.h"
#include "gateway/control/control_client.h"
#include "gateway/control/control_protocol.h"
#include "gateway/control/control_server.h"
#include "gateway/control/daemon_events.h"
#include "gateway/metrics/event_metrics.h"
#include "gateway/metrics/exposition.h"
#include "gateway/metrics/metrics_server.h"

namespace natgate::gateway::metrics {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

DaemonStatus sample_status() {
  DaemonStatus s;
  s.daemon.version = "0.9.0";
  s.daemon.dataplane.name = "userspace";
  s.daemon.uptime = 42;
  s.daemon.counters = {{"ike_sas_timed_out", 3}, {"ike_sas_rekeyed", 2}, {"child_sas_rekeyed", 5},
                       {"esp_in_packets", 10},   {"esp_in_replay", 7},   {"ike_sas", 1}};
  StatusSummary sum;
  sum.ike_sas_by_state = {{"established", 1}};
  sum.ike_sas = 1;
  sum.half_open = 4;
  ConnectionSummary up;
  up.name = "office-b";
  up.ike_sas = 1;
  up.established = 1;
  up.child_sas = 1;
  up.local_behind_nat = 1;
  up.udp_encapsulated = 1;
  up.bytes_in = 1000;
  up.bytes_out = 2000;
  up.packets_in = 10;
  up.packets_out = 20;
  ConnectionSummary down;
  down.name = "office-c";
  sum.connections = {up, down};
  s.summary = sum;
  return s;
}

TEST(MetricsExposition, EveryConfiguredConnectionHasAnUpSeriesDownOnesAtZero) {
  const std::string text = render_exposition(sample_status(), EventMetrics{});
  EXPECT_TRUE(has_line(text, R"(natgate_build_info{version="0.9.0",dataplane="userspace"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(natgate_connection_up{connection="office-b"} 1)"));
  EXPECT_TRUE(has_line(text, R"(natgate_connection_up{connection="office-c"} 0)"));
  EXPECT_TRUE(
      has_line(text, R"(natgate_connection_bytes_total{connection="office-b",direction="out"} 2000)"));
  EXPECT_TRUE(has_line(text, R"(natgate_connection_packets_total{connection="office-b",direction="in"} 10)"));
  EXPECT_TRUE(has_line(text, R"(natgate_connection_nat_ike_sas{connection="office-b",side="local"} 1)"));
  EXPECT_TRUE(has_line(text, R"(natgate_connection_nat_ike_sas{connection="office-b",side="remote"} 0)"));
  EXPECT_TRUE(has_line(text, R"(natgate_ike_sas{state="established"} 1)"));
  EXPECT_TRUE(has_line(text, R"(natgate_ike_sas{state="connecting"} 0)"));
  EXPECT_TRUE(has_line(text, "natgate_ike_half_open 4"));
  EXPECT_TRUE(has_line(text, "natgate_dpd_failures_total 3"));
  EXPECT_TRUE(has_line(text, R"(natgate_rekeys_total{sa="child"} 5)"));
  EXPECT_TRUE(has_line(text, R"(natgate_esp_dropped_total{direction="in",reason="replay"} 7)"));
  EXPECT_TRUE(has_line(text, R"(natgate_daemon_events_total{name="esp_in_packets"} 10)"));
  EXPECT_TRUE(has_line(text, R"(natgate_daemon_gauge{name="ike_sas"} 1)"));
  // Per-SA series only when asked for (metrics.per_sa fills per_child).
  EXPECT_EQ(text.find("natgate_child_sa_bytes_total"), std::string::npos);
  // Each family once, every sample line of the form NAME[{...}] VALUE.
  EXPECT_EQ(text.find("# TYPE natgate_connection_up gauge"),
            text.rfind("# TYPE natgate_connection_up gauge"));
}

TEST(MetricsExposition, PerSaSeriesByChildAndPeer) {
  DaemonStatus s = sample_status();
  s.summary->connections[0].per_child.push_back({"net", "fqdn:alice.lab", 11, 22, 1, 2});
  const std::string text = render_exposition(s, EventMetrics{});
  EXPECT_TRUE(has_line(
      text,
      R"(natgate_child_sa_bytes_total{connection="office-b",child="net",peer="fqdn:alice.lab",direction="out"} 22)"))
      << text;
  EXPECT_TRUE(has_line(
      text,
      R"(natgate_child_sa_packets_total{connection="office-b",child="net",peer="fqdn:alice.lab",direction="in"} 1)"));
}

TEST(MetricsExposition, LabelValuesAreEscapedAndHostileBytesReplaced) {
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(escape_label_value("caf\xc3\xa9"), "caf\xc3\xa9");         // UTF-8 kept
  EXPECT_EQ(escape_label_value("x\xff\xc3y"), "x??y");                 // not UTF-8: replaced
  EXPECT_EQ(escape_label_value(std::string(1000, 'a')).size(), 256u);  // bounded
}

TEST(MetricsExposition, SetupHistogramIsCumulativeAndEventsCountPerConnection) {
  EventMetrics ev;
  auto up = [&](double seconds) {
    DaemonEvent e;
    e.kind = DaemonEvent::Kind::IkeUp;
    e.connection = "rw";
    e.setup_seconds = seconds;
    ev.on_event(e);
  };
  up(0.003);
  up(0.2);
  up(100);
  DaemonEvent rekey;
  rekey.kind = DaemonEvent::Kind::ChildRekey;
  rekey.connection = "rw";
  ev.on_event(rekey);
  DaemonEvent gone;
  gone.kind = DaemonEvent::Kind::IkeDown;
  gone.connection = "rw";
  ev.on_event(gone);
  const std::string text = render_exposition(sample_status(), ev);
  EXPECT_TRUE(has_line(text, R"(natgate_ike_setup_duration_seconds_bucket{le="0.005"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(natgate_ike_setup_duration_seconds_bucket{le="0.1"} 1)"));
  EXPECT_TRUE(has_line(text, R"(natgate_ike_setup_duration_seconds_bucket{le="0.25"} 2)"));
  EXPECT_TRUE(has_line(text, R"(natgate_ike_setup_duration_seconds_bucket{le="30"} 2)"));
  EXPECT_TRUE(has_line(text, R"(natgate_ike_setup_duration_seconds_bucket{le="+Inf"} 3)"));
  EXPECT_TRUE(has_line(text, "natgate_ike_setup_duration_seconds_count 3"));
  EXPECT_TRUE(has_line(text, R"(natgate_connection_rekeys_total{connection="rw",sa="child"} 1)"));
  EXPECT_TRUE(has_line(text, R"(natgate_connection_ike_sas_up_total{connection="rw"} 3)"));
  EXPECT_TRUE(has_line(text, R"(natgate_connection_ike_sas_down_total{connection="rw"} 1)"));
}

// ---- HTTP -----------------------------------------------------------------------------------

std::string body() { return "natgate_up 1\n"; }

TEST(MetricsHttp, AnswersGetMetricsOnlyAndRefusesTheRest) {
  auto get = answer_request("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", body);
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, "natgate_up 1\n");
  EXPECT_EQ(get.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(answer_request("GET /metrics?x=1 HTTP/1.0\r\n\r\n", body).status, 200);
  EXPECT_EQ(answer_request("GET / HTTP/1.1\r\n\r\n", body).status, 404);
  EXPECT_EQ(answer_request("GET /metrics/../etc HTTP/1.1\r\n\r\n", body).status, 404);
  EXPECT_EQ(answer_request("POST /metrics HTTP/1.1\r\n\r\n", body).status, 405);
  EXPECT_EQ(answer_request("hello\r\n\r\n", body).status, 400);
  EXPECT_EQ(answer_request("GET /metrics SPDY/3\r\n\r\n", body).status, 400);
  EXPECT_EQ(answer_request("GET  /metrics HTTP/1.1\r\n\r\n", body).status, 400);
  auto failing = answer_request("GET /metrics HTTP/1.1\r\n\r\n",
                                []() -> std::string { throw std::runtime_error("no status"); });
  EXPECT_EQ(failing.status, 500);
  const std::string wire = encode_answer(get);
  EXPECT_EQ(wire.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_NE(wire.find("Content-Length: 13\r\n"), std::string::npos);
  EXPECT_NE(wire.find("Connection: close\r\n\r\nnatgate_up 1\n"), std::string::npos);
}

// A client on its own thread: sends `request` to the server and reads until it closes.
std::string http_exchange(std::uint16_t port, const std::string& request) {
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  if (!request.empty()) asio::write(s, asio::buffer(request));
  std::string out;
  boost::system::error_code ec;
  char buf[4096];
  for (;;) {
    std::size_t n = s.read_some(asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  return out;
}

TEST(MetricsServer, ServesOverLoopbackAndBoundsSlowAndLargeRequests) {
  asio::io_context io;
  MetricsServerLimits limits;
  limits.timeout = 300ms;
  limits.max_request_bytes = 1024;
  int renders = 0;
  auto server = MetricsServer::open(
      io, Endpoint{*IpAddress::parse("127.0.0.1"), 0},
      [&] {
        ++renders;
        return std::string("natgate_up 1\n");
      },
      limits);
  ASSERT_TRUE(server) << server.error();
  const std::uint16_t port = (*server)->local_endpoint().port;
  ASSERT_NE(port, 0);
  std::thread io_thread([&] {
    auto guard = asio::make_work_guard(io);
    io.run_for(5s);
  });
  const std::string ok = http_exchange(port, "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200 OK", 0), 0u) << ok;
  EXPECT_NE(ok.find("\r\n\r\nnatgate_up 1\n"), std::string::npos);
  const std::string big =
      http_exchange(port, "GET /metrics HTTP/1.1\r\nX: " + std::string(2000, 'a') + "\r\n\r\n");
  EXPECT_EQ(big.rfind("HTTP/1.1 431", 0), 0u) << big;
  // Says nothing: closed after the timeout, without an answer.
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(http_exchange(port, ""), "");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_EQ(http_exchange(port, "GET /x HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404", 0), 0u);
  asio::post(io, [&] {
    (*server)->close();
    io.stop();
  });
  io_thread.join();
  EXPECT_EQ(renders, 1);
}

// ---- daemon.metrics ----------------------------------------------------------------------

constexpr const char* kConfig = R"(daemon:
  control_socket: /run/natgate/test.sock
  metrics: METRICS
secrets:
  office-b: { psk: "lab-secret" }
connections:
  office-b:
    local: { id: gw-a.example.net, subnets: [10.1.0.0/24] }
    remote: { address: 198.51.100.20, id: gw-b.example.net, subnets: [10.2.0.0/24] }
    auth: psk
    ike_proposals: [aes256gcm16-prfsha384-x25519]
    esp_proposals: [aes256gcm16]
    start: initiate
)";

ConfigLoadResult load_metrics(const std::string& metrics) {
  std::string text = kConfig;
  text.replace(text.find("METRICS"), 7, metrics);
  return load_config_text(text, "m.yaml", "/nonexistent");
}

TEST(MetricsConfig, ListenAndPerSaAreRead) {
  auto r = load_metrics("{ listen: 127.0.0.1:9587, per_sa: true }");
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.errors);
  ASSERT_TRUE(r.config->daemon.metrics.listen);
  EXPECT_EQ(r.config->daemon.metrics.listen->to_string(), "127.0.0.1:9587");
  EXPECT_TRUE(r.config->daemon.metrics.per_sa);
  auto v6 = load_metrics("{ listen: \"[::1]:9000\" }");
  ASSERT_TRUE(v6.ok()) << format_diagnostics(v6.errors);
  EXPECT_EQ(v6.config->daemon.metrics.listen->to_string(), "[::1]:9000");
  EXPECT_FALSE(v6.config->daemon.metrics.per_sa);
}

TEST(MetricsConfig, BadValuesNameFileLineAndKey) {
  for (const char* bad : {"{ listen: 127.0.0.1 }", "{ listen: 127.0.0.1:0 }", "{ listen: \"::1:9000\" }",
                          "{ listen: localhost:9587 }", "{ listen: 127.0.0.1:70000 }"}) {
    auto r = load_metrics(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.errors[0].to_string().rfind("m.yaml:3:", 0), 0u) << r.errors[0].to_string();
    EXPECT_NE(r.errors[0].to_string().find("daemon.metrics.listen: "), std::string::npos)
        << r.errors[0].to_string();
  }
  auto unknown = load_metrics("{ port: 9587 }");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.errors[0].to_string().find("daemon.metrics"), std::string::npos);
}

// ---- SA events ----------------------------------------------------------------------------

TEST(DaemonEvents, JsonLineAndListenersThatLeaveWhileCalled) {
  DaemonEvent e;
  e.kind = DaemonEvent::Kind::ChildRekey;
  e.time_ms = 1700000000123;
  e.connection = "rw";
  e.peer = "192.0.2.7:4500";
  e.remote_id = "fqdn:alice.lab";
  e.ike_spi_i = 0x1122334455667788ULL;
  e.child = "net";
  e.spi_in = 0xc0ffee01;
  e.old_spi_in = 0xc0ffee00;
  auto j = nlohmann::json::parse(event_to_json(e));
  EXPECT_EQ(j["event"], "child_rekey");
  EXPECT_EQ(j["ike_spi_i"], "1122334455667788");
  EXPECT_EQ(j["spi_in"], "c0ffee01");
  EXPECT_EQ(j["old_spi_in"], "c0ffee00");
  EXPECT_EQ(j["remote_id"], "fqdn:alice.lab");
  EXPECT_FALSE(j.contains("setup_seconds"));
  EXPECT_EQ(event_to_json(e).find('\n'), std::string::npos);

  DaemonEvents events;
  int first = 0;
  int second = 0;
  std::uint64_t t1 = 0;
  t1 = events.subscribe([&](const DaemonEvent&) {
    ++first;
    events.unsubscribe(t1);
  });
  events.subscribe([&](const DaemonEvent&) { ++second; });
  events.publish(e);
  events.publish(e);
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 2);
  EXPECT_EQ(events.listener_count(), 1u);
}

// ---- the control requests of the operator CLI ----------------------------------------------

TEST(OperatorRequests, TerminateTakesExactlyOneSelectorAndEventsRoundTrip) {
  ControlRequest t;
  t.command = ControlRequest::Command::Terminate;
  t.terminate.identity = "fqdn:alice.lab";
  const std::string line = encode_control_request(t);
  EXPECT_EQ(line, R"({"cmd":"terminate","id":"fqdn:alice.lab"})");
  auto back = parse_control_request(line);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->command, ControlRequest::Command::Terminate);
  EXPECT_EQ(back->terminate, t.terminate);
  auto by_ike = parse_control_request(R"({"cmd":"terminate","ike":"00112233aabbccdd"})");
  ASSERT_TRUE(by_ike);
  EXPECT_EQ(by_ike->terminate.ike_spi, "00112233aabbccdd");
  const std::string one = "\"terminate\" needs exactly one of \"id\", \"peer\", \"ike\"";
  EXPECT_EQ(parse_control_request(R"({"cmd":"terminate"})").error(), one);
  EXPECT_EQ(parse_control_request(R"({"cmd":"terminate","id":"a","peer":"192.0.2.1"})").error(), one);
  EXPECT_FALSE(parse_control_request(R"({"cmd":"terminate","peer":7})"));
  EXPECT_FALSE(parse_control_request(R"({"cmd":"terminate","id":")" + std::string(300, 'a') + R"("})"));
  // An empty selector would match nothing (or, worse, everything): refused by name, for rekey too.
  EXPECT_EQ(parse_control_request(R"({"cmd":"terminate","id":""})").error(),
            "\"id\" must be a non-empty string");
  EXPECT_EQ(parse_control_request(R"({"cmd":"rekey","child":""})").error(),
            "\"child\" must be a non-empty string");
  ControlRequest e;
  e.command = ControlRequest::Command::Events;
  EXPECT_EQ(encode_control_request(e), R"({"cmd":"events"})");
  auto events = parse_control_request(R"({"cmd":"events"})");
  ASSERT_TRUE(events);
  EXPECT_EQ(events->command, ControlRequest::Command::Events);
}

// `natgate events --follow` end to end over a unix socket: the answer line, then events as
// JSON lines while they are published; the client leaving takes its subscription with it.
class EventsHandler : public ControlHandler {
 public:
  Expected<DaemonStatus> status(const StatusQuery&) override { return DaemonStatus{}; }
  void up(const std::string&, ControlReply reply) override { reply(ControlResult("up")); }
  void down(const std::string&, ControlReply reply) override { reply(ControlResult("down")); }
  void reload(ControlReply reply) override { reply(ControlResult("reloaded")); }
  DaemonEvents* events() override { return &events_; }
  DaemonEvents events_;
};

TEST(ControlEvents, FollowGetsEventLinesAndLeavingUnsubscribes) {
  char tmpl[] = "/tmp/natgate-events-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  const std::string path = dir + "/c.sock";
  asio::io_context io;
  EventsHandler handler;
  auto server = ControlServer::open(io, path, handler);
  ASSERT_TRUE(server) << server.error();
  std::atomic<bool> done{false};
  std::vector<std::string> lines;
  Status followed;
  std::thread client([&] {
    auto c = ControlClient::connect(path);
    if (!c) {
      followed = unexpected(c.error());
    } else {
      ControlRequest r;
      r.command = ControlRequest::Command::Events;
      followed = c->follow(r, 5s, [&](std::string_view line) {
        lines.emplace_back(line);
        return lines.size() < 2;
      });
    }
    done = true;
  });
  // Publish on the io thread every 20 ms until the client has two lines (bounded: 5 s).
  asio::steady_timer tick(io);
  int published = 0;
  std::size_t listeners_seen = 0;
  std::function<void()> arm = [&] {
    tick.expires_after(20ms);
    tick.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      listeners_seen = std::max(listeners_seen, handler.events_.listener_count());
      if (handler.events_.listener_count() > 0) {  // published once the client follows
        DaemonEvent e;
        e.kind = published % 2 ? DaemonEvent::Kind::IkeDown : DaemonEvent::Kind::IkeUp;
        e.connection = "rw";
        e.remote_id = "fqdn:alice.lab";
        handler.events_.publish(e);
        ++published;
      } else if (done) {
        return io.stop();
      }
      arm();
    });
  };
  arm();
  io.run_for(5s);
  client.join();
  ASSERT_TRUE(followed) << followed.error();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(lines[0])["event"], "ike_up");
  EXPECT_EQ(nlohmann::json::parse(lines[1])["event"], "ike_down");
  EXPECT_EQ(nlohmann::json::parse(lines[1])["remote_id"], "fqdn:alice.lab");
  EXPECT_EQ(listeners_seen, 1u);
  EXPECT_EQ(handler.events_.listener_count(), 0u);  // the session ended with the client
  (*server)->close();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace natgate::gateway::metrics
