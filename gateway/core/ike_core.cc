#include "gateway/core/ike_core.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <charconv>
#include <variant>

#include "gateway/core/source_address.h"
#include "gateway/core/status_view.h"
#include "gateway/daemon/logging.h"
#include "gateway/io/host_resolver.h"
#include "gateway/io/script_runner.h"
#include "gateway/relay/udp_forwarder.h"
#include "ike/codec/message_codec.h"
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

ike::PeerLimits peer_limits(const LimitsConfig& l) {
  ike::PeerLimits p;
  p.selectors_per_ts = l.selectors_per_ts;
  p.child_sas_per_ike_sa = l.child_sas_per_ike_sa;
  p.rekeys_per_minute = l.rekeys_per_minute;
  return p;
}

ike::EapFailureLimits eap_limits(const LimitsConfig& l) {
  ike::EapFailureLimits limits;
  limits.per_identity = l.eap_failures_per_identity;
  limits.per_source = l.eap_failures_per_source;
  return limits;
}

void write_log(const ike::LogLine& line) {
  // Journal fields of the line's SA, if it names one (gateway/daemon/logging.h).
  const LogFields fields{line.connection, line.ike_sa, line.peer};
  const ScopedLogFields scope(fields);
  switch (line.level) {
    case ike::LogLine::Level::Debug:
      return ike_log().debug("{}", line.text);
    case ike::LogLine::Level::Info:
      return ike_log().info("{}", line.text);
    case ike::LogLine::Level::Warn:
      return ike_log().warn("{}", line.text);
    case ike::LogLine::Level::Error:
      return ike_log().error("{}", line.text);
  }
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
  // Timers and watchers first: none of their callbacks may run into a half-destroyed core. The
  // Endpoint's SAs go while the data plane their environment calls back into is still there.
  backend_watch_.reset();
  route_monitor_.reset();
  relay_permission_timer_.reset();
  relay_forwarder_.reset();
  shutdown_timer_.reset();
  timers_.reset();
  endpoint_.reset();
}

std::string IkeCore::description() const { return "natgate IKEv2 (RFC 7296, NAT-T RFC 3948)"; }

// ---- start and reload ----------------------------------------------------------------------

std::vector<std::shared_ptr<const ike::ConnectionSettings>> IkeCore::load_profiles() {
  peer_limits_ = peer_limits(config_.daemon.limits);
  eap_failures_.set_limits(eap_limits(config_.daemon.limits));
  std::vector<std::shared_ptr<const ConnectionProfile>> profiles;
  std::vector<std::shared_ptr<const ike::ConnectionSettings>> settings;
  for (const auto& c : config_.connections) {
    auto [it, fresh] = reqids_.try_emplace(c.name, next_reqid_);
    if (fresh) ++next_reqid_;
    // Every further child has a reqid of its own: the data plane sends a policy's traffic on the
    // newest outbound SA of its reqid, so two children sharing one would swap their traffic.
    for (std::size_t i = 1; i < c.children.size(); ++i) {
      auto [child_it, child_fresh] =
          reqids_.try_emplace(child_reqid_key(c.name, c.children[i].name), next_reqid_);
      if (child_fresh) ++next_reqid_;
    }
    auto p = build_profile(config_, c, it->second);
    if (!p) {
      cfg_log().error("{}: not usable: {}", c.name, p.error());
      if (endpoint_) endpoint_->set_detail(c.name, p.error());
      continue;
    }
    profiles.push_back(*p);
    settings.push_back((*p)->settings);
  }
  registry_.assign(profiles);
  // Identity keys and pools follow the config.
  std::map<ike::Identity, SecretBytes> keys;
  for (const auto& [name, secret] : config_.secrets)
    if (secret.id) keys.emplace(to_ike_identity(*secret.id), secret.psk);
  registry_.set_identity_secrets(std::move(keys));
  if (remote_access_) remote_access_->configure(config_);
  if (endpoint_) endpoint_->set_ike_sas_per_identity(config_.daemon.limits.ike_sas_per_identity);
  return settings;
}

