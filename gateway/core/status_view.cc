#include "gateway/core/status_view.h"

#include <algorithm>

#include "ike/suite/crypto_suite.h"

namespace natgate::gateway::core::status_view {

namespace {

using SteadyPoint = std::chrono::steady_clock::time_point;

std::uint64_t seconds_until(SteadyPoint at, SteadyPoint now) {
  return static_cast<std::uint64_t>(
      std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::seconds>(at - now).count()));
}

ConnectionState state_of(ike::SaState state) {
  switch (state) {
    case ike::SaState::Created:
    case ike::SaState::Connecting:
      return ConnectionState::Connecting;
    case ike::SaState::Established:
      return ConnectionState::Established;
    case ike::SaState::Deleting:
    case ike::SaState::Deleted:
      break;
  }
  return ConnectionState::Deleting;
}

ChildSaStatus child_status(const Sources& s, const ike::EndpointChildSa& child, SteadyPoint now) {
  ChildSaStatus cs;
  if (child.rekey_at) cs.rekey_in = seconds_until(*child.rekey_at, now);
  cs.name = child.name;
  cs.spi_in = child.inbound_spi;
  cs.spi_out = child.outbound_spi;
  for (const auto& ts : child.local_ts) cs.local_ts.push_back(ts.to_string());
  for (const auto& ts : child.remote_ts) cs.remote_ts.push_back(ts.to_string());
  if (auto it = s.installed.find(child.inbound_spi); it != s.installed.end()) {
    cs.proposal = it->second.proposal;
    if (s.installer) {
      ChildTraffic t = s.installer->traffic(it->second);
      cs.bytes_in = t.in.bytes;
      cs.packets_in = t.in.packets;
      cs.bytes_out = t.out.bytes;
      cs.packets_out = t.out.packets;
    }
  }
  return cs;
}

ConnectionStatus status_of(const Sources& s, const ConnectionProfile& p, SteadyPoint now,
                           std::chrono::system_clock::time_point wall_now) {
  const auto& c = p.config;
  ConnectionStatus st;
  st.name = c.name;
  st.local_id = c.local.id.text();
  st.remote_id = c.remote.any_id ? std::string("any") : c.remote.id.text();
  st.start = to_string(c.start);
  st.configured_remote = c.remote.address ? c.remote.address->to_string() : "any";

  auto entries = s.endpoint.table().of_connection(c.name);
  const ike::IkeSaEntry* primary = nullptr;
  for (const ike::IkeSaEntry* e : entries) {  // oldest first: the newest established wins, else the newest
    if (e->sa->state() == ike::SaState::Deleted) continue;
    if (!primary || e->is_established() || !primary->is_established()) primary = e;
  }
  const ike::ConnectionRuntime* rt = s.endpoint.runtime(c.name);
  if (rt) st.detail = rt->detail;
  if (!s.dataplane_error.empty()) st.detail = "data plane failed: " + s.dataplane_error;
  if (c.pool && s.remote_access) st.leases = s.remote_access->leases(*c.pool);
  if (!primary) {
    st.state = ConnectionState::Down;
    if (st.detail.empty()) {
      if (rt && rt->admin_down)
        st.detail = "taken down (natgate down)";
      else if (c.start == StartAction::Listen)
        st.detail = "waiting for the peer";
      else if (c.start == StartAction::OnTraffic)
        st.detail = "waiting for traffic";
    }
    return st;
  }
  const ike::IkeSa& sa = *primary->sa;
  st.state = state_of(sa.state());
  st.local = sa.local();
  st.remote = sa.remote();
  st.nat.local_behind_nat = sa.nat().local_behind_nat;
  st.nat.remote_behind_nat = sa.nat().remote_behind_nat;
  st.udp_encapsulation = sa.nat().udp_encapsulation();
  std::size_t live = 0;
  for (const ike::IkeSaEntry* e : entries) live += e->sa->state() != ike::SaState::Deleted ? 1 : 0;
  if (live > 1) st.detail = std::to_string(live) + " IKE SAs" + (st.detail.empty() ? "" : "; " + st.detail);
  if ((c.pool || c.remote.any_id) && s.remote_access) {
    // Remote access: every road warrior's IKE SA, and the pool's leases.
    for (const ike::IkeSaEntry* e : entries) {
      if (e->sa->state() == ike::SaState::Deleted) continue;
      PeerStatus ps;
      ps.remote_id = e->remote_id ? e->remote_id->to_string() : std::string();
      ps.remote = e->sa->remote();
      for (const auto& a : s.remote_access->addresses_of(e->id)) ps.virtual_ips.push_back(a.to_string());
      ps.state = e->is_established() ? ConnectionState::Established : ConnectionState::Connecting;
      ps.child_sas = e->children.size();
      st.peers.push_back(std::move(ps));
    }
  }
  if (s.vip_client)
    for (const auto& a : s.vip_client->addresses_of(primary->id)) st.virtual_ips.push_back(a.to_string());

  IkeSaStatus ike;
  ike.spi_i = sa.spi_i().to_u64();
  ike.spi_r = sa.spi_r().to_u64();
  ike.initiator = sa.is_initiator();
  if (sa.suite()) ike.proposal = ike::to_string(*sa.suite());
  if (primary->established) {
    const auto up_for = now - *primary->established;
    ike.uptime = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(up_for).count());
    ike.established_at =
        std::chrono::duration_cast<std::chrono::seconds>(
            (wall_now - std::chrono::duration_cast<std::chrono::system_clock::duration>(up_for))
                .time_since_epoch())
            .count();
  }
  if (primary->rekey_at) ike.rekey_in = seconds_until(*primary->rekey_at, now);
  st.ike_sa = ike;
  for (const auto& child : primary->children) st.child_sas.push_back(child_status(s, child, now));
  return st;
}

}  // namespace

