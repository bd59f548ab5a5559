// Runs operator scripts (updown: hooks, configs/README.md "updown") from the daemon's event loop
// without blocking it: posix_spawn, no shell (the path and environment are passed as they are,
// so nothing in a connection name or a traffic selector is ever interpreted), stdin from
// /dev/null, stdout and stderr read line by line into the log, and a deadline after which the
// script's process group is killed. Scripts run one at a time, in the order they were asked
// for, so an up and the down that follows it reach the script in that order.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace natgate::gateway {

class Timer;

struct ScriptRun {
  std::string path;                                      // absolute, checked by the config loader
  std::vector<std::string> args;                         // argv[1..]
  std::vector<std::pair<std::string, std::string>> env;  // the script's whole environment
  std::string label;                                     // for the log: "office/lan-a up-client"
};

class ScriptRunner {
 public:
  // `log_line(level_is_error, text)` receives the script's output and what became of it.
  using LogSink = std::function<void(bool error, const std::string& line)>;
  ScriptRunner(boost::asio::io_context& io, LogSink log,
               std::chrono::milliseconds deadline = std::chrono::seconds(30), std::size_t max_queued = 256);
  ~ScriptRunner();  // kills a script still running and reaps it
  ScriptRunner(const ScriptRunner&) = delete;
  ScriptRunner& operator=(const ScriptRunner&) = delete;

  // Queues one run; false (and a log line) when the queue is full.
  bool run(ScriptRun r);
  std::size_t queued() const { return queue_.size(); }
  bool busy() const { return child_ > 0; }
  std::uint64_t finished() const { return finished_; }  // runs done, failed to start or killed

 private:
  void start_next();
  void poll();  // reads output, reaps the child, enforces the deadline
  void drain_output(bool final);
  void finish(const std::string& how, bool error);

  [[maybe_unused]] boost::asio::io_context& io_;
  LogSink log_;
  std::chrono::milliseconds deadline_;
  std::size_t max_queued_;
  std::deque<ScriptRun> queue_;
  std::unique_ptr<Timer> timer_;
  pid_t child_ = -1;
  int out_fd_ = -1;  // read end of the child's stdout/stderr pipe, non-blocking
  std::string partial_;
  std::string label_;
  std::chrono::steady_clock::time_point started_{};
  bool killed_ = false;
  std::uint64_t finished_ = 0;
};

}  // namespace natgate::gateway