void IkeCore::start(const Config& config, DaemonServices& services) {
  io_ = services.io;
  config_ = config;
  services_ = services;
  sa_events_ = std::make_unique<SaEventSource>(services.events);
  timers_ = std::make_unique<TimerSet<ike::EndpointTimerKey>>(
      *io_, [this](const ike::EndpointTimerKey& key) { run(endpoint_->on_timer(key, Clock::now())); });

  DataplaneHandlers handlers;
  handlers.on_ike = [this](const EndpointPair& ends, ByteView m) {
    handle_ike(m, ends.local, ends.remote, true);
  };
  handlers.on_stream_ike = [this](const EndpointPair& ends, ByteView m, bool natt) {
    handle_ike(m, ends.local, ends.remote, natt);
  };
  auto dp = dataplane_factory_ ? dataplane_factory_(config_, services_, std::move(handlers))
                               : Expected<Dataplane>(socket_only_dataplane(services_));
  if (!dp) {
    dataplane_error_ = dp.error();
    knl_log().error("data plane {} failed to start: {}; IKE still runs, but no CHILD SA can carry traffic",
                    services_.dataplane.name, dataplane_error_);
    dataplane_ = socket_only_dataplane(services_);
  } else {
    dataplane_ = std::move(*dp);
    if (!dataplane_.description.empty()) knl_log().info("data plane: {}", dataplane_.description);
  }
  services_.sa_backend = dataplane_.backend.get();
  // The data plane opened these interfaces at start (dataplane_factory.cc); a reload cannot add one.
  if_ids_ = route_interfaces(config_);
  installer_ = std::make_unique<ChildSaInstaller>(dataplane_.backend.get());
  remote_access_ = std::make_unique<RemoteAccess>(registry_);
  if (const std::string dir = config_.daemon.resolved_state_dir(); !dir.empty())
    remote_access_->use_lease_file(dir + "/leases");
  vip_client_ = std::make_unique<VirtualIpClient>(dataplane_.interface);
  if (dataplane::SaBackend* b = dataplane_.backend.get()) {
    b->set_listener(this);
    if (b->event_fd() >= 0) {
      backend_watch_ = std::make_unique<BackendWatch>(*io_, b->event_fd());
      watch_backend_events();
    }
  }

  ike::EndpointConfig ec;
  ec.environment = ike_environment();
  ec.environment.virtual_ips = remote_access_.get();
  const LimitsConfig& limits = config_.daemon.limits;
  ec.dispatcher.admission.cookie_threshold = limits.cookie_threshold;
  ec.dispatcher.admission.cookie_threshold_per_source = limits.cookie_threshold_per_source;
  ec.dispatcher.admission.half_open_per_source = limits.half_open_per_source;
  ec.dispatcher.admission.half_open = limits.half_open;
  ec.dispatcher.admission.half_open_memory = static_cast<std::size_t>(limits.half_open_memory);
  ec.dispatcher.refusal_hash_key = (std::uint64_t{random_u32()} << 32) | random_u32();
  ec.ike_port = config_.daemon.ike_port;
  ec.ike_sas_per_identity = limits.ike_sas_per_identity;
  ec.local_address_for = [this](const IpAddress& remote) {
    return source_address_for(remote, config_.daemon.listen);
  };
  ec.resolve_host = [](const std::string& host) { return resolve_host(host); };
  endpoint_ = std::make_unique<ike::Endpoint>(std::move(ec), registry_);
  start_relay_forwarder();
  run(endpoint_->start(load_profiles(), Clock::now()));
  watch_routes();
}

void IkeCore::watch_routes() {
  // Only a road warrior moves its SAs (RFC 4555 §3.5: the initiator updates, the responder
  // follows); a daemon that only listens needs no netlink socket.
  bool may_move = false;
  for (const auto& c : config_.connections) may_move |= c.mobike && c.start != StartAction::Listen;
  if (!may_move || route_monitor_) return;
  // 100 ms: long enough for a burst of address and route messages of one move to arrive, short
  // enough that a road warrior pinging every 100 ms loses a packet or two.
  auto m = RouteMonitor::open(*io_, std::chrono::milliseconds(100), [this] {
    if (endpoint_) run(endpoint_->local_addresses_changed(Clock::now()));
  });
  if (!m) {
    ike_log().warn("MOBIKE: {}; address changes are not noticed", m.error());
    return;
  }
  route_monitor_ = std::move(*m);
}

// ---- data-plane events (dataplane::EventListener) ----------------------------------------

void IkeCore::on_expire(const dataplane::ExpireEvent& ev) {
  esp_log().debug("data plane: {} expire of SA {} (reqid {})", ev.hard ? "hard" : "soft", spi_hex(ev.spi),
                  ev.reqid);
  run(endpoint_->data_plane_expire(ev.spi, ev.hard, Clock::now()));
}

void IkeCore::on_acquire(const dataplane::AcquireEvent& ev) {
  run(endpoint_->acquire(ev.reqid, ev.src.to_string() + " -> " + ev.dst.to_string(), Clock::now()));
}

void IkeCore::on_mapping(const dataplane::MappingEvent& m) {
  run(endpoint_->peer_moved(m.spi, m.new_remote, Clock::now()));
}

