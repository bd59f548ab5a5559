// ike::Endpoint: lifetimes and rekeying (RFC 7296 §2.8), liveness checks (§2.4), NAT-keepalive
// scheduling (RFC 3948 §4).
#include <algorithm>

#include "ike/endpoint/endpoint.h"
#include "ike/endpoint/log_text.h"

namespace natgate::ike {

namespace {

using Level = LogLine::Level;

std::string plural(std::size_t n, const char* one, const char* many) { return n == 1 ? one : many; }

}  // namespace

// ---- lifetimes and rekeying ---------------------------------------------------------------

std::uint32_t Endpoint::random_u32() {
  std::uint32_t r = 0;
  if (config_.environment.random)
    config_.environment.random->fill(MutableByteView(reinterpret_cast<std::uint8_t*>(&r), sizeof r));
  return r;
}

std::optional<TimePoint> Endpoint::rekey_retry_point(TimePoint now, TimePoint expire_at) {
  using namespace std::chrono_literals;
  // A quarter of the time left, between 1 s and 10 s, plus up to 1 s of jitter so two retrying
  // ends drift apart; none once the retry would fall after the hard expiry.
  const auto retry = std::max<Clock::duration>(1s, std::min<Clock::duration>(10s, (expire_at - now) / 4));
  const auto at = now + retry + std::chrono::milliseconds(random_u32() % 1000);
  if (at >= expire_at) return std::nullopt;
  return at;
}

TimePoint Endpoint::rekey_point(TimePoint from, std::chrono::seconds lifetime) {
  using Ms = std::chrono::milliseconds;
  const auto life = std::chrono::duration_cast<Ms>(lifetime);
  const auto margin = life / 10;
  const std::uint32_t r = random_u32();
  const auto jitter = margin.count() > 0 ? Ms(r % static_cast<std::uint32_t>(margin.count() + 1)) : Ms(0);
  return from + life - margin - jitter;
}

void Endpoint::schedule_ike_lifetime(IkeSaEntry& e, TimePoint now) {
  if (!e.connection_settings) return;
  const auto life = e.connection_settings->ike_lifetime;
  if (life.count() <= 0) return;
  e.rekey_at = rekey_point(now, life);
  e.expire_at = now + life;
  arm_sa(e.id, EndpointTimer::IkeRekey, e.rekey_at);
  arm_sa(e.id, EndpointTimer::IkeExpire, e.expire_at);
}

void Endpoint::schedule_child_lifetime(IkeSaEntry& e, EndpointChildSa& child, TimePoint now) {
  if (!e.connection_settings) return;
  const auto life = e.connection_settings->lifetime_of_child(child.name);
  if (life.count() <= 0) return;
  child.rekey_at = rekey_point(now, life);
  child.expire_at = now + life;
  arm_child_timers(e.id, child);
}

void Endpoint::arm_child_timers(SaId id, const EndpointChildSa& child) {
  if (child.rekey_at) arm_sa(id, EndpointTimer::ChildRekey, child.rekey_at, child.inbound_spi);
  if (child.expire_at) arm_sa(id, EndpointTimer::ChildExpire, child.expire_at, child.inbound_spi);
}

void Endpoint::cancel_child_timers(SaId id, std::uint32_t inbound_spi) {
  arm_sa(id, EndpointTimer::ChildRekey, std::nullopt, inbound_spi);
  arm_sa(id, EndpointTimer::ChildExpire, std::nullopt, inbound_spi);
}

// ---- liveness checks (RFC 7296 §2.4) ---------------------------------------------------------

TimePoint Endpoint::spread_dpd(TimePoint deadline) {
  // An SA arms its check one interval after it came up (or after its last check), so 100,000
  // road warriors that came up in one burst would be checked in the same few seconds, every
  // interval, each check a wake-up of its own. For intervals of a minute or more (a large
  // gateway's; shorter ones are for a few site-to-site peers, checked when configured): up to a
  // tenth of the interval later, drawn anew each time, spreads the checks; rounding up to a
  // whole second lets the timers due in the same second fire, send and be answered together.
  // §2.4 leaves the timing of liveness checks to the implementation.
  using namespace std::chrono_literals;
  using Ms = std::chrono::milliseconds;
  const auto interval = deadline - now_;
  if (interval < 60s) return deadline;
  const auto tenth = std::chrono::duration_cast<Ms>(interval) / 10;
  const auto spread = deadline + Ms(random_u32() % static_cast<std::uint32_t>(tenth.count() + 1));
  return TimePoint(std::chrono::ceil<std::chrono::seconds>(spread.time_since_epoch()));
}

void Endpoint::count_dpd_sent(std::size_t first_action) {
  // The timer sends a check only when nothing was heard for an interval: count those that went.
  for (std::size_t i = first_action; i < out_.actions.size(); ++i)
    if (std::holds_alternative<SendDatagram>(out_.actions[i])) {
      count("dpd_sent");
      return;
    }
}

void Endpoint::arm_keepalive(IkeSaEntry& e, TimePoint now) {
  // RFC 3948 §4: only the side behind a NAT sends keepalives (it holds the mapping open).
  if (e.connection_settings && e.sa->nat().local_behind_nat && e.connection_settings->keepalive.count() > 0)
    arm_sa(e.id, EndpointTimer::Keepalive, now + e.connection_settings->keepalive);
}

EndpointOutput Endpoint::rekey_ike_sa(SaId sa, TimePoint now) {
  now_ = now;
  if (IkeSaEntry* e = table_.find(sa)) ike_rekey_due(*e, now);
  return finish();
}

EndpointOutput Endpoint::rekey_child_sa(SaId sa, std::uint32_t inbound_spi, TimePoint now) {
  now_ = now;
  if (IkeSaEntry* e = table_.find(sa)) child_rekey_due(*e, inbound_spi, now);
  return finish();
}

void Endpoint::ike_rekey_due(IkeSaEntry& e, TimePoint now) {
  if (!e.is_established() || e.sa->rekeyed()) return;
  const SaId id = e.id;
  if (!e.sa->rekeying()) {
    log(Level::Info, e, e.connection() + ": rekeying IKE SA " + sa_name(*e.sa));
    count("ike_rekeys_started");
    call(id, [&](IkeSa& sa) { return sa.rekey_ike_sa(now); });
  }
  // Until it is replaced: try again now and then (a collision answered TEMPORARY_FAILURE, or
  // the peer was busy), with jitter so two retrying ends drift apart.
  IkeSaEntry* still = table_.find(id);
  if (!still || still->sa->rekeyed() || !still->expire_at) return;
  if (auto at = rekey_retry_point(now, *still->expire_at)) {
    still->rekey_at = *at;
    arm_sa(id, EndpointTimer::IkeRekey, *at);
  }
}

void Endpoint::child_rekey_due(IkeSaEntry& e, std::uint32_t inbound_spi, TimePoint now) {
  EndpointChildSa* child = e.child(inbound_spi);
  if (!child) return;
  const SaId id = e.id;
  if (e.is_established()) {
    log(Level::Info, e,
        e.connection() + ": rekeying CHILD SA " + spi_hex(child->inbound_spi) + " in / " +
            spi_hex(child->outbound_spi) + " out");
    count("child_rekeys_started");
    call(id, [&](IkeSa& sa) { return sa.rekey_child_sa(inbound_spi, now); });
  }
  // Retried until the pair is replaced (its ChildSaDeleted cancels this) or expires.
  IkeSaEntry* still = table_.find(id);
  if (!still) return;
  EndpointChildSa* c = still->child(inbound_spi);
  if (!c || !c->expire_at) return;
  if (auto at = rekey_retry_point(now, *c->expire_at)) {
    c->rekey_at = *at;
    arm_sa(id, EndpointTimer::ChildRekey, *at, inbound_spi);
  }
}

void Endpoint::ike_expired(IkeSaEntry& e, TimePoint now) {
  // Hard lifetime: the rekey never succeeded. The SA goes, and `start: initiate` builds a new
  // one rather than keep keys past their lifetime.
  if (e.sa->rekeyed() || e.sa->state() == SaState::Deleted) return;
  const std::string name = e.connection();
  log(Level::Warn, e,
      name + ": IKE SA " + sa_name(*e.sa) + " reached its lifetime without a rekey: deleting it");
  count("ike_sas_expired");
  call(e.id, [&](IkeSa& sa) { return sa.delete_ike_sa(now); });
  auto c = settings(name);
  if (c && c->start == ConnectionStart::Initiate && !runtime_of(name).admin_down && !shutting_down_)
    schedule_restart(name, std::chrono::seconds(1), "IKE SA lifetime expired", now);
}

void Endpoint::on_ike_rekeyed(IkeSaEntry& e, const IkeSaRekeyed& ev) {
  auto next = e.sa->take_successor();
  if (!next) return;
  const TimePoint now = now_;
  const std::string old_name = sa_name(*e.sa);
  IkeSaEntry& n = table_.add(std::move(next), e.connection_settings, now);  // std::map: `e` stays valid
  count("ike_sas_rekeyed");
  n.established = now;
  n.peer = e.peer;
  n.peer_override = e.peer_override;
  if (e.remote_id) table_.set_remote_id(n, *e.remote_id);
  // The peer keeps its virtual IPs, the CHILD SAs their reqid (remote access).
  emit(TransferSaResources{e.id, n.id});
  mediation_->sa_rekeyed(e.id, n.id);
  // RFC 7296 §2.8: the CHILD SAs are the new IKE SA's now; the data plane does not notice.
  n.children = std::move(e.children);
  e.children.clear();
  for (const auto& child : n.children) {
    cancel_child_timers(e.id, child.inbound_spi);
    arm_child_timers(n.id, child);
  }
  for (auto kind : {EndpointTimer::IkeRekey, EndpointTimer::IkeExpire, EndpointTimer::Keepalive})
    arm_sa(e.id, kind, std::nullopt);
  e.rekey_at.reset();
  e.expire_at.reset();
  log(Level::Info, n,
      n.connection() + ": IKE SA " + old_name + " rekeyed (" + (ev.we_initiated ? "by us" : "by the peer") +
          "): new IKE SA " + sa_name(*n.sa) + ", " + to_string(ev.suite) + "; " +
          std::to_string(n.children.size()) + " CHILD SA" + plural(n.children.size(), "", "s") + " moved");
  schedule_ike_lifetime(n, now);
  arm_keepalive(n, now);
  const SaId nid = n.id;
  apply(nid, n.sa->activate(now));
}

}  // namespace natgate::ike
