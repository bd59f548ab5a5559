#include "gateway/daemon/check_command.h"

#include "gateway/config/policy_overlap.h"

namespace natgate::gateway {

int run_config_check(const std::string& path, std::ostream& out, std::ostream& err,
                     const ConfigLoadOptions& options) {
  auto r = load_config_file(path, options);
  for (const auto& w : r.warnings) err << "warning: " << w.to_string() << "\n";
  if (!r.ok()) {
    for (const auto& e : r.errors) err << e.to_string() << "\n";
    err << path << ": " << r.errors.size() << (r.errors.size() == 1 ? " error" : " errors") << "\n";
    return 1;
  }
  // Valid, but not every connection can be up at once: say which and why.
  for (const auto& w : policy_overlap_warnings(*r.config)) err << "warning: " << path << ": " << w << "\n";
  const std::size_t n = r.config->connections.size();
  out << path << ": OK, " << n << (n == 1 ? " connection" : " connections") << "\n";
  return 0;
}

}  // namespace natgate::gateway
