// systemd's service watchdog and status line (sd_notify(3), sd_watchdog_enabled(3)): with
// WatchdogSec= in the unit, systemd sets WATCHDOG_USEC (and WATCHDOG_PID) and restarts the
// service when no "WATCHDOG=1" arrives within that time. natgated pings from its event loop,
// so a loop that hangs (a deadlock, a handler that never returns) is noticed; "STATUS=" gives
// `systemctl status natgated` a one-line summary of the tunnels.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "gateway/control/status_model.h"

namespace natgate::gateway {

// The watchdog interval systemd asked for, when it asked this process (WATCHDOG_PID, when
// set, must be ours: a child that inherited the variables must not ping for its parent).
std::optional<std::chrono::microseconds> systemd_watchdog_interval();

// How often natgated tells systemd it is alive and how it is: half the watchdog interval
// (as sd_watchdog_enabled(3) advises), and at least every 10 s so the status line stays fresh.
std::chrono::milliseconds systemd_tick_interval(std::optional<std::chrono::microseconds> watchdog);

// "2 of 3 connections up, 41 IKE SAs, 40 CHILD SAs" (connections: configured ones with an
// established IKE SA).
std::string systemd_status_line(const StatusSummary& summary);

}  // namespace natgate::gateway
