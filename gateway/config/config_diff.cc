#include "gateway/config/config_diff.h"

#include <functional>

namespace natgate::gateway {

namespace {

// Each setting by its key path, so a change is reported the way the user wrote it.
template <typename T>
using FieldList = std::vector<std::pair<const char*, std::function<bool(const T&, const T&)>>>;

template <typename T, typename M>
auto same(M T::*member) {
  return [member](const T& a, const T& b) { return a.*member == b.*member; };
}

const FieldList<ConnectionConfig>& connection_fields() {
  static const FieldList<ConnectionConfig> fields = {
      {"local.id", [](const auto& a, const auto& b) { return a.local.id == b.local.id; }},
      {"local.subnets", [](const auto& a, const auto& b) { return a.local.subnets == b.local.subnets; }},
      {"remote.address",
       [](const auto& a, const auto& b) {
         return a.remote.address == b.remote.address && a.remote.hosts == b.remote.hosts;
       }},
      {"remote.port", [](const auto& a, const auto& b) { return a.remote.port == b.remote.port; }},
      {"remote.id",
       [](const auto& a, const auto& b) {
         return a.remote.id == b.remote.id && a.remote.any_id == b.remote.any_id;
       }},
      {"remote.subnets", [](const auto& a, const auto& b) { return a.remote.subnets == b.remote.subnets; }},
      {"local.vips", [](const auto& a, const auto& b) { return a.local.vips == b.local.vips; }},
      {"local.dns_file", [](const auto& a, const auto& b) { return a.local.dns_file == b.local.dns_file; }},
      {"local.dns", [](const auto& a, const auto& b) { return a.local.dns_via == b.local.dns_via; }},
      {"pool", [](const auto& a, const auto& b) { return a.pool == b.pool; }},
      {"auth", same(&ConnectionConfig::auth)},
      {"remote.auth_sha1",
       [](const auto& a, const auto& b) { return a.remote.auth.allow_sha1 == b.remote.auth.allow_sha1; }},
      {"ike_proposals", same(&ConnectionConfig::ike_proposals)},
      {"esp_proposals", same(&ConnectionConfig::esp_proposals)},
      {"start", same(&ConnectionConfig::start)},
      {"mediation",
       [](const ConnectionConfig& a, const ConnectionConfig& b) {
         return a.mediation_server == b.mediation_server && a.mediation_client == b.mediation_client &&
                a.mediated == b.mediated;
       }},
      // The implicit child repeats the connection-level keys, which are reported by their names.
      {"children",
       [](const auto& a, const auto& b) {
         return (!a.explicit_children && !b.explicit_children) || a.children == b.children;
       }},
      {"updown", same(&ConnectionConfig::updown)},
      {"interface", same(&ConnectionConfig::interface)},
      {"mobike", same(&ConnectionConfig::mobike)},
      {"dpd", same(&ConnectionConfig::dpd)},
      {"lifetimes.ike", [](const auto& a, const auto& b) { return a.lifetimes.ike == b.lifetimes.ike; }},
      {"lifetimes.child",
       [](const auto& a, const auto& b) { return a.lifetimes.child == b.lifetimes.child; }},
      {"natt.keepalive", [](const auto& a, const auto& b) { return a.natt.keepalive == b.natt.keepalive; }},
      {"natt.force_encap",
       [](const auto& a, const auto& b) { return a.natt.force_encap == b.natt.force_encap; }},
      {"natt.tcp",
       [](const auto& a, const auto& b) {
         return a.natt.tcp == b.natt.tcp && a.natt.tcp_port == b.natt.tcp_port &&
                a.natt.tcp_after_retransmits == b.natt.tcp_after_retransmits;
       }},
  };
  return fields;
}

const FieldList<DaemonConfig>& daemon_fields() {
  static const FieldList<DaemonConfig> fields = {
      {"listen", same(&DaemonConfig::listen)},
      {"ike_port", same(&DaemonConfig::ike_port)},
      {"natt_port", same(&DaemonConfig::natt_port)},
      {"dataplane", same(&DaemonConfig::dataplane)},
      {"dataplane.relay", same(&DaemonConfig::dataplane_relay)},
      {"control_socket", same(&DaemonConfig::control_socket)},
      {"log_level", same(&DaemonConfig::log_level)},
      {"tun.name", [](const auto& a, const auto& b) { return a.tun.name == b.tun.name; }},
      {"tun.mtu", [](const auto& a, const auto& b) { return a.tun.mtu == b.tun.mtu; }},
      {"limits", same(&DaemonConfig::limits)},
      {"metrics", same(&DaemonConfig::metrics)},
      {"relay_forward", same(&DaemonConfig::relay_forward)},
  };
  return fields;
}

template <typename T>
std::vector<std::string> differing(const FieldList<T>& fields, const T& a, const T& b) {
  std::vector<std::string> out;
  for (const auto& [name, equal] : fields) {
    if (!equal(a, b)) out.emplace_back(name);
  }
  return out;
}

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

}  // namespace

ConfigDiff diff_configs(const Config& before, const Config& after) {
  ConfigDiff diff;
  for (const auto& old_conn : before.connections) {
    if (!after.find_connection(old_conn.name)) diff.removed.push_back(old_conn.name);
  }
  for (const auto& conn : after.connections) {
    const ConnectionConfig* old_conn = before.find_connection(conn.name);
    if (!old_conn) {
      diff.added.push_back(conn.name);
      continue;
    }
    auto fields = differing(connection_fields(), *old_conn, conn);
    // The key is part of the connection even though it lives under secrets:. Compared in
    // constant time by SecretBytes; a different file holding the same key is no change.
    const SecretBytes* old_psk = before.psk_for(conn.name);
    const SecretBytes* new_psk = after.psk_for(conn.name);
    if ((old_psk == nullptr) != (new_psk == nullptr) || (old_psk && !(*old_psk == *new_psk)))
      fields.emplace_back("psk");
    // So is the pool it hands addresses out of.
    if (conn.pool && old_conn->pool == conn.pool) {
      auto a = before.pools.find(*conn.pool);
      auto b = after.pools.find(*conn.pool);
      if (a == before.pools.end() || b == after.pools.end() || !(a->second == b->second))
        fields.emplace_back("pools." + *conn.pool);
    }
    if (fields.empty())
      diff.unchanged.push_back(conn.name);
    else
      diff.changed.push_back({conn.name, std::move(fields)});
  }
  diff.daemon_changes = differing(daemon_fields(), before.daemon, after.daemon);
  return diff;
}

std::string ConfigDiff::summary() const {
  std::vector<std::string> parts;
  if (!added.empty()) parts.push_back("added: " + join(added, ", "));
  if (!removed.empty()) parts.push_back("removed: " + join(removed, ", "));
  if (!changed.empty()) {
    std::vector<std::string> items;
    for (const auto& c : changed) items.push_back(c.name + " (" + join(c.fields, ", ") + ")");
    parts.push_back("changed: " + join(items, ", "));
  }
  parts.push_back("unchanged: " + std::to_string(unchanged.size()));
  if (!daemon_changes.empty()) parts.push_back("daemon settings changed: " + join(daemon_changes, ", "));
  return join(parts, "; ");
}

}  // namespace natgate::gateway
