#include "gateway/core/ike_core.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <variant>

#include "gateway/core/identity_cap.h"
#include "gateway/core/log_text.h"
#include "gateway/core/source_address.h"
#include "ike/codec/describe.h"
#include "ike/codec/message_codec.h"
#include "ike/suite/crypto_suite.h"
#include "natt/udp_encap.h"

namespace natgate::gateway::core {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

std::string sa_name(const ike::IkeSa& sa) {
  return sa.spi_i().to_string() + "_i " + sa.spi_r().to_string() + "_r";
}

const char* rejection_counter(ike::InputError::Kind kind) {
  switch (kind) {
    case ike::InputError::Kind::Malformed:
      return "malformed_dropped";
    case ike::InputError::Kind::IntegrityCheckFailed:
      return "ike_integrity_failures";
    default:
      return "ike_datagrams_rejected";
  }
}

// Who holds the policies of this IKE SA's CHILD SAs (ChildSaInstaller).
std::string policy_owner_of(const IkeSaEntry& e, const std::string& connection) {
  return policy_owner(connection, e.profile && e.profile->config.remote.any_id, e.remote_id);
}

bool is_orderly(ike::DeleteReason r) {
  return r == ike::DeleteReason::LocalRequest || r == ike::DeleteReason::PeerDeleted ||
         r == ike::DeleteReason::Rekeyed;
}

}  // namespace

// The data plane's event descriptor (expire, acquire) watched on the io_context. A duplicate
// of the backend's descriptor, so closing ours never closes the backend's.
struct IkeCore::BackendWatch {
  BackendWatch(asio::io_context& io, int fd) : descriptor(io, ::dup(fd)) {}
  asio::posix::stream_descriptor descriptor;
};

IkeCore::IkeCore(DataplaneFactory dataplane) : dataplane_factory_(std::move(dataplane)) {}

IkeCore::~IkeCore() {
  // Timers and watchers first: none of their callbacks may run into a half-destroyed core.
  backend_watch_.reset();
  shutdown_timer_.reset();
  sa_timers_.reset();
  connection_timers_.reset();
  dispatcher_.reset();
  // The SAs go while everything their environment calls back into (the data plane, the
  // counters) is still there: a CHILD SA still being negotiated gives its SPI back.
  for (SaId id : table_.ids()) table_.remove(id);
}

std::string IkeCore::description() const { return "natgate IKEv2 (RFC 7296, NAT-T RFC 3948)"; }

// ---- start -------------------------------------------------------------------------------

namespace {

ike::PeerLimits peer_limits(const LimitsConfig& l) {
  ike::PeerLimits p;
  p.selectors_per_ts = l.selectors_per_ts;
  p.child_sas_per_ike_sa = l.child_sas_per_ike_sa;
  p.rekeys_per_minute = l.rekeys_per_minute;
  return p;
}

}  // namespace

void IkeCore::start(const Config& config, DaemonServices& services) {
  io_ = services.io;
  config_ = config;
  peer_limits_ = peer_limits(config_.daemon.limits);
  apply_eap_limits();
  services_ = services;
  sa_timers_ = std::make_unique<TimerSet<TimerKey>>(*io_);
  connection_timers_ = std::make_unique<TimerSet<std::string>>(*io_);

  DataplaneHandlers handlers;
  handlers.on_ike = [this](const EndpointPair& ends, ByteView m) {
    handle_ike(m, ends.local, ends.remote, true);
  };
  auto dp = dataplane_factory_ ? dataplane_factory_(config_, services_, std::move(handlers))
                               : Expected<Dataplane>(socket_only_dataplane(services_));
  if (!dp) {
    dataplane_error_ = dp.error();
    spdlog::error("data plane {} failed to start: {}; IKE still runs, but no CHILD SA can carry traffic",
                  services_.dataplane.name, dataplane_error_);
    dataplane_ = socket_only_dataplane(services_);
  } else {
    dataplane_ = std::move(*dp);
    if (!dataplane_.description.empty()) spdlog::info("data plane: {}", dataplane_.description);
  }
  services_.sa_backend = dataplane_.backend.get();
  installer_ = std::make_unique<ChildSaInstaller>(dataplane_.backend.get());
  remote_access_ = std::make_unique<RemoteAccess>(registry_);
  vip_client_ = std::make_unique<VirtualIpClient>(dataplane_.interface);
  if (dataplane::SaBackend* b = dataplane_.backend.get()) {
    b->set_listener(this);
    if (b->event_fd() >= 0) {
      backend_watch_ = std::make_unique<BackendWatch>(*io_, b->event_fd());
      watch_backend_events();
    }
  }

  std::vector<std::shared_ptr<const ConnectionProfile>> profiles;
  for (const auto& c : config_.connections) {
    auto [it, fresh] = reqids_.try_emplace(c.name, next_reqid_);
    if (fresh) ++next_reqid_;
    auto p = build_profile(config_, c, it->second);
    if (!p) {
      spdlog::error("{}: not usable: {}", c.name, p.error());
      runtime(c.name).detail = p.error();
      continue;
    }
    profiles.push_back(*p);
  }
  registry_.assign(profiles);
  after_profiles_loaded();

  ike::Environment env = ike_environment();
  env.virtual_ips = remote_access_.get();
  const LimitsConfig& limits = config_.daemon.limits;
  ike::DispatcherConfig dispatch;
  dispatch.admission.cookie_threshold = limits.cookie_threshold;
  dispatch.admission.cookie_threshold_per_source = limits.cookie_threshold_per_source;
  dispatch.admission.half_open_per_source = limits.half_open_per_source;
  dispatch.admission.half_open = limits.half_open;
  dispatch.admission.half_open_memory = static_cast<std::size_t>(limits.half_open_memory);
  dispatch.refusal_hash_key = (std::uint64_t{random_u32()} << 32) | random_u32();
  dispatcher_ = std::make_unique<ike::IkeDispatcher>(dispatch, registry_, env);

  for (const auto& p : registry_.all()) start_connection(*p);
}

void IkeCore::watch_backend_events() {
  backend_watch_->descriptor.async_wait(asio::posix::descriptor_base::wait_read,
                                        [this](const boost::system::error_code& ec) {
                                          if (ec) return;
                                          if (dataplane_.backend) dataplane_.backend->poll_events();
                                          if (backend_watch_) watch_backend_events();
                                        });
}

void IkeCore::start_connection(const ConnectionProfile& p) {
  const auto& c = p.config;
  Runtime& rt = runtime(c.name);
  rt.admin_down = false;
  switch (c.start) {
    case StartAction::Initiate:
      if (Status s = initiate(registry_.find(c.name), "start: initiate"); !s) {
        rt.detail = s.error();
        spdlog::error("{}: cannot initiate: {}", c.name, s.error());
        schedule_restart(c.name, 10s, s.error());
      }
      break;
    case StartAction::Listen:
      spdlog::info("{}: waiting for {} to connect from {} (start: listen)", c.name,
                   c.remote.any_id ? std::string("any identity") : c.remote.id.text(),
                   c.remote.address ? c.remote.address->to_string() : "any address");
      break;
    case StartAction::OnTraffic: {
      Endpoint remote{*c.remote.address, c.remote.port};
      auto local = source_address_for(remote.address, config_.daemon.listen);
      Status s = local ? installer_->install_policies(
                             p.reqid, policy_owner(c.name, c.remote.any_id, std::nullopt), p.child().local_ts,
                             p.child().remote_ts,
                             {.local = Endpoint{*local, config_.daemon.ike_port}, .remote = remote})
                       : Status(unexpected(local.error()));
      if (!s) {
        rt.detail = "cannot install the on-traffic policies: " + s.error();
        spdlog::error("{}: {}", c.name, rt.detail);
      } else {
        spdlog::info("{}: waiting for traffic from {} to {} (start: on-traffic)", c.name,
                     ts_text(p.child().local_ts), ts_text(p.child().remote_ts));
      }
      break;
    }
  }
}

