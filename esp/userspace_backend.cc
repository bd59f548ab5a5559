#include "esp/userspace_backend.h"

#include <openssl/rand.h>

#include <chrono>

namespace natgate::esp {

namespace {

dataplane::Direction engine_direction(dataplane::Direction d) {
  // The engine makes no forward/input distinction: a forwarded packet reaches it through the TUN
  // like any other, and both kinds of inbound policy check decrypted packets.
  return d == dataplane::Direction::Fwd ? dataplane::Direction::In : d;
}

}  // namespace

Expected<std::unique_ptr<UserspaceBackend>> UserspaceBackend::create(const EngineConfig& config) {
  auto engine = Engine::start(config);
  if (!engine) return unexpected(engine.error());
  return wrap(std::shared_ptr<Engine>(std::move(*engine)));
}

Expected<std::unique_ptr<UserspaceBackend>> UserspaceBackend::wrap(std::shared_ptr<Engine> engine) {
  auto routes = RouteTable::open(engine->tun_ifindex());
  if (!routes) return unexpected(routes.error());
  return std::unique_ptr<UserspaceBackend>(new UserspaceBackend(std::move(engine), std::move(*routes)));
}

UserspaceBackend::UserspaceBackend(std::shared_ptr<Engine> engine, RouteTable routes)
    : engine_(std::move(engine)), routes_(std::move(routes)) {}

UserspaceBackend::~UserspaceBackend() { flush(); }

Expected<std::uint32_t> UserspaceBackend::allocate_spi(const AddressPair&, std::uint32_t) {
  for (int attempt = 0; attempt < 64; ++attempt) {
    std::uint32_t spi = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&spi), sizeof spi) != 1)
      return unexpected(std::string("no randomness for an SPI"));
    // RFC 4303 §2.1: 0 is reserved and 1-255 are reserved by IANA.
    if (spi <= 255 || reserved_spis_.count(spi) || engine_->registry().inbound_spi_in_use(spi)) continue;
    reserved_spis_.insert(spi);
    return spi;
  }
  return unexpected(std::string("no free SPI found"));
}

Expected<OuterPath> UserspaceBackend::path_for(const EndpointPair& ends, bool udp_encap) const {
  if (ends.local.address.family() != ends.remote.address.family())
    return unexpected(std::string("outer source and destination of different families"));
  OuterPath p;
  p.local = ends.local;
  p.remote = ends.remote;
  p.udp_encap = udp_encap;
  if (udp_encap) {
    bool bound = false;
    for (const auto& ep : engine_->udp_endpoints()) bound = bound || ep.port == p.local.port;
    if (!bound)
      return unexpected("the userspace engine has no UDP socket on port " + std::to_string(p.local.port));
  }
  return p;
}

Status UserspaceBackend::add_sa(const dataplane::SaSpec& spec) {
  if (spec.direction == dataplane::Direction::Fwd)
    return unexpected(std::string("an SA is In or Out, not Fwd"));
  if (spec.mode != dataplane::Mode::Tunnel)
    return unexpected(std::string("the userspace engine implements tunnel mode only"));
  if (sa_named(spec.spi, spec.dst.address)) return unexpected("SA " + std::to_string(spec.spi) + " exists");
  if (spec.if_id != 0 && !has_interface(spec.if_id))
    return unexpected("no interface TUN with if_id " + std::to_string(spec.if_id) + " in the engine");
  auto suite = Suite::from_transform(spec.transform);
  if (!suite) return unexpected(suite.error());
  auto path = path_for(dataplane::outer_ends(spec), spec.encap.has_value());
  if (!path) return unexpected(path.error());
  SaConfig c;
  c.spi = Spi(spec.spi);
  c.direction = spec.direction;
  c.reqid = spec.reqid;
  c.suite = *suite;
  c.encr_keymat = spec.encr_key;
  c.integ_key = spec.integ_key;
  c.path = *path;
  c.replay_window = spec.replay_window;
  c.soft = spec.soft;
  c.hard = spec.hard;
  c.local_ts = spec.local_ts;
  c.remote_ts = spec.remote_ts;
  c.if_id = static_cast<std::uint16_t>(spec.if_id);
  if (auto s = engine_->add_sa(c); !s) return s;
  if (spec.direction == dataplane::Direction::In) reserved_spis_.erase(spec.spi);
  return {};
}

