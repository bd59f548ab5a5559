#include "gateway/core/sa_event_source.h"

#include <chrono>

namespace natgate::gateway::core {

DaemonEvent SaEventSource::base(DaemonEvent::Kind kind, const std::string& connection) const {
  DaemonEvent e;
  e.kind = kind;
  e.connection = connection;
  e.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  return e;
}

void SaEventSource::child_installed(const ike::InstallChildSa& a, const ike::IkeSaTable& table) {
  if (!events_) return;
  const ike::IkeSaEntry* entry = table.find(a.sa);
  UpSa sa;
  if (entry) {
    sa.spi_i = entry->sa->spi_i().to_u64();
    sa.spi_r = entry->sa->spi_r().to_u64();
    sa.peer = entry->sa->remote();
  }
  const std::string remote_id = a.remote_id ? a.remote_id->to_string() : std::string();
  auto fill = [&](DaemonEvent& e) {
    e.peer = sa.peer.port ? sa.peer.to_string() : std::string();
    e.remote_id = remote_id;
    e.ike_spi_i = sa.spi_i;
    e.ike_spi_r = sa.spi_r;
  };
  if (!up_.count(a.sa)) {
    up_.emplace(a.sa, sa);
    DaemonEvent up = base(DaemonEvent::Kind::IkeUp, a.connection);
    fill(up);
    if (entry && entry->established)
      up.setup_seconds = std::chrono::duration<double>(*entry->established - entry->created).count();
    events_->publish(up);
  }
  const bool rekey = a.child.replaces_inbound_spi.has_value();
  DaemonEvent child = base(rekey ? DaemonEvent::Kind::ChildRekey : DaemonEvent::Kind::ChildUp, a.connection);
  fill(child);
  child.child = a.child.child_config;
  child.spi_in = a.child.inbound_spi;
  child.spi_out = a.child.outbound_spi;
  if (a.child.replaces_inbound_spi) {
    child.old_spi_in = *a.child.replaces_inbound_spi;
    replaced_.insert(*a.child.replaces_inbound_spi);
  }
  events_->publish(child);
}

void SaEventSource::child_removed(const std::string& connection, std::uint32_t inbound_spi,
                                  std::uint32_t outbound_spi, const std::string& child) {
  if (!events_) return;
  if (replaced_.erase(inbound_spi)) return;  // the rekey already told
  DaemonEvent e = base(DaemonEvent::Kind::ChildDown, connection);
  e.child = child;
  e.spi_in = inbound_spi;
  e.spi_out = outbound_spi;
  events_->publish(e);
}

void SaEventSource::transferred(const ike::TransferSaResources& t, const ike::IkeSaTable& table) {
  if (!events_) return;
  auto it = up_.find(t.from);
  if (it == up_.end()) return;
  UpSa sa = it->second;
  up_.erase(it);
  std::string connection;
  std::string remote_id;
  if (const ike::IkeSaEntry* entry = table.find(t.to)) {
    sa.spi_i = entry->sa->spi_i().to_u64();
    sa.spi_r = entry->sa->spi_r().to_u64();
    sa.peer = entry->sa->remote();
    connection = entry->connection();
    if (entry->remote_id) remote_id = entry->remote_id->to_string();
  }
  up_.emplace(t.to, sa);
  DaemonEvent e = base(DaemonEvent::Kind::IkeRekey, connection);
  e.peer = sa.peer.port ? sa.peer.to_string() : std::string();
  e.remote_id = remote_id;
  e.ike_spi_i = sa.spi_i;
  e.ike_spi_r = sa.spi_r;
  events_->publish(e);
}

void SaEventSource::released(const ike::ReleaseSaResources& r) {
  if (!events_) return;
  auto it = up_.find(r.sa);
  if (it == up_.end()) return;
  DaemonEvent e = base(DaemonEvent::Kind::IkeDown, r.connection);
  e.peer = it->second.peer.port ? it->second.peer.to_string() : std::string();
  e.remote_id = r.remote_id ? r.remote_id->to_string() : std::string();
  e.ike_spi_i = it->second.spi_i;
  e.ike_spi_r = it->second.spi_r;
  up_.erase(it);
  events_->publish(e);
}

}  // namespace natgate::gateway::core
