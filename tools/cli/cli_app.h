// The `natgate` command line: parses arguments, talks to natgated's control socket and
// prints the answer. Separate from main() so tests can run it with their own streams.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace natgate::cli {

constexpr const char* kDefaultSocket = "/run/natgate/natgate.sock";

// args[0] is the program name. Returns the exit code: 0 done, 1 the daemon refused or could
// not be reached, other values for usage errors (CLI11's codes).
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace natgate::cli
