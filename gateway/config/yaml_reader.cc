#include "gateway/config/yaml_reader.h"

#include <algorithm>
#include <charconv>

namespace natgate::gateway {

namespace {

// Levenshtein distance, to suggest the key a typo meant ("loacl" → "local").
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string node_kind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return quoted(node.Scalar());
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

}  // namespace

ConfigDiagnostic Diagnostics::make(const YAML::Mark& at, std::string path, std::string message) const {
  ConfigDiagnostic d;
  d.file = file_;
  if (!at.is_null()) {
    d.line = at.line + 1;  // yaml-cpp counts from 0
    d.column = at.column + 1;
  }
  d.path = std::move(path);
  d.message = std::move(message);
  return d;
}

void Diagnostics::error(const YAML::Mark& at, std::string path, std::string message) {
  errors_.push_back(make(at, std::move(path), std::move(message)));
}

void Diagnostics::warning(const YAML::Mark& at, std::string path, std::string message) {
  warnings_.push_back(make(at, std::move(path), std::move(message)));
}

void Diagnostics::file_error(std::string message) {
  errors_.push_back(make(YAML::Mark::null_mark(), "", std::move(message)));
}

std::string join_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return std::string(parent) + "." + std::string(key);
}

std::string index_path(std::string_view list, std::size_t index) {
  return std::string(list) + "[" + std::to_string(index) + "]";
}

std::string quoted(std::string_view value) {
  // Long values are cut: a pasted key or a whole line in the wrong place helps no one in full.
  constexpr std::size_t kMax = 60;
  std::string out = "\"";
  out += value.substr(0, kMax);
  if (value.size() > kMax) out += "...";
  return out + "\"";
}

std::optional<YAML::Node> MapFields::get(std::string_view key) const {
  for (const auto& e : entries_) {
    if (e.key == key) return e.value;
  }
  return std::nullopt;
}

std::optional<MapFields> YamlReader::read_entries(const YAML::Node& node, const std::string& path,
                                                  std::string_view expected) {
  if (!node.IsMap()) {
    diags_.error(node.Mark(), path, "expected " + std::string(expected) + ", got " + node_kind(node));
    return std::nullopt;
  }
  MapFields fields;
  fields.mark_ = node.Mark();
  fields.path_ = path;
  for (const auto& pair : node) {
    // Copies: yaml-cpp's iterators hand out temporaries, so references into them dangle.
    const YAML::Node key = pair.first;
    if (!key.IsScalar()) {
      diags_.error(key.Mark(), path, "keys must be plain names, got " + node_kind(key));
      continue;
    }
    // yaml-cpp keeps duplicate keys and lets lookups see only the first: refuse them, or
    // the second definition would be silently ignored.
    auto first = std::find_if(fields.entries_.begin(), fields.entries_.end(),
                              [&](const MapEntry& e) { return e.key == key.Scalar(); });
    if (first != fields.entries_.end()) {
      diags_.error(
          key.Mark(), join_path(path, key.Scalar()),
          "duplicate key (first defined on line " + std::to_string(first->key_node.Mark().line + 1) + ")");
      continue;
    }
    fields.entries_.push_back({key.Scalar(), key, pair.second});
  }
  return fields;
}

std::optional<MapFields> YamlReader::map(const YAML::Node& node, const std::string& path,
                                         std::initializer_list<std::string_view> allowed) {
  std::string allowed_list;
  for (auto k : allowed) allowed_list += (allowed_list.empty() ? "" : ", ") + std::string(k);
  auto fields = read_entries(node, path, "a mapping with keys " + allowed_list);
  if (!fields) return std::nullopt;
  std::vector<MapEntry> known;
  for (auto& e : fields->entries_) {
    if (std::find(allowed.begin(), allowed.end(), e.key) != allowed.end()) {
      known.push_back(e);
      continue;
    }
    std::string message = "unknown key";
    std::string_view best;
    std::size_t best_distance = 3;  // suggest only close matches
    for (auto k : allowed) {
      std::size_t d = edit_distance(e.key, k);
      if (d < best_distance) best_distance = d, best = k;
    }
    if (!best.empty()) message += " (did you mean \"" + std::string(best) + "\"?)";
    message += "; allowed keys: " + allowed_list;
    diags_.error(e.key_node.Mark(), join_path(path, e.key), message);
  }
  fields->entries_ = std::move(known);
  return fields;
}

std::optional<MapFields> YamlReader::named_map(const YAML::Node& node, const std::string& path) {
  return read_entries(node, path, "a mapping from names to settings");
}

std::optional<std::vector<YAML::Node>> YamlReader::list(const YAML::Node& node, const std::string& path,
                                                        std::string_view expected) {
  if (!node.IsSequence()) {
    diags_.error(node.Mark(), path,
                 "expected a list of " + std::string(expected) + ", got " + node_kind(node));
    return std::nullopt;
  }
  std::vector<YAML::Node> items;
  for (const auto& item : node) items.push_back(item);
  return items;
}

std::optional<std::string> YamlReader::scalar(const YAML::Node& node, const std::string& path,
                                              std::string_view expected) {
  if (!node.IsScalar()) {
    diags_.error(node.Mark(), path, "expected " + std::string(expected) + ", got " + node_kind(node));
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<bool> YamlReader::boolean(const YAML::Node& node, const std::string& path) {
  auto text = scalar(node, path, "true or false");
  if (!text) return std::nullopt;
  if (*text == "true") return true;
  if (*text == "false") return false;
  diags_.error(node.Mark(), path, quoted(*text) + " is not a boolean (expected true or false)");
  return std::nullopt;
}

std::optional<std::int64_t> YamlReader::integer(const YAML::Node& node, const std::string& path,
                                                std::int64_t min, std::int64_t max, std::string_view what) {
  std::string range = std::to_string(min) + "-" + std::to_string(max);
  auto text = scalar(node, path, std::string(what) + " (" + range + ")");
  if (!text) return std::nullopt;
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (text->empty() || ec != std::errc() || ptr != text->data() + text->size() || value < min ||
      value > max) {
    diags_.error(node.Mark(), path,
                 quoted(*text) + " is not " + std::string(what) + " (expected an integer " + range + ")");
    return std::nullopt;
  }
  return value;
}

void YamlReader::missing(const MapFields& map, std::string_view key, std::string_view expected) {
  diags_.error(map.mark(), join_path(map.path(), key),
               "required key is missing (expected " + std::string(expected) + ")");
}

}  // namespace natgate::gateway
