#include "ike/endpoint/endpoint.h"

#include <algorithm>
#include <set>
#include <variant>

#include "ike/codec/describe.h"
#include "ike/codec/message_codec.h"
#include "ike/endpoint/identity_cap.h"
#include "ike/endpoint/log_text.h"

namespace natgate::ike {

namespace {

using Level = LogLine::Level;

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

const char* rejection_counter(InputError::Kind kind) {
  switch (kind) {
    case InputError::Kind::Malformed:
      return "malformed_dropped";
    case InputError::Kind::IntegrityCheckFailed:
      return "ike_integrity_failures";
    default:
      return "ike_datagrams_rejected";
  }
}

bool is_orderly(DeleteReason r) {
  return r == DeleteReason::LocalRequest || r == DeleteReason::PeerDeleted || r == DeleteReason::Rekeyed;
}

// ike::TimerKind <-> the Endpoint's timer of the same meaning.
EndpointTimer endpoint_timer(TimerKind kind) {
  switch (kind) {
    case TimerKind::Retransmit:
      return EndpointTimer::Retransmit;
    case TimerKind::HalfOpen:
      return EndpointTimer::HalfOpen;
    case TimerKind::Dpd:
      return EndpointTimer::Dpd;
    case TimerKind::RekeyedOld:
      return EndpointTimer::RekeyedOld;
  }
  return EndpointTimer::Dpd;
}

std::optional<TimerKind> sa_timer(EndpointTimer kind) {
  switch (kind) {
    case EndpointTimer::Retransmit:
      return TimerKind::Retransmit;
    case EndpointTimer::HalfOpen:
      return TimerKind::HalfOpen;
    case EndpointTimer::Dpd:
      return TimerKind::Dpd;
    case EndpointTimer::RekeyedOld:
      return TimerKind::RekeyedOld;
    default:
      return std::nullopt;
  }
}

std::string plural(std::size_t n, const char* one, const char* many) { return n == 1 ? one : many; }

}  // namespace

const char* to_string(EndpointTimer kind) {
  switch (kind) {
    case EndpointTimer::Retransmit:
      return "retransmit";
    case EndpointTimer::HalfOpen:
      return "half-open";
    case EndpointTimer::Dpd:
      return "dpd";
    case EndpointTimer::RekeyedOld:
      return "rekeyed-old";
    case EndpointTimer::Keepalive:
      return "keepalive";
    case EndpointTimer::IkeRekey:
      return "ike-rekey";
    case EndpointTimer::IkeExpire:
      return "ike-expire";
    case EndpointTimer::ChildRekey:
      return "child-rekey";
    case EndpointTimer::ChildExpire:
      return "child-expire";
    case EndpointTimer::Restart:
      return "restart";
    case EndpointTimer::MediationChecks:
      return "mediation-checks";
  }
  return "?";
}

std::string sa_name(const IkeSa& sa) { return sa_name_text(sa.spi_i(), sa.spi_r()); }

Endpoint::Endpoint(EndpointConfig config, const ConfigProvider& configs) : config_(std::move(config)) {
  mediation_ = std::make_unique<EndpointMediation>(table_);
  mediation_->set_random(config_.environment.random);
  config_.environment.mediation = mediation_.get();
  dispatcher_ = std::make_unique<IkeDispatcher>(config_.dispatcher, configs, config_.environment);
}

Endpoint::~Endpoint() {
  dispatcher_.reset();
  // The SAs go while what their environment calls back into is still there: a CHILD SA still
  // being negotiated gives its SPI back.
  for (SaId id : table_.ids()) table_.remove(id);
}

EndpointOutput Endpoint::finish() {
  EndpointOutput out = std::move(out_);
  out_ = {};
  return out;
}

void Endpoint::set_detail(const std::string& connection, std::string detail) {
  runtime_of(connection).detail = std::move(detail);
}

const ConnectionRuntime* Endpoint::runtime(const std::string& connection) const {
  auto it = runtime_.find(connection);
  return it == runtime_.end() ? nullptr : &it->second;
}

std::shared_ptr<const ConnectionSettings> Endpoint::settings(const std::string& connection) const {
  auto it = by_name_.find(connection);
  return it == by_name_.end() ? nullptr : it->second;
}

// ---- input -------------------------------------------------------------------------------

void Endpoint::drop(const char* counter, const natgate::Endpoint& remote, const std::string& why) {
  count(counter);
  log(Level::Debug, "dropped IKE datagram from " + remote.to_string() + ": " + why);
}

EndpointOutput Endpoint::handle_datagram(const ReceivedDatagram& in, TimePoint now) {
  now_ = now;
  count("ike_datagrams_received");
  auto header = decode_header(in.bytes);
  if (!header) {
    drop("malformed_dropped", in.remote, header.error().to_string());
    return finish();
  }
  if (header->spi_i.is_zero() && header->spi_r.is_zero() &&
      header->exchange == iana::ExchangeType::Informational) {
    // IKE-ME connectivity checks: unencrypted, both SPIs zero (endpoint_mediation.h).
    handle_check(in, now);
    mediation_after_call();
    return finish();
  }
  auto spi = IkeDispatcher::local_spi(*header);
  IkeSaEntry* e = spi ? table_.find_by_local_spi(*spi) : table_.find_responder(in.remote, header->spi_i);
  if (!e && spi) {
    drop("ike_unknown_spi", in.remote, "no IKE SA with our SPI " + spi->to_string());
    return finish();
  }
  if (!e) {
    if (shutting_down_) return finish();
    const auto malformed_before = dispatcher_->counters().malformed;
    auto result = dispatcher_->handle_initial(in, now);
    if (dispatcher_->counters().malformed != malformed_before)
      drop("malformed_dropped", in.remote, "IKE_SA_INIT request does not decode");
    if (!result.sa) {
      // A refused IKE_SA_INIT (no proposal, another KE group) keeps no SA, so its
      // NegotiationFailed event is the only trace of why a peer cannot connect: say so.
      // Rate-limited by the dispatcher; the rest show in ike_init_refusals_unlogged.
      for (const auto& ev : result.output.events)
        if (const auto* f = std::get_if<NegotiationFailed>(&ev); f && f->notify && result.log_refusal)
          log(Level::Info, "IKE_SA_INIT from " + in.remote.to_string() + " refused: we sent " +
                               notify_name(*f->notify) + (f->detail.empty() ? "" : " (" + f->detail + ")") +
                               (result.unlogged_before
                                    ? " (" + std::to_string(result.unlogged_before) + " more not logged)"
                                    : ""));
      for (auto& d : result.output.datagrams) emit(SendDatagram{std::move(d), 0});
      return finish();
    }
    IkeSaEntry& fresh = table_.add(std::move(result.sa), nullptr, now);
    log(Level::Debug, "IKE_SA_INIT from " + in.remote.to_string() + ": responder SA " + sa_name(*fresh.sa));
    apply(fresh.id, std::move(result.output));
    return finish();
  }
  const SaId id = e->id;
  Output out = e->sa->handle(in, now);
  if (out.rejected) {
    count(rejection_counter(out.rejected->kind));
    log(Level::Debug, *e,
        (e->connection().empty() ? "-" : e->connection()) + ": dropped IKE datagram from " +
            in.remote.to_string() + " for SA " + sa_name(*e->sa) + ": " + to_string(out.rejected->kind) +
            ": " + out.rejected->what);
  }
  apply(id, std::move(out));
  return finish();
}

EndpointOutput Endpoint::on_timer(const EndpointTimerKey& key, TimePoint now) {
  now_ = now;
  if (key.kind == EndpointTimer::Restart) {
    if (key.sa >= 1 && key.sa <= restart_names_.size()) restart_due(restart_names_[key.sa - 1], now);
    return finish();
  }
  if (key.kind == EndpointTimer::MediationChecks) {
    mediation_checks_due(static_cast<std::uint32_t>(key.sa), now);
    mediation_after_call();
    return finish();
  }
  IkeSaEntry* e = table_.find(key.sa);
  if (!e) return finish();
  const SaId id = key.sa;
  if (auto kind = sa_timer(key.kind)) {
    const std::size_t before = out_.actions.size();
    call(id, [&](IkeSa& sa) { return sa.on_timer(*kind, now); });
    if (key.kind == EndpointTimer::Dpd) count_dpd_sent(before);
    return finish();
  }
  switch (key.kind) {
    case EndpointTimer::Keepalive:
      // RFC 3948 §4: the side behind the NAT keeps its mapping open with one-octet keepalives.
      if (!e->is_established() || !e->sa->natt() || !e->connection_settings) break;
      emit(SendKeepalive{e->connection(), e->sa->local(), e->sa->remote()});
      arm_sa(id, EndpointTimer::Keepalive, now + e->connection_settings->keepalive);
      break;
    case EndpointTimer::IkeRekey:
      ike_rekey_due(*e, now);
      break;
    case EndpointTimer::IkeExpire:
      ike_expired(*e, now);
      break;
    case EndpointTimer::ChildRekey:
      child_rekey_due(*e, key.spi, now);
      break;
    case EndpointTimer::ChildExpire:
      if (!e->child(key.spi)) break;
      log(Level::Warn, *e,
          e->connection() + ": CHILD SA " + spi_hex(key.spi) +
              " reached its lifetime without a rekey: deleting it");
      count("child_sas_expired");
      call(id, [&](IkeSa& sa) { return sa.delete_child_sa(key.spi, now); });
      break;
    default:
      break;
  }
  return finish();
}

// ---- output of one SA ----------------------------------------------------------------------

void Endpoint::apply(SaId id, Output&& out) {
  ++depth_;
  const IkeSaEntry* sender = table_.find(id);
  for (auto& d : out.datagrams) {
    if (sender && sender->peer_override && d.natt) d.remote = *sender->peer_override;
    emit(SendDatagram{std::move(d), id});
  }
  for (const auto& t : out.timers)
    arm_sa(id, endpoint_timer(t.kind),
           t.kind == TimerKind::Dpd && t.deadline ? std::optional(spread_dpd(*t.deadline)) : t.deadline);
  for (auto& event : out.events) {
    IkeSaEntry* e = table_.find(id);
    if (!e) break;
    std::visit(Overloaded{
                   [&](IkeSaEstablished& ev) { on_ike_up(*e, ev); },
                   [&](ChildSaEstablished& ev) { on_child_up(*e, std::move(ev)); },
                   [&](ChildSaFailed& ev) { on_child_failed(*e, ev); },
                   [&](ChildSaDeleted& ev) { on_child_deleted(*e, ev); },
                   [&](IkeSaDeleted& ev) { on_ike_deleted(*e, ev); },
                   [&](AuthenticationFailed& ev) {
                     on_failure(*e, std::string(ev.by_peer ? "the peer rejected our authentication"
                                                           : "the peer's authentication failed") +
                                        (ev.peer_id ? " (peer " + ev.peer_id->to_string() + ")" : "") +
                                        (ev.detail.empty() ? "" : ": " + ev.detail));
                   },
                   [&](NegotiationFailed& ev) {
                     std::string what = exchange_name(ev.exchange) + " failed";
                     if (ev.notify)
                       what += std::string(ev.reported_by_peer ? ", peer sent " : ", we sent ") +
                               notify_name(*ev.notify);
                     if (!ev.detail.empty()) what += ": " + ev.detail;
                     on_failure(*e, what);
                   },
                   [&](EndpointsChanged& ev) { on_endpoints_changed(*e, ev); },
                   [&](IkeSaRekeyed& ev) { on_ike_rekeyed(*e, ev); },
                   [&](VirtualIpsAssigned& ev) { on_virtual_ips(*e, ev); },
               },
               event);
  }
  if (IkeSaEntry* e = table_.find(id); e && e->sa->state() == SaState::Deleted) removals_.insert(id);
  if (depth_ == 1) mediation_after_call();
  --depth_;
  if (depth_ == 0) flush_removals();
}

void Endpoint::flush_removals() {
  // Connections are looked at once their removals are all done: at shutdown every SA of a
  // connection of 100,000 road warriors is in removals_, and asking after each one would cost
  // O(n) each time.
  std::set<std::string> touched;
  while (!removals_.empty()) {
    SaId id = *removals_.begin();
    removals_.erase(removals_.begin());
    IkeSaEntry* e = table_.find(id);
    if (!e) continue;
    for (const auto& child : e->children) {
      emit(RemoveChildSa{e->connection(), child.inbound_spi});
      cancel_child_timers(id, child.inbound_spi);
    }
    for (auto kind :
         {EndpointTimer::Retransmit, EndpointTimer::HalfOpen, EndpointTimer::Dpd, EndpointTimer::Keepalive,
          EndpointTimer::IkeRekey, EndpointTimer::IkeExpire, EndpointTimer::RekeyedOld})
      arm_sa(id, kind, std::nullopt);
    emit(ReleaseSaResources{id, e->connection(), e->remote_id});
    mediation_->sa_gone(id);
    const std::string name = e->connection();
    table_.remove(id);
    if (!name.empty()) touched.insert(name);
  }
  for (const auto& name : touched) maybe_finish_teardown(name, now_);
  maybe_complete_shutdown();
}

// ---- events ------------------------------------------------------------------------------

void Endpoint::on_ike_up(IkeSaEntry& e, const IkeSaEstablished& ev) {
  if (!e.connection_settings) table_.set_connection(e, settings(ev.peer_config));
  const std::string name = e.connection();
  const TimePoint now = now_;
  e.established = now;
  count("ike_sas_established");
  e.peer = ev.remote;
  table_.set_remote_id(e, ev.remote_id);
  ConnectionRuntime& rt = runtime_of(name);
  rt.failures = 0;
  rt.detail.clear();
  rt.peer_timed_out = false;
  log(Level::Info, e,
      name + ": IKE SA " + sa_name(*e.sa) + " established with " + ev.remote.to_string() + " (" +
          ev.remote_id.to_string() + ") as " + (ev.initiator ? "initiator" : "responder") + ": " +
          to_string(ev.suite) + "; " + nat_text(ev.nat) +
          (ev.floated || e.sa->natt() ? ", IKE on UDP " + std::to_string(ev.local.port) + " (RFC 7296 §2.23)"
                                      : ""));
  if (ev.initial_contact) {
    // RFC 7296 §2.4: INITIAL_CONTACT says the peer has no other SA with us any more (it
    // restarted); whatever we still hold for it is stale and goes without a word to the peer.
    // Only SAs of this identity: road warriors of one connection never replace each other.
    // A connection of many road warriors asks the identity index (its cost does not grow with
    // the number of peers); one of a single identity has few SAs to look through.
    const bool any_id = e.connection_settings && e.connection_settings->any_remote_id;
    std::vector<IkeSaEntry*> candidates =
        any_id ? table_.of_identity(ev.remote_id) : table_.of_connection(name);
    for (IkeSaEntry* other : candidates)
      if (other->id != e.id && other->connection() == name && !removals_.count(other->id) &&
          (other->remote_id ? *other->remote_id == ev.remote_id : !any_id))
        forget(*other,
               "the peer sent INITIAL_CONTACT: it restarted and no longer has this SA (RFC 7296 §2.4)");
  }
  enforce_identity_cap(e, ev.remote_id);
  if (!ev.initiator && e.connection_settings && e.connection_settings->peer &&
      e.connection_settings->peer->mediation_server) {
    // draft-brunner-ikev2-mediation-00 §3: a mediation connection; its peer is reachable for
    // ME_CONNECT under its identity from now on (endpoint_mediation.h).
    mediation_->peer_online(ev.remote_id, e.id, ev.remote);
    count("mediation_registrations");
    log(Level::Info, name + ": mediation peer " + ev.remote_id.to_string() + " registered, seen at " +
                         ev.remote.to_string());
  }
  if (ev.initiator && e.connection_settings && e.connection_settings->peer &&
      e.connection_settings->peer->mediation_client)
    mediation_client_up(e, now);  // our mediation connection: ME_CONNECT for what waits on it
  if (e.connection_settings && ev.nat.local_behind_nat && e.connection_settings->keepalive.count() > 0)
    arm_sa(e.id, EndpointTimer::Keepalive, now + e.connection_settings->keepalive);
  schedule_ike_lifetime(e, now);
}

void Endpoint::enforce_identity_cap(IkeSaEntry& newest, const Identity& id) {
  // As strongSwan's uniqueids=yes (its default), generalised to a cap: a new IKE SA of an
  // identity is always accepted, and the identity's oldest ones beyond the cap are deleted
  // (with a Delete to the peer). A client that reconnects without INITIAL_CONTACT is never locked
  // out by its own stale SAs; a peer opening SA after SA holds at most the cap.
  std::vector<IdentitySa> held;
  for (IkeSaEntry* other : table_.of_identity(id)) {
    const SaId sid = other->id;
    if (removals_.count(sid) || !other->is_established() || other->sa->rekeyed()) continue;
    held.push_back({sid, other->established.value_or(TimePoint{}), sid == newest.id});
  }
  for (SaId old : beyond_identity_cap(held, config_.ike_sas_per_identity)) {
    IkeSaEntry* victim = table_.find(old);
    if (!victim) continue;
    count("ike_sas_replaced_identity_cap");
    log(Level::Info, *victim,
        victim->connection() + ": IKE SA " + sa_name(*victim->sa) + " of " + id.to_string() +
            " gives way to IKE SA " + sa_name(*newest.sa) + ": daemon.limits.ike_sas_per_identity is " +
            std::to_string(config_.ike_sas_per_identity));
    // Its CHILD SAs leave the data plane now, so the newcomer's take their place at once; the
    // peer hears of it with a Delete. Its hold on the (shared) virtual IP and the policies of
    // its own reqid go too.
    for (const auto& child : victim->children) {
      emit(RemoveChildSa{victim->connection(), child.inbound_spi});
      cancel_child_timers(old, child.inbound_spi);
    }
    victim->children.clear();
    emit(ReleaseSaResources{old, victim->connection(), victim->remote_id});
    call(old, [&](IkeSa& sa) { return sa.delete_ike_sa(now_); });
  }
}

void Endpoint::on_child_up(IkeSaEntry& e, ChildSaEstablished&& ev) {
  if (!e.connection_settings) table_.set_connection(e, settings(ev.child_config));
  const std::string name = e.connection();
  // The data plane hears of the lifetime too: its soft expire (at 90 %) is a second trigger for
  // the rekey, its hard expire the last word (data_plane_expire).
  std::chrono::seconds life{0};
  if (e.connection_settings) life = e.connection_settings->lifetime_of_child(ev.child_config);
  const auto soft = life - life / 10;

  EndpointChildSa c;
  c.name = ev.child_config;
  c.inbound_spi = ev.inbound_spi;
  c.outbound_spi = ev.outbound_spi;
  c.local = ev.local;
  c.remote = ev.remote;
  c.udp_encapsulation = ev.udp_encapsulation;
  c.local_ts = ev.local_ts;
  c.remote_ts = ev.remote_ts;
  c.replaces_inbound_spi = ev.replaces_inbound_spi.value_or(0);
  c.outbound_deferred = ev.defer_outbound && ev.replaces_inbound_spi.has_value();
  const std::optional<std::uint32_t> replaces = ev.replaces_inbound_spi;
  const std::string esp = to_string(ev.esp);
  // Make-before-break: the new pair goes in next to the old one; the old pair is removed only
  // when its Delete has been exchanged (ChildSaDeleted).
  emit(InstallChildSa{e.id, name, e.connection_settings && e.connection_settings->any_remote_id, e.remote_id,
                      std::move(ev), soft, life});
  e.children.push_back(c);
  count("child_sas_installed");
  schedule_child_lifetime(e, e.children.back(), now_);
  if (replaces) {
    count("child_sas_rekeyed");
    // The old pair is on its way out: no rekey of it any more, only its expiry as a backstop.
    arm_sa(e.id, EndpointTimer::ChildRekey, std::nullopt, *replaces);
    log(Level::Info, name + ": CHILD SA " + spi_hex(*replaces) + " rekeyed: new pair " +
                         spi_hex(c.inbound_spi) + " in / " + spi_hex(c.outbound_spi) + " out");
  }
  log(Level::Info, name + ": CHILD SA " + spi_hex(c.inbound_spi) + " in / " + spi_hex(c.outbound_spi) +
                       " out installed: " + ts_text(c.local_ts) + " === " + ts_text(c.remote_ts) + ", " +
                       esp + ", " +
                       (c.udp_encapsulation
                            ? "ESP in UDP " + c.local.to_string() + " <-> " + c.remote.to_string()
                            : "ESP " + c.local.address.to_string() + " <-> " + c.remote.address.to_string()));
  reply_up(name, true,
           name + " is up: CHILD SA " + spi_hex(c.inbound_spi) + "/" + spi_hex(c.outbound_spi) + " " +
               ts_text(c.local_ts) + " === " + ts_text(c.remote_ts),
           c.inbound_spi);
}

EndpointOutput Endpoint::child_install_failed(SaId sa, std::uint32_t inbound_spi, const std::string& why,
                                              TimePoint now) {
  now_ = now;
  IkeSaEntry* e = table_.find(sa);
  if (!e) return finish();
  const std::string name = e->connection();
  if (EndpointChildSa* c = e->child(inbound_spi)) {
    const std::uint32_t outbound = c->outbound_spi;
    if (c->replaces_inbound_spi) --counters_["child_sas_rekeyed"];
    std::erase_if(e->children, [&](const EndpointChildSa& x) { return x.inbound_spi == inbound_spi; });
    cancel_child_timers(sa, inbound_spi);
    --counters_["child_sas_installed"];
    count("child_sa_install_failures");
    const std::string text =
        "installing CHILD SA " + spi_hex(inbound_spi) + "/" + spi_hex(outbound) + " failed: " + why;
    log(Level::Error, name + ": " + text);
    // The "is up" reply that followed the install was void (ControlReply::after_install): the
    // shell answered it with the failure.
    runtime_of(name).detail = text;
  }
  call(sa, [&](IkeSa& s) { return s.delete_child_sa(inbound_spi, now); });
  return finish();
}

void Endpoint::on_child_failed(IkeSaEntry& e, const ChildSaFailed& ev) {
  const std::string name = e.connection().empty() ? ev.child_config : e.connection();
  std::string why =
      "CHILD SA not created: " + std::string(ev.reported_by_peer ? "the peer sent " : "we sent ") +
      notify_name(ev.notify) + (ev.detail.empty() ? "" : " (" + ev.detail + ")");
  log(Level::Warn, name + ": " + why + " (peer " +
                       (e.remote_id ? e.remote_id->to_string() : std::string("-")) + " at " +
                       e.sa->remote().to_string() + ")");
  runtime_of(name).detail = why;
  count("child_sa_failures");
  // The SPI reserved for it went back already (SpiReservation, Environment::release_spi).
  reply_up(name, false, name + ": " + why);
}

void Endpoint::on_child_deleted(IkeSaEntry& e, const ChildSaDeleted& ev) {
  EndpointChildSa* c = e.child(ev.inbound_spi);
  if (!c) return;
  emit(RemoveChildSa{e.connection(), c->inbound_spi});
  cancel_child_timers(e.id, c->inbound_spi);
  log(Level::Info, e,
      e.connection() + ": CHILD SA " + spi_hex(c->inbound_spi) + " in / " + spi_hex(c->outbound_spi) +
          " out deleted" + (ev.by_peer ? " by the peer" : ""));
  const std::uint32_t gone = c->inbound_spi;
  const std::string child_name = c->name;
  std::erase_if(e.children, [&](const EndpointChildSa& x) { return x.inbound_spi == gone; });
  count("child_sas_deleted");
  // Make-before-break for a rekey we answered: the peer has the new pair (it deleted the old
  // one after installing it), so our traffic moves to the new outbound SA now.
  for (auto& child : e.children) {
    if (child.replaces_inbound_spi != gone || !child.outbound_deferred) continue;
    child.outbound_deferred = false;
    emit(SwitchOutbound{e.connection(), child.inbound_spi});
  }
  restart_closed_child(e, child_name, ev.by_peer);
}

void Endpoint::restart_closed_child(IkeSaEntry& e, const std::string& child_name, bool by_peer) {
  // close: restart — only for a pair the peer deleted alone: our own deletes (terminate,
  // expiry) stay deleted, and a pair deleted at the end of a rekey has its successor (a CHILD
  // SA of the same config is still installed).
  if (!by_peer || shutting_down_ || !e.connection_settings || !e.is_established()) return;
  if (!e.connection_settings->restarts_on_close(child_name)) return;
  if (std::any_of(e.children.begin(), e.children.end(),
                  [&](const EndpointChildSa& x) { return x.name == child_name; }))
    return;
  log(Level::Info, e,
      e.connection() + ": the peer closed CHILD SA " + child_name + ": creating it again (close: restart)");
  count("child_sas_restarted");
  call(e.id, [&](IkeSa& sa) { return sa.create_child_sa(child_name, now_); });
}

void Endpoint::on_ike_deleted(IkeSaEntry& e, const IkeSaDeleted& ev) {
  for (const auto& child : e.children) {
    emit(RemoveChildSa{e.connection(), child.inbound_spi});
    cancel_child_timers(e.id, child.inbound_spi);
  }
  e.children.clear();
  const std::string name = e.connection();
  const std::string label = name.empty() ? std::string("-") : name;
  log(is_orderly(ev.reason) ? Level::Info : Level::Warn,
      label + ": IKE SA " + sa_name(*e.sa) + " with " + e.sa->remote().to_string() + " " +
          (ev.was_established ? "deleted" : "not established") + ": " + to_string(ev.reason));
  count(ev.reason == DeleteReason::Timeout ? "ike_sas_timed_out" : "ike_sas_deleted");
  if (name.empty()) return;

  ConnectionRuntime& rt = runtime_of(name);
  if (!ev.was_established) {
    ++rt.failures;
    if (rt.detail.empty()) rt.detail = std::string("connection attempt failed: ") + to_string(ev.reason);
    reply_up(name, false, name + ": " + rt.detail);
  } else if (ev.reason == DeleteReason::Timeout) {
    rt.detail = "the peer stopped answering (dead peer detection, RFC 7296 §2.4)";
    rt.peer_timed_out = true;
  } else if (ev.reason == DeleteReason::PeerDeleted) {
    rt.detail = "the peer deleted the IKE SA";
  }

  auto c = settings(name);
  if (!c || c->start != ConnectionStart::Initiate || rt.admin_down || shutting_down_) return;
  if (ev.reason == DeleteReason::LocalRequest || ev.reason == DeleteReason::Rekeyed) return;
  for (IkeSaEntry* other : table_.of_connection(name))
    if (other->id != e.id && other->sa->state() != SaState::Deleted && !removals_.count(other->id)) return;
  // start: initiate keeps the tunnel up: at once after losing an established SA, with a growing
  // pause after failed attempts so a broken peer is not hammered.
  using namespace std::chrono_literals;
  const auto delay = ev.was_established
                         ? 1s
                         : std::min<std::chrono::seconds>(60s, 5s * (1u << std::min(rt.failures, 4u)) / 2);
  schedule_restart(name, delay, to_string(ev.reason), now_);
}

void Endpoint::on_endpoints_changed(IkeSaEntry& e, const EndpointsChanged& ev) {
  count(ev.mobike ? "mobike_address_updates" : "peer_address_changes");
  e.peer_override.reset();
  const std::string before = e.peer.to_string();
  e.peer = ev.remote;
  const std::size_t n = e.children.size();
  const std::string why =
      ev.mobike ? "MOBIKE address update (RFC 4555 §3.5)" : "NAT mapping changed (RFC 7296 §2.23)";
  const std::string encap =
      ev.udp_encapsulation ? (*ev.udp_encapsulation ? ", ESP in UDP" : ", plain ESP") : std::string();
  log(Level::Info, e,
      e.connection() + ": peer now at " + ev.remote.to_string() + " (was " + before + "), local " +
          ev.local.to_string() + ": " + why + encap + "; " + std::to_string(n) + " CHILD SA" +
          plural(n, "", "s") + " follow" + plural(n, "s", ""));
  for (auto& child : e.children) {
    child.local = ev.local;
    child.remote = ev.remote;
    emit(MoveChildSa{e.connection(), child.inbound_spi, ev.local, ev.remote, ev.udp_encapsulation});
  }
}

EndpointOutput Endpoint::peer_moved(std::uint32_t inbound_spi, const natgate::Endpoint& new_remote,
                                    TimePoint now) {
  now_ = now;
  for (SaId id : table_.ids()) {
    IkeSaEntry* e = table_.find(id);
    if (!e || !e->is_established()) continue;
    EndpointChildSa* moved = e->child(inbound_spi);
    if (!moved) continue;
    // As strongSwan does with XFRM mapping events: only a peer known to be behind a NAT may move
    // this way; anyone else's address is fixed until IKE (MOBIKE) says otherwise.
    if (!e->sa->nat().remote_behind_nat) {
      log(Level::Debug, *e,
          e->connection() + ": ESP for SA " + spi_hex(inbound_spi) + " from " + new_remote.to_string() +
              " ignored: the peer is not behind a NAT");
      return finish();
    }
    if (e->sa->mobike() && new_remote.address != moved->remote.address) {
      // RFC 4555 §3.5: with MOBIKE the peer moves to a new address itself, with
      // UPDATE_SA_ADDRESSES (a new port behind the same NAT is a rebinding, followed below).
      log(Level::Debug, *e,
          e->connection() + ": ESP for SA " + spi_hex(inbound_spi) + " from " + new_remote.to_string() +
              " ignored: MOBIKE peers move with UPDATE_SA_ADDRESSES");
      return finish();
    }
    count("peer_address_changes_esp");
    log(Level::Info, *e,
        e->connection() + ": authenticated ESP now comes from " + new_remote.to_string() + " (was " +
            moved->remote.to_string() +
            "): the peer's NAT mapping changed (RFC 7296 §2.23); CHILD SAs follow, and a liveness "
            "check moves the IKE SA");
    for (auto& child : e->children) {
      if (child.remote == new_remote) continue;
      child.remote = new_remote;
      emit(MoveChildSa{e->connection(), child.inbound_spi, child.local, new_remote, std::nullopt});
    }
    e->peer_override = new_remote;
    call(id, [&](IkeSa& sa) { return sa.check_liveness(now); });
    return finish();
  }
  return finish();
}

void Endpoint::on_virtual_ips(IkeSaEntry& e, const VirtualIpsAssigned& ev) {
  std::string list;
  for (const auto& a : ev.attributes.addresses) list += (list.empty() ? "" : " ") + a.to_string();
  if (ev.to_peer) {
    // Comes before IkeSaEstablished: the entry learns its connection from the event.
    if (!e.connection_settings) table_.set_connection(e, settings(ev.peer_config));
    emit(HoldVirtualIps{e.id, ev.peer_config, ev.peer_id, ev.attributes.addresses});
    count("virtual_ips_assigned");
    log(Level::Info, ev.peer_config + ": virtual IP " + list + " leased to " + ev.peer_id.to_string() +
                         " (RFC 7296 §2.19)");
    return;
  }
  const std::string name = e.connection();
  if (ev.attributes.addresses.empty()) {
    runtime_of(name).detail = "the gateway gave no virtual IP";
    log(Level::Warn, name + ": the gateway gave no virtual IP");
    return;
  }
  std::string dns;
  for (const auto& d : ev.attributes.dns) dns += (dns.empty() ? "" : " ") + d.to_string();
  std::string subnets;
  for (const auto& s : ev.attributes.subnets) subnets += (subnets.empty() ? "" : " ") + s.to_string();
  log(Level::Info, name + ": virtual IP " + list + " from the gateway" + (dns.empty() ? "" : ", DNS " + dns) +
                       (subnets.empty() ? "" : ", subnets " + subnets));
  emit(ApplyVirtualIps{e.id, name, ev.attributes});
}

void Endpoint::on_failure(IkeSaEntry& e, const std::string& what) {
  const std::string name = e.connection().empty() ? std::string("-") : e.connection();
  log(Level::Error, name + ": " + what + " (peer " + e.sa->remote().to_string() + ")");
  count("ike_failures");
  if (!e.connection().empty()) {
    runtime_of(name).detail = what;
    reply_up(name, false, name + ": " + what);
  }
}

// ---- data-plane events -------------------------------------------------------------------

EndpointOutput Endpoint::acquire(std::uint32_t reqid, const std::string& traffic, TimePoint now) {
  now_ = now;
  for (const auto& c : connections_) {
    if (c->reqid != reqid) continue;
    for (IkeSaEntry* e : table_.of_connection(c->name))
      if (e->sa->state() != SaState::Deleted) return finish();  // already on its way
    if (runtime_of(c->name).admin_down) return finish();
    if (Status s = initiate_now(c, "traffic " + traffic + " (start: on-traffic)", now); !s)
      log(Level::Error, c->name + ": cannot initiate: " + s.error());
    return finish();
  }
  return finish();
}

EndpointOutput Endpoint::data_plane_expire(std::uint32_t spi, bool hard, TimePoint now) {
  now_ = now;
  log(Level::Debug, std::string("data plane: ") + (hard ? "hard" : "soft") + " expire of SA " + spi_hex(spi));
  for (SaId id : table_.ids()) {
    IkeSaEntry* e = table_.find(id);
    if (!e) continue;
    auto it = std::find_if(e->children.begin(), e->children.end(), [&](const EndpointChildSa& c) {
      return c.inbound_spi == spi || c.outbound_spi == spi;
    });
    if (it == e->children.end()) continue;
    const std::uint32_t inbound = it->inbound_spi;
    if (hard) {
      // The data plane dropped the SA already (as the kernel does): tell the peer the pair is gone.
      count("child_sas_expired");
      log(Level::Warn, *e,
          e->connection() + ": CHILD SA " + spi_hex(inbound) +
              " hard-expired in the data plane: deleting it");
      call(id, [&](IkeSa& sa) { return sa.delete_child_sa(inbound, now); });
    } else {
      count("child_soft_expires");
      child_rekey_due(*e, inbound, now);  // IkeSa refuses a second rekey of a pair already being rekeyed
    }
    return finish();
  }
  return finish();
}

void Endpoint::log(LogLine::Level level, const IkeSaEntry& e, std::string text) {
  LogLine line{level, std::move(text)};
  line.connection = e.connection();
  if (e.sa) {
    line.ike_sa = sa_name(*e.sa);
    line.peer = e.sa->remote().to_string();
  }
  emit(std::move(line));
}

}  // namespace natgate::ike
