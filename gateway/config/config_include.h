// The files one configuration is made of: the main file, the files it includes
// (`include: conf.d/*.yaml`, recursively) and the files it names for its secrets
// (`secrets_file:`, `eap_users_file:`). Each is read and parsed here, in merge order; the loader
// then reads every section of every file as if they were one (config_loader.cc), reporting a
// name or key that two files define with both locations.
//
//   include: conf.d/*.yaml            or a list of patterns; glob(7) relative to the including
//                                     file's folder; matches merged in byte order of their paths
//   secrets_file: secrets.yaml        what `secrets:` holds, in a file of its own (mode 0600)
//   eap_users_file: eap-users.yaml    what `eap_users:` holds, in a file of its own (mode 0600)
#pragma once

#include <sys/types.h>
#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "gateway/config/yaml_reader.h"

namespace natgate::gateway {

struct ConfigSource {
  enum class Role : std::uint8_t {
    Main,          // the file natgated was given
    Include,       // named by an include: pattern; the same keys as the main file
    SecretsFile,   // named by secrets_file: the mapping under secrets:
    EapUsersFile,  // named by eap_users_file: the mapping under eap_users:
  };
  Role role = Role::Main;
  std::string file;            // as shown in messages
  std::string base_dir;        // relative paths written in it are taken from here
  std::optional<mode_t> mode;  // when it was read from a file
  YAML::Node root;
  bool parsed = true;  // false after a YAML syntax error (already reported)
};

// The folder of `path` ("." for a bare name).
std::string folder_of(const std::string& path);

// A config file's text, refusing anything but a regular file of at most 4 MiB. On failure, the
// reason ("cannot open: No such file or directory").
struct ConfigFileText {
  std::string text;
  mode_t mode = 0;
};
Expected<ConfigFileText> read_config_file(const std::string& path);

// Parses `text` (named `file` in messages) and everything it includes or names, depth first
// in merge order: the main file first, then each included file followed by what it includes.
// Problems (a file that cannot be read, a YAML syntax error, an include cycle) become
// diagnostics located at the include: key that led there or in the file itself.
std::vector<ConfigSource> collect_config_sources(const std::string& text, const std::string& file,
                                                 const std::string& base_dir, std::optional<mode_t> mode,
                                                 Diagnostics& diags);

}  // namespace natgate::gateway