void IkeCore::watch_backend_events() {
  backend_watch_->descriptor.async_wait(asio::posix::descriptor_base::wait_read,
                                        [this](const boost::system::error_code& ec) {
                                          if (ec) return;
                                          if (dataplane_.backend) dataplane_.backend->poll_events();
                                          if (backend_watch_) watch_backend_events();
                                        });
}

ike::Environment IkeCore::ike_environment() {
  ike::Environment env;
  env.random = &random_;
  env.key_pairs = &prepared_key_pairs_;
  env.check_selectors = [this](const std::string& connection, const ike::Identity& peer,
                               const std::vector<TrafficSelector>& local_ts,
                               const std::vector<TrafficSelector>& remote_ts) -> Status {
    if (!installer_) return {};
    auto p = registry_.find(connection);
    return installer_->check_policies(
        policy_owner(connection, p && p->config.remote.accepts_many_ids(), peer), local_ts, remote_ts);
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

void IkeCore::terminate(const TerminateQuery& q, ControlReply reply) {
  if (!endpoint_) return reply(unexpected(std::string("the IKE core is not running")));
  const ike::IkeSaTable& table = endpoint_->table();
  std::vector<ike::SaId> ids;
  std::string what;
  if (!q.identity.empty()) {
    auto id = status_view::parse_identity_filter(q.identity);
    if (!id)
      return reply(
          unexpected(std::string("--id: not an identity (fqdn:NAME, email:ADDRESS, ipv4:/ipv6:ADDRESS, or as "
                                 "the config writes it)")));
    for (const ike::IkeSaEntry* e : table.of_identity(*id)) ids.push_back(e->id);
    what = "of " + id->to_string();
  } else if (!q.peer.empty()) {
    auto peer = status_view::parse_peer_filter(q.peer);
    if (!peer) return reply(unexpected(std::string("--peer: not ADDRESS or ADDRESS:PORT ([IPv6]:PORT)")));
    table.for_each([&](const ike::IkeSaEntry& e) {
      if (peer->matches(e.sa->remote())) ids.push_back(e.id);
    });
    what = "with " + q.peer;
  } else {
    std::uint64_t spi = 0;
    const std::string& text = q.ike_spi;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), spi, 16);
    if (text.empty() || text.size() > 16 || ec != std::errc() || end != text.data() + text.size() || spi == 0)
      return reply(
          unexpected(std::string("--ike: not an IKE SPI (up to 16 hex digits, as status shows them)")));
    table.for_each([&](const ike::IkeSaEntry& e) {
      if (e.sa->spi_i().to_u64() == spi || e.sa->spi_r().to_u64() == spi) ids.push_back(e.id);
    });
    what = "with SPI " + text;
  }
  std::erase_if(ids, [&](ike::SaId id) {
    const ike::IkeSaEntry* e = table.find(id);
    return !e || e->sa->state() == ike::SaState::Deleted || e->sa->state() == ike::SaState::Deleting;
  });
  if (ids.empty()) return reply(unexpected("no IKE SA " + what));
  const std::size_t n = ids.size();
  run(endpoint_->terminate(ids, Clock::now()));
  reply(ControlResult("deleting " + std::to_string(n) + " IKE SA" + (n == 1 ? " " : "s ") + what));
}

void IkeCore::apply_config(const Config& config, const ConfigDiff& diff) {
  config_ = config;
  auto settings = load_profiles();
  std::vector<ike::ConnectionChange> changed;
  for (const auto& change : diff.changed) {
    std::string fields;
    for (const auto& f : change.fields) fields += (fields.empty() ? "" : ", ") + f;
    changed.push_back({change.name, fields});
  }
  run(endpoint_->reload(std::move(settings), diff.removed, changed, diff.added, Clock::now()));
  watch_routes();
}

// ---- input ---------------------------------------------------------------------------------

void IkeCore::on_datagram(UdpSocket& socket, const sys::UdpDatagram& d) {
  if (socket.role() == SocketRole::Ike) return handle_ike(d.payload, d.local, d.remote, false);
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
      if (admit_packet_log())
        net_log().debug("{}: ESP (SPI {}) on the NAT-T socket and no data plane to take it",
                        d.remote.to_string(), spi_hex(c.spi));
      break;
    case natt::DatagramKind::TooShort:
      ++counters_["malformed_dropped"];
      if (admit_packet_log())
        net_log().debug("dropped IKE datagram from {}: NAT-T datagram of {} bytes", d.remote.to_string(),
                        d.payload.size());
      break;
  }
}

