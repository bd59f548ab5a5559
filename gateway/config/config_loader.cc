#include "gateway/config/config_loader.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <set>

#include "gateway/config/auth_loader.h"
#include "gateway/config/config_include.h"
#include "gateway/config/secret_file_mode.h"
#include "gateway/config/yaml_reader.h"
#include "sys/unique_fd.h"

namespace natgate::gateway {

namespace {

constexpr std::string_view kIdentityExpected =
    "an FQDN, IPv4/IPv6 address, email or DN like gw-a.example.net or \"CN=gw-a, O=Example\"";
constexpr std::string_view kSubnetExpected = "CIDR like 10.1.0.0/24";
constexpr std::string_view kDurationExpected = "a number and a unit s, m, h or d, like 30s, 5m, 4h, 1d";
constexpr std::size_t kMaxPskFileBytes = 4096;
constexpr std::size_t kMaxNameLength = 64;
// sockaddr_un::sun_path holds 108 bytes including the terminating NUL.
constexpr std::size_t kMaxSocketPath = 107;
constexpr std::size_t kMaxIfNameLength = 15;  // IFNAMSIZ - 1

bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return false;
  }
  return true;
}

std::string errno_text(int err) { return std::strerror(err); }

class ConfigParser {
 public:
  ConfigParser(Diagnostics& diags, const ConfigLoadOptions& options)
      : diags_(diags), read_(diags), options_(options), auth_(diags, read_, ".") {}

  std::optional<Config> parse(const std::vector<ConfigSource>& sources) {
    Config config;
    config.source = sources.front().file;
    std::vector<FileSections> files;
    for (const auto& source : sources) {
      if (auto f = sections_of(source)) files.push_back(std::move(*f));
    }
    report_conflicts(files);
    // Section by section across the files, so that a connection may use a pool or a secret
    // defined in any of them.
    for_each_section(files, "daemon", [&](const YAML::Node& n) { parse_daemon(n, config.daemon); });
    for_each_section(files, "secrets", [&](const YAML::Node& n) { parse_secrets(n, config); });
    for_each_section(files, "eap_users", [&](const YAML::Node& n) {
      auth_.eap_users(n, config.eap_users);
      if (n.IsMap() && n.size() > 0) inline_secret_files_.insert(diags_.file());
    });
    // Inline keys and passwords are only as secret as the file: refused, not warned about, when
    // group or others may read it (ssh does the same for private keys). A secrets_file or
    // eap_users_file is held to this whatever it holds.
    for (const auto& f : files) {
      const ConfigSource& source = *f.source;
      const bool secret_file =
          source.role == ConfigSource::Role::SecretsFile || source.role == ConfigSource::Role::EapUsersFile;
      if (!source.mode || !(secret_file || inline_secret_files_.count(source.file))) continue;
      use(source);
      const char* holds = source.role == ConfigSource::Role::EapUsersFile ? "EAP passwords" : "secrets";
      if (auto why = loose_secret_file_mode(*source.mode, holds)) diags_.file_error(*why);
    }
    for_each_section(files, "pools", [&](const YAML::Node& n) { parse_pools(n, config); });
    for_each_section(files, "connections", [&](const YAML::Node& n) { parse_connections(n, config); });
    check_mediated_by(config);
    check_relay(config);
    for (const auto& [name, where] : secret_marks_) {
      if (!connection_names_.count(name) && !identity_secrets_.count(name)) {
        diags_.set_file(where.first);
        diags_.warning(where.second, join_path("secrets", name), "no connection of this name uses it");
      }
    }
    diags_.set_file(config.source);
    if (diags_.has_errors()) return std::nullopt;
    return config;
  }

 private:
  // ---- files (config_include.h) --------------------------------------------------------

  struct FileSections {
    const ConfigSource* source = nullptr;
    std::map<std::string, YAML::Node> sections;  // "daemon", "secrets", … as written in it
  };

  // Messages and relative paths refer to this file from here on.
  void use(const ConfigSource& source) {
    diags_.set_file(source.file);
    base_dir_ = source.base_dir;
    auth_.set_base_dir(source.base_dir);
  }

  std::optional<FileSections> sections_of(const ConfigSource& source) {
    if (!source.parsed) return std::nullopt;
    use(source);
    FileSections f;
    f.source = &source;
    switch (source.role) {
      case ConfigSource::Role::Main:
      case ConfigSource::Role::Include: {
        // An empty file in conf.d contributes nothing; an empty main file is a mistake.
        if (source.role == ConfigSource::Role::Include && source.root.IsNull()) return f;
        // include, secrets_file and eap_users_file were followed by config_include.cc.
        auto top = read_.map(source.root, "",
                             {"daemon", "secrets", "eap_users", "pools", "connections", "include",
                              "secrets_file", "eap_users_file"});
        if (!top) return std::nullopt;
        for (const char* key : {"daemon", "secrets", "eap_users", "pools", "connections"}) {
          if (auto n = top->get(key)) f.sections.emplace(key, *n);
        }
        return f;
      }
      case ConfigSource::Role::SecretsFile:
        if (!source.root.IsNull()) f.sections.emplace("secrets", source.root);
        return f;
      case ConfigSource::Role::EapUsersFile:
        if (!source.root.IsNull()) f.sections.emplace("eap_users", source.root);
        return f;
    }
    return f;
  }

  template <typename ParseOne>
  void for_each_section(const std::vector<FileSections>& files, const std::string& section,
                        ParseOne parse_one) {
    for (const auto& f : files) {
      auto it = f.sections.find(section);
      if (it == f.sections.end()) continue;
      use(*f.source);
      parse_one(it->second);
    }
  }

  static std::string location(const std::string& file, const YAML::Mark& at) {
    return file + ":" + std::to_string(at.line + 1) + ":" + std::to_string(at.column + 1);
  }

  // A connection, secret, pool, EAP user or daemon key defined in two files: neither silently
  // wins (duplicates within one file are the YAML reader's).
  void report_conflicts(const std::vector<FileSections>& files) {
    std::map<std::string, std::pair<std::string, YAML::Mark>> first;  // key path → where
    for (const auto& f : files) {
      for (const auto& [section, node] : f.sections) {
        if (!node.IsMap()) continue;
        for (const auto& pair : node) {
          const YAML::Node key = pair.first;
          if (!key.IsScalar()) continue;
          const std::string path = join_path(section, key.Scalar());
          auto [it, fresh] = first.emplace(path, std::make_pair(f.source->file, key.Mark()));
          if (fresh || it->second.first == f.source->file) continue;
          use(*f.source);
          diags_.error(key.Mark(), path,
                       "defined twice, at " + location(it->second.first, it->second.second) + " and at " +
                           location(f.source->file, key.Mark()) + " (expected it in one file only)");
        }
      }
    }
  }

  // ---- scalar values -------------------------------------------------------------------

  std::optional<IpAddress> ip_address(const YAML::Node& node, const std::string& path) {
    auto text = read_.scalar(node, path, "an IP address");
    if (!text) return std::nullopt;
    auto addr = IpAddress::parse(*text);
    if (!addr)
      diags_.error(node.Mark(), path,
                   quoted(*text) + " is not an IP address (expected like 192.0.2.1 or 2001:db8::1)");
    return addr;
  }

  std::optional<Subnet> subnet(const YAML::Node& node, const std::string& path) {
    auto text = read_.scalar(node, path, kSubnetExpected);
    if (!text) return std::nullopt;
    auto net = Subnet::parse(*text);
    if (!net) {
      diags_.error(node.Mark(), path,
                   quoted(*text) + " is not a subnet (expected " + std::string(kSubnetExpected) + ")");
      return std::nullopt;
    }
    // Subnet::parse clears host bits; a config that sets them is most likely a mistyped
    // prefix, so say which network it would mean instead of guessing.
    auto addr = IpAddress::parse(std::string_view(*text).substr(0, text->find('/')));
    if (addr && *addr != net->address) {
      diags_.error(
          node.Mark(), path,
          quoted(*text) + " has host bits set (expected the network address, like " + net->to_string() + ")");
      return std::nullopt;
    }
    return net;
  }

  // `pattern_allowed`: remote.id may match many peers ("*@example.net"); an identity we send or
  // a key belongs to must be one.
  std::optional<ConfiguredIdentity> identity(const YAML::Node& node, const std::string& path,
                                             bool pattern_allowed = false) {
    auto text = read_.scalar(node, path, kIdentityExpected);
    if (!text) return std::nullopt;
    std::string why;
    auto id = ConfiguredIdentity::parse(*text, &why);
    if (!id) {
      diags_.error(node.Mark(), path,
                   quoted(*text) + (why.empty() ? " is not an identity" : " " + why) + " (expected " +
                       std::string(kIdentityExpected) + ")");
      return std::nullopt;
    }
    if (id->is_wildcard() && !pattern_allowed) {
      diags_.error(node.Mark(), path,
                   quoted(*text) + " is a pattern (expected one identity here; '*' is for remote.id only)");
      return std::nullopt;
    }
    if (id->dn_looks_reversed())
      diags_.warning(node.Mark(), path,
                     quoted(*text) +
                         " lists the common name last: DNs are read most specific first (RFC 4514), so this "
                         "names a subject whose first RDN is the CN; write it as openssl x509 -subject "
                         "-nameopt RFC2253 prints it");
    return id;
  }

