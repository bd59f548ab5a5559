// `natgated --check FILE`: validate a config without starting anything.
#pragma once

#include <ostream>
#include <string>

#include "gateway/config/config_loader.h"

namespace natgate::gateway {

// Prints "FILE: OK, N connections" to out, or every error to err (one per line, located);
// warnings go to err either way. Returns the process exit code: 0 valid, 1 not.
int run_config_check(const std::string& path, std::ostream& out, std::ostream& err,
                     const ConfigLoadOptions& options = {});

}  // namespace natgate::gateway