Status IkeCore::initiate(const std::shared_ptr<const ConnectionProfile>& p, const std::string& why) {
  if (!p) return unexpected(std::string("no such connection"));
  const auto& c = p->config;
  if (!c.remote.address)
    return unexpected(
        std::string("remote.address is any: this side only responds (bring it up from the peer)"));
  if (shutting_down_) return unexpected(std::string("natgated is stopping"));
  Endpoint remote{*c.remote.address, c.remote.port};
  auto local_address = source_address_for(remote.address, config_.daemon.listen);
  if (!local_address) return unexpected(local_address.error());
  Endpoint local{*local_address, config_.daemon.ike_port};

  ike::Environment env = ike_environment();
  auto sa = ike::IkeSa::create_initiator({p->ike, p->peer, local, remote}, env);
  if (!sa) return unexpected(sa.error());
  IkeSaEntry& e = table_.add(std::move(*sa), p);
  spdlog::info("{}: initiating IKE SA {} to {} from {} ({})", c.name, e.sa->spi_i().to_string(),
               remote.to_string(), local.to_string(), why);
  ++counters_["ike_sas_initiated"];
  call(e.id, [](ike::IkeSa& sa) { return sa.initiate(Clock::now()); });
  return {};
}

void IkeCore::schedule_restart(const std::string& name, std::chrono::seconds delay, const std::string& why) {
  spdlog::info("{}: starting again in {} s ({})", name, delay.count(), why);
  connection_timers_->arm_after(name, delay, [this, name] {
    auto p = registry_.find(name);
    Runtime& rt = runtime(name);
    if (!p || rt.admin_down || shutting_down_ || p->config.start != StartAction::Initiate) return;
    for (IkeSaEntry* e : table_.of_connection(name))
      if (e->sa->state() != ike::SaState::Deleted) return;  // something else brought it up meanwhile
    if (Status s = initiate(p, "restart"); !s) {
      rt.detail = s.error();
      ++rt.failures;
      spdlog::error("{}: cannot initiate: {}", name, s.error());
      schedule_restart(name, std::min<std::chrono::seconds>(60s, 10s * rt.failures), s.error());
    }
  });
}

// ---- input -------------------------------------------------------------------------------

void IkeCore::on_datagram(UdpSocket& socket, const sys::UdpDatagram& d) {
  if (socket.role() == SocketRole::Ike) {
    handle_ike(d.payload, d.local, d.remote, false);
    return;
  }
  // RFC 3948 §2: the NAT-T port carries IKE behind the non-ESP marker, keepalives and ESP.
  natt::Classified c = natt::classify(d.payload);
  switch (c.kind) {
    case natt::DatagramKind::Ike:
      handle_ike(c.payload, d.local, d.remote, true);
      break;
    case natt::DatagramKind::Keepalive:
      ++counters_["natt_keepalives_received"];
      break;
    case natt::DatagramKind::Esp:
      // With the kernel data plane UDP_ENCAP takes ESP before it reaches us; without a data
      // plane nothing can decrypt it.
      ++counters_["esp_dropped_no_dataplane"];
      spdlog::debug("{}: ESP (SPI {}) on the NAT-T socket and no data plane to take it", d.remote.to_string(),
                    spi_hex(c.spi));
      break;
    case natt::DatagramKind::TooShort:
      drop("malformed_dropped", d.remote, "NAT-T datagram of " + std::to_string(d.payload.size()) + " bytes");
      break;
  }
}

void IkeCore::drop(const char* counter, const Endpoint& remote, const std::string& why) {
  ++counters_[counter];
  spdlog::debug("dropped IKE datagram from {}: {}", remote.to_string(), why);
}

void IkeCore::handle_ike(ByteView message, const Endpoint& local, const Endpoint& remote, bool natt) {
  ++counters_["ike_datagrams_received"];
  auto header = ike::decode_header(message);
  if (!header) {
    drop("malformed_dropped", remote, header.error().to_string());
    return;
  }
  const auto now = Clock::now();
  ike::ReceivedDatagram in{message, local, remote, natt};
  auto spi = ike::IkeDispatcher::local_spi(*header);
  IkeSaEntry* e = spi ? table_.find_by_local_spi(*spi) : table_.find_responder(remote, header->spi_i);
  if (!e && spi) {
    drop("ike_unknown_spi", remote, "no IKE SA with our SPI " + spi->to_string());
    return;
  }
  if (!e) {
    if (shutting_down_) return;
    const auto malformed_before = dispatcher_->counters().malformed;
    auto result = dispatcher_->handle_initial(in, now);
    if (dispatcher_->counters().malformed != malformed_before)
      drop("malformed_dropped", remote, "IKE_SA_INIT request does not decode");
    if (!result.sa) {
      // A refused IKE_SA_INIT (no proposal, another KE group) keeps no SA, so its
      // NegotiationFailed event is the only trace of why a peer cannot connect: say so.
      // Rate-limited by the dispatcher; the rest show in the ike_init_refusals_unlogged counter.
      for (const auto& ev : result.output.events)
        if (const auto* f = std::get_if<ike::NegotiationFailed>(&ev); f && f->notify && result.log_refusal)
          spdlog::info("IKE_SA_INIT from {} refused: we sent {}{}{}", remote.to_string(),
                       ike::notify_name(*f->notify), f->detail.empty() ? "" : " (" + f->detail + ")",
                       result.unlogged_before
                           ? " (" + std::to_string(result.unlogged_before) + " more not logged)"
                           : "");
      apply_stateless(std::move(result.output));
      return;
    }
    IkeSaEntry& fresh = table_.add(std::move(result.sa), nullptr);
    spdlog::debug("IKE_SA_INIT from {}: responder SA {}", remote.to_string(), sa_name(*fresh.sa));
    apply(fresh.id, std::move(result.output));
    return;
  }
  const SaId id = e->id;
  ike::Output out = e->sa->handle(in, now);
  if (out.rejected) {
    ++counters_[rejection_counter(out.rejected->kind)];
    spdlog::debug("{}: dropped IKE datagram from {} for SA {}: {}: {}",
                  e->connection().empty() ? "-" : e->connection(), remote.to_string(), sa_name(*e->sa),
                  ike::to_string(out.rejected->kind), out.rejected->what);
  }
  apply(id, std::move(out));
}

// ---- output ------------------------------------------------------------------------------

template <typename F>
void IkeCore::call(SaId id, F&& f) {
  IkeSaEntry* e = table_.find(id);
  if (!e || removals_.count(id)) return;
  ike::Output out = f(*e->sa);
  apply(id, std::move(out));
}

void IkeCore::send(const ike::Datagram& d, SaId id) {
  Status s;
  Endpoint to = d.remote;
  if (IkeSaEntry* e = id ? table_.find(id) : nullptr; e && e->peer_override && d.natt) to = *e->peer_override;
  if (d.natt) {
    s = dataplane_.natt ? dataplane_.natt->send_ike({.local = d.local, .remote = to}, d.bytes)
                        : Status(unexpected(std::string("no NAT-T socket")));
  } else {
    UdpSocket* socket = socket_for(services_.ike_sockets, d.local.address);
    if (!socket) {
      s = unexpected("no IKE socket for local address " + d.local.address.to_string());
    } else {
      std::optional<IpAddress> from;
      if (!d.local.address.is_unspecified()) from = d.local.address;
      s = socket->send_to(d.bytes, d.remote, from);
    }
  }
  if (!s) {
    ++counters_["ike_send_errors"];
    spdlog::warn("sending IKE to {}: {}", to.to_string(), s.error());
  } else {
    ++counters_["ike_datagrams_sent"];
  }
}

void IkeCore::apply_stateless(ike::Output&& out) {
  for (const auto& d : out.datagrams) send(d);
}

void IkeCore::arm_sa_timer(SaId id, TimerKind kind, std::optional<Clock::time_point> at, std::uint32_t spi) {
  TimerKey key{id, kind, spi};
  if (!at) {
    sa_timers_->cancel(key);
    return;
  }
  sa_timers_->arm_at(key, *at, [this, id, kind, spi] { on_sa_timer(id, kind, spi); });
}