  std::optional<Duration> duration(const YAML::Node& node, const std::string& path,
                                   Duration min = Duration(0)) {
    auto text = read_.scalar(node, path, kDurationExpected);
    if (!text) return std::nullopt;
    auto d = parse_duration(*text);
    if (!d) {
      diags_.error(node.Mark(), path,
                   quoted(*text) + " is not a duration (expected " + std::string(kDurationExpected) + ")");
      return std::nullopt;
    }
    if (*d < min) {
      diags_.error(node.Mark(), path,
                   quoted(*text) + " is too short (expected at least " + format_duration(min) + ")");
      return std::nullopt;
    }
    return d;
  }

  std::optional<std::uint16_t> port(const YAML::Node& node, const std::string& path) {
    auto v = read_.integer(node, path, 1, 65535, "a port");
    if (!v) return std::nullopt;
    return static_cast<std::uint16_t>(*v);
  }

  template <typename Enum>
  std::optional<Enum> choice(const YAML::Node& node, const std::string& path,
                             std::initializer_list<std::pair<std::string_view, Enum>> options) {
    std::string names;
    for (const auto& [name, value] : options) names += (names.empty() ? "" : " | ") + std::string(name);
    auto text = read_.scalar(node, path, "one of " + names);
    if (!text) return std::nullopt;
    for (const auto& [name, value] : options) {
      if (*text == name) return value;
    }
    diags_.error(node.Mark(), path, quoted(*text) + " is not allowed here (expected one of " + names + ")");
    return std::nullopt;
  }

  template <typename T, typename ReadOne>
  std::vector<T> list_of(const YAML::Node& node, const std::string& path, std::string_view what,
                         ReadOne read_one, bool allow_empty = false) {
    std::vector<T> out;
    auto items = read_.list(node, path, what);
    if (!items) return out;
    if (items->empty() && !allow_empty)
      diags_.error(node.Mark(), path, "is empty (expected at least one of " + std::string(what) + ")");
    for (std::size_t i = 0; i < items->size(); ++i) {
      if (auto v = read_one((*items)[i], index_path(path, i))) out.push_back(std::move(*v));
    }
    return out;
  }

  // ---- daemon --------------------------------------------------------------------------

  std::optional<LogLevel> log_level(const YAML::Node& node, const std::string& path) {
    auto text = read_.scalar(node, path, "a log level");
    if (!text) return std::nullopt;
    if (auto level = parse_log_level(*text)) return level;
    diags_.error(node.Mark(), path,
                 quoted(*text) +
                     " is not a log level (expected one of trace | debug | info | warn | error | "
                     "critical | off)");
    return std::nullopt;
  }

  // "log_level: debug", or "log_level: { default: info, ike: debug, … }" (config.h, LogLevels).
  void parse_log_levels(const YAML::Node& node, const std::string& path, LogLevels& out) {
    if (!node.IsMap()) {
      if (auto level = log_level(node, path)) out = LogLevels::all(*level);
      return;
    }
    auto m = read_.map(node, path, {"default", "dmn", "cfg", "ike", "net", "esp", "knl", "ctl"});
    if (!m) return;
    LogLevels levels;
    for (const auto& e : m->entries()) {
      auto level = log_level(e.value, join_path(path, e.key));
      if (!level) continue;
      if (e.key == "default")
        levels.default_level = *level;
      else if (auto s = parse_log_subsystem(e.key))
        levels.subsystem[static_cast<std::size_t>(*s)] = *level;
    }
    out = levels;
  }

  void parse_daemon(const YAML::Node& node, DaemonConfig& d) {
    const std::string path = "daemon";
    auto m = read_.map(node, path,
                       {"listen", "ike_port", "natt_port", "dataplane", "control_socket", "log_level", "tun",
                        "ca", "crl", "limits", "metrics", "state_dir", "relay_forward"});
    if (!m) return;
    auth_.trust(*m, path, d.trust);
    if (auto n = m->get("listen")) {
      const std::string p = join_path(path, "listen");
      std::set<IpAddress> seen;
      d.listen = list_of<IpAddress>(*n, p, "IP addresses", [&](const YAML::Node& x, const std::string& xp) {
        auto addr = ip_address(x, xp);
        if (addr && !seen.insert(*addr).second) {
          diags_.error(x.Mark(), xp, addr->to_string() + " is listed twice (expected each address once)");
          addr.reset();
        }
        return addr;
      });
    }
    if (auto n = m->get("ike_port")) {
      if (auto v = port(*n, join_path(path, "ike_port"))) d.ike_port = *v;
    }
    if (auto n = m->get("natt_port")) {
      if (auto v = port(*n, join_path(path, "natt_port"))) {
        d.natt_port = *v;
        if (d.natt_port == d.ike_port)
          diags_.error(
              n->Mark(), join_path(path, "natt_port"),
              "equals ike_port " + std::to_string(d.ike_port) +
                  " (expected a different port: RFC 3948 NAT traversal needs its own, normally 4500)");
      }
    }
    if (auto n = m->get("dataplane")) parse_dataplane(*n, join_path(path, "dataplane"), d);
    if (auto n = m->get("control_socket")) {
      const std::string p = join_path(path, "control_socket");
      if (auto text = read_.scalar(*n, p, "an absolute path")) {
        if (text->empty() || text->front() != '/')
          diags_.error(n->Mark(), p,
                       quoted(*text) + " is not an absolute path (expected like /run/natgate/natgate.sock)");
        else if (text->size() > kMaxSocketPath)
          diags_.error(n->Mark(), p,
                       "is " + std::to_string(text->size()) + " characters long (expected at most " +
                           std::to_string(kMaxSocketPath) + ", the limit of a unix socket address)");
        else
          d.control_socket = *text;
      }
    }
    if (auto n = m->get("state_dir")) {  // what survives a restart (the lease table)
      const std::string p = join_path(path, "state_dir");
      if (auto text = read_.scalar(*n, p, "an absolute path")) {
        if (text->empty() || text->front() != '/')
          diags_.error(n->Mark(), p,
                       quoted(*text) + " is not an absolute path (expected like /var/lib/natgate)");
        else
          d.state_dir = *text;
      }
    }
    if (auto n = m->get("log_level")) parse_log_levels(*n, join_path(path, "log_level"), d.log_level);
    if (auto n = m->get("tun")) parse_tun(*n, join_path(path, "tun"), d.tun);
    if (auto n = m->get("limits")) parse_limits(*n, join_path(path, "limits"), d.limits);
    if (auto n = m->get("metrics")) parse_metrics(*n, join_path(path, "metrics"), d.metrics);
    if (auto n = m->get("relay_forward")) parse_relay_forward(*n, join_path(path, "relay_forward"), d);
  }

  // daemon.relay_forward: { max_allocations: N, idle_timeout: DURATION, allocations: { NAME:
  // { a: { port: P, peer: ADDRESS }, b: { ... } } } } (docs/design.md, "Mediation: forwarding
  // relay"). Every port is one UDP socket of its own: none may repeat or be the IKE/NAT-T ports.
  void parse_relay_forward(const YAML::Node& node, const std::string& path, DaemonConfig& d) {
    auto m = read_.map(node, path, {"max_allocations", "idle_timeout", "allocations"});
    if (!m) return;
    RelayForwardConfig& rf = d.relay_forward;
    if (auto n = m->get("max_allocations")) {
      if (auto v = read_.integer(*n, join_path(path, "max_allocations"), 1, 4096, "a count"))
        rf.max_allocations = static_cast<std::uint32_t>(*v);
    }
    if (auto n = m->get("idle_timeout")) {
      if (auto v = duration(*n, join_path(path, "idle_timeout"), std::chrono::seconds(10)))
        rf.idle_timeout = *v;
    }
    auto allocs = m->get("allocations");
    if (!allocs) return;
    const std::string ap = join_path(path, "allocations");
    if (!allocs->IsMap()) {
      diags_.error(allocs->Mark(), ap, "expected a map of allocations by name");
      return;
    }
    std::map<std::uint16_t, std::string> ports;  // port -> where it was first used
    for (const auto& entry : *allocs) {
      const std::string name = entry.first.as<std::string>();
      const std::string np = join_path(ap, name);
      auto am = read_.map(entry.second, np, {"a", "b"});
      if (!am) continue;
      RelayAllocationConfig alloc;
      alloc.name = name;
      bool ok = true;
      for (auto [key, side] :
           {std::pair<const char*, RelayAllocationSide*>{"a", &alloc.a}, {"b", &alloc.b}}) {
        const std::string sp = join_path(np, key);
        auto sn = am->get(key);
        if (!sn) {
          read_.missing(*am, key, "{ port: PORT, peer: ADDRESS }");
          ok = false;
          continue;
        }
        auto sm = read_.map(*sn, sp, {"port", "peer"});
        if (!sm) {
          ok = false;
          continue;
        }
        if (auto pn = sm->get("port")) {
          const std::string pp = join_path(sp, "port");
          if (auto v = port(*pn, pp)) {
            if (*v == d.ike_port || *v == d.natt_port) {
              diags_.error(pn->Mark(), pp,
                           std::to_string(*v) + " is the IKE or NAT-T port (expected a port of its own)");
              ok = false;
            } else if (auto [it, fresh] = ports.emplace(*v, pp); !fresh) {
              diags_.error(pn->Mark(), pp, std::to_string(*v) + " is already used by " + it->second);
              ok = false;
            } else {
              side->port = *v;
            }
          } else {
            ok = false;
          }
        } else {
          read_.missing(*sm, "port", "a UDP port for this side's peer");
          ok = false;
        }
        if (auto an = sm->get("peer")) {
          const std::string pp = join_path(sp, "peer");
          if (auto text = read_.scalar(*an, pp, "an IP address like 198.51.100.10")) {
            if (auto a = IpAddress::parse(*text))
              side->peer = *a;
            else {
              diags_.error(an->Mark(), pp,
                           quoted(*text) + " is not an IP address (expected like 198.51.100.10)");
              ok = false;
            }
          } else {
            ok = false;
          }
        } else {
          read_.missing(*sm, "peer", "the address this side's peer (or its NAT) sends from");
          ok = false;
        }
      }
      if (ok) rf.allocations.push_back(std::move(alloc));
    }
    if (rf.allocations.size() > rf.max_allocations)
      diags_.error(allocs->Mark(), ap,
                   std::to_string(rf.allocations.size()) + " allocations exceed max_allocations " +
                       std::to_string(rf.max_allocations));
  }

