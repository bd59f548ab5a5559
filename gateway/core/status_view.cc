#include "gateway/core/status_view.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "gateway/config/configured_identity.h"
#include "gateway/core/connection_profile.h"
#include "ike/exchange/redirect.h"
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
    cs.proposal = ike::to_string(it->second.esp);
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

// One peer's health (PeerHealth): liveness from its IkeSa, NAT-keepalives as the Endpoint arms
// them (only the side behind a NAT sends them, RFC 3948 §4), traffic from its CHILD SAs.
PeerHealth health_of(const Sources& s, const ike::IkeSaEntry& e, SteadyPoint now) {
  PeerHealth h;
  const ike::IkeSa& sa = *e.sa;
  if (sa.last_heard() != SteadyPoint{} && sa.last_heard() <= now)
    h.last_received = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(now - sa.last_heard()).count());
  if (e.connection_settings && sa.nat().local_behind_nat)
    h.keepalive_interval = static_cast<std::uint64_t>(e.connection_settings->keepalive.count());
  // A DPD probe is an empty INFORMATIONAL (RFC 7296 §2.4); an unanswered request of an
  // established SA is what DPD waits on, whichever exchange it is.
  if (e.is_established() && sa.request_in_flight() == iana::ExchangeType::Informational) {
    h.dpd = "probing";
    h.dpd_probe = sa.request_sends();
    h.dpd_probes = sa.request_sends_max();
  }
  h.nat.local_behind_nat = sa.nat().local_behind_nat;
  h.nat.remote_behind_nat = sa.nat().remote_behind_nat;
  if (s.installer)
    for (const auto& child : e.children)
      if (auto it = s.installed.find(child.inbound_spi); it != s.installed.end()) {
        ChildTraffic t = s.installer->traffic(it->second);
        h.bytes_in += t.in.bytes;
        h.packets_in += t.in.packets;
        h.bytes_out += t.out.bytes;
        h.packets_out += t.out.packets;
      }
  return h;
}

IkeSaStatus ike_status_of(const Sources& s, const ike::IkeSaEntry& e, SteadyPoint now,
                          std::chrono::system_clock::time_point wall_now) {
  const ike::IkeSa& sa = *e.sa;
  IkeSaStatus ike;
  ike.spi_i = sa.spi_i().to_u64();
  ike.spi_r = sa.spi_r().to_u64();
  ike.initiator = sa.is_initiator();
  if (sa.suite()) ike.proposal = ike::to_string(*sa.suite());
  if (e.established) {
    const auto up_for = now - *e.established;
    ike.uptime = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(up_for).count());
    ike.established_at =
        std::chrono::duration_cast<std::chrono::seconds>(
            (wall_now - std::chrono::duration_cast<std::chrono::system_clock::duration>(up_for))
                .time_since_epoch())
            .count();
  }
  if (e.rekey_at) ike.rekey_in = seconds_until(*e.rekey_at, now);
  if (s.tcp_reason) {
    if (std::string why = s.tcp_reason(sa.remote()); !why.empty()) {
      ike.transport = "tcp";
      ike.transport_reason = std::move(why);
    } else if (s.udp_reason) {
      ike.transport_reason = s.udp_reason(sa.remote());  // transport stays "udp"
    }
  }
  return ike;
}

using Entries = std::vector<const ike::IkeSaEntry*>;