bool IkeCore::admit_packet_log() {
  if (!ike_log().should_log(spdlog::level::debug) && !net_log().should_log(spdlog::level::debug))
    return false;
  if (!packet_log_limit_.admit(LogRateLimiter::Clock::now())) {
    ++counters_["log_lines_suppressed"];
    return false;
  }
  if (std::uint64_t left_out = packet_log_limit_.take_suppressed())
    dmn_log().info("{} debug line{} left out (more than 50 a second)", left_out, left_out == 1 ? "" : "s");
  return true;
}

void IkeCore::handle_ike(ByteView message, const Endpoint& local, const Endpoint& remote, bool natt) {
  if (!endpoint_) return;  // the data plane relays before start() finished
  if (stopping_) {
    // The answers to our Deletes can keep this thread busy past the wait's timer (it runs only
    // between handlers, and thousands of answers queue ahead of it): the deadline is checked
    // here too, so the wait stays bounded however many SAs answer.
    if (!shutdown_done_) return;
    if (Clock::now() >= shutdown_deadline_) return shutdown_wait_over();
  }
  if (offload_key_exchange(message, local, remote, natt)) return;
  run(endpoint_->handle_datagram(ike::ReceivedDatagram{message, local, remote, natt}, Clock::now()));
}

std::optional<crypto::DhKeyPair> IkeCore::PreparedKeyPairs::take(iana::DhGroup group) {
  if (slot && slot->group() == group) {
    std::optional<crypto::DhKeyPair> out = std::move(slot);
    slot.reset();
    return out;
  }
  return pool_.take(group);
}

bool IkeCore::offload_key_exchange(ByteView message, const Endpoint& local, const Endpoint& remote,
                                   bool natt) {
  // At most this many requests wait for the key-pair thread; past it the IKE thread does the
  // key exchange itself, so both cores work through a burst.
  constexpr std::size_t kMaxOffloaded = 512;
  auto header = ike::decode_header(message);
  if (!header || header->exchange != iana::ExchangeType::IkeSaInit || !header->initiator() ||
      header->response() || header->message_id.value != 0 || !header->spi_r.is_zero())
    return false;
  // Under cookie pressure the Endpoint decides first (RFC 7296 §2.6): no key exchange for a
  // request it may answer with a COOKIE.
  // Those waiting here count as half-open from the request's source (an upper bound).
  const auto& half_open = endpoint_->dispatcher().half_open();
  const auto& policy = half_open.policy();
  if (half_open.decide(remote.address, false, Clock::now()) != ike::HalfOpenLimiter::Decision::Admit ||
      half_open.total() + offloaded_ >= policy.cookie_threshold ||
      half_open.count(remote.address) + offloaded_ >= policy.cookie_threshold_per_source)
    return false;
  struct Request {
    Bytes message;
    Endpoint local, remote;
    bool natt = false;
  };
  auto request =
      std::make_shared<const Request>(Request{Bytes(message.begin(), message.end()), local, remote, natt});
  auto find = [request]() -> std::optional<crypto::KeyPairPool::PeerValue> {
    auto decoded = ike::decode_message(request->message);
    if (!decoded) return std::nullopt;
    const auto* ke = ike::find<ike::KeyExchange>(decoded->payloads);
    if (ke == nullptr) return std::nullopt;
    return crypto::KeyPairPool::PeerValue{ke->group, ke->data};
  };
  auto done = [this, io = io_, alive = std::weak_ptr<IkeCore*>(alive_),
               request](std::optional<crypto::DhKeyPair> pair) {
    // On the key-pair thread: hand over to the IKE thread, nothing else.
    asio::post(*io, [this, alive, request,
                     pair = std::make_shared<std::optional<crypto::DhKeyPair>>(std::move(pair))] {
      if (alive.expired()) return;
      --offloaded_;
      if (!endpoint_) return;
      prepared_key_pairs_.slot = std::move(*pair);
      run(endpoint_->handle_datagram(
          ike::ReceivedDatagram{request->message, request->local, request->remote, request->natt},
          Clock::now()));
      // A retransmission or a refused request took no pair: it is dropped (and wiped).
      prepared_key_pairs_.slot.reset();
    });
  };
  if (!key_pairs_.prepare(std::move(find), std::move(done), kMaxOffloaded)) return false;
  ++offloaded_;
  return true;
}

// ---- output --------------------------------------------------------------------------------