  // daemon.dataplane: a mode (auto | kernel | userspace), or { mode: MODE, relay: on | off }.
  void parse_dataplane(const YAML::Node& node, const std::string& path, DaemonConfig& d) {
    // (No YAML::Node assignment here: it would overwrite the node it was copied from.)
    std::optional<YAML::Node> mode_in_map;
    if (node.IsMap()) {
      auto m = read_.map(node, path, {"mode", "relay"});
      if (!m) return;
      if (auto r = m->get("relay")) {
        if (auto v = choice<bool>(*r, join_path(path, "relay"), {{"on", true}, {"off", false}}))
          d.dataplane_relay = *v;
      }
      mode_in_map = m->get("mode");
      if (!mode_in_map) return;  // the default mode, with relay set
    }
    if (auto v = choice<DataplaneMode>(mode_in_map ? *mode_in_map : node,
                                       mode_in_map ? join_path(path, "mode") : path,
                                       {{"auto", DataplaneMode::Auto},
                                        {"kernel", DataplaneMode::Kernel},
                                        {"userspace", DataplaneMode::Userspace}}))
      d.dataplane = *v;
  }

  // daemon.metrics: { listen: ADDRESS:PORT, per_sa: BOOL }. The port is required (no default
  // that could collide); "[v6]:port" for IPv6.
  void parse_metrics(const YAML::Node& node, const std::string& path, MetricsConfig& mc) {
    auto m = read_.map(node, path, {"listen", "per_sa"});
    if (!m) return;
    if (auto n = m->get("listen")) {
      const std::string p = join_path(path, "listen");
      constexpr const char* kExpected = "ADDRESS:PORT, like 127.0.0.1:9587 or [::1]:9587";
      if (auto text = read_.scalar(*n, p, kExpected)) {
        std::string_view t = *text;
        std::optional<IpAddress> addr;
        std::string_view port_text;
        if (auto colon = t.rfind(':'); colon != std::string_view::npos && colon > 0) {
          std::string_view host = t.substr(0, colon);
          if (host.size() > 2 && host.front() == '[' && host.back() == ']')
            host = host.substr(1, host.size() - 2);
          else if (host.find(':') != std::string_view::npos)
            host = {};  // IPv6 needs brackets
          addr = IpAddress::parse(host);
          port_text = t.substr(colon + 1);
        }
        unsigned port = 0;
        auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (!addr || port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
            port == 0 || port > 65535)
          diags_.error(n->Mark(), p,
                       quoted(*text) + " is not an address and port (expected " + kExpected + ")");
        else
          mc.listen = Endpoint{*addr, static_cast<std::uint16_t>(port)};
      }
    }
    if (auto n = m->get("per_sa")) {
      if (auto v = read_.boolean(*n, join_path(path, "per_sa"))) mc.per_sa = *v;
    }
  }

  void parse_limits(const YAML::Node& node, const std::string& path, LimitsConfig& l) {
    struct Field {
      const char* key;
      std::uint32_t* value;
      std::int64_t min;
    };
    const Field fields[] = {
        {"cookie_threshold", &l.cookie_threshold, 0},
        {"cookie_threshold_per_source", &l.cookie_threshold_per_source, 0},
        {"half_open_per_source", &l.half_open_per_source, 1},
        {"half_open", &l.half_open, 1},
        {"selectors_per_ts", &l.selectors_per_ts, 1},
        {"child_sas_per_ike_sa", &l.child_sas_per_ike_sa, 1},
        {"ike_sas_per_identity", &l.ike_sas_per_identity, 1},
        {"rekeys_per_minute", &l.rekeys_per_minute, 1},
        {"eap_failures_per_identity", &l.eap_failures_per_identity, 1},
        {"eap_failures_per_source", &l.eap_failures_per_source, 1},
    };
    auto m =
        read_.map(node, path,
                  {"cookie_threshold", "cookie_threshold_per_source", "half_open_per_source", "half_open",
                   "half_open_memory", "selectors_per_ts", "child_sas_per_ike_sa", "ike_sas_per_identity",
                   "rekeys_per_minute", "eap_failures_per_identity", "eap_failures_per_source"});
    if (!m) return;
    for (const auto& f : fields) {
      if (auto n = m->get(f.key)) {
        if (auto v = read_.integer(*n, join_path(path, f.key), f.min, 1'000'000'000, "a count"))
          *f.value = static_cast<std::uint32_t>(*v);
      }
    }
    if (auto n = m->get("half_open_memory")) {
      // Bytes, with an optional K/M/G suffix (powers of 1024), at least 1 MiB.
      const std::string p = join_path(path, "half_open_memory");
      if (auto text = read_.scalar(*n, p, "a size")) {
        if (auto bytes = parse_size(*text); bytes && *bytes >= (1ull << 20) && *bytes <= (1ull << 40))
          l.half_open_memory = *bytes;
        else
          diags_.error(n->Mark(), p,
                       quoted(*text) + " is not a size from 1M to 1T (expected like 64M or 1G)");
      }
    }
  }

  static std::optional<std::uint64_t> parse_size(std::string_view text) {
    std::uint64_t value = 0;
    std::size_t i = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      if (value > (1ull << 50)) return std::nullopt;
      value = value * 10 + static_cast<std::uint64_t>(text[i] - '0');
    }
    if (i == 0) return std::nullopt;
    std::string_view suffix = text.substr(i);
    if (suffix.empty()) return value;
    if (suffix.size() != 1) return std::nullopt;
    switch (suffix[0]) {
      case 'K':
      case 'k':
        return value << 10;
      case 'M':
      case 'm':
        return value << 20;
      case 'G':
      case 'g':
        return value << 30;
      case 'T':
      case 't':
        return value << 40;
      default:
        return std::nullopt;
    }
  }

  void parse_tun(const YAML::Node& node, const std::string& path, TunConfig& tun) {
    auto m = read_.map(node, path, {"name", "mtu"});
    if (!m) return;
    if (auto n = m->get("name")) {
      const std::string p = join_path(path, "name");
      if (auto text = read_.scalar(*n, p, "an interface name")) {
        bool ok = !text->empty() && text->size() <= kMaxIfNameLength && *text != "." && *text != "..";
        for (char c : *text) ok = ok && c > ' ' && c != '/' && c != ':' && c < 127;
        if (ok)
          tun.name = *text;
        else
          diags_.error(n->Mark(), p,
                       quoted(*text) +
                           " is not an interface name (expected 1-15 characters without '/', ':' or spaces)");
      }
    }
    if (auto n = m->get("mtu")) {
      const std::string p = join_path(path, "mtu");
      if (n->IsScalar() && n->Scalar() == "auto") {
        tun.mtu.reset();
      } else if (auto v = read_.integer(*n, p, 576, 65535, "an MTU")) {
        tun.mtu = static_cast<std::uint32_t>(*v);
      }
    }
  }

  // ---- secrets -------------------------------------------------------------------------

  void parse_secrets(const YAML::Node& node, Config& config) {
    auto names = read_.named_map(node, "secrets");
    if (!names) return;
    for (const auto& entry : names->entries()) {
      const std::string path = join_path("secrets", entry.key);
      secret_names_.insert(entry.key);
      secret_marks_[entry.key] = {diags_.file(), entry.key_node.Mark()};
      if (!is_valid_name(entry.key)) {
        diags_.error(entry.key_node.Mark(), path,
                     "is not a connection name (expected letters, digits, '-' or '_', 1-64 characters)");
        continue;
      }
      if (!entry.value.IsMap()) {
        // Someone may have written the key itself here: never echo this value.
        diags_.error(entry.value.Mark(), path,
                     "expected a mapping with psk or psk_file, like { psk_file: /etc/natgate/" + entry.key +
                         ".psk } (value not shown: it may be a key)");
        continue;
      }
      auto m = read_.map(entry.value, path, {"id", "psk", "psk_file"});
      if (!m) continue;
      std::optional<ConfiguredIdentity> secret_id;
      if (auto n = m->get("id")) {
        // A road warrior's own key: any connection that accepts this identity uses it.
        secret_id = identity(*n, join_path(path, "id"));
        if (!secret_id) continue;
        identity_secrets_.insert(entry.key);
      }
      auto inline_psk = m->get("psk");
      auto file = m->get("psk_file");
      if (inline_psk && file) {
        diags_.error(m->mark(), path, "has both psk and psk_file (expected exactly one)");
        continue;
      }
      if (!inline_psk && !file) {
        diags_.error(
            m->mark(), path,
            "has neither psk nor psk_file (expected one: psk: \"...\" or psk_file: /etc/natgate/NAME.psk)");
        continue;
      }
      SecretConfig secret;
      secret.id = secret_id;
      if (inline_psk) {
        inline_secret_files_.insert(diags_.file());
        const std::string p = join_path(path, "psk");
        auto text = read_.scalar(*inline_psk, p, "the pre-shared key as a string");
        if (!text) continue;
        if (text->empty()) {
          diags_.error(inline_psk->Mark(), p, "is empty (expected a pre-shared key)");
          continue;
        }
        // One reference for the copy and the wipe (the analyzer misreads text->data() followed by
        // text->size() as a use after reallocation).
        std::string& psk_text = *text;
        secret.psk = SecretBytes(as_bytes(psk_text));
        OPENSSL_cleanse(psk_text.data(), psk_text.size());
      } else {
        const std::string p = join_path(path, "psk_file");
        auto text = read_.scalar(*file, p, "a file path");
        if (!text) continue;
        std::string resolved = (!text->empty() && text->front() == '/') ? *text : base_dir_ + "/" + *text;
        auto psk = read_psk_file(resolved, *file, p);
        if (!psk) continue;
        secret.psk = std::move(*psk);
        secret.psk_file = resolved;
      }
      config.secrets.emplace(entry.key, std::move(secret));
    }
  }

  std::optional<SecretBytes> read_psk_file(const std::string& file, const YAML::Node& node,
                                           const std::string& path) {
    sys::UniqueFd fd{::open(file.c_str(), O_RDONLY | O_CLOEXEC)};
    struct stat st {};
    if (!fd.valid() || ::fstat(fd.get(), &st) != 0) {
      diags_.error(node.Mark(), path, "cannot read " + quoted(file) + ": " + errno_text(errno));
      return std::nullopt;
    }
    if (!S_ISREG(st.st_mode)) {
      diags_.error(node.Mark(), path,
                   quoted(file) + " is not a regular file (expected a file holding the key)");
      return std::nullopt;
    }
    if (auto why = loose_secret_file_mode(st.st_mode, "a pre-shared key")) {
      diags_.error(node.Mark(), path, quoted(file) + ": " + *why);
      return std::nullopt;
    }
    std::array<std::uint8_t, kMaxPskFileBytes + 1> buf{};
    std::size_t used = 0;
    while (used < buf.size()) {
      ssize_t n = ::read(fd.get(), buf.data() + used, buf.size() - used);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        diags_.error(node.Mark(), path, "cannot read " + quoted(file) + ": " + errno_text(errno));
        OPENSSL_cleanse(buf.data(), buf.size());
        return std::nullopt;
      }
      if (n == 0) break;
      used += static_cast<std::size_t>(n);
    }
    std::optional<SecretBytes> out;
    // Editors end files with a newline; it is not part of the key.
    while (used > 0 &&
           (buf[used - 1] == '\n' || buf[used - 1] == '\r' || buf[used - 1] == ' ' || buf[used - 1] == '\t'))
      --used;
    if (used > kMaxPskFileBytes)
      diags_.error(node.Mark(), path,
                   quoted(file) + " is larger than " + std::to_string(kMaxPskFileBytes) +
                       " bytes (expected just the key)");
    else if (used == 0)
      diags_.error(node.Mark(), path, quoted(file) + " is empty (expected the pre-shared key)");
    else
      out = SecretBytes(ByteView(buf.data(), used));
    OPENSSL_cleanse(buf.data(), buf.size());
    return out;
  }

