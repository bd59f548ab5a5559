// natgate_ike_load: N IKEv2 road warriors from one host, each asking for a virtual IP and one
// CHILD SA with an identity of its own, using ike/exchange's IkeSa initiators as natgated does.
// No data plane. Prints when the first initiation went out and the last CHILD SA came up, the
// setup rate and latency percentiles; exits 0 only if all N came up.
//
//   natgate_ike_load SERVER COUNT PSK_FILE [--hold S] [--timeout S]
//       [--sources A1,A2,... | --source-range FIRST-LAST] [--per-socket N] [--procs P]
//       [--rate N] [--keepalive S] [--encap] [--quiet]
//
//   identities load1.ra.lab .. loadN.ra.lab (N up to 1,000,000), the gateway's gw.ra.lab,
//   aes256gcm16-prfsha256-x25519 / aes256gcm16.
//   --hold S        keep the SAs S seconds after the last one came up: NAT-T keepalives every
//                   --keepalive S (default 20; 0 none; only when a NAT was detected), the
//                   gateway's liveness checks answered; then every IKE SA is deleted (RFC 7296
//                   §1.4.1, counted) so the gateway releases the leases
//   --timeout S     give up on setups unfinished after S seconds (default 50)
//   --sources / --source-range   local addresses (e.g. secondary addresses of the namespace's
//                   interface), used round-robin by socket pair; default: the one the kernel
//                   picks for SERVER
//   --per-socket N  clients sharing one socket pair (IKE + NAT-T port; default 1): every pair
//                   has ports of its own, so a NAT in between maps each pair on its own
//   --procs P       P worker processes, each a contiguous slice of the identities; results merged
//   --rate N        start N setups per second in all (paced); default: a burst, all at once
//   --encap         claim to be behind a NAT (RFC 7296 §2.23): IKE and ESP in UDP 4500 and
//                   keepalives without a NAT box in between
//   --quiet         no per-client lines
//
// Output: line 1 "established OK/N IKE+CHILD SAs from one address in MS ms (first IKE_SA_INIT
// to last CHILD SA)[, some failed]" ("from K addresses" with several sources; tests parse it),
// line 2 "setup ms median M max X" (each client's own IKE_SA_INIT to CHILD SA), line 3
// "setups ok= failed= ms= rate= p50_ms= p90_ms= p99_ms= max_ms= ...", then "client I loadI.ra.lab
// up|failed VIP" per client, and after the hold "hold s=S lost=L ike_requests_answered=R
// keepalives_sent=K" (with --hold; lost: up after the setup, gone or not established at its end;
// the SAs stay up 5 s more so that the gateway can be looked at) and "teardown deleted=D/SENT ms=MS".
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tools/ike_load/options.h"
#include "tools/ike_load/stats.h"
#include "tools/ike_load/worker.h"

using namespace natgate;
using namespace natgate::ike_load;
using Clock = std::chrono::steady_clock;

namespace {

// After the hold line, the SAs stay up this long before the teardown.
constexpr int kHoldLinger = 5;

struct WorkerProc {
  pid_t pid = -1;
  int from = -1;  // its lines
  int to = -1;    // our commands
  std::string buf;
  bool ready = false, settled = false, held = false, done = false, eof = false;
  int lost = 0;  // up after the setup, gone at the end of the hold
  unsigned long long hold_requests = 0, keepalives = 0;
  int deleted = 0, delete_sent = 0;
  long long teardown_ms = 0;
  unsigned long long send_errors = 0;
};

// Reads what the workers wrote until pred() holds or the deadline passes; hands complete lines
// to on_line. Returns pred().
template <typename Pred, typename OnLine>
bool pump(std::vector<WorkerProc>& ws, Clock::time_point deadline, Pred pred, OnLine on_line) {
  std::vector<pollfd> fds(ws.size());
  char buf[65536];
  while (!pred()) {
    const auto now = Clock::now();
    if (now >= deadline) return false;
    for (std::size_t i = 0; i < ws.size(); ++i) fds[i] = {ws[i].eof ? -1 : ws[i].from, POLLIN, 0};
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1;
    if (::poll(fds.data(), fds.size(), static_cast<int>(std::min<long long>(ms, 200))) <= 0) continue;
    for (std::size_t i = 0; i < ws.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
      const ssize_t n = ::read(ws[i].from, buf, sizeof buf);
      if (n <= 0) {
        ws[i].eof = true;
        continue;
      }
      ws[i].buf.append(buf, static_cast<std::size_t>(n));
      std::size_t start = 0, nl;
      while ((nl = ws[i].buf.find('\n', start)) != std::string::npos) {
        on_line(ws[i], ws[i].buf.substr(start, nl - start));
        start = nl + 1;
      }
      ws[i].buf.erase(0, start);
    }
    if (std::all_of(ws.begin(), ws.end(), [](const WorkerProc& w) { return w.eof; })) return pred();
  }
  return true;
}

void tell(const WorkerProc& w, const std::string& s) {
  if (w.to >= 0) (void)!::write(w.to, s.data(), s.size());
}

// CPU time (user + system) of a process so far, from /proc/PID/stat, milliseconds.
long long cpu_ms_of(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const auto close = s.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream in(s.substr(close + 2));
  std::string field;
  long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoll(field);
    if (i == 15) stime = std::stoll(field);
  }
  return (utime + stime) * 1000 / ::sysconf(_SC_CLK_TCK);
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = parse_options(argc, argv);
  if (!parsed) {
    std::fprintf(
        stderr,
        "usage: %s SERVER COUNT PSK_FILE [--hold S] [--timeout S] [--sources A1,A2,... | --source-range "
        "FIRST-LAST] [--per-socket N] [--procs P] [--rate N] [--keepalive S] [--encap] [--quiet]\n",
        argv[0]);
    return 2;
  }
  const Options& opt = *parsed;
  std::fflush(stdout);

