#include "gateway/daemon/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>

#include "sys/unique_fd.h"

namespace natgate::gateway {

namespace {

spdlog::level::level_enum to_spdlog(LogLevel l) {
  switch (l) {
    case LogLevel::Trace:
      return spdlog::level::trace;
    case LogLevel::Debug:
      return spdlog::level::debug;
    case LogLevel::Info:
      return spdlog::level::info;
    case LogLevel::Warn:
      return spdlog::level::warn;
    case LogLevel::Error:
      return spdlog::level::err;
    case LogLevel::Critical:
      return spdlog::level::critical;
    case LogLevel::Off:
      break;
  }
  return spdlog::level::off;
}

// syslog(3) priorities, as sd-daemon(3) prefixes and journald's PRIORITY= expect them.
int syslog_priority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return 7;  // LOG_DEBUG
    case spdlog::level::warn:
      return 4;  // LOG_WARNING
    case spdlog::level::err:
      return 3;  // LOG_ERR
    case spdlog::level::critical:
      return 2;  // LOG_CRIT
    default:
      return 6;  // LOG_INFO
  }
}

// "%*" → "<3>": the sd-daemon(3) priority prefix for the message's level.
class SyslogPriorityFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    const char text[] = {'<', static_cast<char>('0' + syslog_priority(msg.level)), '>'};
    dest.append(text, text + 3);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<SyslogPriorityFlag>();
  }
};

thread_local const LogFields* t_log_fields = nullptr;

// journald's native protocol (systemd.journal-fields(7), "Native Protocol"): one datagram per
// entry to /run/systemd/journal/socket, each field "NAME=value\n", or for a value that may hold a
// newline "NAME\n" + its length as 64-bit little endian + the value + "\n". Written here because
// libsystemd is not a dependency and the protocol is a few lines. A datagram that cannot be sent
// (journald restarting, socket buffer full) goes to stderr with its priority prefix instead.
class JournalSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit JournalSink(sys::UniqueFd socket) : socket_(std::move(socket)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    entry_.clear();
    add("PRIORITY", std::to_string(syslog_priority(msg.level)));
    add("SYSLOG_IDENTIFIER", "natgated");
    add("NATGATE_SUBSYSTEM", std::string_view(msg.logger_name.data(), msg.logger_name.size()));
    if (const LogFields* f = t_log_fields) {
      if (!f->connection.empty()) add("CONNECTION", f->connection);
      if (!f->ike_sa.empty()) add("IKE_SA", f->ike_sa);
      if (!f->peer.empty()) add("PEER", f->peer);
    }
    std::string text = "[" + std::string(msg.logger_name.data(), msg.logger_name.size()) + "] ";
    text.append(msg.payload.data(), msg.payload.size());
    add_binary_safe("MESSAGE", text);
    if (::send(socket_.get(), entry_.data(), entry_.size(), MSG_DONTWAIT | MSG_NOSIGNAL) ==
        static_cast<ssize_t>(entry_.size()))
      return;
    std::string line = "<" + std::to_string(syslog_priority(msg.level)) + ">" + text + "\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  void flush_() override {}

 private:
  void add(std::string_view name, std::string_view value) {
    if (value.find('\n') != std::string_view::npos) return add_binary_safe(name, value);
    entry_.append(name).append("=").append(value).append("\n");
  }
  void add_binary_safe(std::string_view name, std::string_view value) {
    entry_.append(name).append("\n");
    std::uint64_t n = value.size();
    for (int i = 0; i < 8; ++i) entry_.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    entry_.append(value).append("\n");
  }

  sys::UniqueFd socket_;
  std::string entry_;
};

// The journal's socket, connected; invalid when there is none (not under systemd, a container).
sys::UniqueFd connect_journal() {
  const char* path = std::getenv("NATGATE_JOURNAL_SOCKET");  // tests point it at their own socket
  if (path == nullptr) path = "/run/systemd/journal/socket";
  sys::UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return {};
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (std::strlen(path) >= sizeof addr.sun_path) return {};
  std::strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) return {};
  return fd;
}

std::array<std::shared_ptr<spdlog::logger>, kLogSubsystemCount>& subsystem_loggers() {
  static std::array<std::shared_ptr<spdlog::logger>, kLogSubsystemCount> loggers;
  return loggers;
}

}  // namespace

LogTarget detect_log_target() {
  // JOURNAL_STREAM is "device:inode" of the stream systemd connected; it only counts if
  // stderr still is that stream (not redirected by a script that inherited the variable).
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return LogTarget::Terminal;
  struct stat st {};
  if (::fstat(2, &st) != 0) return LogTarget::Terminal;
  std::string expected = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  return expected == stream ? LogTarget::Journal : LogTarget::Terminal;
}

void setup_logging(LogTarget target, const LogLevels& levels) {
  spdlog::sink_ptr sink;
  if (target == LogTarget::Journal) {
    if (sys::UniqueFd journal = connect_journal(); journal.valid()) {
      sink = std::make_shared<JournalSink>(std::move(journal));
    } else {
      sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
      auto formatter = std::make_unique<spdlog::pattern_formatter>();
      formatter->add_flag<SyslogPriorityFlag>('*').set_pattern("%*[%n] %v");
      sink->set_formatter(std::move(formatter));
    }
  } else {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    sink->set_formatter(std::make_unique<spdlog::pattern_formatter>("%Y-%m-%d %H:%M:%S.%e %-5l [%n] %v"));
  }
  auto& loggers = subsystem_loggers();
  for (std::size_t i = 0; i < kLogSubsystemCount; ++i) {
    auto logger = std::make_shared<spdlog::logger>(to_string(static_cast<LogSubsystem>(i)), sink);
    logger->flush_on(spdlog::level::trace);  // a daemon's log is read live; never sit on lines
    loggers[i] = std::move(logger);
  }
  // Libraries and code that log through spdlog's free functions land in "dmn".
  spdlog::set_default_logger(loggers[static_cast<std::size_t>(LogSubsystem::Dmn)]);
  set_log_levels(levels);
}

void set_log_levels(const LogLevels& levels) {
  auto& loggers = subsystem_loggers();
  for (std::size_t i = 0; i < kLogSubsystemCount; ++i) {
    if (loggers[i]) loggers[i]->set_level(to_spdlog(levels.of(static_cast<LogSubsystem>(i))));
  }
}

spdlog::logger& subsystem_log(LogSubsystem s) {
  const auto& logger = subsystem_loggers()[static_cast<std::size_t>(s)];
  return logger ? *logger : *spdlog::default_logger_raw();
}

ScopedLogFields::ScopedLogFields(const LogFields& fields) : fields_(fields), outer_(t_log_fields) {
  t_log_fields = &fields_;
}
ScopedLogFields::~ScopedLogFields() { t_log_fields = outer_; }
const LogFields* current_log_fields() { return t_log_fields; }

}  // namespace natgate::gateway
