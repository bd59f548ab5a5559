// natgated's logging: per-subsystem levels, the journald native protocol (fields a test socket
// receives), and the rate limit on lines strangers' packets cause.
#include "gateway/daemon/logging.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>

#include "gateway/daemon/log_rate_limiter.h"
#include "sys/unique_fd.h"

namespace natgate::gateway {
namespace {

using namespace std::chrono_literals;

// A datagram socket standing in for /run/systemd/journal/socket.
class FakeJournal {
 public:
  FakeJournal() {
    path_ =
        (std::filesystem::temp_directory_path() / ("natgate-journal-" + std::to_string(::getpid()))).string();
    ::unlink(path_.c_str());
    fd_ = sys::UniqueFd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
    ::setenv("NATGATE_JOURNAL_SOCKET", path_.c_str(), 1);
  }
  ~FakeJournal() {
    ::unsetenv("NATGATE_JOURNAL_SOCKET");
    ::unlink(path_.c_str());
  }
  FakeJournal(const FakeJournal&) = delete;
  FakeJournal& operator=(const FakeJournal&) = delete;

  // The next entry's fields (parsing both the "NAME=value" and the length-prefixed form), or
  // empty when none arrived.
  std::map<std::string, std::string> next() {
    std::string buf(65536, '\0');
    ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), MSG_DONTWAIT);
    std::map<std::string, std::string> fields;
    if (n <= 0) return fields;
    buf.resize(static_cast<std::size_t>(n));
    std::size_t at = 0;
    while (at < buf.size()) {
      std::size_t eol = buf.find('\n', at);
      if (eol == std::string::npos) break;
      std::string line = buf.substr(at, eol - at);
      if (auto eq = line.find('='); eq != std::string::npos) {
        fields[line.substr(0, eq)] = line.substr(eq + 1);
        at = eol + 1;
        continue;
      }
      std::uint64_t len = 0;
      if (eol + 9 > buf.size()) break;
      for (int i = 0; i < 8; ++i)
        len |= std::uint64_t{static_cast<unsigned char>(buf[eol + 1 + i])} << (8 * i);
      if (eol + 9 + len + 1 > buf.size()) break;
      fields[line] = buf.substr(eol + 9, len);
      at = eol + 9 + len + 1;
    }
    return fields;
  }

 private:
  std::string path_;
  sys::UniqueFd fd_;
};

TEST(Logging, JournalEntriesCarrySubsystemPriorityAndScopedFields) {
  FakeJournal journal;
  LogLevels levels = LogLevels::all(LogLevel::Info);
  levels.subsystem[static_cast<std::size_t>(LogSubsystem::Ike)] = LogLevel::Debug;
  setup_logging(LogTarget::Journal, levels);

  {
    const std::string connection = "office", sa = "0102030405060708_i", peer = "192.0.2.7[4500]";
    ScopedLogFields fields({connection, sa, peer});
    ike_log().debug("IKE SA {} established", sa);
  }
  auto entry = journal.next();
  EXPECT_EQ(entry["PRIORITY"], "7");
  EXPECT_EQ(entry["SYSLOG_IDENTIFIER"], "natgated");
  EXPECT_EQ(entry["NATGATE_SUBSYSTEM"], "ike");
  EXPECT_EQ(entry["MESSAGE"], "[ike] IKE SA 0102030405060708_i established");
  EXPECT_EQ(entry["CONNECTION"], "office");
  EXPECT_EQ(entry["IKE_SA"], "0102030405060708_i");
  EXPECT_EQ(entry["PEER"], "192.0.2.7[4500]");

  // Outside the scope: no fields; debug of a subsystem at info is not written at all.
  esp_log().debug("not written");
  knl_log().warn("route to {} failed", "10.3.0.0/16");
  entry = journal.next();
  EXPECT_EQ(entry["NATGATE_SUBSYSTEM"], "knl");
  EXPECT_EQ(entry["PRIORITY"], "4");
  EXPECT_EQ(entry.count("CONNECTION"), 0U);
  EXPECT_TRUE(journal.next().empty());

  // A message with a newline cannot forge a second field: it travels length-prefixed.
  cfg_log().error("bad\nPRIORITY=0");
  entry = journal.next();
  EXPECT_EQ(entry["PRIORITY"], "3");
  EXPECT_EQ(entry["MESSAGE"], "[cfg] bad\nPRIORITY=0");

  // A reload changes levels in place.
  set_log_levels(LogLevels::all(LogLevel::Error));
  ike_log().info("not written");
  EXPECT_TRUE(journal.next().empty());
  set_log_levels(LogLevels::all(LogLevel::Info));
  spdlog::info("through the default logger");
  EXPECT_EQ(journal.next()["NATGATE_SUBSYSTEM"], "dmn");
}

TEST(LogRateLimiter, BurstThenRateAndCountsWhatItRefused) {
  LogRateLimiter limit(10.0, 5.0);
  const auto t0 = LogRateLimiter::Clock::time_point{} + 1h;
  int admitted = 0;
  for (int i = 0; i < 100; ++i) admitted += limit.admit(t0) ? 1 : 0;
  EXPECT_EQ(admitted, 5);
  EXPECT_EQ(limit.take_suppressed(), 95U);
  EXPECT_EQ(limit.take_suppressed(), 0U);
  // Half a second later five more tokens (10 a second), never more than the burst.
  admitted = 0;
  for (int i = 0; i < 100; ++i) admitted += limit.admit(t0 + 500ms) ? 1 : 0;
  EXPECT_EQ(admitted, 5);
  admitted = 0;
  for (int i = 0; i < 100; ++i) admitted += limit.admit(t0 + 1h) ? 1 : 0;
  EXPECT_EQ(admitted, 5);
  EXPECT_EQ(limit.suppressed_total(), 95U + 95U + 95U);
}

}  // namespace
}  // namespace natgate::gateway