// `entries`: the connection's IKE SAs, oldest first, or only those a filter chose (`filtered`:
// then the leases shown are those of the chosen SAs' identities, not the whole pool's).
ConnectionStatus status_of(const Sources& s, const ConnectionProfile& p, const Entries& entries,
                           bool filtered, bool list, SteadyPoint now,
                           std::chrono::system_clock::time_point wall_now) {
  const auto& c = p.config;
  ConnectionStatus st;
  st.name = c.name;
  st.local_id = c.local.id.text();
  st.remote_id = c.remote.any_id ? std::string("any") : c.remote.id.text();
  st.start = to_string(c.start);
  st.configured_remote = c.remote.address_text();
  if (c.interface) st.interface = *c.interface;

  const ike::IkeSaEntry* primary = nullptr;
  for (const ike::IkeSaEntry* e : entries) {  // oldest first: the newest established wins, else the newest
    if (e->sa->state() == ike::SaState::Deleted) continue;
    if (!primary || e->is_established() || !primary->is_established()) primary = e;
  }
  const ike::ConnectionRuntime* rt = s.endpoint ? s.endpoint->runtime(c.name) : nullptr;
  if (rt) st.detail = rt->detail;
  if (rt && rt->path) {
    st.path = ike::mediation::to_string(rt->path->kind);
    st.path_reason = rt->path->reason;
  }
  if (!s.dataplane_error.empty()) st.detail = "data plane failed: " + s.dataplane_error;
  if (c.pool && s.remote_access) {
    if (!filtered) {
      st.leases = s.remote_access->leases(*c.pool);
    } else {
      std::set<std::string> identities;  // several SAs of one identity share its leases
      for (const ike::IkeSaEntry* e : entries)
        if (e->remote_id && identities.insert(e->remote_id->to_string()).second)
          for (auto& l : s.remote_access->leases_of(*c.pool, e->remote_id->to_string()))
            st.leases.push_back(std::move(l));
    }
  }
  if (!primary) {
    st.state = ConnectionState::Down;
    if (rt && rt->peer_timed_out) {  // RFC 7296 §2.4: dead peer detection gave up on it
      st.health.emplace();
      st.health->dpd = "failed";
    }
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
    st.peers.reserve(entries.size());
    for (const ike::IkeSaEntry* e : entries) {
      if (e->sa->state() == ike::SaState::Deleted) continue;
      PeerStatus ps;
      ps.remote_id = e->remote_id ? e->remote_id->to_string() : std::string();
      ps.remote = e->sa->remote();
      for (const auto& a : s.remote_access->addresses_of(e->id)) ps.virtual_ips.push_back(a.to_string());
      ps.state = e->is_established() ? ConnectionState::Established : ConnectionState::Connecting;
      ps.child_sas = e->children.size();
      ps.health = health_of(s, *e, now);
      st.peers.push_back(std::move(ps));
    }
  }
  if (s.vip_client)
    for (const auto& a : s.vip_client->addresses_of(primary->id)) st.virtual_ips.push_back(a.to_string());

  st.ike_sa = ike_status_of(s, *primary, now, wall_now);
  st.health = health_of(s, *primary, now);
  for (const auto& child : primary->children) st.child_sas.push_back(child_status(s, child, now));
  if (list) {  // `natgate list`: every IKE SA, not only the one shown
    st.sas.reserve(entries.size());
    for (const ike::IkeSaEntry* e : entries) {
      if (e->sa->state() == ike::SaState::Deleted) continue;
      SaStatus one;
      one.remote_id = e->remote_id ? e->remote_id->to_string() : std::string();
      one.remote = e->sa->remote();
      one.state = state_of(e->sa->state());
      one.ike_sa = ike_status_of(s, *e, now, wall_now);
      for (const auto& child : e->children) one.child_sas.push_back(child_status(s, child, now));
      st.sas.push_back(std::move(one));
    }
  }
  return st;
}

}  // namespace

std::optional<ike::Identity> parse_identity_filter(std::string_view text) {
  auto after = [&](std::string_view prefix) -> std::optional<std::string_view> {
    if (text.size() > prefix.size() && text.substr(0, prefix.size()) == prefix)
      return text.substr(prefix.size());
    return std::nullopt;
  };
  if (auto name = after("fqdn:")) return ike::Identity::fqdn(*name);
  if (auto mail = after("email:")) return ike::Identity::email(*mail);
  for (const char* prefix : {"ipv4:", "ipv6:"})
    if (auto ip = after(prefix)) {
      auto a = IpAddress::parse(*ip);
      if (!a) return std::nullopt;
      return ike::Identity::address(*a);
    }
  auto configured = ConfiguredIdentity::parse(text);
  if (!configured) return std::nullopt;
  return to_ike_identity(*configured);
}

std::optional<PeerFilter> parse_peer_filter(std::string_view text) {
  if (auto a = IpAddress::parse(text)) return PeerFilter{*a, std::nullopt};
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find("]:");
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon)
      return std::nullopt;  // bare IPv6 parsed above
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  auto a = IpAddress::parse(host);
  unsigned p = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (!a || port.empty() || ec != std::errc() || end != port.data() + port.size() || p == 0 || p > 65535)
    return std::nullopt;
  return PeerFilter{*a, static_cast<std::uint16_t>(p)};
}

