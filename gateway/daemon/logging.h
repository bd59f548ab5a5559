// natgated logs to stderr through spdlog. Under systemd (JOURNAL_STREAM set) each line starts
// with a syslog priority "<N>" that journald turns into the entry's priority, and carries no
// timestamp because the journal adds its own.
#pragma once

#include "gateway/config/config.h"

namespace natgate::gateway {

enum class LogTarget : std::uint8_t { Terminal, Journal };

// Journal when stderr is the stream systemd set up for this service, else Terminal.
LogTarget detect_log_target();
void setup_logging(LogTarget target, LogLevel level);
void set_log_level(LogLevel level);

}  // namespace natgate::gateway
