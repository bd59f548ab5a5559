#include "gateway/io/script_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gateway/io/timer.h"

namespace natgate::gateway {

namespace {

// Output is polled rather than watched: scripts are rare (CHILD SA up/down/rekey) and short, and
// a 50 ms poll while one runs costs nothing measurable.
constexpr std::chrono::milliseconds kPollInterval{50};
constexpr std::size_t kMaxLine = 1024;  // longer lines are cut (a script may print anything)

}  // namespace

ScriptRunner::ScriptRunner(boost::asio::io_context& io, LogSink log, std::chrono::milliseconds deadline,
                           std::size_t max_queued)
    : io_(io),
      log_(std::move(log)),
      deadline_(deadline),
      max_queued_(max_queued),
      timer_(std::make_unique<Timer>(io)) {}

ScriptRunner::~ScriptRunner() {
  timer_->cancel();
  if (child_ > 0) {
    ::kill(-child_, SIGKILL);
    while (::waitpid(child_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  if (out_fd_ >= 0) ::close(out_fd_);
}

bool ScriptRunner::run(ScriptRun r) {
  if (queue_.size() >= max_queued_) {
    log_(true, r.label + ": not run, " + std::to_string(queue_.size()) + " script runs are already waiting");
    return false;
  }
  queue_.push_back(std::move(r));
  if (child_ <= 0) start_next();
  return true;
}

void ScriptRunner::start_next() {
  while (child_ <= 0 && !queue_.empty()) {
    ScriptRun r = std::move(queue_.front());
    queue_.pop_front();
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      log_(true, r.label + ": cannot run " + r.path + ": pipe: " + std::strerror(errno));
      ++finished_;
      continue;
    }
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    // Its own process group, so the deadline kills whatever the script started too; default
    // signal handling and an empty mask, whatever the daemon blocks or ignores.
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    std::vector<std::string> env_text;
    env_text.reserve(r.env.size());
    for (const auto& [k, v] : r.env) {
      std::string kv = k;
      kv += '=';
      kv += v;
      env_text.push_back(std::move(kv));
    }
    std::vector<char*> argv{const_cast<char*>(r.path.c_str())};
    for (auto& a : r.args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    envp.reserve(env_text.size() + 1);
    for (auto& e : env_text) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, r.path.c_str(), &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(fds[1]);
    if (rc != 0) {
      ::close(fds[0]);
      log_(true, r.label + ": cannot run " + r.path + ": " + std::strerror(rc));
      ++finished_;
      continue;
    }
    ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    child_ = pid;
    out_fd_ = fds[0];
    label_ = r.label;
    partial_.clear();
    killed_ = false;
    started_ = std::chrono::steady_clock::now();
    timer_->arm_after(kPollInterval, [this] { poll(); });
  }
}

void ScriptRunner::drain_output(bool final) {
  if (out_fd_ < 0) return;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n > 0) {
      partial_.append(buf, static_cast<std::size_t>(n));
      std::size_t nl;
      while ((nl = partial_.find('\n')) != std::string::npos) {
        log_(false, label_ + ": " + partial_.substr(0, std::min(nl, kMaxLine)));
        partial_.erase(0, nl + 1);
      }
      if (partial_.size() > kMaxLine) {
        log_(false, label_ + ": " + partial_.substr(0, kMaxLine));
        partial_.clear();
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;  // EAGAIN (nothing yet) or EOF
  }
  if (final) {
    if (!partial_.empty()) log_(false, label_ + ": " + partial_);
    partial_.clear();
    ::close(out_fd_);
    out_fd_ = -1;
  }
}

void ScriptRunner::poll() {
  drain_output(false);
  int status = 0;
  const pid_t done = ::waitpid(child_, &status, WNOHANG);
  if (done == child_) {
    drain_output(true);
    if (killed_) return finish("killed after " + std::to_string(deadline_.count()) + " ms", true);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return finish("done", false);
    if (WIFEXITED(status)) return finish("exited with status " + std::to_string(WEXITSTATUS(status)), true);
    return finish("ended by signal " + std::to_string(WTERMSIG(status)), true);
  }
  if (!killed_ && std::chrono::steady_clock::now() - started_ > deadline_) {
    ::kill(-child_, SIGKILL);
    killed_ = true;
  }
  timer_->arm_after(kPollInterval, [this] { poll(); });
}

void ScriptRunner::finish(const std::string& how, bool error) {
  log_(error, label_ + ": " + how);
  child_ = -1;
  ++finished_;
  start_next();
}

}  // namespace natgate::gateway
