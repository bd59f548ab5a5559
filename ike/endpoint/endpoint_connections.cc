// ike::Endpoint: the connections' runtime (start actions, restarts, up/down/teardown, reload,
// shutdown).
#include <algorithm>

#include "ike/endpoint/endpoint.h"
#include "ike/endpoint/log_text.h"

namespace natgate::ike {

namespace {

using Level = LogLine::Level;

std::string plural(std::size_t n, const char* one, const char* many) { return n == 1 ? one : many; }

}  // namespace

// ---- connections -------------------------------------------------------------------------

void Endpoint::assign(std::vector<std::shared_ptr<const ConnectionSettings>> connections) {
  connections_ = std::move(connections);
  by_name_.clear();
  bool mediation_server = false;
  for (const auto& c : connections_) {
    by_name_[c->name] = c;
    runtime_of(c->name).reqid = c->reqid;
    mediation_server = mediation_server || (c->peer && c->peer->mediation_server);
  }
  mediation_->set_serving(mediation_server);
}

EndpointOutput Endpoint::start(std::vector<std::shared_ptr<const ConnectionSettings>> connections,
                               TimePoint now) {
  now_ = now;
  assign(std::move(connections));
  for (const auto& c : connections_) start_connection(*c, now);
  return finish();
}

void Endpoint::start_connection(const ConnectionSettings& c, TimePoint now) {
  ConnectionRuntime& rt = runtime_of(c.name);
  rt.admin_down = false;
  switch (c.start) {
    case ConnectionStart::Initiate:
      if (Status s = initiate_now(settings(c.name), "start: initiate", now); !s) {
        rt.detail = s.error();
        log(Level::Error, c.name + ": cannot initiate: " + s.error());
        schedule_restart(c.name, std::chrono::seconds(10), s.error(), now);
      }
      break;
    case ConnectionStart::Listen:
      log(Level::Info, c.name + ": waiting for " +
                           (c.any_remote_id ? std::string("any identity") : c.remote_id_text) +
                           " to connect from " + (c.remote ? c.remote->address.to_string() : "any address") +
                           " (start: listen)");
      break;
    case ConnectionStart::OnTraffic:
      emit(InstallTrafficPolicies{c.name});
      break;
  }
}

EndpointOutput Endpoint::initiate(const std::string& connection, const std::string& why, TimePoint now) {
  now_ = now;
  if (Status s = initiate_now(settings(connection), why, now); !s)
    log(Level::Error, connection + ": cannot initiate: " + s.error());
  return finish();
}

Status Endpoint::initiate_now(const std::shared_ptr<const ConnectionSettings>& c, const std::string& why,
                              TimePoint now) {
  if (!c) return unexpected(std::string("no such connection"));
  if (!shutting_down_ && initiate_mediated(c, now)) return {};  // through its mediation server
  if (!c->remote && c->remote_hosts.empty())
    return unexpected(
        std::string("remote.address is any: this side only responds (bring it up from the peer)"));
  if (shutting_down_) return unexpected(std::string("natgated is stopping"));
  auto target = remote_for(*c);
  if (!target) return unexpected(target.error());
  const natgate::Endpoint remote = *target;
  if (!config_.local_address_for) return unexpected(std::string("no local address lookup"));
  auto local_address = config_.local_address_for(remote.address);
  if (!local_address) return unexpected(local_address.error());
  // Through a forwarding relay the IKE SA starts where its ESP will run, the NAT-T socket: the
  // relay allocation learned that socket's NAT mapping (remote.relayed, docs/design.md).
  const bool from_natt = c->relayed && c->ike;
  const natgate::Endpoint local{*local_address, from_natt ? c->ike->natt_port : config_.ike_port};

  auto sa = IkeSa::create_initiator({c->ike, c->peer, local, remote, from_natt}, config_.environment);
  if (!sa) return unexpected(sa.error());
  IkeSaEntry& e = table_.add(std::move(*sa), c, now);
  log(Level::Info, e,
      c->name + ": initiating IKE SA " + e.sa->spi_i().to_string() + " to " + remote.to_string() + " from " +
          local.to_string() + " (" + why + ")");
  count("ike_sas_initiated");
  call(e.id, [&](IkeSa& s) { return s.initiate(now); });
  return {};
}

Expected<natgate::Endpoint> Endpoint::remote_for(const ConnectionSettings& c) {
  if (c.remote_hosts.empty()) return *c.remote;
  // Resolved again on every attempt, so a peer on dynamic DNS is found at its new address; the
  // addresses of all names, in order, one per attempt (a dead first record costs one attempt).
  std::vector<IpAddress> candidates;
  std::string failures;
  for (const auto& host : c.remote_hosts) {
    if (!config_.resolve_host) return unexpected(std::string("no resolver"));
    auto found = config_.resolve_host(host);
    if (!found) {
      failures += (failures.empty() ? "" : "; ") + host + ": " + found.error();
      continue;
    }
    for (const auto& a : *found)
      if (std::find(candidates.begin(), candidates.end(), a) == candidates.end()) candidates.push_back(a);
  }
  if (candidates.empty()) return unexpected("cannot resolve remote.address (" + failures + ")");
  ConnectionRuntime& rt = runtime_of(c.name);
  const IpAddress chosen = candidates[rt.next_address % candidates.size()];
  ++rt.next_address;
  std::string all;
  for (const auto& a : candidates) all += (all.empty() ? "" : ", ") + a.to_string();
  log(Level::Info, c.name + ": remote.address resolves to " + all + "; trying " + chosen.to_string());
  return natgate::Endpoint{chosen, c.remote_port};
}

void Endpoint::schedule_restart(const std::string& name, std::chrono::seconds delay, const std::string& why,
                                TimePoint now) {
  log(Level::Info, name + ": starting again in " + std::to_string(delay.count()) + " s (" + why + ")");
  arm(restart_key(name), now + delay);
}

EndpointTimerKey Endpoint::restart_key(const std::string& name) {
  auto [it, added] = restart_numbers_.try_emplace(name, restart_names_.size() + 1);
  if (added) restart_names_.push_back(name);
  return {EndpointTimer::Restart, 0, it->second};
}

void Endpoint::restart_due(const std::string& name, TimePoint now) {
  auto c = settings(name);
  ConnectionRuntime& rt = runtime_of(name);
  if (!c || rt.admin_down || shutting_down_ || c->start != ConnectionStart::Initiate) return;
  for (IkeSaEntry* e : table_.of_connection(name))
    if (e->sa->state() != SaState::Deleted) return;  // something else brought it up meanwhile
  if (Status s = initiate_now(c, "restart", now); !s) {
    rt.detail = s.error();
    ++rt.failures;
    log(Level::Error, name + ": cannot initiate: " + s.error());
    schedule_restart(
        name,
        std::min<std::chrono::seconds>(std::chrono::seconds(60), std::chrono::seconds(10) * rt.failures),
        s.error(), now);
  }
}

void Endpoint::reply_up(const std::string& name, bool ok, const std::string& text,
                        std::uint32_t after_install) {
  auto it = runtime_.find(name);
  if (it == runtime_.end() || it->second.up_waiting.empty()) return;
  auto waiting = std::move(it->second.up_waiting);
  it->second.up_waiting.clear();
  for (auto token : waiting) emit(ControlReply{token, ok, text, after_install});
}

void Endpoint::forget(IkeSaEntry& e, const std::string& why) {
  log(Level::Info, e,
      e.connection() + ": dropping IKE SA " + sa_name(*e.sa) + " with " + e.sa->remote().to_string() + ": " +
          why);
  // Its CHILD SAs leave with it in flush_removals, after the events being applied: the
  // successor's (whose IKE_AUTH carried the INITIAL_CONTACT) are in place by then and hold the
  // policies. Removed here, the kernel would meet the still old-owned policies with no SA for
  // their reqid: packets dropped, an ACQUIRE and a larval SA left behind for 30 s.
  for (const auto& child : e.children)
    log(Level::Info, e,
        e.connection() + ": CHILD SA " + spi_hex(child.inbound_spi) + " in / " + spi_hex(child.outbound_spi) +
            " out goes with it");
  count("ike_sas_dropped_stale");
  removals_.insert(e.id);
  if (depth_ == 0) flush_removals();
}

EndpointOutput Endpoint::teardown(const std::string& connection, TimePoint now) {
  now_ = now;
  teardown_now(connection, now);
  return finish();
}

EndpointOutput Endpoint::terminate(const std::vector<SaId>& sas, TimePoint now) {
  now_ = now;
  for (SaId id : sas) {
    IkeSaEntry* e = table_.find(id);
    if (!e || removals_.count(id) || e->sa->state() == SaState::Deleted ||
        e->sa->state() == SaState::Deleting)
      continue;
    const std::string label = e->connection().empty() ? std::string("-") : e->connection();
    log(Level::Info, label + ": natgate terminate: deleting IKE SA " + sa_name(*e->sa) + " (telling " +
                         e->sa->remote().to_string() + ")");
    call(id, [&](IkeSa& sa) { return sa.delete_ike_sa(now); });
  }
  return finish();
}

void Endpoint::teardown_now(const std::string& name, TimePoint now) {
  arm(restart_key(name), std::nullopt);
  for (IkeSaEntry* e : table_.of_connection(name)) {
    const SaId id = e->id;
    if (e->is_established()) {
      log(Level::Info, *e,
          name + ": deleting IKE SA " + sa_name(*e->sa) + " (telling " + e->sa->remote().to_string() + ")");
      call(id, [&](IkeSa& sa) { return sa.delete_ike_sa(now); });
    } else if (e->sa->state() != SaState::Deleted && e->sa->state() != SaState::Deleting) {
      call(id, [&](IkeSa& sa) { return sa.delete_ike_sa(now); });
    }
  }
  maybe_finish_teardown(name, now);
}

void Endpoint::maybe_finish_teardown(const std::string& name, TimePoint now) {
  if (table_.any_of_connection(name, [&](const IkeSaEntry& e) { return !removals_.count(e.id); })) return;
  ConnectionRuntime& rt = runtime_of(name);
  auto c = settings(name);
  const bool keep_policies = c && !rt.admin_down && !shutting_down_ && c->start != ConnectionStart::Listen;
  if (!keep_policies && rt.reqid) emit(ReleasePolicies{rt.reqid});
  if (!rt.down_waiting.empty()) {
    auto waiting = std::move(rt.down_waiting);
    rt.down_waiting.clear();
    for (auto token : waiting) emit(ControlReply{token, true, name + " is down", 0});
  }
  const auto next = rt.after_teardown;
  rt.after_teardown = ConnectionRuntime::AfterTeardown::Nothing;
  if (next == ConnectionRuntime::AfterTeardown::Forget) {
    runtime_.erase(name);
  } else if (next == ConnectionRuntime::AfterTeardown::Restart) {
    if (rt.reqid) emit(ReleasePolicies{rt.reqid});
    if (c) start_connection(*c, now);
  }
}

EndpointOutput Endpoint::up(const std::string& name, std::uint64_t token, TimePoint now) {
  now_ = now;
  auto c = settings(name);
  if (!c) {
    emit(ControlReply{token, false, "no connection named \"" + name + "\"", 0});
    return finish();
  }
  ConnectionRuntime& rt = runtime_of(name);
  rt.admin_down = false;
  bool connecting = false;
  for (IkeSaEntry* e : table_.of_connection(name)) {
    if (e->is_established() && !e->children.empty()) {
      emit(ControlReply{token, true, name + " is already up (IKE SA " + sa_name(*e->sa) + ")", 0});
      return finish();
    }
    if (e->sa->state() == SaState::Connecting || e->sa->state() == SaState::Created) connecting = true;
  }
  if (!connecting) {
    if (Status s = initiate_now(c, "natgate up", now); !s) {
      emit(ControlReply{token, false, "cannot bring up " + name + ": " + s.error(), 0});
      return finish();
    }
  }
  // The initiation may have answered already (a failure within the call): this waits for the next.
  runtime_of(name).up_waiting.push_back(token);
  return finish();
}

EndpointOutput Endpoint::down(const std::string& name, std::uint64_t token, TimePoint now) {
  now_ = now;
  auto c = settings(name);
  if (!c) {
    emit(ControlReply{token, false, "no connection named \"" + name + "\"", 0});
    return finish();
  }
  ConnectionRuntime& rt = runtime_of(name);
  rt.admin_down = true;
  arm(restart_key(name), std::nullopt);
  reply_up(name, false, name + " was taken down");
  if (table_.of_connection(name).empty()) {
    emit(ReleasePolicies{c->reqid});
    emit(ControlReply{token, true, name + " is already down", 0});
    return finish();
  }
  log(Level::Info, name + ": natgate down");
  rt.down_waiting.push_back(token);
  teardown_now(name, now);
  return finish();
}

EndpointOutput Endpoint::reload(std::vector<std::shared_ptr<const ConnectionSettings>> connections,
                                const std::vector<std::string>& removed,
                                const std::vector<ConnectionChange>& changed,
                                const std::vector<std::string>& added, TimePoint now) {
  now_ = now;
  assign(std::move(connections));
  for (const auto& name : removed) {
    log(Level::Info, name + ": removed from the config: tearing it down");
    ConnectionRuntime& rt = runtime_of(name);
    rt.admin_down = true;
    reply_up(name, false, name + " was removed from the config");
    rt.after_teardown = ConnectionRuntime::AfterTeardown::Forget;
    teardown_now(name, now);
  }
  for (const auto& change : changed) {
    log(Level::Info, change.name + ": changed (" + change.fields + "): restarting it");
    ConnectionRuntime& rt = runtime_of(change.name);
    rt.admin_down = true;  // no automatic restart of the old one; the new one starts after the teardown
    rt.after_teardown = ConnectionRuntime::AfterTeardown::Restart;
    teardown_now(change.name, now);
  }
  for (const auto& name : added) {
    log(Level::Info, name + ": added to the config");
    if (auto c = settings(name)) start_connection(*c, now);
  }
  return finish();
}

EndpointOutput Endpoint::shutdown(TimePoint now) {
  now_ = now;
  shutting_down_ = true;
  for (auto& [name, rt] : runtime_) {
    arm(restart_key(name), std::nullopt);
    reply_up(name, false, "natgated is stopping");
  }
  for (SaId id : table_.ids()) {
    IkeSaEntry* e = table_.find(id);
    if (!e) continue;
    if (e->is_established())
      log(Level::Info, *e, e->connection() + ": deleting IKE SA " + sa_name(*e->sa) + " (shutdown)");
    call(id, [&](IkeSa& sa) { return sa.delete_ike_sa(now); });
  }
  maybe_complete_shutdown();
  return finish();
}

EndpointOutput Endpoint::shutdown_deadline_passed(TimePoint now) {
  now_ = now;
  log(Level::Info, std::to_string(table_.size()) + " IKE SA" + plural(table_.size(), "", "s") +
                       " did not confirm the delete; stopping anyway");
  for (SaId id : table_.ids()) {
    IkeSaEntry* e = table_.find(id);
    for (const auto& child : e->children) emit(RemoveChildSa{e->connection(), child.inbound_spi});
    e->children.clear();
  }
  if (!shutdown_completed_) {
    shutdown_completed_ = true;
    emit(ShutdownComplete{});
  }
  return finish();
}

void Endpoint::maybe_complete_shutdown() {
  if (!shutting_down_ || shutdown_completed_ || table_.size() != 0) return;
  shutdown_completed_ = true;
  emit(ShutdownComplete{});
}

}  // namespace natgate::ike
