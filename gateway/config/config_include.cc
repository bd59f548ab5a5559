#include "gateway/config/config_include.h"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <set>

#include "sys/unique_fd.h"

namespace natgate::gateway {

namespace {

constexpr std::size_t kMaxConfigBytes = 4 << 20;
// conf.d directories hold a file per site or per user group, not thousands; the limits stop an
// include cycle through symbolic links or a runaway pattern.
constexpr std::size_t kMaxFiles = 256;
constexpr int kMaxDepth = 8;

std::string resolve(const std::string& base_dir, const std::string& path) {
  return (!path.empty() && path.front() == '/') ? path : base_dir + "/" + path;
}

// Paths are shown whole (quoted() cuts long values).
std::string quoted_path(const std::string& path) { return "\"" + path + "\""; }

bool has_glob_chars(std::string_view pattern) {
  return pattern.find_first_of("*?[") != std::string_view::npos;
}

// glob(3)'s result, freed on every path.
struct GlobResult {
  glob_t g{};
  GlobResult() = default;
  GlobResult(const GlobResult&) = delete;
  GlobResult& operator=(const GlobResult&) = delete;
  ~GlobResult() { ::globfree(&g); }
};

class Collector {
 public:
  Collector(Diagnostics& diags, std::vector<ConfigSource>& out) : diags_(diags), out_(out) {}

  // Adds `text` (already read) and, depth first, what it includes.
  void add(const std::string& text, ConfigSource source, int depth) {
    const std::string file = source.file;
    diags_.set_file(file);
    try {
      source.root = YAML::Load(text);
    } catch (const YAML::ParserException& e) {
      diags_.error(e.mark, "", "YAML syntax error: " + e.msg);
      source.root = YAML::Node(YAML::NodeType::Null);
      source.parsed = false;
    }
    out_.push_back(source);
    if (source.role != ConfigSource::Role::Main && source.role != ConfigSource::Role::Include) return;
    if (!source.root.IsMap()) return;  // the loader says what it expected
    const YAML::Node root = source.root;
    if (auto n = root["include"]) includes(n, source, depth);
    if (auto n = root["secrets_file"]) named_file(n, "secrets_file", ConfigSource::Role::SecretsFile, source);
    if (auto n = root["eap_users_file"])
      named_file(n, "eap_users_file", ConfigSource::Role::EapUsersFile, source);
  }

  void remember(const std::string& path) {
    if (auto real = canonical(path)) seen_.insert(*real);
  }

 private:
  static std::optional<std::string> canonical(const std::string& path) {
    std::unique_ptr<char, decltype(&std::free)> real(::realpath(path.c_str(), nullptr), &std::free);
    if (!real) return std::nullopt;
    return std::string(real.get());
  }

  void includes(const YAML::Node& node, const ConfigSource& from, int depth) {
    std::vector<YAML::Node> patterns;
    if (node.IsScalar()) {
      patterns.push_back(node);
    } else if (node.IsSequence()) {
      for (const auto& item : node) patterns.push_back(item);
    } else {
      diags_.set_file(from.file);
      diags_.error(node.Mark(), "include", "expected a file pattern like conf.d/*.yaml, or a list of them");
      return;
    }
    for (std::size_t i = 0; i < patterns.size(); ++i) {
      const YAML::Node& p = patterns[i];
      const std::string path = node.IsSequence() ? index_path("include", i) : "include";
      diags_.set_file(from.file);
      if (!p.IsScalar() || p.Scalar().empty()) {
        diags_.error(p.Mark(), path, "expected a file pattern like conf.d/*.yaml");
        continue;
      }
      if (depth + 1 > kMaxDepth) {
        diags_.error(
            p.Mark(), path,
            "includes nest deeper than " + std::to_string(kMaxDepth) + " files (expected fewer levels)");
        continue;
      }
      for (const auto& file : expand(p, path, from)) {
        diags_.set_file(from.file);
        if (out_.size() >= kMaxFiles) {
          diags_.error(p.Mark(), path,
                       "more than " + std::to_string(kMaxFiles) + " config files in all (expected fewer)");
          return;
        }
        auto real = canonical(file);
        if (real && !seen_.insert(*real).second) {
          diags_.error(p.Mark(), path,
                       quoted_path(file) +
                           " is already part of the configuration (an include cycle, or two "
                           "patterns matching one file)");
          continue;
        }
        load(file, ConfigSource::Role::Include, p, path, from, depth + 1);
      }
    }
  }