void IkeCore::apply(SaId id, ike::Output&& out) {
  ++depth_;
  for (const auto& d : out.datagrams) send(d, id);
  for (const auto& t : out.timers) {
    TimerKind kind = TimerKind::Dpd;
    switch (t.kind) {
      case ike::TimerKind::Retransmit:
        kind = TimerKind::Retransmit;
        break;
      case ike::TimerKind::HalfOpen:
        kind = TimerKind::HalfOpen;
        break;
      case ike::TimerKind::Dpd:
        kind = TimerKind::Dpd;
        break;
      case ike::TimerKind::RekeyedOld:
        kind = TimerKind::RekeyedOld;
        break;
    }
    arm_sa_timer(id, kind, t.deadline);
  }
  for (auto& event : out.events) {
    IkeSaEntry* e = table_.find(id);
    if (!e) break;
    std::visit(Overloaded{
                   [&](const ike::IkeSaEstablished& ev) { on_ike_up(*e, ev); },
                   [&](const ike::ChildSaEstablished& ev) { on_child_up(*e, ev); },
                   [&](const ike::ChildSaFailed& ev) { on_child_failed(*e, ev); },
                   [&](const ike::ChildSaDeleted& ev) { on_child_deleted(*e, ev); },
                   [&](const ike::IkeSaDeleted& ev) { on_ike_deleted(*e, ev); },
                   [&](const ike::AuthenticationFailed& ev) {
                     on_failure(*e, std::string(ev.by_peer ? "the peer rejected our authentication"
                                                           : "the peer's authentication failed") +
                                        (ev.peer_id ? " (peer " + ev.peer_id->to_string() + ")" : "") +
                                        (ev.detail.empty() ? "" : ": " + ev.detail));
                   },
                   [&](const ike::NegotiationFailed& ev) {
                     std::string what = ike::exchange_name(ev.exchange) + " failed";
                     if (ev.notify)
                       what += std::string(ev.reported_by_peer ? ", peer sent " : ", we sent ") +
                               ike::notify_name(*ev.notify);
                     if (!ev.detail.empty()) what += ": " + ev.detail;
                     on_failure(*e, what);
                   },
                   [&](const ike::EndpointsChanged& ev) { on_endpoints_changed(*e, ev); },
                   [&](const ike::IkeSaRekeyed& ev) { on_ike_rekeyed(*e, ev); },
                   [&](const ike::VirtualIpsAssigned& ev) { on_virtual_ips(*e, ev); },
               },
               event);
  }
  if (IkeSaEntry* e = table_.find(id); e && e->sa->state() == ike::SaState::Deleted) removals_.insert(id);
  --depth_;
  if (depth_ == 0) flush_removals();
}

void IkeCore::flush_removals() {
  while (!removals_.empty()) {
    SaId id = *removals_.begin();
    removals_.erase(removals_.begin());
    IkeSaEntry* e = table_.find(id);
    if (!e) continue;
    for (const auto& child : e->children) {
      installer_->remove(child);
      cancel_child_timers(id, child.inbound_spi);
    }
    for (auto kind : {TimerKind::Retransmit, TimerKind::HalfOpen, TimerKind::Dpd, TimerKind::Keepalive,
                      TimerKind::IkeRekey, TimerKind::IkeExpire, TimerKind::RekeyedOld})
      arm_sa_timer(id, kind, std::nullopt);
    release_remote_access(*e);
    const std::string name = e->connection();
    table_.remove(id);
    if (!name.empty()) maybe_finish_teardown(name);
  }
  if (shutting_down_ && table_.size() == 0) finish_shutdown();
}

void IkeCore::on_sa_timer(SaId id, TimerKind kind, std::uint32_t spi) {
  IkeSaEntry* e = table_.find(id);
  if (!e) return;
  const auto now = Clock::now();
  switch (kind) {
    case TimerKind::Retransmit:
      call(id, [&](ike::IkeSa& sa) { return sa.on_timer(ike::TimerKind::Retransmit, now); });
      break;
    case TimerKind::HalfOpen:
      call(id, [&](ike::IkeSa& sa) { return sa.on_timer(ike::TimerKind::HalfOpen, now); });
      break;
    case TimerKind::Dpd:
      call(id, [&](ike::IkeSa& sa) { return sa.on_timer(ike::TimerKind::Dpd, now); });
      break;
    case TimerKind::Keepalive: {
      // RFC 3948 §4: the side behind the NAT keeps its mapping open with one-octet keepalives.
      if (!e->is_established() || !e->sa->natt() || !e->profile) break;
      if (Status s = dataplane_.natt->send_keepalive({.local = e->sa->local(), .remote = e->sa->remote()});
          !s) {
        spdlog::debug("{}: NAT-keepalive to {}: {}", e->connection(), e->sa->remote().to_string(), s.error());
      } else {
        ++counters_["natt_keepalives_sent"];
      }
      arm_sa_timer(id, TimerKind::Keepalive, now + e->profile->config.natt.keepalive);
      break;
    }
    case TimerKind::RekeyedOld:
      call(id, [&](ike::IkeSa& sa) { return sa.on_timer(ike::TimerKind::RekeyedOld, now); });
      break;
    case TimerKind::IkeRekey:
      on_ike_rekey_due(*e);
      break;
    case TimerKind::IkeExpire: {
      // Hard lifetime: the rekey never succeeded. The SA goes, and `start: initiate` builds a
      // new one rather than keep keys past their lifetime.
      if (e->sa->rekeyed() || e->sa->state() == ike::SaState::Deleted) break;
      const std::string name = e->connection();
      spdlog::warn("{}: IKE SA {} reached its lifetime without a rekey: deleting it", name, sa_name(*e->sa));
      ++counters_["ike_sas_expired"];
      call(id, [&](ike::IkeSa& sa) { return sa.delete_ike_sa(now); });
      auto p = registry_.find(name);
      if (p && p->config.start == StartAction::Initiate && !runtime(name).admin_down && !shutting_down_)
        schedule_restart(name, 1s, "IKE SA lifetime expired");
      break;
    }
    case TimerKind::ChildRekey:
      on_child_rekey_due(*e, spi);
      break;
    case TimerKind::ChildExpire: {
      auto it = std::find_if(e->children.begin(), e->children.end(),
                             [&](const InstalledChild& c) { return c.inbound_spi == spi; });
      if (it == e->children.end()) break;
      spdlog::warn("{}: CHILD SA {} reached its lifetime without a rekey: deleting it", e->connection(),
                   spi_hex(spi));
      ++counters_["child_sas_expired"];
      call(id, [&](ike::IkeSa& sa) { return sa.delete_child_sa(spi, now); });
      break;
    }
  }
}

// ---- lifetimes and rekeying ---------------------------------------------------------------

void IkeCore::apply_eap_limits() {
  ike::EapFailureLimits limits;
  limits.per_identity = config_.daemon.limits.eap_failures_per_identity;
  limits.per_source = config_.daemon.limits.eap_failures_per_source;
  eap_failures_.set_limits(limits);
}

ike::Environment IkeCore::ike_environment() {
  ike::Environment env;
  env.random = &random_;
  env.check_selectors = [this](const std::string& child_config, const ike::Identity& peer,
                               const std::vector<TrafficSelector>& local_ts,
                               const std::vector<TrafficSelector>& remote_ts) -> Status {
    if (!installer_) return {};
    auto p = registry_.find(child_config);
    return installer_->check_policies(policy_owner(child_config, p && p->config.remote.any_id, peer),
                                      local_ts, remote_ts);
  };
  env.configs = &registry_;
  env.limits = &peer_limits_;
  env.eap_failures = &eap_failures_;
  env.allocate_spi = [this](const IpAddress& src, const IpAddress& dst) -> Expected<std::uint32_t> {
    ++counters_["esp_spis_reserved"];
    if (dataplane_.backend)
      return dataplane_.backend->allocate_spi({.local = dst, .remote = src}, 0);  // inbound
    // No data plane to ask: a random SPI outside the reserved 1-255 (RFC 4303 §2.1).
    std::uint32_t spi = 0;
    for (int i = 0; i < 16 && spi < 256; ++i) spi = random_u32();
    if (spi < 256) spi += 256;
    return spi;
  };
  // A CHILD SA that never came up (refused, its IKE SA gone): its reserved SPI goes back (a larval
  // SA in the kernel, a reservation in the userspace engine).
  env.release_spi = [this](std::uint32_t spi, const IpAddress& dst) {
    ++counters_["esp_spis_released_unused"];
    if (dataplane_.backend) (void)dataplane_.backend->delete_sa(spi, dst);
  };
  return env;
}

std::uint32_t IkeCore::random_u32() {
  std::uint32_t r = 0;
  random_.fill(MutableByteView(reinterpret_cast<std::uint8_t*>(&r), sizeof r));
  return r;
}