  // ---- pools ---------------------------------------------------------------------------

  void parse_pools(const YAML::Node& node, Config& config) {
    auto names = read_.named_map(node, "pools");
    if (!names) return;
    for (const auto& entry : names->entries()) {
      const std::string path = join_path("pools", entry.key);
      if (!is_valid_name(entry.key)) {
        diags_.error(entry.key_node.Mark(), path,
                     "is not a pool name (expected letters, digits, '-' or '_', 1-64 characters)");
        continue;
      }
      auto m = read_.map(entry.value, path, {"addresses", "dns"});
      if (!m) continue;
      PoolConfig pool;
      if (auto n = m->get("addresses")) {
        const std::string p = join_path(path, "addresses");
        // One range or a list of them (an IPv4 and an IPv6 one, say).
        if (n->IsScalar()) {
          if (auto net = subnet(*n, p)) pool.addresses.push_back(*net);
        } else {
          pool.addresses = list_of<Subnet>(
              *n, p, "addresses", [&](const YAML::Node& x, const std::string& xp) { return subnet(x, xp); });
        }
      } else {
        read_.missing(*m, "addresses", "a range like 10.99.0.0/24, or a list of them");
      }
      if (auto n = m->get("dns")) {
        pool.dns =
            list_of<IpAddress>(*n, join_path(path, "dns"), "dns",
                               [&](const YAML::Node& x, const std::string& xp) { return ip_address(x, xp); });
      }
      config.pools.emplace(entry.key, std::move(pool));
    }
  }

  // ---- connections ---------------------------------------------------------------------

  void parse_connections(const YAML::Node& node, Config& config) {
    auto names = read_.named_map(node, "connections");
    if (!names) return;
    for (const auto& entry : names->entries()) {
      const std::string path = join_path("connections", entry.key);
      if (!is_valid_name(entry.key)) {
        diags_.error(entry.key_node.Mark(), path,
                     "is not a connection name (expected letters, digits, '-' or '_', 1-64 characters)");
        continue;
      }
      connection_names_.insert(entry.key);
      if (auto c = parse_connection(entry.key, entry.value, path, config))
        config.connections.push_back(std::move(*c));
    }
  }

  // `legacy_proposals: windows-default` also accepts what Windows' built-in IKEv2 client offers
  // when nobody ran Set-VpnConnectionIPsecConfiguration on it: AES-CBC with SHA-1 or SHA-2 and
  // MODP-1024 for IKE, AES-CBC with HMAC-SHA1-96 and no PFS for ESP (its 3DES and DES offers
  // stay refused). RFC 8247 §2.4 says SHOULD NOT for group 2: off unless asked for, a warning
  // when on, and after the connection's own proposals so every other client keeps those.
  void parse_legacy_proposals(const YAML::Node& node, const std::string& path, ConnectionConfig& c) {
    enum class Legacy : std::uint8_t { None, WindowsDefault };
    auto v =
        choice<Legacy>(node, path, {{"none", Legacy::None}, {"windows-default", Legacy::WindowsDefault}});
    if (!v || *v == Legacy::None) return;
    if (c.carries_no_child()) {
      diags_.error(node.Mark(), path,
                   "a mediation connection carries no client traffic (expected no legacy_proposals)");
      return;
    }
    static const char* const kIke[] = {"aes256-sha256-modp1024", "aes256-sha384-modp1024",
                                       "aes256-sha1-modp1024"};
    static const char* const kEsp[] = {"aes256-sha1", "aes128-sha1"};
    auto add = [](std::vector<std::string>& list, const char* proposal) {
      if (std::find(list.begin(), list.end(), proposal) == list.end()) list.emplace_back(proposal);
    };
    for (const char* p : kIke) add(c.ike_proposals, p);
    for (const char* p : kEsp) add(c.esp_proposals, p);
    for (auto& child : c.children)
      for (const char* p : kEsp) add(child.esp_proposals, p);
    diags_.warning(node.Mark(), path,
                   "accepts Windows' default proposals (AES-CBC with SHA-1, MODP-1024; RFC 8247 §2.4: SHOULD "
                   "NOT): prefer configuring the clients (natgate profile --for windows)");
  }

  // `mobike: yes | no` (RFC 4555; default yes, as charon's).
  void parse_mobike(const YAML::Node& node, const std::string& path, ConnectionConfig& c) {
    auto text = read_.scalar(node, path, "yes or no");
    if (!text) return;
    if (*text == "yes" || *text == "true") {
      c.mobike = true;
    } else if (*text == "no" || *text == "false") {
      c.mobike = false;
    } else {
      diags_.error(node.Mark(), path, "\"" + *text + "\" is not yes or no");
    }
  }

  // `redirect: { to: [addresses], policy: round-robin | least-redirected }` (RFC 5685, config.h).
  void parse_redirect(const YAML::Node& node, const std::string& path, ConnectionConfig& c) {
    auto m = read_.map(node, path, {"to", "policy"});
    if (!m) return;
    RedirectConfig r;
    if (auto n = m->get("to")) {
      const std::string p = join_path(path, "to");
      const std::size_t errors_before = diags_.errors().size();
      if (n->IsScalar()) {
        if (auto a = ip_address(*n, p)) r.to.push_back(*a);
      } else {
        r.to =
            list_of<IpAddress>(*n, p, "member gateway addresses",
                               [&](const YAML::Node& x, const std::string& xp) { return ip_address(x, xp); });
      }
      if (r.to.empty() && diags_.errors().size() == errors_before)
        diags_.error(n->Mark(), p, "is empty (expected at least one member gateway address)");
    } else {
      read_.missing(*m, "to", "a list of member gateway addresses");
    }
    if (auto n = m->get("policy")) {
      if (auto v = choice<RedirectPolicyKind>(*n, join_path(path, "policy"),
                                              {{"round-robin", RedirectPolicyKind::RoundRobin},
                                               {"least-redirected", RedirectPolicyKind::LeastRedirected}}))
        r.policy = *v;
    }
    if (c.carries_no_child())
      diags_.error(node.Mark(), path, "a mediation connection does not redirect (expected no redirect)");
    else
      c.redirect = std::move(r);
  }

