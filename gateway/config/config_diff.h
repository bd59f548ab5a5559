// What a reload changes: connections added, removed, changed (and in which settings) or
// unchanged, and which daemon settings differ. The daemon core acts on this (bring up the
// added, tear down the removed, restart the changed); unchanged connections keep their SAs.
#pragma once

#include <string>
#include <vector>

#include "gateway/config/config.h"

namespace natgate::gateway {

struct ConnectionChange {
  std::string name;
  std::vector<std::string> fields;  // key paths inside the connection: "local.subnets", "psk"
  friend bool operator==(const ConnectionChange&, const ConnectionChange&) = default;
};

struct ConfigDiff {
  std::vector<std::string> added;    // names, in the new file's order
  std::vector<std::string> removed;  // names, in the old file's order
  std::vector<ConnectionChange> changed;
  std::vector<std::string> unchanged;
  std::vector<std::string> daemon_changes;  // keys under daemon: ("listen", "log_level", "tun.mtu")

  bool connections_changed() const { return !added.empty() || !removed.empty() || !changed.empty(); }
  // One line for the log: "added: x; removed: y; changed: z (psk, dpd); unchanged: 2".
  std::string summary() const;
};

ConfigDiff diff_configs(const Config& before, const Config& after);

}  // namespace natgate::gateway
