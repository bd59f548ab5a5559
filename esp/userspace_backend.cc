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
  const SaKey key{spec.spi, spec.dst.address};
  if (sas_.count(key)) return unexpected("SA " + std::to_string(spec.spi) + " exists");
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
  if (auto s = engine_->add_sa(c); !s) return s;
  if (spec.direction == dataplane::Direction::In) reserved_spis_.erase(spec.spi);
  sas_.emplace(key, Installed{spec.direction, path->remote.address, *path, spec.reqid});
  return {};
}

Status UserspaceBackend::update_sa_endpoints(std::uint32_t spi, const IpAddress& old_dst,
                                             const EndpointPair& ends, bool udp_encap) {
  auto it = sas_.find({spi, old_dst});
  if (it == sas_.end()) return unexpected("no SA " + std::to_string(spi) + " to " + old_dst.to_string());
  auto path = path_for(ends, udp_encap);
  if (!path) return unexpected(path.error());
  if (auto s = engine_->update_sa_path(Spi(spi), it->second.direction, it->second.remote, *path); !s)
    return s;
  Installed moved = it->second;
  moved.path = *path;
  moved.remote = path->remote.address;
  sas_.erase(it);
  // As SaBackend names SAs: (spi, outer destination).
  const IpAddress& dst =
      moved.direction == dataplane::Direction::In ? ends.local.address : ends.remote.address;
  sas_.emplace(SaKey{spi, dst}, moved);
  return {};
}

Expected<dataplane::SaCounters> UserspaceBackend::query_sa(std::uint32_t spi, const IpAddress& dst) {
  auto it = sas_.find({spi, dst});
  if (it == sas_.end()) return unexpected("no SA " + std::to_string(spi) + " to " + dst.to_string());
  auto sa = engine_->find_sa(Spi(spi), it->second.direction, it->second.remote);
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
  auto it = sas_.find({spi, dst});
  // An SPI reserved for a CHILD SA that never came up (as XFRM deletes a larval SA): free again.
  if (it == sas_.end() && reserved_spis_.erase(spi) != 0) return {};
  if (it == sas_.end()) return unexpected("no SA " + std::to_string(spi) + " to " + dst.to_string());
  auto s = engine_->remove_sa(Spi(spi), it->second.direction, it->second.remote);
  sas_.erase(it);
  return s;
}

bool UserspaceBackend::engine_rule_in_use(const PolicyRule& rule) const {
  // The SaBackend directions that map onto the engine rule's: O(log n) lookups, not a scan (a
  // scan per policy made installing n road warriors O(n^2), issue 13).
  for (const auto d : {dataplane::Direction::In, dataplane::Direction::Fwd, dataplane::Direction::Out}) {
    if (engine_direction(d) != rule.direction) continue;
    auto it = policies_.find(PolicyKey{rule.src, rule.dst, d});
    if (it != policies_.end() && it->second.engine_direction == rule.direction) return true;
  }
  return false;
}

Status UserspaceBackend::add_policy(const dataplane::PolicySpec& p) {
  const PolicyKey key{p.src, p.dst, p.direction};
  if (auto it = policies_.find(key); it != policies_.end())
    return unexpected("policy " + p.src.to_string() + " -> " + p.dst.to_string() + " exists (reqid " +
                      std::to_string(it->second.reqid) + ")");
  PolicyRule rule{p.src, p.dst, engine_direction(p.direction), p.reqid, p.priority};
  const bool shared = engine_rule_in_use(rule);
  if (!shared) {
    if (auto s = engine_->add_policy(rule); !s) return s;
  }
  InstalledPolicy installed{rule.direction, rule.reqid, rule.priority, {}};
  if (p.direction == dataplane::Direction::Out) {
    const auto source = local_sources_.address_in(p.src);
    for (const auto& subnet : subnets_covering(p.dst)) {
      auto routed = routes_.add(subnet, source);
      if (!routed) {
        for (const auto& added : installed.routes) (void)routes_.remove(added);
        if (!shared) (void)engine_->remove_policy(rule);
        return unexpected(routed.error());
      }
      installed.routes.push_back(*routed);
    }
  }
  policies_.emplace(key, std::move(installed));
  return {};
}