  std::optional<ConnectionConfig> parse_connection(const std::string& name, const YAML::Node& node,
                                                   const std::string& path, const Config& config) {
    auto m = read_.map(node, path,
                       {"local", "remote", "auth", "ike_proposals", "esp_proposals", "start", "dpd",
                        "lifetimes", "natt", "fragmentation", "pool", "mediation", "legacy_proposals",
                        "children", "updown", "mobike", "redirect", "interface"});
    if (!m) return std::nullopt;
    const std::size_t errors_before = diags_.errors().size();
    ConnectionConfig c;
    c.name = name;
    c.explicit_children = m->get("children").has_value();
    if (auto n = m->get("mediation")) parse_mediation(*n, path, *m, c);

    if (auto n = m->get("local"))
      parse_local(*n, join_path(path, "local"), c.local, c.carries_no_child() || c.explicit_children);
    else
      read_.missing(*m, "local", "a mapping with id and subnets");
    if (auto n = m->get("pool")) {
      const std::string p = join_path(path, "pool");
      if (auto text = read_.scalar(*n, p, "the name of a pool under pools:")) {
        if (!config.pools.count(*text))
          diags_.error(n->Mark(), p, "no pool named " + quoted(*text) + " (expected a name under pools:)");
        else
          c.pool = *text;
      }
    }
    std::optional<YAML::Node> remote_address_node;
    if (auto n = m->get("remote"))
      remote_address_node = parse_remote(
          *n, join_path(path, "remote"), c.remote,
          m->get("pool").has_value() || !c.local.vips.empty() || c.carries_no_child() || c.explicit_children,
          c.mediated.has_value());
    else
      read_.missing(*m, "remote", "a mapping with address, id and subnets");

    if (auto n = m->get("auth")) {
      const std::string p = join_path(path, "auth");
      if (auto a = auth_.auth_mode(*n, p)) {
        c.auth = *a;
        const bool uses_psk = local_auth_mode(c.auth, c.local.auth) == AuthMode::Psk ||
                              remote_auth_mode(c.auth, c.local.auth, c.remote.auth) == AuthMode::Psk;
        // The secret is looked up by connection name; a secret that failed to load was
        // already reported where it is defined.
        // Or by the peer's identity: a secret with that id, or for `id: any` any such secret.
        const bool by_identity = c.remote.accepts_many_ids()
                                     ? !identity_secrets_.empty()
                                     : config.psk_for_identity(c.remote.id) != nullptr;
        if (uses_psk && !config.secrets.count(name) && !secret_names_.count(name) && !by_identity)
          diags_.error(n->Mark(), p,
                       "no secret for \"" + name + "\" (expected secrets." + name + " with psk or psk_file)");
        auth_.check(n->Mark(), p, c, config);
      }
    } else {
      read_.missing(*m, "auth", "psk, pubkey, eap-mschapv2 or eap-tls");
    }
    if (auto n = m->get("fragmentation"))
      auth_.fragmentation(*n, join_path(path, "fragmentation"), c.fragmentation);
    if (auto n = m->get("mobike")) parse_mobike(*n, join_path(path, "mobike"), c);
    if (auto n = m->get("redirect")) parse_redirect(*n, join_path(path, "redirect"), c);

    auto proposals = [&](std::string_view key, ProposalKind kind, std::vector<std::string>& out) {
      const std::string p = join_path(path, key);
      auto n = m->get(key);
      if (!n && kind == ProposalKind::Esp && c.carries_no_child()) return;  // no CHILD SA to propose for
      if (!n && kind == ProposalKind::Esp && c.explicit_children) return;   // each child has its own
      if (!n) {
        read_.missing(*m, key,
                      kind == ProposalKind::Ike ? "a list like [aes256gcm16-prfsha384-x25519]"
                                                : "a list like [aes256gcm16]");
        return;
      }
      out = list_of<std::string>(
          *n, p, "proposals", [&](const YAML::Node& x, const std::string& xp) -> std::optional<std::string> {
            auto text = read_.scalar(x, xp, "a proposal string");
            if (!text) return std::nullopt;
            if (Status s = options_.validate_proposal(kind, *text); !s) {
              diags_.error(x.Mark(), xp,
                           quoted(*text) + " is not a valid " + (kind == ProposalKind::Ike ? "IKE" : "ESP") +
                               " proposal: " + s.error());
              return std::nullopt;
            }
            return text;
          });
    };
    proposals("ike_proposals", ProposalKind::Ike, c.ike_proposals);
    proposals("esp_proposals", ProposalKind::Esp, c.esp_proposals);

    if (auto n = m->get("start")) {
      const std::string p = join_path(path, "start");
      if (auto s = choice<StartAction>(*n, p,
                                       {{"initiate", StartAction::Initiate},
                                        {"listen", StartAction::Listen},
                                        {"on-traffic", StartAction::OnTraffic}})) {
        c.start = *s;
        // Trap policies name the tunnel's outer address before any initiation resolves a name.
        if (c.start == StartAction::OnTraffic && !c.remote.hosts.empty())
          diags_.error(n->Mark(), p,
                       "start: on-traffic needs one fixed remote.address (expected an IP address, or start: "
                       "initiate for a DNS name or a list)");
        // Initiating needs somewhere to send IKE_SA_INIT; "any" only makes sense for a responder.
        if (c.start != StartAction::Listen && remote_address_node && !c.remote.has_peer_to_initiate_to() &&
            !c.mediated)
          diags_.error(n->Mark(), p,
                       "start: " + to_string(c.start) +
                           " needs a peer address, but remote.address is any (expected start: listen, or a "
                           "remote address)");
      }
    }
    if (auto n = m->get("dpd")) {
      if (auto d = duration(*n, join_path(path, "dpd"))) c.dpd = *d;
    }
    if (auto n = m->get("lifetimes")) parse_lifetimes(*n, join_path(path, "lifetimes"), c.lifetimes);
    if (auto n = m->get("natt")) parse_natt(*n, join_path(path, "natt"), config.daemon.dataplane, c.natt);
    if (auto n = m->get("updown")) c.updown = updown_script(*n, join_path(path, "updown"));
    if (auto n = m->get("interface")) parse_interface(*n, join_path(path, "interface"), c, config);
    parse_children(*m, path, c);
    // After the children: Windows' ESP offers go to every child (the implicit one included).
    if (auto n = m->get("legacy_proposals"))
      parse_legacy_proposals(*n, join_path(path, "legacy_proposals"), c);
    if (c.carries_no_child() && (!c.local.subnets.empty() || !c.remote.subnets.empty()))
      diags_.error(m->get("mediation")->Mark(), join_path(path, "mediation"),
                   std::string(c.mediation_server ? "mediation: server" : "mediation: client") +
                       " carries no traffic (expected no local.subnets or remote.subnets)");

    if (diags_.errors().size() != errors_before) return std::nullopt;
    return c;
  }

  std::vector<std::string> esp_proposal_list(const YAML::Node& node, const std::string& path) {
    return list_of<std::string>(
        node, path, "proposals",
        [&](const YAML::Node& x, const std::string& xp) -> std::optional<std::string> {
          auto text = read_.scalar(x, xp, "a proposal string");
          if (!text) return std::nullopt;
          if (Status s = options_.validate_proposal(ProposalKind::Esp, *text); !s) {
            diags_.error(x.Mark(), xp, quoted(*text) + " is not a valid ESP proposal: " + s.error());
            return std::nullopt;
          }
          return text;
        });
  }

  // ---- children (configs/README.md, "children") ------------------------------------------