namespace {

// Which IKE SAs of which connection a query selects: every SA of the connection without
// --id/--peer; with --id the identity's SAs (the table's identity index); with --peer those of
// the connection whose peer is there. Deleted SAs are left to status_of and the counts.
struct Selection {
  std::optional<ike::Identity> identity;
  std::optional<PeerFilter> peer;
  std::map<std::string, Entries> by_identity;  // --id: the identity's SAs by connection
  // Every connection asked for: the table walked once, in SaId order (the order of_connection
  // gives), instead of one index lookup per SA (a map probe each: 100,000 cache misses).
  std::optional<std::map<std::string, Entries, std::less<>>> by_connection;

  Entries of(const Sources& s, const std::string& connection) const {
    if (by_connection) {
      auto it = by_connection->find(connection);
      return it == by_connection->end() ? Entries{} : it->second;
    }
    if (identity) {
      auto it = by_identity.find(connection);
      Entries out = it == by_identity.end() ? Entries{} : it->second;
      if (peer) std::erase_if(out, [&](const ike::IkeSaEntry* e) { return !peer->matches(e->sa->remote()); });
      return out;
    }
    Entries out = s.table.of_connection(connection);
    if (peer) std::erase_if(out, [&](const ike::IkeSaEntry* e) { return !peer->matches(e->sa->remote()); });
    return out;
  }
};

Expected<Selection> select(const Sources& s, const StatusQuery& q) {
  Selection sel;
  if (!q.identity.empty()) {
    sel.identity = parse_identity_filter(q.identity);
    if (!sel.identity)
      return unexpected(
          std::string("--id: not an identity (fqdn:NAME, email:ADDRESS, ipv4:/ipv6:ADDRESS, or as "
                      "the config writes it)"));
    for (const ike::IkeSaEntry* e : s.table.of_identity(*sel.identity))
      sel.by_identity[e->connection()].push_back(e);
  }
  if (!q.peer.empty()) {
    sel.peer = parse_peer_filter(q.peer);
    if (!sel.peer) return unexpected(std::string("--peer: not ADDRESS or ADDRESS:PORT ([IPv6]:PORT)"));
  }
  if (!sel.identity && q.connection.empty()) {
    sel.by_connection.emplace();
    for (const auto& c : s.config.connections) (*sel.by_connection)[c.name];
    s.table.for_each([&](const ike::IkeSaEntry& e) {
      auto it = sel.by_connection->find(e.connection());
      if (it == sel.by_connection->end()) return;
      if (sel.peer && !sel.peer->matches(e.sa->remote())) return;
      it->second.push_back(&e);
    });
  }
  return sel;
}

void count(const ike::IkeSaEntry& e, StatusSummary& sum, ConnectionSummary* conn) {
  if (e.sa->state() == ike::SaState::Deleted) return;
  ++sum.ike_sas;
  sum.child_sas += e.children.size();
  ++sum.ike_sas_by_state[to_string(state_of(e.sa->state()))];
  if (!conn) return;
  ++conn->ike_sas;
  conn->established += e.is_established() ? 1 : 0;
  conn->child_sas += e.children.size();
}

// StatusQuery::traffic: one IKE SA's NAT flags and its CHILD SAs' traffic into the connection's
// totals (and, with per_sa, into `per_child` by name and peer). Costs one data-plane query per SA
// of each pair, as `natgate status` does; nothing else is walked.
void add_traffic(const Sources& s, const ike::IkeSaEntry& e, bool per_sa, ConnectionSummary& cs,
                 std::map<std::pair<std::string, std::string>, std::size_t>& per_child_index) {
  if (e.is_established()) {
    cs.local_behind_nat += e.sa->nat().local_behind_nat ? 1 : 0;
    cs.remote_behind_nat += e.sa->nat().remote_behind_nat ? 1 : 0;
    cs.udp_encapsulated += e.sa->nat().udp_encapsulation() ? 1 : 0;
  }
  for (const auto& child : e.children) {
    ChildTraffic t;  // zero while the pair is not (or no longer) in the data plane
    if (auto it = s.installed.find(child.inbound_spi); s.installer && it != s.installed.end())
      t = s.installer->traffic(it->second);
    cs.bytes_in += t.in.bytes;
    cs.bytes_out += t.out.bytes;
    cs.packets_in += t.in.packets;
    cs.packets_out += t.out.packets;
    if (!per_sa) continue;
    std::string peer = e.remote_id ? e.remote_id->to_string() : e.sa->remote().address.to_string();
    auto [slot, added] = per_child_index.try_emplace({child.name, std::move(peer)}, cs.per_child.size());
    if (added) cs.per_child.push_back({slot->first.first, slot->first.second});
    ConnectionSummary::ChildTraffic& pc = cs.per_child[slot->second];
    pc.bytes_in += t.in.bytes;
    pc.bytes_out += t.out.bytes;
    pc.packets_in += t.in.packets;
    pc.packets_out += t.out.packets;
  }
}

StatusSummary summary_of(const Sources& s, const StatusQuery& q, const Selection& sel) {
  StatusSummary sum;
  sum.half_open = s.half_open;
  const bool everything = q.connection.empty() && !q.selects_sas();
  for (const auto& c : s.config.connections) {
    if (!q.connection.empty() && c.name != q.connection) continue;
    ConnectionSummary cs;
    cs.name = c.name;
    std::map<std::pair<std::string, std::string>, std::size_t> per_child_index;
    if (everything) {
      // The totals below count every SA once, those of no connection too.
      for (const ike::IkeSaEntry* e : sel.of(s, c.name)) {
        if (e->sa->state() == ike::SaState::Deleted) continue;
        ++cs.ike_sas;
        cs.established += e->is_established() ? 1 : 0;
        cs.child_sas += e->children.size();
        if (q.traffic) add_traffic(s, *e, q.per_sa, cs, per_child_index);
      }
    } else {
      for (const ike::IkeSaEntry* e : sel.of(s, c.name)) {
        count(*e, sum, &cs);
        if (q.traffic && e->sa->state() != ike::SaState::Deleted)
          add_traffic(s, *e, q.per_sa, cs, per_child_index);
      }
    }
    if (c.pool && s.remote_access) {
      if (auto counts = s.remote_access->pool_counts(*c.pool)) {
        cs.pool = *c.pool;
        cs.leases_online = counts->online;
        cs.leases = counts->leases;
        cs.pool_size = counts->size;
      }
    }
    sum.connections.push_back(std::move(cs));
  }
  // Everything: every SA, those not yet tied to a connection (before IKE_AUTH) too.
  if (everything) s.table.for_each([&](const ike::IkeSaEntry& e) { count(e, sum, nullptr); });
  return sum;
}

}  // namespace

