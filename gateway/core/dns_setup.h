// Where a road warrior puts the DNS servers its gateway offers (RFC 7296 §3.15.1,
// INTERNAL_IP4_DNS / INTERNAL_IP6_DNS): `local.dns` (configs/README.md).
//   resolved    systemd-resolved, per link: `resolvectl dns IF S...` + `resolvectl domain IF ~.`
//               (every lookup goes to the VPN's servers while the link has them), undone by
//               `resolvectl revert IF`;
//   resolvconf  `resolvconf -a IF.natgate` with nameserver lines on stdin (Debian's resolvconf
//               and openresolv both merge it into resolv.conf), undone by `resolvconf -d`;
//   file        the nameserver lines into `local.dns_file` (write_dns_file), removed after;
//   auto        resolved when it runs (/run/systemd/resolve exists and resolvectl is found),
//               else resolvconf when it is installed, else the file when one is named.
// The commands run synchronously with a short deadline (they talk to a local daemon or rewrite
// a file, once per IKE SA of a road warrior; the event loop accepts that as it accepts the
// resolver's wait in gateway/io/host_resolver.h); no shell is involved, the interface name and
// the server addresses are the only variable arguments.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "common/ip_address.h"
#include "gateway/config/config.h"  // DnsVia

namespace natgate::gateway::core {

const char* to_string(DnsVia via);

struct DnsTarget {
  DnsVia via = DnsVia::File;
  std::optional<std::string> file;  // local.dns_file
  friend bool operator==(const DnsTarget&, const DnsTarget&) = default;
};

// What the host offers, for `auto` (real probes by default; tests pass their own).
struct DnsProbes {
  std::function<bool()> resolved_running;
  std::function<std::optional<std::string>(const std::string& program)> find_program;  // on PATH
};
DnsProbes host_dns_probes();

// The method `auto` (or any other) comes to on this host; nullopt: nothing usable (auto with
// neither daemon nor file, or a named method whose program is missing).
struct DnsMethod {
  DnsVia via = DnsVia::File;
  std::string program;  // resolvectl / resolvconf, as found on PATH
  std::string file;     // for File
};
Expected<DnsMethod> choose_dns_method(const DnsTarget& target, const DnsProbes& probes);

// Runs argv (argv[0] a path) with `input` on its stdin; an error with its exit status and the
// first line of its output when it fails or outlives `deadline` (then it is killed).
Status run_dns_command(const std::vector<std::string>& argv, const std::string& input,
                       std::chrono::milliseconds deadline = std::chrono::seconds(5));

// Applies / undoes `servers` for the link `interface` with the chosen method.
Status apply_dns(const DnsMethod& m, const std::string& interface, const std::vector<IpAddress>& servers);
Status undo_dns(const DnsMethod& m, const std::string& interface);

}  // namespace natgate::gateway::core