  // Workers: slice k holds identities first..first+count-1, the slices as even as they go.
  std::vector<WorkerProc> ws(static_cast<std::size_t>(opt.procs));
  int first = 1;
  for (int k = 0; k < opt.procs; ++k) {
    const int count = opt.count / opt.procs + (k < opt.count % opt.procs ? 1 : 0);
    int up[2], down[2];
    if (::pipe2(up, O_CLOEXEC) != 0 || ::pipe2(down, O_CLOEXEC) != 0) {
      std::perror("pipe");
      return 2;
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
      std::perror("fork");
      return 2;
    }
    if (pid == 0) {
      // A worker never outlives the parent (a benchmark that stops the generator early).
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::close(up[0]);
      ::close(down[1]);
      for (const auto& w : ws) {
        if (w.from >= 0) ::close(w.from);
        if (w.to >= 0) ::close(w.to);
      }
      const int rc = run_worker(opt, Slice{k, first, count}, up[1], down[0]);
      std::fflush(stderr);
      ::_exit(rc);
    }
    ::close(up[1]);
    ::close(down[0]);
    ws[static_cast<std::size_t>(k)].pid = pid;
    ws[static_cast<std::size_t>(k)].from = up[0];
    ws[static_cast<std::size_t>(k)].to = down[1];
    first += count;
  }

  std::vector<ClientResult> results;
  results.reserve(static_cast<std::size_t>(opt.count));
  auto on_line = [&](WorkerProc& w, const std::string& line) {
    if (line == "ready")
      w.ready = true;
    else if (line == "settled")
      w.settled = true;
    else if (line.rfind("c ", 0) == 0) {
      if (auto r = decode_result(line)) results.push_back(std::move(*r));
    } else if (line.rfind("held ", 0) == 0) {
      std::istringstream in(line.substr(5));
      in >> w.lost >> w.hold_requests >> w.keepalives;
      w.held = true;
    } else if (line.rfind("teardown ", 0) == 0) {
      std::istringstream in(line.substr(9));
      in >> w.deleted >> w.delete_sent >> w.teardown_ms >> w.send_errors;
      w.done = true;
    }
  };
  auto all = [&](bool WorkerProc::*flag) {
    return [&ws, flag] {
      return std::all_of(ws.begin(), ws.end(), [flag](const WorkerProc& w) { return w.*flag; });
    };
  };
  auto end_workers = [&] {
    for (auto& w : ws) {
      if (w.to >= 0) ::close(w.to);
      w.to = -1;
    }
    for (auto& w : ws) {
      int status = 0;
      ::waitpid(w.pid, &status, 0);
    }
  };