  // The connection's CHILD SAs: the `children:` map, or the one implicit child that the
  // connection-level local.subnets / remote.subnets / esp_proposals describe. Both at once would
  // leave it unclear which traffic the connection carries, so that is refused.
  void parse_children(const MapFields& m, const std::string& path, ConnectionConfig& c) {
    if (c.carries_no_child()) return;
    auto children = m.get("children");
    if (!children) {
      ChildSaConfig child;
      child.name = c.name;
      child.local_subnets = c.local.subnets;
      child.remote_subnets = c.remote.subnets;
      child.esp_proposals = c.esp_proposals;
      child.start = c.start;
      child.lifetime = c.lifetimes.child;
      c.children.push_back(std::move(child));
      return;
    }
    constexpr std::string_view kBothForms =
        " is set and so is children (expected one form: local_subnets, remote_subnets and "
        "esp_proposals in each child, or local.subnets, remote.subnets and esp_proposals at the "
        "connection for one implicit child)";
    for (const char* side : {"local", "remote"}) {
      if (auto n = m.get(side); n && n->IsMap()) {
        const YAML::Node& side_node = *n;
        if (const YAML::Node sub = side_node["subnets"])
          diags_.error(sub.Mark(), join_path(join_path(path, side), "subnets"),
                       std::string(side) + ".subnets" + std::string(kBothForms));
      }
    }
    if (auto n = m.get("esp_proposals"))
      diags_.error(n->Mark(), join_path(path, "esp_proposals"), "esp_proposals" + std::string(kBothForms));

    const std::string cpath = join_path(path, "children");
    auto names = read_.named_map(*children, cpath);
    if (!names) return;
    if (names->entries().empty()) {
      diags_.error(children->Mark(), cpath, "is empty (expected at least one child)");
      return;
    }
    // A road warrior asking for a virtual IP, or a gateway handing them out, may leave a side's
    // subnets out, as at the connection.
    const bool local_optional = !c.local.vips.empty();
    const bool remote_optional = !c.local.vips.empty() || c.pool.has_value();
    std::optional<YAML::Node> first_start;
    const bool connection_start = m.get("start").has_value();
    for (const auto& entry : names->entries()) {
      const std::string p = join_path(cpath, entry.key);
      if (!is_valid_name(entry.key)) {
        diags_.error(entry.key_node.Mark(), p,
                     "is not a child name (expected letters, digits, '-' or '_', 1-64 characters)");
        continue;
      }
      auto cm = read_.map(
          entry.value, p,
          {"local_subnets", "remote_subnets", "esp_proposals", "mode", "start", "close", "lifetime"});
      if (!cm) continue;
      ChildSaConfig child;
      child.name = entry.key;
      child.start = c.start;
      child.lifetime = c.lifetimes.child;
      auto subnets = [&](std::string_view key, bool optional, std::vector<Subnet>& out) {
        auto n = cm->get(key);
        if (!n) {
          if (!optional) read_.missing(*cm, key, "a list like [10.1.0.0/24]");
          return;
        }
        out = list_of<Subnet>(*n, join_path(p, key), "subnets",
                              [&](const YAML::Node& x, const std::string& xp) { return subnet(x, xp); });
      };
      subnets("local_subnets", local_optional, child.local_subnets);
      subnets("remote_subnets", remote_optional, child.remote_subnets);
      if (auto n = cm->get("esp_proposals")) {
        child.esp_proposals = esp_proposal_list(*n, join_path(p, "esp_proposals"));
      } else {
        read_.missing(*cm, "esp_proposals", "a list like [aes256gcm16]");
      }
      if (auto n = cm->get("mode")) {
        const std::string mp = join_path(p, "mode");
        if (auto v = choice<ChildSaMode>(
                *n, mp, {{"tunnel", ChildSaMode::Tunnel}, {"transport", ChildSaMode::Transport}})) {
          child.mode = *v;
          // Neither data plane can carry it end to end yet: the userspace engine implements
          // tunnel mode only, and the XFRM policies natgated installs are tunnel-mode ones.
          if (child.mode == ChildSaMode::Transport)
            diags_.error(n->Mark(), mp,
                         "mode: transport is not supported yet: the userspace data plane implements tunnel "
                         "mode only, and the kernel data plane's policies are installed in tunnel mode "
                         "(expected mode: tunnel)");
        }
      }
      if (auto n = cm->get("start")) {
        const std::string sp = join_path(p, "start");
        if (auto v = choice<StartAction>(*n, sp,
                                         {{"initiate", StartAction::Initiate},
                                          {"listen", StartAction::Listen},
                                          {"on-traffic", StartAction::OnTraffic}})) {
          // A connection's children come up together with its IKE SA (the first in IKE_AUTH,
          // the others right after it), so they share one start.
          if (connection_start && *v != c.start) {
            diags_.error(n->Mark(), sp,
                         "start: " + to_string(*v) +
                             " differs from the connection's start: " + to_string(c.start) +
                             " (expected the same start: natgate brings all children of a connection up "
                             "with its IKE SA)");
          } else if (!connection_start && first_start && *v != child.start) {
            diags_.error(n->Mark(), sp,
                         "start: " + to_string(*v) +
                             " differs from the start of an earlier child: " + to_string(child.start) +
                             " (expected the same start for every child: natgate brings all children of a "
                             "connection up with its IKE SA)");
          } else if (!connection_start && !first_start) {
            first_start = *n;
            c.start = *v;
            child.start = *v;
          }
        }
      }
      if (auto n = cm->get("close")) {
        const std::string clp = join_path(p, "close");
        if (auto v = choice<CloseAction>(*n, clp,
                                         {{"none", CloseAction::None},
                                          {"restart", CloseAction::Restart},
                                          {"hold", CloseAction::Hold}})) {
          child.close = *v;
          // hold would put the child's traffic on a trap (re-create on the next packet), and
          // traps are per connection today (start: on-traffic), not per child.
          if (child.close == CloseAction::Hold)
            diags_.error(n->Mark(), clp,
                         "close: hold is not supported yet: the data plane traps a whole connection's "
                         "traffic, not one child's (expected close: none or restart)");
        }
      }
      if (auto n = cm->get("lifetime")) {
        if (auto d = duration(*n, join_path(p, "lifetime"), std::chrono::seconds(10))) child.lifetime = *d;
      }
      c.children.push_back(std::move(child));
    }
    // A child whose start came from a later child's start: key (no connection-level start).
    for (auto& child : c.children) child.start = c.start;
    if (c.start != StartAction::Listen && first_start && !c.remote.has_peer_to_initiate_to() &&
        m.get("remote"))
      diags_.error(first_start->Mark(), join_path(path, "children"),
                   "start: " + to_string(c.start) +
                       " needs a peer address, but remote.address is any (expected start: listen, or a "
                       "remote address)");
    // The data plane traps one child's traffic for start: on-traffic (its acquire names the
    // connection's policies).
    if (c.start == StartAction::OnTraffic && c.children.size() > 1)
      diags_.error(children->Mark(), cpath,
                   "start: on-traffic is supported for one child only (expected one child, or start: "
                   "initiate)");
    // Road warriors' CHILD SAs take their policies from the virtual IPs, one set per IKE SA.
    if (c.children.size() > 1 && (c.pool || !c.local.vips.empty()))
      diags_.error(children->Mark(), cpath,
                   std::string("several children with ") + (c.pool ? "pool" : "local.vips") +
                       " are not supported yet (expected one child for a road-warrior connection)");
    // The union, for the road-warrior split-tunnel list and the overlap checks' messages.
    for (const auto& child : c.children) {
      for (const auto& s : child.local_subnets)
        if (std::find(c.local.subnets.begin(), c.local.subnets.end(), s) == c.local.subnets.end())
          c.local.subnets.push_back(s);
      for (const auto& s : child.remote_subnets)
        if (std::find(c.remote.subnets.begin(), c.remote.subnets.end(), s) == c.remote.subnets.end())
          c.remote.subnets.push_back(s);
    }
  }

  // `interface: NAME` (route-based VPN): a Linux interface name (1-15 bytes, none of '/', ':' or
  // whitespace, not "." or "..": what the kernel's dev_valid_name accepts), one per connection,
  // other than the engine's main TUN. The kernel data plane cannot bind SAs to an interface yet
  // (no XFRMA_IF_ID), so dataplane: kernel refuses it here rather than at the first CHILD SA.
  void parse_interface(const YAML::Node& node, const std::string& path, ConnectionConfig& c,
                       const Config& config) {
    auto text = read_.scalar(node, path, "an interface name");
    if (!text) return;
    const bool bad_char = std::any_of(text->begin(), text->end(), [](char ch) {
      return ch == '/' || ch == ':' || std::isspace(static_cast<unsigned char>(ch)) != 0 ||
             std::iscntrl(static_cast<unsigned char>(ch)) != 0;
    });
    if (text->empty() || text->size() > 15 || *text == "." || *text == ".." || bad_char) {
      diags_.error(node.Mark(), path,
                   quoted(*text) +
                       " is not an interface name (expected 1-15 characters without '/', ':' or spaces, "
                       "like vpn0)");
      return;
    }
    if (c.carries_no_child()) {
      diags_.error(node.Mark(), path, "a mediation connection carries no traffic (expected no interface)");
      return;
    }
    if (!c.local.vips.empty()) {
      diags_.error(node.Mark(), path,
                   "a virtual IP client puts its address on the main TUN (expected no interface with "
                   "local.vips)");
      return;
    }
    if (*text == config.daemon.tun.name) {
      diags_.error(node.Mark(), path,
                   quoted(*text) + " is the engine's main TUN (daemon.tun.name; expected another name)");
      return;
    }
    if (config.daemon.dataplane == DataplaneMode::Kernel) {
      diags_.error(node.Mark(), path,
                   "route-based connections need the userspace data plane for now (expected "
                   "daemon.dataplane: userspace or auto, or no interface)");
      return;
    }
    if (auto [it, fresh] = interface_users_.try_emplace(*text, c.name); !fresh) {
      diags_.error(node.Mark(), path,
                   quoted(*text) + " is connection " + quoted(it->second) +
                       "'s interface already (expected one interface per connection)");
      return;
    }
    c.interface = *text;
  }

  // `updown:` runs as root with the tunnel's details (gateway/core/updown_runner.h): a script
  // that anyone but root could change would let them run code as root, so it has to be an
  // absolute path to a regular file owned by root and writable by nobody else.
  std::optional<std::string> updown_script(const YAML::Node& node, const std::string& path) {
    auto text = read_.scalar(node, path, "an absolute path to a script");
    if (!text) return std::nullopt;
    if (text->empty() || text->front() != '/') {
      diags_.error(node.Mark(), path,
                   quoted(*text) + " is not an absolute path (expected like /etc/natgate/updown.sh)");
      return std::nullopt;
    }
    struct stat st {};
    if (::stat(text->c_str(), &st) != 0) {
      diags_.error(node.Mark(), path, "cannot use " + quoted(*text) + ": " + errno_text(errno));
      return std::nullopt;
    }
    std::string why;
    if (!S_ISREG(st.st_mode))
      why = "is not a regular file";
    else if (st.st_uid != options_.updown_owner)
      why = "is not owned by " + std::string(options_.updown_owner == 0 ? "root" : "the daemon's user") +
            " (uid " + std::to_string(st.st_uid) + ")";
    else if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
      why = "is writable by its group or by others";
    else if ((st.st_mode & S_IXUSR) == 0)
      why = "is not executable";
    if (!why.empty()) {
      diags_.error(node.Mark(), path,
                   quoted(*text) + " " + why +
                       " (expected a root-owned executable that only root can change: natgated runs it as "
                       "root)");
      return std::nullopt;
    }
    return text;
  }