void IkeCore::run(ike::EndpointOutput&& out) {
  std::map<std::uint32_t, std::string> failed_installs;  // inbound SPI -> why
  std::vector<std::pair<ike::SaId, std::uint32_t>> to_withdraw;
  for (auto& action : out.actions) {
    std::visit(Overloaded{
                   [&](ike::SendDatagram& d) { send(d); },
                   [&](ike::SendKeepalive& k) { send_keepalive(k); },
                   [&](ike::ArmTimer& t) {
                     if (!t.deadline) return timers_->cancel(t.key);
                     timers_->arm_at(t.key, *t.deadline);
                   },
                   [&](ike::InstallChildSa& a) {
                     if (Status s = install(a); !s) {
                       failed_installs[a.child.inbound_spi] =
                           "installing CHILD SA " + spi_hex(a.child.inbound_spi) + "/" +
                           spi_hex(a.child.outbound_spi) + " failed: " + s.error();
                       to_withdraw.push_back({a.sa, a.child.inbound_spi});
                     } else {
                       sa_events_->child_installed(a, endpoint_->table());
                       updown_child_up(a);
                     }
                   },
                   [&](ike::SwitchOutbound& a) {
                     auto it = installed_.find(a.inbound_spi);
                     if (it == installed_.end()) return;
                     if (Status s = installer_->install_outbound(it->second); !s) {
                       ++counters_["child_sa_install_failures"];
                       knl_log().error("{}: {}", a.connection, s.error());
                     } else {
                       ++counters_["child_outbound_switched_after_delete"];
                       knl_log().debug("{}: traffic now leaves on CHILD SA {}", a.connection,
                                       spi_hex(it->second.outbound_spi));
                     }
                   },
                   [&](ike::RemoveChildSa& a) {
                     auto it = installed_.find(a.inbound_spi);
                     if (it == installed_.end()) return;
                     sa_events_->child_removed(a.connection, a.inbound_spi, it->second.outbound_spi,
                                               it->second.name);
                     updown_child_down(a.inbound_spi);
                     if (!stopping_) installer_->remove(it->second);  // else flushed at the end
                     installed_.erase(it);
                   },
                   [&](ike::MoveChildSa& a) {
                     auto it = installed_.find(a.inbound_spi);
                     if (it == installed_.end()) return;
                     if (a.udp_encapsulation) it->second.udp_encapsulation = *a.udp_encapsulation;
                     if (Status s = installer_->move(it->second, {.local = a.local, .remote = a.remote}); !s)
                       knl_log().error("{}: moving CHILD SA {}: {}", a.connection, spi_hex(a.inbound_spi),
                                       s.error());
                   },
                   [&](ike::ReleasePolicies& a) { release_connection_policies(a.reqid); },
                   [&](ike::InstallTrafficPolicies& a) { install_traffic_policies(a.connection); },
                   [&](ike::ReleaseSaResources& a) {
                     sa_events_->released(a);
                     release_sa_resources(a);
                   },
                   [&](ike::TransferSaResources& a) {
                     sa_events_->transferred(a, endpoint_->table());
                     remote_access_->transfer(a.from, a.to);
                     vip_client_->transfer(a.from, a.to);
                   },
                   [&](ike::HoldVirtualIps& a) {
                     remote_access_->hold(a.sa, a.peer_config, a.peer_id, a.addresses);
                     save_leases_soon();
                   },
                   [&](ike::ApplyVirtualIps& a) { apply_virtual_ips(a); },
                   [&](ike::ControlReply& r) { answer(r, failed_installs); },
                   [&](ike::LogLine& l) {
                     if (l.level != ike::LogLine::Level::Debug || admit_packet_log()) write_log(l);
                   },
                   [&](ike::ShutdownComplete&) { finish_shutdown(); },
               },
               action);
  }
  for (const auto& [sa, spi] : to_withdraw)
    if (endpoint_) run(endpoint_->child_install_failed(sa, spi, failed_installs[spi], Clock::now()));
}

void IkeCore::send(ike::SendDatagram& out) {
  const ike::Datagram& d = out.datagram;
  Status s;
  std::optional<Status> over_stream;
  if (dataplane_.natt)
    over_stream = dataplane_.natt->send_over_stream({.local = d.local, .remote = d.remote}, d.bytes, d.natt);
  if (over_stream) {
    s = std::move(*over_stream);
  } else if (d.natt) {
    s = dataplane_.natt ? dataplane_.natt->send_ike({.local = d.local, .remote = d.remote}, d.bytes)
                        : Status(unexpected(std::string("no NAT-T socket")));
  } else if (UdpSocket* socket = socket_for(services_.ike_sockets, d.local.address); !socket) {
    s = unexpected("no IKE socket for local address " + d.local.address.to_string());
  } else {
    std::optional<IpAddress> from;
    if (!d.local.address.is_unspecified()) from = d.local.address;
    s = socket->send_to(d.bytes, d.remote, from);
  }
  if (!s) {
    ++counters_["ike_send_errors"];
    net_log().warn("sending IKE to {}: {}", d.remote.to_string(), s.error());
  } else {
    ++counters_["ike_datagrams_sent"];
  }
}