  // Sockets and SAs first in every worker (minutes for 100,000 on a slow machine), then all
  // start together.
  if (!pump(ws, Clock::now() + std::chrono::seconds(600), all(&WorkerProc::ready), on_line)) {
    std::fprintf(stderr, "ike_load: a worker could not set up its clients\n");
    for (auto& w : ws) ::kill(w.pid, SIGTERM);
    end_workers();
    return 2;
  }
  const auto go = Clock::now() + std::chrono::milliseconds(20);
  const auto go_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(go.time_since_epoch()).count();
  for (const auto& w : ws) tell(w, "go " + std::to_string(go_ns) + "\n");
  const bool settled =
      pump(ws, go + std::chrono::seconds(opt.timeout_s + 30), all(&WorkerProc::settled), on_line);
  long long cpu_ms = 0;
  for (const auto& w : ws) cpu_ms += cpu_ms_of(w.pid);
  std::sort(results.begin(), results.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  const Summary s = summarize(results);
  const int missing = opt.count - static_cast<int>(results.size());  // a worker that died

  const std::string from =
      opt.sources.size() > 1 ? std::to_string(opt.sources.size()) + " addresses" : "one address";
  if (!settled || s.unfinished > 0 || missing > 0) {
    std::printf("established %d/%d IKE+CHILD SAs, %d failed, before the %d s timeout\n", s.ok, opt.count,
                s.failed - s.unfinished + missing, opt.timeout_s);
  } else {
    std::printf("established %d/%d IKE+CHILD SAs from %s in %lld ms (first IKE_SA_INIT to last CHILD SA)%s\n",
                s.ok, opt.count, from.c_str(), static_cast<long long>(s.span_ms),
                s.failed ? ", some failed" : "");
    if (s.ok > 0)
      std::printf("setup ms median %lld max %lld\n", static_cast<long long>(s.p50),
                  static_cast<long long>(s.max));
  }
  std::printf(
      "setups ok=%d failed=%d ms=%.1f rate=%.1f p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f max_ms=%.1f sources=%zu "
      "procs=%d "
      "per_socket=%d mode=%s generator_cpu_ms=%lld\n",
      s.ok, s.failed + missing, s.span_ms, s.rate, s.p50, s.p90, s.p99, s.max,
      std::max<std::size_t>(1, opt.sources.size()), opt.procs, opt.per_socket,
      opt.rate > 0 ? ("rate" + std::to_string(static_cast<long long>(opt.rate))).c_str() : "burst", cpu_ms);
  if (!opt.quiet)
    for (const auto& r : results)
      std::printf("client %d load%d.ra.lab %s %s\n", r.index, r.index, r.up ? "up" : "failed", r.vip.c_str());
  std::fflush(stdout);

  // The hold: the workers keep what came up (keepalives, DPD answers) while we wait; setups that
  // failed or ran out of time are not retried.
  const bool hold = settled && missing == 0 && s.ok > 0 && opt.hold_s > 0;
  if (hold) std::this_thread::sleep_for(std::chrono::seconds(opt.hold_s));
  // The hold's end: what the workers lost, printed while the SAs are still up, so that whoever
  // watches the gateway (tools/bench/hold) can look at it before the teardown.
  if (hold)
    for (const auto& w : ws) tell(w, "report\n");
  if (hold && pump(ws, Clock::now() + std::chrono::seconds(30), all(&WorkerProc::held), on_line)) {
    int lost = 0;
    unsigned long long requests = 0, keepalives = 0;
    for (const auto& w : ws) {
      lost += w.lost;
      requests += w.hold_requests;
      keepalives += w.keepalives;
    }
    std::printf("hold s=%d lost=%d ike_requests_answered=%llu keepalives_sent=%llu\n", opt.hold_s, lost,
                requests, keepalives);
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::seconds(kHoldLinger));
  }
  // Teardown in every case: whatever came up is deleted, so the gateway releases its leases.
  for (const auto& w : ws) tell(w, "delete\n");
  pump(ws, Clock::now() + std::chrono::seconds(std::max(15, opt.timeout_s) + 15), all(&WorkerProc::done),
       on_line);
  int deleted = 0, sent = 0;
  long long teardown_ms = 0;
  unsigned long long send_errors = 0;
  for (const auto& w : ws) {
    deleted += w.deleted;
    sent += w.delete_sent;
    teardown_ms = std::max(teardown_ms, w.teardown_ms);
    send_errors += w.send_errors;
  }
  std::printf("teardown deleted=%d/%d ms=%lld send_errors=%llu\n", deleted, sent, teardown_ms, send_errors);
  std::fflush(stdout);
  end_workers();
  return settled && s.unfinished == 0 && missing == 0 && s.ok == opt.count ? 0 : 1;
}