std::optional<Clock::time_point> IkeCore::rekey_retry_point(Clock::time_point now,
                                                            Clock::time_point expire_at) {
  // A quarter of the time left, between 1 s and 10 s, plus up to 1 s of jitter so two retrying
  // ends drift apart; none once the retry would fall after the hard expiry.
  const auto retry = std::max<Clock::duration>(1s, std::min<Clock::duration>(10s, (expire_at - now) / 4));
  const auto at = now + retry + std::chrono::milliseconds(random_u32() % 1000);
  if (at >= expire_at) return std::nullopt;
  return at;
}

Clock::time_point IkeCore::rekey_point(Clock::time_point from, std::chrono::seconds lifetime) {
  using Ms = std::chrono::milliseconds;
  const auto life = std::chrono::duration_cast<Ms>(lifetime);
  const auto margin = life / 10;
  const std::uint32_t r = random_u32();
  const auto jitter = margin.count() > 0 ? Ms(r % static_cast<std::uint32_t>(margin.count() + 1)) : Ms(0);
  return from + life - margin - jitter;
}

void IkeCore::schedule_ike_lifetime(IkeSaEntry& e) {
  if (!e.profile) return;
  const auto life = std::chrono::duration_cast<std::chrono::seconds>(e.profile->config.lifetimes.ike);
  if (life.count() <= 0) return;
  const auto now = Clock::now();
  e.rekey_at = rekey_point(now, life);
  e.expire_at = now + life;
  arm_sa_timer(e.id, TimerKind::IkeRekey, e.rekey_at);
  arm_sa_timer(e.id, TimerKind::IkeExpire, e.expire_at);
}

void IkeCore::schedule_child_lifetime(IkeSaEntry& e, InstalledChild& child) {
  if (!e.profile) return;
  const auto life = std::chrono::duration_cast<std::chrono::seconds>(e.profile->config.lifetimes.child);
  if (life.count() <= 0) return;
  const auto now = Clock::now();
  child.rekey_at = rekey_point(now, life);
  child.expire_at = now + life;
  arm_child_timers(e.id, child);
}

void IkeCore::arm_child_timers(SaId id, const InstalledChild& child) {
  if (child.rekey_at) arm_sa_timer(id, TimerKind::ChildRekey, child.rekey_at, child.inbound_spi);
  if (child.expire_at) arm_sa_timer(id, TimerKind::ChildExpire, child.expire_at, child.inbound_spi);
}

void IkeCore::cancel_child_timers(SaId id, std::uint32_t inbound_spi) {
  arm_sa_timer(id, TimerKind::ChildRekey, std::nullopt, inbound_spi);
  arm_sa_timer(id, TimerKind::ChildExpire, std::nullopt, inbound_spi);
}

void IkeCore::on_ike_rekey_due(IkeSaEntry& e) {
  if (!e.is_established() || e.sa->rekeyed()) return;
  const auto now = Clock::now();
  if (!e.sa->rekeying()) {
    spdlog::info("{}: rekeying IKE SA {}", e.connection(), sa_name(*e.sa));
    ++counters_["ike_rekeys_started"];
    call(e.id, [&](ike::IkeSa& sa) { return sa.rekey_ike_sa(now); });
  }
  // Until it is replaced: try again now and then (a collision answered TEMPORARY_FAILURE, or
  // the peer was busy), with jitter so two retrying ends drift apart.
  IkeSaEntry* still = table_.find(e.id);
  if (!still || still->sa->rekeyed() || !still->expire_at) return;
  if (auto at = rekey_retry_point(now, *still->expire_at)) {
    still->rekey_at = *at;
    arm_sa_timer(still->id, TimerKind::IkeRekey, *at);
  }
}

void IkeCore::on_child_rekey_due(IkeSaEntry& e, std::uint32_t inbound_spi) {
  auto it = std::find_if(e.children.begin(), e.children.end(),
                         [&](const InstalledChild& c) { return c.inbound_spi == inbound_spi; });
  if (it == e.children.end()) return;
  const auto now = Clock::now();
  if (e.is_established()) {
    spdlog::info("{}: rekeying CHILD SA {} in / {} out", e.connection(), spi_hex(it->inbound_spi),
                 spi_hex(it->outbound_spi));
    ++counters_["child_rekeys_started"];
    const SaId id = e.id;
    call(id, [&](ike::IkeSa& sa) { return sa.rekey_child_sa(inbound_spi, now); });
  }
  // Retried until the pair is replaced (its ChildSaDeleted cancels this) or expires.
  IkeSaEntry* still = table_.find(e.id);
  if (!still) return;
  auto c = std::find_if(still->children.begin(), still->children.end(),
                        [&](const InstalledChild& x) { return x.inbound_spi == inbound_spi; });
  if (c == still->children.end() || !c->expire_at) return;
  if (auto at = rekey_retry_point(now, *c->expire_at)) {
    c->rekey_at = *at;
    arm_sa_timer(still->id, TimerKind::ChildRekey, *at, inbound_spi);
  }
}

void IkeCore::on_ike_rekeyed(IkeSaEntry& e, const ike::IkeSaRekeyed& ev) {
  auto next = e.sa->take_successor();
  if (!next) return;
  const auto now = Clock::now();
  const std::string old_name = sa_name(*e.sa);
  IkeSaEntry& n = table_.add(std::move(next), e.profile);  // std::map: `e` stays valid
  ++counters_["ike_sas_rekeyed"];
  n.established = now;
  n.established_unix =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  n.peer = e.peer;
  n.peer_override = e.peer_override;
  n.remote_id = e.remote_id;
  // The peer keeps its virtual IPs, the CHILD SAs their reqid (remote access).
  if (remote_access_) remote_access_->transfer(e.id, n.id);
  if (vip_client_) vip_client_->transfer(e.id, n.id);
  // RFC 7296 §2.8: the CHILD SAs are the new IKE SA's now; the data plane does not notice.
  n.children = std::move(e.children);
  e.children.clear();
  for (const auto& child : n.children) {
    cancel_child_timers(e.id, child.inbound_spi);
    arm_child_timers(n.id, child);
  }
  for (auto kind : {TimerKind::IkeRekey, TimerKind::IkeExpire, TimerKind::Keepalive})
    arm_sa_timer(e.id, kind, std::nullopt);
  e.rekey_at.reset();
  e.expire_at.reset();
  spdlog::info("{}: IKE SA {} rekeyed ({}): new IKE SA {}, {}; {} CHILD SA{} moved", n.connection(), old_name,
               ev.we_initiated ? "by us" : "by the peer", sa_name(*n.sa), ike::to_string(ev.suite),
               n.children.size(), n.children.size() == 1 ? "" : "s");
  schedule_ike_lifetime(n);
  if (n.profile && n.sa->nat().local_behind_nat && n.profile->config.natt.keepalive.count() > 0)
    arm_sa_timer(n.id, TimerKind::Keepalive, now + n.profile->config.natt.keepalive);
  const SaId nid = n.id;
  apply(nid, n.sa->activate(now));
}

// ---- events ------------------------------------------------------------------------------

void IkeCore::on_ike_up(IkeSaEntry& e, const ike::IkeSaEstablished& ev) {
  if (!e.profile) e.profile = registry_.find(ev.peer_config);
  const std::string name = e.connection();
  const auto now = Clock::now();
  e.established = now;
  e.established_unix =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  ++counters_["ike_sas_established"];
  e.peer = ev.remote;
  e.remote_id = ev.remote_id;
  Runtime& rt = runtime(name);
  rt.failures = 0;
  rt.detail.clear();
  spdlog::info("{}: IKE SA {} established with {} ({}) as {}: {}; {}{}", name, sa_name(*e.sa),
               ev.remote.to_string(), ev.remote_id.to_string(), ev.initiator ? "initiator" : "responder",
               ike::to_string(ev.suite), nat_text(ev.nat),
               ev.floated || e.sa->natt()
                   ? ", IKE on UDP " + std::to_string(ev.local.port) + " (RFC 7296 §2.23)"
                   : "");

  if (ev.initial_contact) {
    // RFC 7296 §2.4: INITIAL_CONTACT says the peer has no other SA with us any more (it
    // restarted); whatever we still hold for it is stale and goes without a word to the peer.
    // Only SAs of this identity: road warriors of one connection never replace each other.
    const bool any_id = e.profile && e.profile->config.remote.any_id;
    for (IkeSaEntry* other : table_.of_connection(name))
      if (other->id != e.id && !removals_.count(other->id) &&
          (other->remote_id ? *other->remote_id == ev.remote_id : !any_id))
        forget(*other,
               "the peer sent INITIAL_CONTACT: it restarted and no longer has this SA (RFC 7296 §2.4)");
  }
  enforce_identity_cap(e, ev.remote_id);
  if (e.profile && ev.nat.local_behind_nat && e.profile->config.natt.keepalive.count() > 0)
    arm_sa_timer(e.id, TimerKind::Keepalive, now + e.profile->config.natt.keepalive);
  schedule_ike_lifetime(e);
}

