// YAML → Config, refusing anything doubtful with file, line, column and key path
// (docs/design.md, "Rules every layer keeps"). Unknown keys are errors: a typo must not pass silently.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/config.h"
#include "gateway/config/config_diagnostic.h"
#include "gateway/config/proposal_validator.h"

namespace natgate::gateway {

struct ConfigLoadOptions {
  ProposalValidator validate_proposal = default_proposal_validator();
  // Who must own an `updown:` script: root, since natgated runs it as root. Unit tests, which
  // run as a normal user, set their own uid.
  unsigned updown_owner = 0;
};

struct ConfigLoadResult {
  std::optional<Config> config;  // set exactly when errors is empty
  std::vector<ConfigDiagnostic> errors;
  std::vector<ConfigDiagnostic> warnings;  // e.g. a psk_file others can read
  bool ok() const { return config.has_value(); }
};

// Reads and checks a config file. Relative psk_file paths are taken from the file's folder.
ConfigLoadResult load_config_file(const std::string& path, const ConfigLoadOptions& options = {});

// The same for text already in memory; `name` appears in messages and `base_dir` resolves
// relative psk_file paths.
ConfigLoadResult load_config_text(std::string_view yaml, const std::string& name, const std::string& base_dir,
                                  const ConfigLoadOptions& options = {});

}  // namespace natgate::gateway
