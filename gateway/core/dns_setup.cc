#include "gateway/core/dns_setup.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "gateway/core/virtual_ip_client.h"

extern char** environ;

namespace natgate::gateway::core {

namespace {

std::string servers_text(const std::vector<IpAddress>& servers) {
  std::string text = "# DNS servers offered by the VPN gateway (natgated)\n";
  for (const auto& s : servers) text += "nameserver " + s.to_string() + "\n";
  return text;
}

std::string resolvconf_record(const std::string& interface) { return interface + ".natgate"; }

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

}  // namespace

const char* to_string(DnsVia via) {
  switch (via) {
    case DnsVia::File:
      return "file";
    case DnsVia::Resolved:
      return "resolved";
    case DnsVia::Resolvconf:
      return "resolvconf";
    case DnsVia::Auto:
      return "auto";
  }
  return "?";
}

DnsProbes host_dns_probes() {
  DnsProbes p;
  // systemd-resolved keeps its runtime directory while it runs (sd_booted-style check).
  p.resolved_running = [] {
    struct stat st {};
    return ::stat("/run/systemd/resolve", &st) == 0 && S_ISDIR(st.st_mode);
  };
  p.find_program = [](const std::string& program) -> std::optional<std::string> {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/sbin:/usr/bin:/sbin:/bin";
    std::size_t start = 0;
    while (start <= dirs.size()) {
      const std::size_t end = std::min(dirs.find(':', start), dirs.size());
      const std::string dir = dirs.substr(start, end - start);
      if (!dir.empty() && dir.front() == '/') {
        std::string candidate = dir;
        candidate += '/';
        candidate += program;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
      }
      start = end + 1;
    }
    return std::nullopt;
  };
  return p;
}

Expected<DnsMethod> choose_dns_method(const DnsTarget& target, const DnsProbes& probes) {
  DnsMethod m;
  auto with_program = [&](DnsVia via, const char* program) -> Expected<DnsMethod> {
    auto found = probes.find_program(program);
    if (!found) return unexpected(std::string(program) + " is not installed (not on PATH)");
    m.via = via;
    m.program = *found;
    return m;
  };
  switch (target.via) {
    case DnsVia::File:
      if (!target.file) return unexpected(std::string("dns: file needs local.dns_file"));
      m.via = DnsVia::File;
      m.file = *target.file;
      return m;
    case DnsVia::Resolved:
      return with_program(DnsVia::Resolved, "resolvectl");
    case DnsVia::Resolvconf:
      return with_program(DnsVia::Resolvconf, "resolvconf");
    case DnsVia::Auto:
      if (probes.resolved_running())
        if (auto r = with_program(DnsVia::Resolved, "resolvectl")) return r;
      if (auto r = with_program(DnsVia::Resolvconf, "resolvconf")) return r;
      if (target.file) {
        m.via = DnsVia::File;
        m.file = *target.file;
        return m;
      }
      return unexpected(
          std::string("dns: auto found neither systemd-resolved nor resolvconf, and no local.dns_file"));
  }
  return unexpected(std::string("dns: unknown method"));
}

Status run_dns_command(const std::vector<std::string>& argv, const std::string& input,
                       std::chrono::milliseconds deadline) {
  if (argv.empty()) return unexpected(std::string("no command"));
  int in[2] = {-1, -1};
  int out[2] = {-1, -1};
  if (::pipe2(in, O_CLOEXEC) != 0) return unexpected(std::string("pipe: ") + std::strerror(errno));
  Fd in_r{in[0]}, in_w{in[1]};
  if (::pipe2(out, O_CLOEXEC) != 0) return unexpected(std::string("pipe: ") + std::strerror(errno));
  Fd out_r{out[0]}, out_w{out[1]};
  // Ours non-blocking: a grandchild may keep the write end open after the command exited.
  (void)::fcntl(out_r.fd, F_SETFL, O_NONBLOCK);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_r.fd, 0);
  posix_spawn_file_actions_adddup2(&actions, out_w.fd, 1);
  posix_spawn_file_actions_adddup2(&actions, out_w.fd, 2);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return unexpected("cannot run " + argv[0] + ": " + std::strerror(rc));
  in_r.reset();
  out_w.reset();
  // The input is a few lines: far below the pipe's capacity, so one write does not block.
  if (!input.empty()) (void)!::write(in_w.fd, input.data(), input.size());
  in_w.reset();
  std::string output;
  const auto until = std::chrono::steady_clock::now() + deadline;
  int status = 0;
  bool done = false;
  while (!done) {
    pollfd p{out_r.fd, POLLIN, 0};
    if (out_r.fd >= 0 && ::poll(&p, 1, 50) > 0) {
      char buf[512];
      const ssize_t n = ::read(out_r.fd, buf, sizeof buf);
      if (n > 0 && output.size() < 4096) output.append(buf, static_cast<std::size_t>(n));
      if (n == 0) out_r.reset();
    } else if (out_r.fd < 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) done = true;
    if (!done && std::chrono::steady_clock::now() > until) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return unexpected(argv[0] + " took longer than " + std::to_string(deadline.count()) + " ms: killed");
    }
  }
  // What it wrote just before it exited (the write end is closed now: read until EOF).
  for (int i = 0; out_r.fd >= 0 && i < 16; ++i) {
    char buf[512];
    const ssize_t n = ::read(out_r.fd, buf, sizeof buf);
    if (n <= 0) break;
    if (output.size() < 4096) output.append(buf, static_cast<std::size_t>(n));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  const std::string first = output.substr(0, output.find('\n'));
  const std::string how = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                            : "signal " + std::to_string(WTERMSIG(status));
  return unexpected(argv[0] + " failed (" + how + ")" + (first.empty() ? "" : ": " + first));
}

Status apply_dns(const DnsMethod& m, const std::string& interface, const std::vector<IpAddress>& servers) {
  switch (m.via) {
    case DnsVia::File:
      return write_dns_file(m.file, servers, "DNS servers offered by the VPN gateway (natgated)");
    case DnsVia::Resolved: {
      if (interface.empty()) return unexpected(std::string("resolvectl: no interface"));
      std::vector<std::string> argv{m.program, "dns", interface};
      for (const auto& s : servers) argv.push_back(s.to_string());
      if (Status s = run_dns_command(argv, ""); !s) return s;
      // "~.": the routing-only root domain, so every lookup uses this link's servers.
      return run_dns_command({m.program, "domain", interface, "~."}, "");
    }
    case DnsVia::Resolvconf:
      if (interface.empty()) return unexpected(std::string("resolvconf: no interface"));
      return run_dns_command({m.program, "-a", resolvconf_record(interface)}, servers_text(servers));
    case DnsVia::Auto:
      break;
  }
  return unexpected(std::string("dns: no method chosen"));
}

Status undo_dns(const DnsMethod& m, const std::string& interface) {
  switch (m.via) {
    case DnsVia::File:
      if (::unlink(m.file.c_str()) != 0 && errno != ENOENT)
        return unexpected("cannot remove " + m.file + ": " + std::strerror(errno));
      return {};
    case DnsVia::Resolved:
      return run_dns_command({m.program, "revert", interface}, "");
    case DnsVia::Resolvconf:
      return run_dns_command({m.program, "-d", resolvconf_record(interface)}, "");
    case DnsVia::Auto:
      break;
  }
  return {};
}

}  // namespace natgate::gateway::core