std::optional<UserspaceBackend::SaName> UserspaceBackend::sa_named(std::uint32_t spi,
                                                                   const IpAddress& dst) const {
  const SaRegistry& registry = engine_->registry();
  const auto in = registry.path_of(Spi(spi), dataplane::Direction::In, IpAddress());
  if (in && in->local.address == dst) return SaName{dataplane::Direction::In, in->remote.address, *in};
  if (auto out = registry.path_of(Spi(spi), dataplane::Direction::Out, dst))
    return SaName{dataplane::Direction::Out, dst, *out};
  // An inbound SA whose local address the kernel chooses.
  if (in && in->local.address.is_unspecified())
    return SaName{dataplane::Direction::In, in->remote.address, *in};
  return std::nullopt;
}

Status UserspaceBackend::update_sa_endpoints(std::uint32_t spi, const IpAddress& old_dst,
                                             const EndpointPair& ends, bool udp_encap) {
  auto sa = sa_named(spi, old_dst);
  if (!sa) return unexpected("no SA " + std::to_string(spi) + " to " + old_dst.to_string());
  auto path = path_for(ends, udp_encap);
  if (!path) return unexpected(path.error());
  // The registry re-keys an outbound SA under its new peer: afterwards it is named (spi, new
  // outer destination), as SaBackend names SAs.
  return engine_->update_sa_path(Spi(spi), sa->direction, sa->remote, *path);
}

Expected<dataplane::SaCounters> UserspaceBackend::query_sa(std::uint32_t spi, const IpAddress& dst) {
  const auto name = sa_named(spi, dst);
  if (!name) return unexpected("no SA " + std::to_string(spi) + " to " + dst.to_string());
  auto sa = engine_->find_sa(Spi(spi), name->direction, name->remote);
  if (!sa) return unexpected("SA " + std::to_string(spi) + " is gone from the engine");
  const auto& st = sa->stats();
  dataplane::SaCounters c;
  c.bytes = st.bytes.load(std::memory_order_relaxed);
  c.packets = st.packets.load(std::memory_order_relaxed);
  c.replay_drops = st.replay_drops.load(std::memory_order_relaxed);
  c.auth_failures = st.auth_failures.load(std::memory_order_relaxed);
  c.selector_drops = st.selector_drops.load(std::memory_order_relaxed);
  const std::int64_t last = st.last_use_ns.load(std::memory_order_relaxed);
  const Clock::time_point since = last == 0 ? sa->installed_at() : Clock::time_point(Clock::duration(last));
  c.seconds_since_use = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - since).count());
  return c;
}

Status UserspaceBackend::delete_sa(std::uint32_t spi, const IpAddress& dst) {
  const auto name = sa_named(spi, dst);
  // An SPI reserved for a CHILD SA that never came up (as XFRM deletes a larval SA): free again.
  if (!name && reserved_spis_.erase(spi) != 0) return {};
  if (!name) return unexpected("no SA " + std::to_string(spi) + " to " + dst.to_string());
  return engine_->remove_sa(Spi(spi), name->direction, name->remote);
}

bool UserspaceBackend::holds(const dataplane::PolicySpec& p) const {
  return engine_->registry().policy_holders(p.src, p.dst, engine_direction(p.direction)) &
         holder_bit(p.direction);
}

Status UserspaceBackend::add_policy(const dataplane::PolicySpec& p) {
  const PolicyRule rule{p.src, p.dst, engine_direction(p.direction), p.reqid, p.priority};
  // Refused if this direction holds it already; the inbound or forward twin of a rule the engine
  // holds already only adds its bit.
  if (auto s = engine_->add_policy(rule, holder_bit(p.direction)); !s) return s;
  // Route-based (if_id): the operator's routes steer traffic into the connection's TUN, so the
  // engine neither routes nor pins anything for it (configs/README.md, "interface").
  if (p.direction == dataplane::Direction::Out && p.if_id == 0) {
    // The peer's own address first, while the path to it still leads outside the TUN.
    if (auto s = pin_peer(p); !s) {
      (void)engine_->remove_policy(rule, holder_bit(p.direction));
      return s;
    }
    const auto source = local_sources_.address_in(p.src);
    const auto subnets = subnets_covering(p.dst);
    for (std::size_t i = 0; i < subnets.size(); ++i) {
      if (auto s = routes_.add(subnets[i], source); !s) {
        for (std::size_t j = 0; j < i; ++j) (void)routes_.remove(subnets[j]);
        unpin_peer(p);
        (void)engine_->remove_policy(rule, holder_bit(p.direction));
        return unexpected(s.error());
      }
    }
  }
  ++policy_count_;
  return {};
}

