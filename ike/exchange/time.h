// Time as the caller gives it: ike/ never reads a clock (docs/design.md, "The sans-I/O contract"). The daemon
// passes std::chrono::steady_clock::now(); tests pass any TimePoint they like and move it on.
#pragma once

#include <chrono>

namespace natgate::ike {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = std::chrono::milliseconds;

}  // namespace natgate::ike