Status UserspaceBackend::replace_policy(const dataplane::PolicySpec& p) {
  auto it = policies_.find({p.src, p.dst, p.direction});
  if (it == policies_.end()) return unexpected("no policy " + p.src.to_string() + " -> " + p.dst.to_string());
  const PolicyRule rule{p.src, p.dst, engine_direction(p.direction), p.reqid, p.priority};
  // The engine holds one rule per selectors and direction, so the second of an In/Fwd pair
  // finds it replaced already.
  if (auto s = engine_->replace_policy(rule); !s) return s;
  it->second.engine_direction = rule.direction;
  it->second.reqid = rule.reqid;
  it->second.priority = rule.priority;
  return {};
}

Status UserspaceBackend::delete_policy(const dataplane::PolicySpec& p) {
  auto it = policies_.find({p.src, p.dst, p.direction});
  if (it == policies_.end()) return unexpected("no policy " + p.src.to_string() + " -> " + p.dst.to_string());
  Status result;
  for (const auto& subnet : it->second.routes)
    if (auto s = routes_.remove(subnet); !s && result) result = s;
  const PolicyRule rule = rule_of(it->first, it->second);
  policies_.erase(it);
  if (!engine_rule_in_use(rule))
    if (auto s = engine_->remove_policy(rule); !s && result) result = s;
  return result;
}

void UserspaceBackend::poll_events() {
  engine_->drain_events([&](const EngineEvent& ev) {
    switch (ev.kind) {
      case EngineEvent::Kind::SoftExpire:
      case EngineEvent::Kind::HardExpire: {
        // The SA as SaBackend names it: (spi, outer destination).
        const IpAddress dst = ev.direction == dataplane::Direction::In ? ev.dst : ev.remote;
        const bool hard = ev.kind == EngineEvent::Kind::HardExpire;
        auto it = sas_.find({ev.spi.value, dst});
        if (it == sas_.end()) return;  // already deleted by the control plane
        if (hard) {
          // As in the kernel, a hard expiry removes the SA before anyone hears of it.
          (void)engine_->remove_sa(ev.spi, it->second.direction, it->second.remote);
          sas_.erase(it);
        }
        if (listener_) listener_->on_expire(dataplane::ExpireEvent{ev.spi.value, dst, ev.reqid, hard});
        return;
      }
      case EngineEvent::Kind::Acquire:
        if (listener_) listener_->on_acquire(dataplane::AcquireEvent{ev.reqid, ev.src, ev.dst_ts});
        return;
      case EngineEvent::Kind::Mapping: {
        if (!listener_) return;
        dataplane::MappingEvent m{ev.spi.value, ev.dst, ev.reqid, Endpoint{ev.remote, 0}, ev.new_remote};
        for (const auto& [key, sa] : sas_)
          if (std::get<0>(key) == ev.spi.value && sa.direction == dataplane::Direction::In) {
            m.dst = std::get<1>(key);
            m.old_remote = sa.path.remote;
          }
        listener_->on_mapping(m);
        return;
      }
    }
  });
}

void UserspaceBackend::flush() {
  for (const auto& [key, sa] : sas_) (void)engine_->remove_sa(Spi(std::get<0>(key)), sa.direction, sa.remote);
  sas_.clear();
  for (const auto& [key, p] : policies_) {
    for (const auto& subnet : p.routes) (void)routes_.remove(subnet);
    (void)engine_->remove_policy(rule_of(key, p));  // a shared In/Fwd rule fails the second time: harmless
  }
  policies_.clear();
  reserved_spis_.clear();
}

}  // namespace natgate::esp