Status UserspaceBackend::replace_policy(const dataplane::PolicySpec& p) {
  if (!holds(p)) return unexpected("no policy " + p.src.to_string() + " -> " + p.dst.to_string());
  if (p.direction == dataplane::Direction::Out && p.if_id == 0) {
    // A new outer peer (MOBIKE, a NAT rebinding) is pinned before the old one is let go.
    if (auto it = pinned_peers_.find({p.src, p.dst}); it != pinned_peers_.end()) {
      const IpAddress old = it->second;
      if (old != p.tunnel_dst.address) {
        pinned_peers_.erase(it);
        if (auto s = pin_peer(p); !s) {
          pinned_peers_.emplace(std::make_pair(p.src, p.dst), old);
          return s;
        }
        routes_.unpin_outside(old);
      }
    } else if (auto s = pin_peer(p); !s) {
      return s;
    }
  }
  // The engine holds one rule per selectors and direction, so the second of an In/Fwd pair
  // finds it replaced already.
  return engine_->replace_policy(
      PolicyRule{p.src, p.dst, engine_direction(p.direction), p.reqid, p.priority});
}

Status UserspaceBackend::delete_policy(const dataplane::PolicySpec& p) {
  if (!holds(p)) return unexpected("no policy " + p.src.to_string() + " -> " + p.dst.to_string());
  Status result;
  if (p.direction == dataplane::Direction::Out && p.if_id == 0) {
    for (const auto& subnet : subnets_covering(p.dst))
      if (auto s = routes_.remove(subnet); !s && result) result = s;
    unpin_peer(p);
  }
  // The engine keeps the rule while its In/Fwd twin still holds it.
  const PolicyRule rule{p.src, p.dst, engine_direction(p.direction), p.reqid, p.priority};
  if (auto s = engine_->remove_policy(rule, holder_bit(p.direction)); !s && result) result = s;
  --policy_count_;
  return result;
}

Status UserspaceBackend::pin_peer(const dataplane::PolicySpec& p) {
  const IpAddress& peer = p.tunnel_dst.address;
  // Only where the TUN routes would capture the peer: a gateway's road warriors (remote selector
  // = their virtual IP) cost no host route each.
  if (peer.is_unspecified() || peer.family() != p.dst.family() || !p.dst.contains(peer)) return {};
  if (pinned_peers_.count({p.src, p.dst})) return {};
  if (auto s = routes_.pin_outside(peer); !s)
    return unexpected("keeping the peer " + peer.to_string() + " outside the tunnel: " + s.error());
  pinned_peers_.emplace(std::make_pair(p.src, p.dst), peer);
  return {};
}

void UserspaceBackend::unpin_peer(const dataplane::PolicySpec& p) {
  auto it = pinned_peers_.find({p.src, p.dst});
  if (it == pinned_peers_.end()) return;
  routes_.unpin_outside(it->second);
  pinned_peers_.erase(it);
}

void UserspaceBackend::poll_events() {
  engine_->drain_events([&](const EngineEvent& ev) {
    switch (ev.kind) {
      case EngineEvent::Kind::SoftExpire:
      case EngineEvent::Kind::HardExpire: {
        // The SA as SaBackend names it: (spi, outer destination).
        const IpAddress dst = ev.direction == dataplane::Direction::In ? ev.dst : ev.remote;
        const bool hard = ev.kind == EngineEvent::Kind::HardExpire;
        const auto name = sa_named(ev.spi.value, dst);
        if (!name) return;  // already deleted by the control plane
        // As in the kernel, a hard expiry removes the SA before anyone hears of it.
        if (hard) (void)engine_->remove_sa(ev.spi, name->direction, name->remote);
        if (listener_) listener_->on_expire(dataplane::ExpireEvent{ev.spi.value, dst, ev.reqid, hard});
        return;
      }
      case EngineEvent::Kind::Acquire:
        if (listener_) listener_->on_acquire(dataplane::AcquireEvent{ev.reqid, ev.src, ev.dst_ts});
        return;
      case EngineEvent::Kind::Mapping: {
        if (!listener_) return;
        dataplane::MappingEvent m{ev.spi.value, ev.dst, ev.reqid, Endpoint{ev.remote, 0}, ev.new_remote};
        if (auto in = engine_->registry().path_of(ev.spi, dataplane::Direction::In, IpAddress())) {
          m.dst = in->local.address;
          m.old_remote = in->remote;
        }
        listener_->on_mapping(m);
        return;
      }
    }
  });
}

void UserspaceBackend::flush() {
  // In bulk (natgated's shutdown with every road warrior up): one route removal per route the
  // table holds (the pools' aggregates stand for all their virtual IPs) and one empty snapshot,
  // instead of a snapshot per SA and per rule (docs/performance.md, "Exit on SIGTERM").
  routes_.remove_all();  // and the pinned peers' host routes
  pinned_peers_.clear();
  engine_->registry().clear();
  policy_count_ = 0;
  reserved_spis_.clear();
}

}  // namespace natgate::esp