std::vector<ConnectionStatus> connections(const Sources& s, SteadyPoint now,
                                          std::chrono::system_clock::time_point wall_now) {
  std::vector<ConnectionStatus> out;
  for (const auto& c : s.config.connections) {
    if (auto p = s.registry.find(c.name)) {
      out.push_back(status_of(s, *p, now, wall_now));
      continue;
    }
    ConnectionStatus st;
    st.name = c.name;
    st.state = ConnectionState::Down;
    st.start = to_string(c.start);
    if (const ike::ConnectionRuntime* rt = s.endpoint.runtime(c.name)) st.detail = rt->detail;
    out.push_back(std::move(st));
  }
  return out;
}

std::map<std::string, std::uint64_t> counters(const ike::Endpoint& endpoint,
                                              const std::map<std::string, std::uint64_t>& io,
                                              const std::map<std::string, std::uint64_t>& dataplane,
                                              const RemoteAccess* remote_access) {
  std::map<std::string, std::uint64_t> out = io;
  for (const auto& [name, value] : endpoint.counters()) out[name] += value;
  out.try_emplace("malformed_dropped", 0);
  for (const auto& [name, value] : dataplane) {
    if (name == "natt_too_short")
      out["malformed_dropped"] += value;
    else
      out[name] = value;
  }
  const auto& d = endpoint.dispatcher().counters();
  out["ike_cookies_sent"] = d.cookies_sent;
  out["ike_init_overloaded"] = d.overloaded;
  out["ike_init_no_config"] = d.no_config;
  out["ike_init_refused"] = d.refused;
  out["ike_half_open"] = endpoint.dispatcher().half_open().total();
  out["ike_half_open_memory"] = endpoint.dispatcher().half_open().memory();
  out["ike_half_open_evicted"] = endpoint.dispatcher().half_open().evictions();
  out["ike_init_refusals_unlogged"] = d.refusals_unlogged;
  // Gauges of what exists now (the rest count events since start).
  out["ike_sas"] = endpoint.table().size();
  out["child_sas"] = endpoint.table().child_count();
  if (remote_access) out["virtual_ips_online"] = remote_access->online();
  return out;
}

}  // namespace natgate::gateway::core::status_view