void IkeCore::send_keepalive(const ike::SendKeepalive& k) {
  if (Status s = dataplane_.natt->send_keepalive({.local = k.local, .remote = k.remote}); !s) {
    net_log().debug("{}: NAT-keepalive to {}: {}", k.connection, k.remote.to_string(), s.error());
  } else {
    ++counters_["natt_keepalives_sent"];
  }
}

Expected<std::uint32_t> IkeCore::if_id_of(const ConnectionConfig& c) const {
  if (!c.interface) return 0u;
  if (auto it = if_ids_.find(*c.interface); it != if_ids_.end()) return it->second;
  return unexpected("interface " + *c.interface +
                    " was not there when natgated started (restart natgated to " + "create it)");
}

Status IkeCore::install(ike::InstallChildSa& a) {
  auto p = registry_.find(a.connection);
  std::uint32_t reqid = 0;
  if (auto settings = endpoint_->settings(a.connection)) reqid = settings->reqid;
  if (p && remote_access_) reqid = remote_access_->reqid_for(a.sa, *p);
  if (auto it = reqids_.find(child_reqid_key(a.connection, a.child.child_config)); it != reqids_.end())
    reqid = it->second;
  // Make-before-break: the new pair goes in next to the old one (inbound first, then outbound,
  // which the data plane prefers as the newest of the connection).
  auto if_id = p ? if_id_of(p->config) : Expected<std::uint32_t>(0u);
  if (!if_id) {
    if (dataplane_.backend) (void)dataplane_.backend->delete_sa(a.child.inbound_spi, a.child.local.address);
    return unexpected(if_id.error());
  }
  auto installed =
      installer_->install(a.child, reqid, policy_owner(a.connection, a.any_remote_id, a.remote_id),
                          a.soft_lifetime, a.lifetime, *if_id);
  if (!installed) {
    // The reservation of our inbound SPI was handed over with the event: give it back.
    if (dataplane_.backend) (void)dataplane_.backend->delete_sa(a.child.inbound_spi, a.child.local.address);
    return unexpected(installed.error());
  }
  if (!installer_->has_backend())
    knl_log().info("{}: CHILD SA {} carries nothing (no data plane)", a.connection,
                   spi_hex(a.child.inbound_spi));
  installed_[a.child.inbound_spi] = std::move(*installed);
  return {};
}

// ---- updown (configs/README.md, "updown") ---------------------------------------------------

void IkeCore::updown_child_up(const ike::InstallChildSa& a) {
  auto p = registry_.find(a.connection);
  if (!p || !p->config.updown || !io_) return;
  if (!updown_) {
    updown_ = std::make_unique<ScriptRunner>(*io_, [](bool error, const std::string& line) {
      if (error)
        dmn_log().warn("updown {}", line);
      else
        dmn_log().info("updown {}", line);
    });
  }
  UpdownChild c;
  c.connection = a.connection;
  c.child = a.child.child_config;
  if (a.remote_id) c.remote_id = a.remote_id->to_string();
  c.local = a.child.local;
  c.remote = a.child.remote;
  c.local_ts = a.child.local_ts;
  c.remote_ts = a.child.remote_ts;
  c.virtual_ips = remote_access_->addresses_of(a.sa);
  for (const auto& v : vip_client_->addresses_of(a.sa)) c.virtual_ips.push_back(v);
  if (p->config.interface)
    c.interface = *p->config.interface;  // route-based: its own TUN (configs/README.md, "interface")
  else if (dataplane_.interface != "lo")
    c.interface = dataplane_.interface;
  c.spi_in = a.child.inbound_spi;
  c.spi_out = a.child.outbound_spi;
  std::string verb = "up-client";
  if (a.child.replaces_inbound_spi) {
    // The old pair's removal that follows is part of the rekey, not a down.
    verb = "rekey-client";
    updown_children_.erase(*a.child.replaces_inbound_spi);
  }
  updown_run(*p->config.updown, verb, c);
  const auto spi_in = c.spi_in;
  updown_children_.emplace(spi_in, UpdownEntry{*p->config.updown, std::move(c)});
}