  // `mediation:` (docs/mediation.md; configs/README.md):
  //  - `server`: the peers of this connection register with us and ask for mediated connections to
  //    each other. The server only answers, and the connection carries no traffic of its own.
  //  - `client`: our connection to a mediation server (swanctl mediation = yes on a peer); no
  //    traffic either, and it initiates.
  //  - `{ mediated_by: CONNECTION, peer: IDENTITY }`: a connection whose peer the mediation server
  //    of CONNECTION finds for us (swanctl mediated_by, mediation_peer). Checked against the other
  //    connections once all are read (check_mediated_by).
  void parse_mediation(const YAML::Node& node, const std::string& path, const MapFields& m,
                       ConnectionConfig& c) {
    const std::string p = join_path(path, "mediation");
    if (node.IsMap()) {
      parse_mediated(node, p, c);
      return;
    }
    auto role = choice<int>(node, p, {{"server", 1}, {"client", 2}});
    if (!role) return;
    c.mediation_server = *role == 1;
    c.mediation_client = *role == 2;
    const std::string what = c.mediation_server ? "mediation: server " : "mediation: client ";
    auto refuse_key = [&](std::string_view key, const std::string& why) {
      if (auto n = m.get(key)) diags_.error(n->Mark(), join_path(path, key), what + why);
    };
    refuse_key("pool", "hands out no virtual IPs (expected no pool on this connection)");
    refuse_key("esp_proposals", "carries no CHILD SA (expected no esp_proposals on this connection)");
    refuse_key("children", "carries no CHILD SA (expected no children on this connection)");
    refuse_key("updown", "carries no CHILD SA (expected no updown on this connection)");
    if (auto n = m.get("start")) {
      const bool listen = n->IsScalar() && n->Scalar() == "listen";
      if (c.mediation_server && !listen)
        diags_.error(n->Mark(), join_path(path, "start"),
                     "mediation: server only answers its peers (expected start: listen, or no start)");
      if (c.mediation_client && listen)
        diags_.error(n->Mark(), join_path(path, "start"),
                     "mediation: client connects to its server (expected start: initiate, or no start)");
    }
    if (c.mediation_client) c.start = StartAction::Initiate;
  }

  void parse_mediated(const YAML::Node& node, const std::string& path, ConnectionConfig& c) {
    auto m = read_.map(node, path, {"mediated_by", "peer", "relay"});
    if (!m) return;
    ConnectionConfig::Mediated mediated;
    if (auto n = m->get("mediated_by")) {
      auto name =
          read_.scalar(*n, join_path(path, "mediated_by"), "the name of a connection with mediation: client");
      if (!name) return;
      mediated.mediated_by = *name;
      mediated_by_marks_.push_back({c.name, *name, diags_.file(), n->Mark()});
    } else {
      read_.missing(*m, "mediated_by", "the name of a connection with mediation: client");
      return;
    }
    if (auto n = m->get("peer")) {
      auto id = identity(*n, join_path(path, "peer"));
      if (!id) return;
      mediated.peer = *id;
    }
    if (auto n = m->get("relay")) {
      auto name = read_.scalar(*n, join_path(path, "relay"), "the name of a connection to a relay");
      if (!name) return;
      mediated.relay = *name;
      relay_marks_.push_back({c.name, *name, diags_.file(), n->Mark()});
    }
    c.mediated = std::move(mediated);
  }

  // mediated_by names a connection with `mediation: client`, and the peer identity is known.
  void check_mediated_by(Config& config) {
    for (const auto& ref : mediated_by_marks_) {
      diags_.set_file(ref.file);
      const std::string path =
          join_path(join_path(join_path("connections", ref.connection), "mediation"), "mediated_by");
      auto target = std::find_if(config.connections.begin(), config.connections.end(),
                                 [&](const ConnectionConfig& c) { return c.name == ref.target; });
      if (target == config.connections.end()) {
        if (!connection_names_.count(ref.target))
          diags_.error(ref.mark, path,
                       "no connection named " + quoted(ref.target) +
                           " (expected a connection with mediation: client)");
        continue;  // a connection of that name that had errors was reported where it is
      }
      if (!target->mediation_client) {
        diags_.error(ref.mark, path,
                     quoted(ref.target) +
                         " is no mediation connection (expected a connection with mediation: client)");
        continue;
      }
      auto self = std::find_if(config.connections.begin(), config.connections.end(),
                               [&](const ConnectionConfig& c) { return c.name == ref.connection; });
      if (self == config.connections.end() || !self->mediated) continue;
      if (self->mediated->peer.text().empty()) {
        if (self->remote.any_id || self->remote.id.is_wildcard())
          diags_.error(ref.mark, path,
                       "the mediated peer needs one identity (expected mediation.peer, or one remote.id)");
        else
          self->mediated->peer = self->remote.id;
      }
    }
  }

  // mediation.relay names an ordinary connection the mediated peer can initiate (an address to
  // go to, no mediation of its own): it carries the peer's subnets through the relay when no
  // direct path is found (docs/design.md, "Mediation: relay fallback").
  void check_relay(const Config& config) {
    for (const auto& ref : relay_marks_) {
      diags_.set_file(ref.file);
      const std::string path =
          join_path(join_path(join_path("connections", ref.connection), "mediation"), "relay");
      const std::string expected =
          " (expected a connection with remote.address that carries the peer's subnets)";
      auto target = std::find_if(config.connections.begin(), config.connections.end(),
                                 [&](const ConnectionConfig& c) { return c.name == ref.target; });
      if (target == config.connections.end()) {
        if (!connection_names_.count(ref.target))
          diags_.error(ref.mark, path, "no connection named " + quoted(ref.target) + expected);
        continue;
      }
      if (target->name == ref.connection || target->mediated || target->carries_no_child())
        diags_.error(ref.mark, path, quoted(ref.target) + " is a mediation connection" + expected);
      else if (!target->remote.has_peer_to_initiate_to())
        diags_.error(ref.mark, path, quoted(ref.target) + " has no remote.address to initiate to" + expected);
    }
  }

  void parse_local(const YAML::Node& node, const std::string& path, LocalConfig& local,
                   bool no_subnets = false) {
    auto m =
        read_.map(node, path, {"id", "subnets", "auth", "cert", "key", "eap_id", "vips", "dns_file", "dns"});
    if (!m) return;
    std::optional<ConfiguredIdentity> id;
    if (auto n = m->get("id")) {
      id = identity(*n, join_path(path, "id"));
      if (id) local.id = *id;
    } else {
      read_.missing(*m, "id", kIdentityExpected);
    }
    if (auto n = m->get("vips")) {
      local.vips =
          list_of<IpAddress>(*n, join_path(path, "vips"), "vips",
                             [&](const YAML::Node& x, const std::string& xp) { return ip_address(x, xp); });
    }
    if (auto n = m->get("dns_file")) {
      if (auto text = read_.scalar(*n, join_path(path, "dns_file"), "a file path"))
        local.dns_file = (!text->empty() && text->front() == '/') ? *text : base_dir_ + "/" + *text;
    }
    if (auto n = m->get("dns")) {
      const std::string p = join_path(path, "dns");
      if (auto text = read_.scalar(*n, p, "auto, resolved, resolvconf or file")) {
        static const std::map<std::string, DnsVia> kinds{{"auto", DnsVia::Auto},
                                                         {"resolved", DnsVia::Resolved},
                                                         {"resolvconf", DnsVia::Resolvconf},
                                                         {"file", DnsVia::File}};
        if (auto k = kinds.find(*text); k != kinds.end())
          local.dns_via = k->second;
        else
          diags_.error(n->Mark(), p, "must be auto, resolved, resolvconf or file, not '" + *text + "'");
        if (local.dns_via == DnsVia::File && !local.dns_file)
          diags_.error(n->Mark(), p, "dns: file needs local.dns_file");
      }
    }
    // A road warrior that asks for a virtual IP needs no subnets of its own, nor a mediation server.
    if ((local.vips.empty() && !no_subnets) || m->get("subnets")) parse_subnets(*m, path, local.subnets);
    auth_.local(*m, path, id, local.auth);
  }