void IkeCore::enforce_identity_cap(IkeSaEntry& newest, const ike::Identity& id) {
  // As strongSwan's uniqueids=yes (its default), generalised to a cap: a new IKE SA of an
  // identity is always accepted, and the identity's oldest ones beyond the cap are deleted
  // (with a Delete to the peer). A client that reconnects without INITIAL_CONTACT is never locked
  // out by its own stale SAs; a peer opening SA after SA holds at most the cap.
  std::vector<IdentitySa> held;
  for (SaId sid : table_.ids()) {
    IkeSaEntry* other = table_.find(sid);
    if (!other || removals_.count(sid) || !other->is_established() || other->sa->rekeyed() ||
        !other->remote_id || *other->remote_id != id)
      continue;
    held.push_back({sid, other->established.value_or(Clock::time_point{}), sid == newest.id});
  }
  for (SaId old : beyond_identity_cap(held, config_.daemon.limits.ike_sas_per_identity)) {
    IkeSaEntry* victim = table_.find(old);
    if (!victim) continue;
    ++counters_["ike_sas_replaced_identity_cap"];
    spdlog::info("{}: IKE SA {} of {} gives way to IKE SA {}: daemon.limits.ike_sas_per_identity is {}",
                 victim->connection(), sa_name(*victim->sa), id.to_string(), sa_name(*newest.sa),
                 config_.daemon.limits.ike_sas_per_identity);
    // Its CHILD SAs leave the data plane now, so the newcomer's take their place at once; the
    // peer hears of it with a Delete.
    for (const auto& child : victim->children) {
      installer_->remove(child);
      cancel_child_timers(old, child.inbound_spi);
    }
    victim->children.clear();
    // Its hold on the (shared) virtual IP and the policies of its own reqid go too.
    if (remote_access_)
      if (auto reqid = remote_access_->release(old)) installer_->release_policies(*reqid);
    call(old, [](ike::IkeSa& sa) { return sa.delete_ike_sa(Clock::now()); });
  }
}

void IkeCore::on_child_up(IkeSaEntry& e, const ike::ChildSaEstablished& ev) {
  if (!e.profile) e.profile = registry_.find(ev.child_config);
  const std::string name = e.connection();
  const std::uint32_t reqid = reqid_of(e);
  // The data plane hears of the lifetime too: its soft expire (at 90%) is a second trigger
  // for the rekey, its hard expire the last word (on_expire).
  std::chrono::seconds life{0};
  if (e.profile) life = std::chrono::duration_cast<std::chrono::seconds>(e.profile->config.lifetimes.child);
  const auto soft = life - life / 10;
  // Make-before-break: the new pair goes in next to the old one (inbound first, then outbound,
  // which the data plane prefers as the newest of the connection); the old pair is removed
  // only when its Delete has been exchanged (ChildSaDeleted).
  auto installed = installer_->install(ev, reqid, policy_owner_of(e, name), soft, life);
  if (!installed) {
    ++counters_["child_sa_install_failures"];
    std::string why = "installing CHILD SA " + spi_hex(ev.inbound_spi) + "/" + spi_hex(ev.outbound_spi) +
                      " failed: " + installed.error();
    spdlog::error("{}: {}", name, why);
    runtime(name).detail = why;
    reply_up(name, unexpected(why));
    // The reservation of our inbound SPI was handed over with the event: give it back.
    if (dataplane_.backend) (void)dataplane_.backend->delete_sa(ev.inbound_spi, ev.local.address);
    const SaId id = e.id;
    const std::uint32_t spi = ev.inbound_spi;
    asio::post(*io_, [this, id, spi] {
      call(id, [&](ike::IkeSa& sa) { return sa.delete_child_sa(spi, Clock::now()); });
    });
    return;
  }
  e.children.push_back(*installed);
  ++counters_["child_sas_installed"];
  schedule_child_lifetime(e, e.children.back());
  if (ev.replaces_inbound_spi) {
    ++counters_["child_sas_rekeyed"];
    // The old pair is on its way out: no rekey of it any more, only its expiry as a backstop.
    arm_sa_timer(e.id, TimerKind::ChildRekey, std::nullopt, *ev.replaces_inbound_spi);
    spdlog::info("{}: CHILD SA {} rekeyed: new pair {} in / {} out", name, spi_hex(*ev.replaces_inbound_spi),
                 spi_hex(ev.inbound_spi), spi_hex(ev.outbound_spi));
  }
  const auto& c = e.children.back();
  spdlog::info("{}: CHILD SA {} in / {} out installed: {} === {}, {}, {}{}", name, spi_hex(c.inbound_spi),
               spi_hex(c.outbound_spi), ts_text(c.local_ts), ts_text(c.remote_ts), c.proposal,
               c.udp_encapsulation
                   ? "ESP in UDP " + c.local.to_string() + " <-> " + c.remote.to_string()
                   : "ESP " + c.local.address.to_string() + " <-> " + c.remote.address.to_string(),
               installer_->has_backend() ? "" : " (no data plane: carries nothing)");
  reply_up(name,
           ControlResult(name + " is up: CHILD SA " + spi_hex(c.inbound_spi) + "/" + spi_hex(c.outbound_spi) +
                         " " + ts_text(c.local_ts) + " === " + ts_text(c.remote_ts)));
}

void IkeCore::on_child_failed(IkeSaEntry& e, const ike::ChildSaFailed& ev) {
  const std::string name = e.connection().empty() ? ev.child_config : e.connection();
  std::string why =
      "CHILD SA not created: " + std::string(ev.reported_by_peer ? "the peer sent " : "we sent ") +
      ike::notify_name(ev.notify) + (ev.detail.empty() ? "" : " (" + ev.detail + ")");
  spdlog::warn("{}: {} (peer {} at {})", name, why, e.remote_id ? e.remote_id->to_string() : std::string("-"),
               e.sa->remote().to_string());
  runtime(name).detail = why;
  ++counters_["child_sa_failures"];
  // The SPI reserved for it went back already (ike::SpiReservation, env.release_spi).
  reply_up(name, unexpected(name + ": " + why));
}

void IkeCore::on_child_deleted(IkeSaEntry& e, const ike::ChildSaDeleted& ev) {
  auto it = std::find_if(e.children.begin(), e.children.end(),
                         [&](const InstalledChild& c) { return c.inbound_spi == ev.inbound_spi; });
  if (it == e.children.end()) return;
  installer_->remove(*it);
  cancel_child_timers(e.id, it->inbound_spi);
  spdlog::info("{}: CHILD SA {} in / {} out deleted{}", e.connection(), spi_hex(it->inbound_spi),
               spi_hex(it->outbound_spi), ev.by_peer ? " by the peer" : "");
  const std::uint32_t gone = it->inbound_spi;
  e.children.erase(it);
  ++counters_["child_sas_deleted"];
  // Make-before-break for a rekey we answered: the peer has the new pair (it deleted the old
  // one after installing it), so our traffic moves to the new outbound SA now.
  for (auto& child : e.children) {
    if (child.replaces_inbound_spi != gone || !child.pending_outbound) continue;
    if (Status s = installer_->install_outbound(child); !s) {
      ++counters_["child_sa_install_failures"];
      spdlog::error("{}: {}", e.connection(), s.error());
    } else {
      ++counters_["child_outbound_switched_after_delete"];
      spdlog::debug("{}: traffic now leaves on CHILD SA {}", e.connection(), spi_hex(child.outbound_spi));
    }
  }
}