void IkeCore::updown_child_down(std::uint32_t inbound_spi) {
  auto it = updown_children_.find(inbound_spi);
  if (it == updown_children_.end()) return;
  updown_run(it->second.script, "down-client", it->second.child);
  updown_children_.erase(it);
}

void IkeCore::updown_run(const std::string& script, const std::string& verb, const UpdownChild& c) {
  updown_->run(ScriptRun{script, {}, updown_environment(verb, c), c.connection + "/" + c.child + " " + verb});
}

std::string IkeCore::child_reqid_key(const std::string& connection, const std::string& child) {
  return connection + "/" + child;  // '/' is in no connection name, so no connection's key
}

// A connection's policies: those of its first child (the connection's reqid, which ike/ knows)
// and those of its further children.
void IkeCore::release_connection_policies(std::uint32_t reqid) {
  installer_->release_policies(reqid);
  for (const auto& [name, r] : reqids_) {
    if (r != reqid || name.find('/') != std::string::npos) continue;
    const std::string prefix = name + "/";
    for (auto it = reqids_.lower_bound(prefix); it != reqids_.end() && it->first.starts_with(prefix); ++it)
      installer_->release_policies(it->second);
  }
}

void IkeCore::install_traffic_policies(const std::string& name) {
  auto p = registry_.find(name);
  if (!p) return;
  const auto& c = p->config;
  if (!c.remote.address) return;  // the loader allows on-traffic only with one fixed address
  Endpoint remote{*c.remote.address, c.remote.port};
  auto local = source_address_for(remote.address, config_.daemon.listen);
  const auto if_id = if_id_of(c);
  Status s = !if_id  ? Status(unexpected(if_id.error()))
             : local ? installer_->install_policies(
                           p->reqid, policy_owner(c.name, c.remote.accepts_many_ids(), std::nullopt),
                           p->child().local_ts, p->child().remote_ts,
                           {.local = Endpoint{*local, config_.daemon.ike_port}, .remote = remote}, *if_id)
                     : Status(unexpected(local.error()));
  if (!s) {
    endpoint_->set_detail(name, "cannot install the on-traffic policies: " + s.error());
    knl_log().error("{}: cannot install the on-traffic policies: {}", name, s.error());
  } else {
    knl_log().info("{}: waiting for traffic from {} to {} (start: on-traffic)", name,
                   ts_text(p->child().local_ts), ts_text(p->child().remote_ts));
  }
}

void IkeCore::release_sa_resources(const ike::ReleaseSaResources& r) {
  const auto leased = remote_access_->addresses_of(r.sa);
  // Stopping: the policies (and the routes behind them) go in one flush once every SA is
  // done, not one removal per road warrior as the Deletes are answered.
  if (auto reqid = remote_access_->release(r.sa); reqid && !stopping_) installer_->release_policies(*reqid);
  for (const auto& a : leased)
    knl_log().info("{}: virtual IP {} of {} released", r.connection, a.to_string(),
                   r.remote_id ? r.remote_id->to_string() : std::string("-"));
  // The kernel drops the routes whose source is a removed address, so the connection's policies
  // (and their routes) go first; the next CHILD SA installs them again with the address it gets
  // (a reconnect after the gateway went away).
  if (vip_client_->releases_addresses(r.sa))
    if (auto settings = endpoint_->settings(r.connection)) release_connection_policies(settings->reqid);
  vip_client_->release(r.sa);
}

void IkeCore::apply_virtual_ips(const ike::ApplyVirtualIps& a) {
  auto p = registry_.find(a.connection);
  std::optional<DnsTarget> dns;
  if (p && (p->config.local.dns_via || p->config.local.dns_file))
    dns = DnsTarget{p->config.local.dns_via.value_or(DnsVia::File), p->config.local.dns_file};
  if (Status s = vip_client_->apply(a.sa, a.attributes, dns); !s) {
    endpoint_->set_detail(a.connection, "virtual IP: " + s.error());
    knl_log().error("{}: virtual IP: {}", a.connection, s.error());
  }
}

// ---- control -------------------------------------------------------------------------------

std::uint64_t IkeCore::hold_reply(ControlReply reply) {
  const std::uint64_t token = next_token_++;
  replies_[token] = std::move(reply);
  return token;
}

void IkeCore::answer(const ike::ControlReply& r,
                     const std::map<std::uint32_t, std::string>& failed_installs) {
  auto it = replies_.find(r.token);
  if (it == replies_.end()) return;
  ControlReply reply = std::move(it->second);
  replies_.erase(it);
  if (auto failed = failed_installs.find(r.after_install); r.after_install && failed != failed_installs.end())
    return reply(unexpected(failed->second));
  if (r.ok) return reply(ControlResult(r.text));
  reply(unexpected(r.text));
}

