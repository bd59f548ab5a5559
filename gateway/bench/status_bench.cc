// natgate_status_bench [N]: how long `natgate status` takes with N road warriors (default 100,000),
// each with one CHILD SA and a lease (road_warrior_status.h). Prints figures, never fails on time:
//   daemon side: status_view (all, and each filter), the JSON reply; the nlohmann tree it replaced
//   client side: reading the reply, the text table, the --json text
//   end to end: `natgate status ...` against a control socket in this process (socket included)
// docs/performance.md (Scale) quotes its output.
#include <unistd.h>

#include <utility>  // asio needs std::exchange declared first
// (kept apart so include sorting leaves it here)

#include <boost/asio.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <exception>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "gateway/bench/road_warrior_status.h"
#include "gateway/control/control_protocol.h"
#include "gateway/control/control_server.h"
#include "tools/cli/cli_app.h"
#include "tools/cli/status_view.h"

namespace {

using namespace natgate;
using namespace natgate::gateway;
using Clock = std::chrono::steady_clock;

// Wall time, and the process's CPU time (both threads): on a loaded machine the first grows
// with the load, the second much less.
double cpu_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}
double cpu_start = 0;
double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

class FixtureHandler final : public ControlHandler {
 public:
  explicit FixtureHandler(const bench::RoadWarriorStatus& f) : f_(f) {}
  Expected<DaemonStatus> status(const StatusQuery& query) override {
    DaemonStatus s;
    s.daemon.version = "bench";
    s.daemon.pid = ::getpid();
    s.daemon.dataplane = {"none", "benchmark"};
    s.daemon.counters = {{"ike_sas", f_.table().size()}};
    if (Status st = f_.render(query, s); !st) return unexpected(st.error());
    return s;
  }
  void up(const std::string&, ControlReply reply) override { reply(unexpected(std::string("bench"))); }
  void down(const std::string&, ControlReply reply) override { reply(unexpected(std::string("bench"))); }
  void reload(ControlReply reply) override { reply(unexpected(std::string("bench"))); }

 private:
  const bench::RoadWarriorStatus& f_;
};

void line(std::size_t n, const char* what, double ms, std::size_t bytes = 0, std::size_t items = 0) {
  std::printf("status n=%zu what=%s ms=%.1f cpu_ms=%.1f", n, what, ms, cpu_ms() - cpu_start);
  if (bytes) std::printf(" bytes=%zu", bytes);
  if (items) std::printf(" items=%zu", items);
  std::printf("\n");
}

}  // namespace

static int run_bench(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::stoul(argv[1]) : 100000;
  cpu_start = cpu_ms();
  auto t = Clock::now();
  bench::RoadWarriorStatus fixture(n);
  line(n, "setup", ms_since(t));
  FixtureHandler handler(fixture);

  // Daemon side.
  t = Clock::now();
  cpu_start = cpu_ms();
  auto all = handler.status({});
  line(n, "daemon_render_all", ms_since(t), 0, all->connections.front().peers.size());
  t = Clock::now();
  cpu_start = cpu_ms();
  const std::string reply = encode_status_reply(*all);
  line(n, "daemon_json_reply", ms_since(t), reply.size());
  t = Clock::now();
  cpu_start = cpu_ms();
  const std::string tree = nlohmann::json{{"ok", true}, {"status", status_to_json(*all)}}.dump();
  line(n, "daemon_json_via_nlohmann_tree", ms_since(t), tree.size());
  std::printf("status n=%zu what=writer_matches_tree same=%s\n", n, tree == reply ? "yes" : "NO");
  struct Filter {
    const char* what;
    StatusQuery query;
  };
  const Filter filters[] = {
      {"daemon_filter_id", {.identity = bench::RoadWarriorStatus::identity(n / 2)}},
      {"daemon_filter_peer", {.peer = bench::RoadWarriorStatus::peer(n / 2).to_string()}},
      {"daemon_filter_conn_office", {.connection = "office"}},
      {"daemon_summary", {.summary = true}},
  };
  for (const auto& f : filters) {
    t = Clock::now();
    cpu_start = cpu_ms();
    auto s = handler.status(f.query);
    std::size_t shown = 0;
    for (const auto& c : s->connections) shown += std::max<std::size_t>(c.peers.size(), c.ike_sa ? 1 : 0);
    line(n, f.what, ms_since(t), encode_status_reply(*s).size(), shown);
  }

  // Client side.
  t = Clock::now();
  cpu_start = cpu_ms();
  auto parsed = parse_control_reply(reply, StatusReplyForm::Parsed);
  line(n, "client_parse_reply", ms_since(t));
  t = Clock::now();
  cpu_start = cpu_ms();
  const std::string text = cli::format_status(*parsed->status);
  line(n, "client_format_text", ms_since(t), text.size());

  // End to end through a control socket.
  const std::string dir =
      std::filesystem::temp_directory_path() / ("natgate-status-bench-" + std::to_string(::getpid()));
  const std::string path = dir + "/natgate.sock";
  boost::asio::io_context io;
  auto server = ControlServer::open(io, path, handler);
  if (!server) {
    std::fprintf(stderr, "control socket: %s\n", server.error().c_str());
    return 1;
  }
  auto work = boost::asio::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });
  auto cli = [&](const char* what, std::vector<std::string> args) {
    args.insert(args.begin(), {"natgate", "--socket", path, "status"});
    std::ostringstream out;
    std::ostringstream err;
    t = Clock::now();
    cpu_start = cpu_ms();
    const int rc = natgate::cli::run_cli(args, out, err);
    line(n, what, ms_since(t), out.str().size());
    if (rc != 0) std::fprintf(stderr, "%s: exit %d: %s", what, rc, err.str().c_str());
  };
  cli("e2e_status_text", {});
  cli("e2e_status_json", {"--json"});
  cli("e2e_status_id", {"--id", bench::RoadWarriorStatus::identity(n / 2)});
  cli("e2e_status_summary", {"--summary"});
  boost::asio::post(io, [&] { (*server)->close(); });
  work.reset();
  io_thread.join();
  std::filesystem::remove_all(dir);
  return 0;
}

int main(int argc, char** argv) {
  try {
    return run_bench(argc, argv);
  } catch (const std::exception& e) {  // a bad N argument, a failed allocation
    std::fprintf(stderr, "natgate_status_bench: %s\n", e.what());
    return 1;
  }
}