void IkeCore::on_ike_deleted(IkeSaEntry& e, const ike::IkeSaDeleted& ev) {
  for (const auto& child : e.children) installer_->remove(child);
  e.children.clear();
  const std::string name = e.connection();
  const std::string label = name.empty() ? std::string("-") : name;
  const auto level = is_orderly(ev.reason) ? spdlog::level::info : spdlog::level::warn;
  spdlog::log(level, "{}: IKE SA {} with {} {}: {}", label, sa_name(*e.sa), e.sa->remote().to_string(),
              ev.was_established ? "deleted" : "not established", ike::to_string(ev.reason));
  ++counters_[ev.reason == ike::DeleteReason::Timeout ? "ike_sas_timed_out" : "ike_sas_deleted"];
  if (name.empty()) return;

  Runtime& rt = runtime(name);
  if (!ev.was_established) {
    ++rt.failures;
    if (rt.detail.empty()) rt.detail = std::string("connection attempt failed: ") + ike::to_string(ev.reason);
    reply_up(name, unexpected(name + ": " + rt.detail));
  } else if (ev.reason == ike::DeleteReason::Timeout) {
    rt.detail = "the peer stopped answering (dead peer detection, RFC 7296 §2.4)";
  } else if (ev.reason == ike::DeleteReason::PeerDeleted) {
    rt.detail = "the peer deleted the IKE SA";
  }

  auto p = registry_.find(name);
  if (!p || p->config.start != StartAction::Initiate || rt.admin_down || shutting_down_) return;
  if (ev.reason == ike::DeleteReason::LocalRequest || ev.reason == ike::DeleteReason::Rekeyed) return;
  for (IkeSaEntry* other : table_.of_connection(name))
    if (other->id != e.id && other->sa->state() != ike::SaState::Deleted && !removals_.count(other->id))
      return;
  // start: initiate keeps the tunnel up: at once after losing an established SA, with a
  // growing pause after failed attempts so a broken peer is not hammered.
  const auto delay = ev.was_established
                         ? 1s
                         : std::min<std::chrono::seconds>(60s, 5s * (1u << std::min(rt.failures, 4u)) / 2);
  schedule_restart(name, delay, ike::to_string(ev.reason));
}

void IkeCore::on_endpoints_changed(IkeSaEntry& e, const ike::EndpointsChanged& ev) {
  ++counters_["peer_address_changes"];
  e.peer_override.reset();
  const std::string before = e.peer.to_string();
  e.peer = ev.remote;
  spdlog::info(
      "{}: peer now at {} (was {}), local {}: NAT mapping changed (RFC 7296 §2.23); {} CHILD SA{} follow{}",
      e.connection(), ev.remote.to_string(), before, ev.local.to_string(), e.children.size(),
      e.children.size() == 1 ? "" : "s", e.children.size() == 1 ? "s" : "");
  for (auto& child : e.children) {
    if (Status s = installer_->move(child, {.local = ev.local, .remote = ev.remote}); !s)
      spdlog::error("{}: moving CHILD SA {}: {}", e.connection(), spi_hex(child.inbound_spi), s.error());
  }
}

// ---- remote access -----------------------------------------------------------------------

void IkeCore::after_profiles_loaded() {
  std::map<ike::Identity, SecretBytes> keys;
  for (const auto& [name, secret] : config_.secrets)
    if (secret.id) keys.emplace(to_ike_identity(*secret.id), secret.psk);
  registry_.set_identity_secrets(std::move(keys));
  if (remote_access_) remote_access_->configure(config_);
}

std::uint32_t IkeCore::reqid_of(IkeSaEntry& e) {
  if (!e.profile) return 0;
  return remote_access_ ? remote_access_->reqid_for(e.id, *e.profile) : e.profile->reqid;
}

void IkeCore::release_remote_access(IkeSaEntry& e) {
  if (remote_access_) {
    const auto leased = remote_access_->addresses_of(e.id);
    if (auto reqid = remote_access_->release(e.id)) installer_->release_policies(*reqid);
    for (const auto& a : leased)
      spdlog::info("{}: virtual IP {} of {} released", e.connection(), a.to_string(),
                   e.remote_id ? e.remote_id->to_string() : std::string("-"));
  }
  if (vip_client_) {
    // The kernel drops the routes whose source is a removed address, so the connection's
    // policies (and their routes) go first; the next CHILD SA installs them again with the
    // address it gets (a reconnect after the gateway went away).
    if (vip_client_->releases_addresses(e.id) && e.profile) installer_->release_policies(e.profile->reqid);
    vip_client_->release(e.id);
  }
}

void IkeCore::on_virtual_ips(IkeSaEntry& e, const ike::VirtualIpsAssigned& ev) {
  std::string list;
  for (const auto& a : ev.attributes.addresses) list += (list.empty() ? "" : " ") + a.to_string();
  if (ev.to_peer) {
    // Comes before IkeSaEstablished: the entry learns its connection from the event.
    if (!e.profile) e.profile = registry_.find(ev.peer_config);
    remote_access_->hold(e.id, ev.peer_config, ev.peer_id, ev.attributes.addresses);
    ++counters_["virtual_ips_assigned"];
    spdlog::info("{}: virtual IP {} leased to {} (RFC 7296 §2.19)", ev.peer_config, list,
                 ev.peer_id.to_string());
    return;
  }
  const std::string name = e.connection();
  if (ev.attributes.addresses.empty()) {
    runtime(name).detail = "the gateway gave no virtual IP";
    spdlog::warn("{}: the gateway gave no virtual IP", name);
    return;
  }
  std::string dns;
  for (const auto& d : ev.attributes.dns) dns += (dns.empty() ? "" : " ") + d.to_string();
  std::string subnets;
  for (const auto& s : ev.attributes.subnets) subnets += (subnets.empty() ? "" : " ") + s.to_string();
  spdlog::info("{}: virtual IP {} from the gateway{}{}", name, list, dns.empty() ? "" : ", DNS " + dns,
               subnets.empty() ? "" : ", subnets " + subnets);
  const std::optional<std::string> dns_file = e.profile ? e.profile->config.local.dns_file : std::nullopt;
  if (Status s = vip_client_->apply(e.id, ev.attributes, dns_file); !s) {
    runtime(name).detail = "virtual IP: " + s.error();
    spdlog::error("{}: virtual IP: {}", name, s.error());
  }
}

void IkeCore::on_mapping(const dataplane::MappingEvent& m) {
  for (SaId id : table_.ids()) {
    IkeSaEntry* e = table_.find(id);
    if (!e || !e->is_established()) continue;
    auto it = std::find_if(e->children.begin(), e->children.end(),
                           [&](const InstalledChild& c) { return c.inbound_spi == m.spi; });
    if (it == e->children.end()) continue;
    // As strongSwan does with XFRM mapping events: only a peer known to be behind a NAT may
    // move this way; anyone else's address is fixed until IKE (MOBIKE) says otherwise.
    if (!e->sa->nat().remote_behind_nat) {
      spdlog::debug("{}: ESP for SA {} from {} ignored: the peer is not behind a NAT", e->connection(),
                    spi_hex(m.spi), m.new_remote.to_string());
      return;
    }
    ++counters_["peer_address_changes_esp"];
    spdlog::info(
        "{}: authenticated ESP now comes from {} (was {}): the peer's NAT mapping changed (RFC 7296 §2.23); "
        "CHILD SAs follow, and a liveness check moves the IKE SA",
        e->connection(), m.new_remote.to_string(), it->remote.to_string());
    for (auto& child : e->children) {
      if (child.remote == m.new_remote) continue;
      if (Status s = installer_->move(child, {.local = child.local, .remote = m.new_remote}); !s)
        spdlog::error("{}: moving CHILD SA {}: {}", e->connection(), spi_hex(child.inbound_spi), s.error());
    }
    e->peer_override = m.new_remote;
    call(id, [](ike::IkeSa& sa) { return sa.check_liveness(Clock::now()); });
    return;
  }
}

void IkeCore::on_failure(IkeSaEntry& e, const std::string& what) {
  const std::string name = e.connection().empty() ? std::string("-") : e.connection();
  spdlog::error("{}: {} (peer {})", name, what, e.sa->remote().to_string());
  ++counters_["ike_failures"];
  if (!e.connection().empty()) {
    runtime(name).detail = what;
    reply_up(name, unexpected(name + ": " + what));
  }
}

