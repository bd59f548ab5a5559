// sd_notify(3) without libsystemd: tells systemd (Type=notify) when natgated is ready,
// reloading or stopping, by a datagram to $NOTIFY_SOCKET. Does nothing outside systemd.
#pragma once

#include <string_view>

namespace natgate::gateway {

// state: "READY=1", "RELOADING=1", "STOPPING=1", "STATUS=...". Returns whether it was sent.
bool notify_systemd(std::string_view state);

}  // namespace natgate::gateway