  // The files a pattern names, sorted by path bytes (not the locale) so the merge order is
  // the same everywhere.
  std::vector<std::string> expand(const YAML::Node& p, const std::string& path, const ConfigSource& from) {
    const std::string pattern = resolve(from.base_dir, p.Scalar());
    if (!has_glob_chars(p.Scalar())) return {pattern};  // a plain name must exist: load() says if not
    GlobResult g;
    const int rc = ::glob(pattern.c_str(), GLOB_ERR | GLOB_NOSORT, nullptr, &g.g);
    std::vector<std::string> files;
    if (rc == GLOB_NOMATCH) return files;  // an empty conf.d is fine
    if (rc != 0) {
      diags_.error(p.Mark(), path, "cannot expand " + quoted_path(pattern) + ": " + std::strerror(errno));
      return files;
    }
    for (std::size_t i = 0; i < g.g.gl_pathc; ++i) files.emplace_back(g.g.gl_pathv[i]);
    std::sort(files.begin(), files.end());
    return files;
  }

  void named_file(const YAML::Node& node, const std::string& key, ConfigSource::Role role,
                  const ConfigSource& from) {
    diags_.set_file(from.file);
    if (!node.IsScalar() || node.Scalar().empty()) {
      diags_.error(
          node.Mark(), key,
          "expected a file path like /etc/natgate/" +
              std::string(role == ConfigSource::Role::SecretsFile ? "secrets.yaml" : "eap-users.yaml"));
      return;
    }
    const std::string file = resolve(from.base_dir, node.Scalar());
    if (auto real = canonical(file); real && !seen_.insert(*real).second) {
      diags_.error(node.Mark(), key, quoted_path(file) + " is already part of the configuration");
      return;
    }
    load(file, role, node, key, from, kMaxDepth);
  }

  void load(const std::string& file, ConfigSource::Role role, const YAML::Node& at, const std::string& path,
            const ConfigSource& from, int depth) {
    auto text = read_config_file(file);
    if (!text) {
      diags_.set_file(from.file);
      diags_.error(at.Mark(), path, quoted_path(file) + ": " + text.error());
      return;
    }
    ConfigSource source;
    source.role = role;
    source.file = file;
    source.base_dir = folder_of(file);
    source.mode = text->mode;
    add(text->text, std::move(source), depth);
  }

  Diagnostics& diags_;
  std::vector<ConfigSource>& out_;
  std::set<std::string> seen_;  // canonical paths
};

}  // namespace

std::string folder_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
}

Expected<ConfigFileText> read_config_file(const std::string& path) {
  sys::UniqueFd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (!fd.valid()) return unexpected("cannot open: " + std::string(std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return unexpected("cannot stat: " + std::string(std::strerror(errno)));
  if (!S_ISREG(st.st_mode)) return unexpected(std::string("is not a regular file (expected a YAML file)"));
  ConfigFileText out;
  out.mode = st.st_mode;
  std::array<char, 8192> chunk{};
  for (;;) {
    ssize_t n = ::read(fd.get(), chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return unexpected("cannot read: " + std::string(std::strerror(errno)));
    if (n == 0) break;
    out.text.append(chunk.data(), static_cast<std::size_t>(n));
    if (out.text.size() > kMaxConfigBytes)
      return unexpected("is larger than " + std::to_string(kMaxConfigBytes) +
                        " bytes (expected a config file)");
  }
  return out;
}

std::vector<ConfigSource> collect_config_sources(const std::string& text, const std::string& file,
                                                 const std::string& base_dir, std::optional<mode_t> mode,
                                                 Diagnostics& diags) {
  std::vector<ConfigSource> out;
  Collector collector(diags, out);
  if (mode) collector.remember(file);
  ConfigSource main;
  main.role = ConfigSource::Role::Main;
  main.file = file;
  main.base_dir = base_dir;
  main.mode = mode;
  collector.add(text, std::move(main), 0);
  diags.set_file(file);
  return out;
}

}  // namespace natgate::gateway
