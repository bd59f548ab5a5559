// Typed, located reading of a yaml-cpp tree. Every problem becomes a ConfigDiagnostic with
// file, line, column and key path; readers return nullopt and carry on, so one run of
// `natgated --check` reports every mistake in the file, not just the first.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/config_diagnostic.h"

namespace natgate::gateway {

class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  void error(const YAML::Mark& at, std::string path, std::string message);
  void warning(const YAML::Mark& at, std::string path, std::string message);
  // Findings about the file as a whole (cannot open it, …).
  void file_error(std::string message);

  const std::string& file() const { return file_; }
  // Findings from here on are about this file (a config's include:d files, config_include.h).
  void set_file(std::string file) { file_ = std::move(file); }
  bool has_errors() const { return !errors_.empty(); }
  std::vector<ConfigDiagnostic>& errors() { return errors_; }
  std::vector<ConfigDiagnostic>& warnings() { return warnings_; }

 private:
  ConfigDiagnostic make(const YAML::Mark& at, std::string path, std::string message) const;
  std::string file_;
  std::vector<ConfigDiagnostic> errors_;
  std::vector<ConfigDiagnostic> warnings_;
};

// "a.b" + "c" → "a.b.c"; "" + "c" → "c".
std::string join_path(std::string_view parent, std::string_view key);
// "a.b" + 2 → "a.b[2]".
std::string index_path(std::string_view list, std::size_t index);
// Quotes a user's value for a message: "10.1.0.0/33".
std::string quoted(std::string_view value);

struct MapEntry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
};

// A mapping whose keys were checked: no duplicates, none outside the allowed set.
class MapFields {
 public:
  // The value of key, or nullopt when the file does not set it.
  std::optional<YAML::Node> get(std::string_view key) const;
  const std::vector<MapEntry>& entries() const { return entries_; }
  const YAML::Mark& mark() const { return mark_; }
  const std::string& path() const { return path_; }

 private:
  friend class YamlReader;
  std::vector<MapEntry> entries_;
  YAML::Mark mark_;
  std::string path_;
};

class YamlReader {
 public:
  explicit YamlReader(Diagnostics& diags) : diags_(diags) {}

  // A mapping with only the allowed keys (an unknown key is an error naming the allowed
  // ones).
  std::optional<MapFields> map(const YAML::Node& node, const std::string& path,
                               std::initializer_list<std::string_view> allowed);
  // A mapping whose keys are names chosen by the user (connections, secrets).
  std::optional<MapFields> named_map(const YAML::Node& node, const std::string& path);
  // A list; each element is read by the caller with index_path().
  std::optional<std::vector<YAML::Node>> list(const YAML::Node& node, const std::string& path,
                                              std::string_view expected);
  // A scalar as text; `expected` completes "expected ..." when it is not one.
  std::optional<std::string> scalar(const YAML::Node& node, const std::string& path,
                                    std::string_view expected);
  std::optional<bool> boolean(const YAML::Node& node, const std::string& path);
  // An integer in [min, max]; `what` names it for messages ("a port").
  std::optional<std::int64_t> integer(const YAML::Node& node, const std::string& path, std::int64_t min,
                                      std::int64_t max, std::string_view what);

  // "path: required key is missing (expected ...)", located at the mapping that lacks it.
  void missing(const MapFields& map, std::string_view key, std::string_view expected);

  Diagnostics& diagnostics() { return diags_; }

 private:
  std::optional<MapFields> read_entries(const YAML::Node& node, const std::string& path,
                                        std::string_view expected);
  Diagnostics& diags_;
};

}  // namespace natgate::gateway
