// ScriptRunner (gateway/io/script_runner.h): a script gets exactly the environment it is given,
// its output reaches the log line by line, runs happen one at a time in order, and a script that
// outlives its deadline is killed, all without blocking the io_context.
#include "gateway/io/script_runner.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace natgate::gateway {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class ScriptRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("natgate-script-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string script(const std::string& name, const std::string& body) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << "#!/bin/sh\n" << body;
    ::chmod(path.c_str(), 0755);
    return path;
  }
  // Runs the io_context until the runner finished `n` scripts (bounded: 20 s).
  void run_until(ScriptRunner& r, std::uint64_t n) {
    const auto until = std::chrono::steady_clock::now() + 20s;
    while (r.finished() < n && std::chrono::steady_clock::now() < until) {
      io_.run_for(50ms);
      io_.restart();
    }
  }
  std::string read(const std::string& name) {
    std::ifstream in(dir_ / name);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  boost::asio::io_context io_;
  fs::path dir_;
  std::vector<std::pair<bool, std::string>> lines_;
  ScriptRunner::LogSink sink_ = [this](bool error, const std::string& line) {
    lines_.emplace_back(error, line);
  };
};

TEST_F(ScriptRunnerTest, RunsInOrderWithOnlyTheGivenEnvironmentAndLogsTheOutput) {
  const std::string out = (dir_ / "seen").string();
  const std::string s = script("a.sh", "echo \"$NATGATE_VERB ${HOME:-nohome} $1\" >> " + out +
                                           "\necho hello from $NATGATE_VERB\necho oops >&2\nexit 3\n");
  ScriptRunner runner(io_, sink_);
  ASSERT_TRUE(runner.run({s, {"x"}, {{"NATGATE_VERB", "up-client"}, {"PATH", "/usr/bin:/bin"}}, "c/a up"}));
  ASSERT_TRUE(
      runner.run({s, {"y"}, {{"NATGATE_VERB", "down-client"}, {"PATH", "/usr/bin:/bin"}}, "c/a down"}));
  run_until(runner, 2);
  ASSERT_EQ(runner.finished(), 2u);
  EXPECT_EQ(read("seen"), "up-client nohome x\ndown-client nohome y\n");
  auto has = [&](bool error, const std::string& text) {
    for (const auto& l : lines_)
      if (l.first == error && l.second == text) return true;
    return false;
  };
  EXPECT_TRUE(has(false, "c/a up: hello from up-client"));
  EXPECT_TRUE(has(false, "c/a up: oops"));
  EXPECT_TRUE(has(true, "c/a up: exited with status 3"));
  EXPECT_TRUE(has(true, "c/a down: exited with status 3"));
}

TEST_F(ScriptRunnerTest, AScriptPastItsDeadlineIsKilledAndTheNextOneRuns) {
  const std::string slow = script("slow.sh", "sleep 30\n");
  const std::string quick = script("quick.sh", "exit 0\n");
  ScriptRunner runner(io_, sink_, 300ms);
  const auto started = std::chrono::steady_clock::now();
  runner.run({slow, {}, {}, "slow"});
  runner.run({quick, {}, {}, "quick"});
  run_until(runner, 2);
  ASSERT_EQ(runner.finished(), 2u);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 15s);
  ASSERT_GE(lines_.size(), 2u);
  EXPECT_EQ(lines_[0], std::make_pair(true, std::string("slow: killed after 300 ms")));
  EXPECT_EQ(lines_.back(), std::make_pair(false, std::string("quick: done")));
}

TEST_F(ScriptRunnerTest, AMissingScriptIsLoggedNotFatal) {
  ScriptRunner runner(io_, sink_);
  runner.run({(dir_ / "nope.sh").string(), {}, {}, "nope"});
  run_until(runner, 1);
  ASSERT_FALSE(lines_.empty());
  EXPECT_TRUE(lines_.back().first);
}

}  // namespace
}  // namespace natgate::gateway