  // Returns the address node when remote.address is set, for the start: check.
  // `subnets_optional`: a gateway with a pool (the peers are their virtual IPs) or a road warrior
  // asking for one (it takes what the gateway offers).
  // `address_optional`: a mediated connection learns its peer's address from the mediation server.
  std::optional<YAML::Node> parse_remote(const YAML::Node& node, const std::string& path,
                                         RemoteConfig& remote, bool subnets_optional,
                                         bool address_optional = false) {
    auto m = read_.map(node, path,
                       {"address", "port", "id", "subnets", "auth", "ca", "crl", "auth_sha1", "relayed"});
    if (!m) return std::nullopt;
    auth_.remote(*m, path, remote.auth);
    auto address = m->get("address");
    if (address) {
      if (!remote_address(*address, join_path(path, "address"), remote)) address.reset();
    } else if (!address_optional) {
      read_.missing(
          *m, "address",
          "an IP address or DNS name (or a list of them), or any to accept the peer from any address");
    }
    if (auto n = m->get("port")) {
      if (auto v = port(*n, join_path(path, "port"))) remote.port = *v;
    }
    if (auto n = m->get("relayed")) {
      if (auto v = read_.boolean(*n, join_path(path, "relayed"))) remote.relayed = *v;
      if (remote.relayed && !m->get("port"))
        diags_.error(n->Mark(), join_path(path, "relayed"),
                     "needs remote.port: the relay allocation's port (daemon.relay_forward on the relay)");
    }
    if (auto n = m->get("id")) {
      if (n->IsScalar() && n->Scalar() == "any")
        remote.any_id = true;
      else if (auto id = identity(*n, join_path(path, "id"), true))
        remote.id = *id;
    } else {
      read_.missing(*m, "id", std::string(kIdentityExpected) + ", or any");
    }
    // Road warriors: their side is the virtual IP from the pool (gateway), or what the gateway offers
    // (client).
    if (!subnets_optional || m->get("subnets")) parse_subnets(*m, path, remote.subnets);
    return address;
  }

  // remote.address: an address, `any`, a DNS name, or a list of addresses and names (tried in
  // order, names resolved on every initiation). False when nothing usable was written.
  bool remote_address(const YAML::Node& node, const std::string& path, RemoteConfig& remote) {
    constexpr std::string_view kExpected = "an IP address or DNS name like 198.51.100.20 or vpn.example.net";
    if (node.IsScalar() && node.Scalar() == "any") {
      remote.address.reset();
      return true;
    }
    std::vector<std::string> entries;
    if (node.IsSequence()) {
      entries = list_of<std::string>(
          node, path, "addresses or names",
          [&](const YAML::Node& x, const std::string& xp) -> std::optional<std::string> {
            auto text = read_.scalar(x, xp, kExpected);
            if (!text) return std::nullopt;
            if (*text == "any" || (!IpAddress::parse(*text) && !is_valid_hostname(*text))) {
              diags_.error(x.Mark(), xp,
                           quoted(*text) + " is not an IP address or DNS name (expected " +
                               std::string(kExpected) + "; any stands alone)");
              return std::nullopt;
            }
            return text;
          });
      if (entries.size() != node.size()) return false;
    } else if (auto text = read_.scalar(node, path, std::string(kExpected) + ", a list of them, or any")) {
      if (auto addr = IpAddress::parse(*text)) {
        remote.address = *addr;
        return true;
      }
      if (!is_valid_hostname(*text)) {
        diags_.error(
            node.Mark(), path,
            quoted(*text) +
                " is not an IP address or DNS name (expected like 198.51.100.20, vpn.example.net, or any)");
        return false;
      }
      entries.push_back(*text);
    } else {
      return false;
    }
    if (entries.empty()) return false;
    remote.address.reset();
    remote.hosts = std::move(entries);
    return true;
  }

  void parse_subnets(const MapFields& m, const std::string& path, std::vector<Subnet>& out) {
    auto n = m.get("subnets");
    if (!n) {
      read_.missing(m, "subnets", "a list like [10.1.0.0/24]");
      return;
    }
    out = list_of<Subnet>(*n, join_path(path, "subnets"), "subnets",
                          [&](const YAML::Node& x, const std::string& xp) { return subnet(x, xp); });
  }

  void parse_lifetimes(const YAML::Node& node, const std::string& path, Lifetimes& l) {
    auto m = read_.map(node, path, {"ike", "child"});
    if (!m) return;
    // Below ten seconds, rekeying (at 80-90% of the lifetime, one round trip or two) would be
    // most of what the tunnel does; tests use 20 s / 40 s.
    constexpr Duration kMin = std::chrono::seconds(10);
    if (auto n = m->get("ike")) {
      if (auto d = duration(*n, join_path(path, "ike"), kMin)) l.ike = *d;
    }
    if (auto n = m->get("child")) {
      if (auto d = duration(*n, join_path(path, "child"), kMin)) l.child = *d;
    }
  }

  // `dataplane`: daemon.dataplane, read before the connections (parse()).
  void parse_natt(const YAML::Node& node, const std::string& path, DataplaneMode dataplane,
                  NattConfig& natt) {
    auto m = read_.map(node, path, {"keepalive", "force_encap", "tcp", "tcp_port", "tcp_after_retransmits"});
    if (!m) return;
    if (auto n = m->get("tcp")) {
      if (auto v = choice<TcpEncapMode>(*n, join_path(path, "tcp"),
                                        {{"never", TcpEncapMode::Never},
                                         {"auto", TcpEncapMode::Auto},
                                         {"always", TcpEncapMode::Always}}))
        natt.tcp = *v;
      // RFC 9329 in the kernel would need espintcp (CONFIG_INET_ESPINTCP: XFRM reading ESP out of
      // a TCP socket). natgate's kernel data plane does not drive it, and the guest kernel the
      // project tests on is built without it; the streams are bridged into the userspace engine
      // only (gateway/io/tcp_transport.h). `always` cannot work there; `auto` runs without its
      // fallback. daemon.dataplane: auto picks userspace when a connection asks for TCP.
      if (dataplane == DataplaneMode::Kernel && natt.tcp == TcpEncapMode::Always)
        diags_.error(
            n->Mark(), join_path(path, "tcp"),
            "tcp: always needs the userspace data plane: the kernel data plane (daemon.dataplane: "
            "kernel) has no espintcp (RFC 9329 in XFRM) here; set daemon.dataplane to userspace or auto");
      if (dataplane == DataplaneMode::Kernel && natt.tcp == TcpEncapMode::Auto) {
        diags_.warning(
            n->Mark(), join_path(path, "tcp"),
            "tcp: auto with daemon.dataplane: kernel: the kernel data plane has no espintcp (RFC 9329 "
            "in XFRM) here, so this connection stays on UDP (no TCP fallback, no TCP listener); set "
            "daemon.dataplane to userspace or auto for the fallback");
        natt.tcp = TcpEncapMode::Never;
      }
    }
    if (auto n = m->get("tcp_port")) {
      if (auto v = port(*n, join_path(path, "tcp_port"))) natt.tcp_port = *v;
    }
    // A few, well before the normal give-up (RFC 9329 §2 leaves when to use TCP to the initiator).
    if (auto n = m->get("tcp_after_retransmits")) {
      if (auto v = read_.integer(*n, join_path(path, "tcp_after_retransmits"), 0, 5, "a count"))
        natt.tcp_after_retransmits = static_cast<std::uint32_t>(*v);
    }
    if (auto n = m->get("keepalive")) {
      if (auto d = duration(*n, join_path(path, "keepalive"))) natt.keepalive = *d;
    }
    if (auto n = m->get("force_encap")) {
      if (auto b = read_.boolean(*n, join_path(path, "force_encap"))) natt.force_encap = *b;
    }
  }

  Diagnostics& diags_;
  YamlReader read_;
  std::string base_dir_;  // of the file being read
  const ConfigLoadOptions& options_;
  std::set<std::string> inline_secret_files_;  // files with secrets.*.psk or eap_users
  std::set<std::string> secret_names_;         // every name under secrets:, valid or not
  std::set<std::string> identity_secrets_;     // names of secrets with an id (keys of peer identities)
  std::map<std::string, std::pair<std::string, YAML::Mark>> secret_marks_;  // file and place
  std::set<std::string> connection_names_;
  struct MediatedByRef {
    std::string connection, target, file;
    YAML::Mark mark;
  };
  std::map<std::string, std::string> interface_users_;  // interface: -> connection
  std::vector<MediatedByRef> mediated_by_marks_;  // mediation.mediated_by, checked after all connections
  std::vector<MediatedByRef> relay_marks_;        // mediation.relay, checked after all connections
  AuthLoader auth_;
};

ConfigLoadResult finish(Diagnostics& diags, std::optional<Config> config) {
  ConfigLoadResult result;
  result.errors = std::move(diags.errors());
  result.warnings = std::move(diags.warnings());
  if (result.errors.empty()) result.config = std::move(config);
  return result;
}

ConfigLoadResult load_config(std::string_view yaml, const std::string& name, const std::string& base_dir,
                             const ConfigLoadOptions& options, std::optional<mode_t> file_mode) {
  Diagnostics diags(name);
  auto sources = collect_config_sources(std::string(yaml), name, base_dir, file_mode, diags);
  ConfigParser parser(diags, options);
  std::optional<Config> config;
  try {
    config = parser.parse(sources);
  } catch (const YAML::Exception& e) {
    // The reader checks node types before converting, so this is a bug; still report it
    // located rather than let a config file crash the daemon.
    diags.error(e.mark, "", std::string("cannot read this value: ") + e.what());
  }
  return finish(diags, std::move(config));
}

}  // namespace

ConfigLoadResult load_config_text(std::string_view yaml, const std::string& name, const std::string& base_dir,
                                  const ConfigLoadOptions& options) {
  return load_config(yaml, name, base_dir, options, std::nullopt);
}

ConfigLoadResult load_config_file(const std::string& path, const ConfigLoadOptions& options) {
  auto text = read_config_file(path);
  if (!text) {
    Diagnostics diags(path);
    diags.file_error(text.error());
    return finish(diags, std::nullopt);
  }
  return load_config(text->text, path, folder_of(path), options, text->mode);
}

}  // namespace natgate::gateway
