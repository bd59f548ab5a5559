// `natgate profile --for windows|apple|android|natgate CONNECTION [--user ID] ...`: reads the
// gateway's config file (not the daemon: it works before natgated runs) and writes the files a
// road warrior's device imports. Registered on the CLI's app; runs when chosen.
#pragma once

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>

#include "tools/cli/profile/client_profile.h"

namespace natgate::cli {

class ProfileCommand {
 public:
  explicit ProfileCommand(CLI::App& app);
  bool chosen() const { return command_->parsed(); }
  int run(std::ostream& out, std::ostream& err) const;

 private:
  CLI::App* command_ = nullptr;
  std::string platform_;
  std::string config_path_ = "/etc/natgate/natgate.yaml";
  std::string out_dir_ = ".";
  std::string cert_;
  std::string key_;
  bool force_ = false;
  ProfileRequest request_;
};

}  // namespace natgate::cli
