// The kernel's XFRM error counters for the current network namespace (/proc/net/xfrm_stat,
// CONFIG_XFRM_STATISTICS): packets it dropped for want of a state, a failed replay or
// integrity check, a policy mismatch… It counts per namespace, not per SA, so `natgate status`
// shows them next to the per-SA counters read with XFRM_MSG_GETSA.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace natgate::xfrm {

// "XfrmInNoStates" -> "xfrm_in_no_states".
std::string xfrm_stat_name(std::string_view kernel_name);

// Parses the file's "Name<whitespace>value" lines; lines that do not fit are skipped.
std::map<std::string, std::uint64_t> parse_xfrm_stats(std::string_view text);

// Reads /proc/net/xfrm_stat; empty if the kernel has no XFRM statistics.
std::map<std::string, std::uint64_t> read_xfrm_stats(const std::string& path = "/proc/net/xfrm_stat");

}  // namespace natgate::xfrm