// ---- connections -------------------------------------------------------------------------

void IkeCore::reply_up(const std::string& name, ControlResult result) {
  auto it = runtime_.find(name);
  if (it == runtime_.end() || it->second.up_waiting.empty()) return;
  auto waiting = std::move(it->second.up_waiting);
  it->second.up_waiting.clear();
  for (auto& r : waiting) r(result);
}

void IkeCore::forget(IkeSaEntry& e, const std::string& why) {
  spdlog::info("{}: dropping IKE SA {} with {}: {}", e.connection(), sa_name(*e.sa),
               e.sa->remote().to_string(), why);
  // Its CHILD SAs leave with it in flush_removals, after the events being applied: the
  // successor's (whose IKE_AUTH carried the INITIAL_CONTACT) are in place by then and hold
  // the policies. Removed here, the kernel would meet the still old-owned policies with no SA
  // for their reqid: packets dropped, an ACQUIRE and a larval SA left behind for 30 s.
  for (const auto& child : e.children)
    spdlog::info("{}: CHILD SA {} in / {} out goes with it", e.connection(), spi_hex(child.inbound_spi),
                 spi_hex(child.outbound_spi));
  ++counters_["ike_sas_dropped_stale"];
  removals_.insert(e.id);
  if (depth_ == 0) flush_removals();
}

void IkeCore::teardown(const std::string& name, bool tell_peer) {
  connection_timers_->cancel(name);
  for (IkeSaEntry* e : table_.of_connection(name)) {
    const SaId id = e->id;
    if (tell_peer && e->is_established()) {
      spdlog::info("{}: deleting IKE SA {} (telling {})", name, sa_name(*e->sa), e->sa->remote().to_string());
      call(id, [](ike::IkeSa& sa) { return sa.delete_ike_sa(Clock::now()); });
    } else if (e->sa->state() != ike::SaState::Deleted && e->sa->state() != ike::SaState::Deleting) {
      call(id, [](ike::IkeSa& sa) { return sa.delete_ike_sa(Clock::now()); });
    }
  }
  maybe_finish_teardown(name);
}

void IkeCore::maybe_finish_teardown(const std::string& name) {
  for (IkeSaEntry* e : table_.of_connection(name))
    if (!removals_.count(e->id)) return;
  Runtime& rt = runtime(name);
  auto p = registry_.find(name);
  const bool keep_policies = p && !rt.admin_down && !shutting_down_ && p->config.start != StartAction::Listen;
  if (!keep_policies) {
    auto it = reqids_.find(name);
    if (it != reqids_.end()) installer_->release_policies(it->second);
  }
  if (!rt.down_waiting.empty()) {
    auto waiting = std::move(rt.down_waiting);
    rt.down_waiting.clear();
    for (auto& r : waiting) r(ControlResult(name + " is down"));
  }
  if (rt.after_teardown) {
    auto next = std::move(rt.after_teardown);
    rt.after_teardown = nullptr;
    next();
  }
}

void IkeCore::up(const std::string& name, ControlReply reply) {
  auto p = registry_.find(name);
  if (!p) return reply(unexpected("no connection named \"" + name + "\""));
  Runtime& rt = runtime(name);
  rt.admin_down = false;
  bool connecting = false;
  for (IkeSaEntry* e : table_.of_connection(name)) {
    if (e->is_established() && !e->children.empty())
      return reply(ControlResult(name + " is already up (IKE SA " + sa_name(*e->sa) + ")"));
    if (e->sa->state() == ike::SaState::Connecting || e->sa->state() == ike::SaState::Created)
      connecting = true;
  }
  if (!connecting) {
    if (Status s = initiate(p, "natgate up"); !s)
      return reply(unexpected("cannot bring up " + name + ": " + s.error()));
  }
  rt.up_waiting.push_back(std::move(reply));
}

void IkeCore::down(const std::string& name, ControlReply reply) {
  auto p = registry_.find(name);
  if (!p) return reply(unexpected("no connection named \"" + name + "\""));
  Runtime& rt = runtime(name);
  rt.admin_down = true;
  connection_timers_->cancel(name);
  reply_up(name, unexpected(name + " was taken down"));
  if (table_.of_connection(name).empty()) {
    installer_->release_policies(p->reqid);
    return reply(ControlResult(name + " is already down"));
  }
  spdlog::info("{}: natgate down", name);
  rt.down_waiting.push_back(std::move(reply));
  teardown(name, true);
}

void IkeCore::apply_config(const Config& config, const ConfigDiff& diff) {
  config_ = config;
  peer_limits_ = peer_limits(config_.daemon.limits);
  apply_eap_limits();
  std::vector<std::shared_ptr<const ConnectionProfile>> profiles;
  for (const auto& c : config_.connections) {
    auto [it, fresh] = reqids_.try_emplace(c.name, next_reqid_);
    if (fresh) ++next_reqid_;
    auto p = build_profile(config_, c, it->second);
    if (!p) {
      spdlog::error("{}: not usable: {}", c.name, p.error());
      runtime(c.name).detail = p.error();
      continue;
    }
    profiles.push_back(*p);
  }
  registry_.assign(profiles);
  after_profiles_loaded();

  for (const auto& name : diff.removed) {
    spdlog::info("{}: removed from the config: tearing it down", name);
    Runtime& rt = runtime(name);
    rt.admin_down = true;
    reply_up(name, unexpected(name + " was removed from the config"));
    rt.after_teardown = [this, name] { runtime_.erase(name); };
    teardown(name, true);
  }
  for (const auto& change : diff.changed) {
    const std::string name = change.name;
    std::string fields;
    for (const auto& f : change.fields) fields += (fields.empty() ? "" : ", ") + f;
    spdlog::info("{}: changed ({}): restarting it", name, fields);
    Runtime& rt = runtime(name);
    rt.admin_down = true;  // no automatic restart of the old one; the new one starts below
    rt.after_teardown = [this, name] {
      auto it = reqids_.find(name);
      if (it != reqids_.end()) installer_->release_policies(it->second);
      if (auto p = registry_.find(name)) start_connection(*p);
    };
    teardown(name, true);
  }
  for (const auto& name : diff.added) {
    spdlog::info("{}: added to the config", name);
    if (auto p = registry_.find(name)) start_connection(*p);
  }
}

void IkeCore::shutdown(std::function<void()> done) {
  shutting_down_ = true;
  shutdown_done_ = std::move(done);
  connection_timers_->cancel_all();
  for (auto& [name, rt] : runtime_) reply_up(name, unexpected(std::string("natgated is stopping")));
  for (SaId id : table_.ids()) {
    IkeSaEntry* e = table_.find(id);
    if (!e) continue;
    if (e->is_established())
      spdlog::info("{}: deleting IKE SA {} (shutdown)", e->connection(), sa_name(*e->sa));
    call(id, [](ike::IkeSa& sa) { return sa.delete_ike_sa(Clock::now()); });
  }
  if (table_.size() == 0) return finish_shutdown();
  // The peers normally answer the Delete within a round trip; one that does not is not waited
  // for (the shell has its own, longer deadline).
  shutdown_timer_ = std::make_unique<Timer>(*io_);
  shutdown_timer_->arm_after(3s, [this] {
    spdlog::info("{} IKE SA{} did not confirm the delete; stopping anyway", table_.size(),
                 table_.size() == 1 ? "" : "s");
    for (SaId id : table_.ids())
      if (IkeSaEntry* e = table_.find(id)) {
        for (const auto& child : e->children) installer_->remove(child);
        e->children.clear();
      }
    finish_shutdown();
  });
}

void IkeCore::finish_shutdown() {
  if (!shutdown_done_) return;
  for (const auto& [name, reqid] : reqids_) installer_->release_policies(reqid);
  if (dataplane_.backend) dataplane_.backend->flush();
  if (shutdown_timer_) shutdown_timer_->cancel();
  auto done = std::move(shutdown_done_);
  shutdown_done_ = nullptr;
  done();
}