void IkeCore::up(const std::string& name, ControlReply reply) {
  run(endpoint_->up(name, hold_reply(std::move(reply)), Clock::now()));
}

void IkeCore::down(const std::string& name, ControlReply reply) {
  run(endpoint_->down(name, hold_reply(std::move(reply)), Clock::now()));
}

void IkeCore::shutdown(std::function<void()> done) {
  shutdown_done_ = std::move(done);
  stopping_ = true;
  run(endpoint_->shutdown(Clock::now()));
  if (!shutdown_done_) return;
  // The peers normally answer the Delete within a round trip; one that does not is not waited
  // for (the shell has its own, longer deadline). RFC 7296 asks for no answer before the SA is
  // gone (§1.4.1 lets either side delete; strongSwan does not wait at shutdown): the answers
  // only let the Endpoint retire its SAs in order, and 1 s covers a round trip while keeping the
  // exit prompt with thousands of SAs (docs/performance.md, "Exit on SIGTERM").
  shutdown_deadline_ = Clock::now() + kShutdownWait;
  shutdown_timer_ = std::make_unique<Timer>(*io_);
  shutdown_timer_->arm_after(kShutdownWait, [this] { shutdown_wait_over(); });
}

void IkeCore::shutdown_wait_over() {
  if (!shutdown_done_ || !endpoint_) return;
  run(endpoint_->shutdown_deadline_passed(Clock::now()));
}

void IkeCore::save_leases_soon() {
  if (!remote_access_ || !remote_access_->dirty()) return;
  if (!lease_save_timer_) lease_save_timer_ = std::make_unique<Timer>(*io_);
  if (!lease_save_timer_->armed()) lease_save_timer_->arm_after(1s, [this] { save_leases_now(); });
}

void IkeCore::save_leases_now() {
  if (!remote_access_ || !remote_access_->dirty()) return;
  Status s = remote_access_->save();
  // Said once until a save works again: a missing state folder is not news every second.
  if (!s && !lease_save_failing_) spdlog::warn("leases not saved (kept in memory only): {}", s.error());
  lease_save_failing_ = !s;
}

void IkeCore::finish_shutdown() {
  if (!shutdown_done_) return;
  if (lease_save_timer_) lease_save_timer_->cancel();
  save_leases_now();
  // Everything at once (docs/performance.md, "Exit on SIGTERM"): the backend drops every SA,
  // policy and route it holds, and the installer forgets its book of them, so nothing is
  // removed twice afterwards. Without a data plane the book is all there is.
  if (dataplane_.backend) dataplane_.backend->flush();
  installer_->forget_policies();
  installed_.clear();
  if (shutdown_timer_) shutdown_timer_->cancel();
  auto done = std::move(shutdown_done_);
  shutdown_done_ = nullptr;
  done();
}

// ---- status --------------------------------------------------------------------------------

Status IkeCore::connection_status(const StatusQuery& query, DaemonStatus& out) {
  if (!endpoint_) {
    if (!query.connection.empty()) return unexpected("no connection named \"" + query.connection + "\"");
    if (query.summary) out.summary.emplace();
    return {};
  }
  return status_view::connections(
      {config_, endpoint_->table(), endpoint_.get(), registry_, remote_access_.get(), vip_client_.get(),
       installer_.get(), installed_, dataplane_error_, endpoint_->dispatcher().half_open().total(),
       dataplane_.tcp ? std::function<std::string(const Endpoint&)>(
                            [t = dataplane_.tcp.get()](const Endpoint& r) { return t->tcp_reason(r); })
                      : nullptr,
       dataplane_.tcp ? std::function<std::string(const Endpoint&)>(
                            [t = dataplane_.tcp.get()](const Endpoint& r) { return t->udp_reason(r); })
                      : nullptr},
      query, Clock::now(), std::chrono::system_clock::now(), out);
}

std::map<std::string, std::uint64_t> IkeCore::counters() {
  const auto pool = key_pairs_.counters();
  counters_["ike_key_pairs_precomputed"] = pool.taken;
  counters_["ike_key_pairs_inline"] = pool.missed;
  counters_["ike_key_exchanges_offloaded"] = pool.prepared;
  if (relay_forwarder_)
    for (const auto& [k, v] : relay_forwarder_->counters()) counters_[k] = v;
  if (!endpoint_) return counters_;
  return status_view::counters(*endpoint_, counters_,
                               dataplane_.counters ? dataplane_.counters() : decltype(counters_){},
                               remote_access_.get());
}

}  // namespace natgate::gateway::core
