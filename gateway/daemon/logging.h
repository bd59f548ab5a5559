// natgated logs through spdlog, one logger per subsystem (config.h, LogSubsystem) so each has its
// own level (daemon.log_level). On a terminal or in a file every line carries time, level and
// subsystem. Under systemd (JOURNAL_STREAM names our stderr) lines go to journald's native
// socket as structured entries: PRIORITY, MESSAGE, SYSLOG_IDENTIFIER, NATGATE_SUBSYSTEM and,
// while a ScopedLogFields is alive on the thread, CONNECTION, IKE_SA and PEER — so
// `journalctl CONNECTION=office` finds one tunnel's lines. When that socket cannot be reached
// the lines go to stderr with an sd-daemon "<N>" priority prefix instead, nothing lost.
#pragma once

#include <spdlog/logger.h>

#include <string_view>

#include "gateway/config/config.h"

namespace natgate::gateway {

enum class LogTarget : std::uint8_t { Terminal, Journal };

// Journal when stderr is the stream systemd set up for this service, else Terminal.
LogTarget detect_log_target();
void setup_logging(LogTarget target, const LogLevels& levels);
void set_log_levels(const LogLevels& levels);

// The logger of one subsystem; before setup_logging (unit tests, tools) spdlog's default logger.
spdlog::logger& subsystem_log(LogSubsystem s);
inline spdlog::logger& dmn_log() { return subsystem_log(LogSubsystem::Dmn); }
inline spdlog::logger& cfg_log() { return subsystem_log(LogSubsystem::Cfg); }
inline spdlog::logger& ike_log() { return subsystem_log(LogSubsystem::Ike); }
inline spdlog::logger& net_log() { return subsystem_log(LogSubsystem::Net); }
inline spdlog::logger& esp_log() { return subsystem_log(LogSubsystem::Esp); }
inline spdlog::logger& knl_log() { return subsystem_log(LogSubsystem::Knl); }
inline spdlog::logger& ctl_log() { return subsystem_log(LogSubsystem::Ctl); }

// Journal fields for the lines this thread logs while the object lives (empty = not set). The
// fields are copied (views: the text they point to must outlive the object); nesting restores
// the outer fields.
struct LogFields {
  std::string_view connection;
  std::string_view ike_sa;
  std::string_view peer;
};
class ScopedLogFields {
 public:
  explicit ScopedLogFields(const LogFields& fields);
  ~ScopedLogFields();
  ScopedLogFields(const ScopedLogFields&) = delete;
  ScopedLogFields& operator=(const ScopedLogFields&) = delete;

 private:
  LogFields fields_;
  const LogFields* outer_;
};
const LogFields* current_log_fields();

}  // namespace natgate::gateway