void IkeCore::on_acquire(const dataplane::AcquireEvent& ev) {
  for (const auto& p : registry_.all()) {
    if (p->reqid != ev.reqid) continue;
    for (IkeSaEntry* e : table_.of_connection(p->config.name))
      if (e->sa->state() != ike::SaState::Deleted) return;  // already on its way
    if (runtime(p->config.name).admin_down) return;
    std::string why = "traffic " + ev.src.to_string() + " -> " + ev.dst.to_string() + " (start: on-traffic)";
    if (Status s = initiate(p, why); !s) spdlog::error("{}: cannot initiate: {}", p->config.name, s.error());
    return;
  }
}

void IkeCore::on_expire(const dataplane::ExpireEvent& ev) {
  spdlog::debug("data plane: {} expire of SA {} (reqid {})", ev.hard ? "hard" : "soft", spi_hex(ev.spi),
                ev.reqid);
  for (SaId id : table_.ids()) {
    IkeSaEntry* e = table_.find(id);
    if (!e) continue;
    auto it = std::find_if(e->children.begin(), e->children.end(), [&](const InstalledChild& c) {
      return c.inbound_spi == ev.spi || c.outbound_spi == ev.spi;
    });
    if (it == e->children.end()) continue;
    const std::uint32_t inbound = it->inbound_spi;
    const auto now = Clock::now();
    if (ev.hard) {
      // The data plane dropped the SA already (as the kernel does): tell the peer the pair is gone.
      ++counters_["child_sas_expired"];
      spdlog::warn("{}: CHILD SA {} hard-expired in the data plane: deleting it", e->connection(),
                   spi_hex(inbound));
      call(id, [&](ike::IkeSa& sa) { return sa.delete_child_sa(inbound, now); });
    } else {
      ++counters_["child_soft_expires"];
      on_child_rekey_due(*e, inbound);  // IkeSa refuses a second rekey of a pair already being rekeyed
    }
    return;
  }
}

// ---- status ------------------------------------------------------------------------------

std::vector<ConnectionStatus> IkeCore::connection_status() {
  std::vector<ConnectionStatus> out;
  for (const auto& c : config_.connections) {
    if (auto p = registry_.find(c.name)) {
      out.push_back(status_of(*p));
    } else {
      ConnectionStatus s;
      s.name = c.name;
      s.state = ConnectionState::Down;
      s.start = to_string(c.start);
      s.detail = runtime(c.name).detail;
      out.push_back(std::move(s));
    }
  }
  return out;
}

ConnectionStatus IkeCore::status_of(const ConnectionProfile& p) {
  const auto& c = p.config;
  ConnectionStatus s;
  s.name = c.name;
  s.local_id = c.local.id.text();
  s.remote_id = c.remote.any_id ? std::string("any") : c.remote.id.text();
  s.start = to_string(c.start);
  s.configured_remote = c.remote.address ? c.remote.address->to_string() : "any";

  auto entries = table_.of_connection(c.name);
  IkeSaEntry* primary = nullptr;
  for (IkeSaEntry* e : entries) {  // oldest first: the newest established wins, else the newest
    if (e->sa->state() == ike::SaState::Deleted) continue;
    if (!primary || e->is_established() || !primary->is_established()) primary = e;
  }
  const Runtime& rt = runtime(c.name);
  s.detail = rt.detail;
  if (!dataplane_error_.empty()) s.detail = "data plane failed: " + dataplane_error_;
  if (c.pool && remote_access_) s.leases = remote_access_->leases(*c.pool);
  if (!primary) {
    s.state = ConnectionState::Down;
    if (s.detail.empty()) {
      if (rt.admin_down)
        s.detail = "taken down (natgate down)";
      else if (c.start == StartAction::Listen)
        s.detail = "waiting for the peer";
      else if (c.start == StartAction::OnTraffic)
        s.detail = "waiting for traffic";
    }
    return s;
  }
  const ike::IkeSa& sa = *primary->sa;
  switch (sa.state()) {
    case ike::SaState::Created:
    case ike::SaState::Connecting:
      s.state = ConnectionState::Connecting;
      break;
    case ike::SaState::Established:
      s.state = ConnectionState::Established;
      break;
    case ike::SaState::Deleting:
    case ike::SaState::Deleted:
      s.state = ConnectionState::Deleting;
      break;
  }
  s.local = sa.local();
  s.remote = sa.remote();
  s.nat.local_behind_nat = sa.nat().local_behind_nat;
  s.nat.remote_behind_nat = sa.nat().remote_behind_nat;
  s.udp_encapsulation = sa.nat().udp_encapsulation();
  std::size_t live = 0;
  for (IkeSaEntry* e : entries) live += e->sa->state() != ike::SaState::Deleted ? 1 : 0;
  if (live > 1) s.detail = std::to_string(live) + " IKE SAs" + (s.detail.empty() ? "" : "; " + s.detail);
  if (c.pool || c.remote.any_id) {
    // Remote access: every road warrior's IKE SA, and the pool's leases.
    for (IkeSaEntry* e : entries) {
      if (e->sa->state() == ike::SaState::Deleted) continue;
      PeerStatus ps;
      ps.remote_id = e->remote_id ? e->remote_id->to_string() : std::string();
      ps.remote = e->sa->remote();
      for (const auto& a : remote_access_->addresses_of(e->id)) ps.virtual_ips.push_back(a.to_string());
      ps.state = e->is_established() ? ConnectionState::Established : ConnectionState::Connecting;
      ps.child_sas = e->children.size();
      s.peers.push_back(std::move(ps));
    }
  }
  for (const auto& a : vip_client_->addresses_of(primary->id)) s.virtual_ips.push_back(a.to_string());

  IkeSaStatus ike;
  ike.spi_i = sa.spi_i().to_u64();
  ike.spi_r = sa.spi_r().to_u64();
  ike.initiator = sa.is_initiator();
  if (sa.suite()) ike.proposal = ike::to_string(*sa.suite());
  const auto now = Clock::now();
  if (primary->established) {
    ike.established_at = primary->established_unix;
    ike.uptime = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(now - *primary->established).count());
  }
  if (primary->rekey_at)
    ike.rekey_in = static_cast<std::uint64_t>(std::max<std::int64_t>(
        0, std::chrono::duration_cast<std::chrono::seconds>(*primary->rekey_at - now).count()));
  s.ike_sa = ike;

  for (const auto& child : primary->children) {
    ChildSaStatus cs;
    if (child.rekey_at)
      cs.rekey_in = static_cast<std::uint64_t>(std::max<std::int64_t>(
          0, std::chrono::duration_cast<std::chrono::seconds>(*child.rekey_at - now).count()));
    cs.name = child.name;
    cs.spi_in = child.inbound_spi;
    cs.spi_out = child.outbound_spi;
    for (const auto& ts : child.local_ts) cs.local_ts.push_back(ts.to_string());
    for (const auto& ts : child.remote_ts) cs.remote_ts.push_back(ts.to_string());
    cs.proposal = child.proposal;
    ChildTraffic t = installer_->traffic(child);
    cs.bytes_in = t.in.bytes;
    cs.packets_in = t.in.packets;
    cs.bytes_out = t.out.bytes;
    cs.packets_out = t.out.packets;
    s.child_sas.push_back(std::move(cs));
  }
  return s;
}

std::map<std::string, std::uint64_t> IkeCore::counters() {
  auto out = counters_;
  out.try_emplace("malformed_dropped", 0);
  if (dataplane_.counters) {
    for (const auto& [name, value] : dataplane_.counters()) {
      if (name == "natt_too_short")
        out["malformed_dropped"] += value;
      else
        out[name] = value;
    }
  }
  if (dispatcher_) {
    const auto& d = dispatcher_->counters();
    out["ike_cookies_sent"] = d.cookies_sent;
    out["ike_init_overloaded"] = d.overloaded;
    out["ike_init_no_config"] = d.no_config;
    out["ike_init_refused"] = d.refused;
    out["ike_half_open"] = dispatcher_->half_open().total();
    out["ike_half_open_memory"] = dispatcher_->half_open().memory();
    out["ike_half_open_evicted"] = dispatcher_->half_open().evictions();
    out["ike_init_refusals_unlogged"] = d.refusals_unlogged;
  }
  // Gauges of what exists now (the rest count events since start).
  out["ike_sas"] = table_.size();
  out["child_sas"] = table_.child_count();
  if (remote_access_) out["virtual_ips_online"] = remote_access_->online();
  return out;
}

}  // namespace natgate::gateway::core