Status connections(const Sources& s, const StatusQuery& q, SteadyPoint now,
                   std::chrono::system_clock::time_point wall_now, DaemonStatus& out) {
  if (!q.connection.empty() &&
      std::none_of(s.config.connections.begin(), s.config.connections.end(),
                   [&](const ConnectionConfig& c) { return c.name == q.connection; }))
    return unexpected("no connection named \"" + q.connection + "\"");
  auto sel = select(s, q);
  if (!sel) return unexpected(sel.error());
  if (q.summary) {
    out.summary = summary_of(s, q, *sel);
    return {};
  }
  for (const auto& c : s.config.connections) {
    if (!q.connection.empty() && c.name != q.connection) continue;
    if (auto p = s.registry.find(c.name)) {
      Entries entries = sel->of(s, c.name);
      // A filter on SAs shows only the connections that have such SAs.
      if (q.selects_sas() && entries.empty()) continue;
      out.connections.push_back(status_of(s, *p, entries, q.selects_sas(), q.list, now, wall_now));
      continue;
    }
    if (q.selects_sas()) continue;
    ConnectionStatus st;
    st.name = c.name;
    st.state = ConnectionState::Down;
    st.start = to_string(c.start);
    if (c.interface) st.interface = *c.interface;
    if (const ike::ConnectionRuntime* rt = s.endpoint ? s.endpoint->runtime(c.name) : nullptr)
      st.detail = rt->detail;
    out.connections.push_back(std::move(st));
  }
  return {};
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
  // RFC 5685 redirect (ike/exchange/redirect.h): process-wide, as the redirect state is.
  const auto& r = ike::redirect_counters();
  out["ike_redirects_sent"] = r.sent;
  out["ike_redirects_not_supported"] = r.not_supported;
  out["ike_redirects_followed"] = r.followed;
  out["ike_redirects_refused"] = r.refused_nonce + r.refused_loop + r.refused_malformed;
  out["ike_redirects_refused_nonce"] = r.refused_nonce;
  // Gauges of what exists now (the rest count events since start).
  out["ike_sas"] = endpoint.table().size();
  out["child_sas"] = endpoint.table().child_count();
  if (remote_access) out["virtual_ips_online"] = remote_access->online();
  return out;
}

}  // namespace natgate::gateway::core::status_view
