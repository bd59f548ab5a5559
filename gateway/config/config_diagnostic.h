// One finding about a config file, located precisely enough to fix it without searching:
// "office.yaml:12:5: connections.office-b.local.subnets[1]: "10.1.0.0/33" is not a subnet ...".
#pragma once

#include <string>
#include <vector>

namespace natgate::gateway {

struct ConfigDiagnostic {
  std::string file;
  int line = 0;      // 1-based; 0 when the finding is about the whole file
  int column = 0;    // 1-based
  std::string path;  // key path: "connections.office-b.local.subnets[1]"; empty for the file
  std::string message;

  // "file:line:column: path: message", leaving out what is unknown.
  std::string to_string() const;
};

// Every line of every diagnostic, newline-terminated.
std::string format_diagnostics(const std::vector<ConfigDiagnostic>& diagnostics);

}  // namespace natgate::gateway
