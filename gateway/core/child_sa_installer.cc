#include "gateway/core/child_sa_installer.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "gateway/daemon/logging.h"

namespace natgate::gateway::core {

dataplane::EspTransform esp_transform(const ike::CryptoSuite& suite) {
  dataplane::EspTransform t;
  t.encr = suite.encr.id;
  // ChaCha20-Poly1305 carries no Key Length attribute (RFC 7634 §3); its key is 256 bits.
  t.encr_key_bits =
      suite.encr.key_bits != 0 ? suite.encr.key_bits : static_cast<std::uint16_t>(suite.encr_key_size() * 8);
  t.integ = suite.integ;
  t.esn = suite.esn;
  return t;
}

namespace {

dataplane::SaSpec sa_spec(const ike::ChildSaEstablished& e, bool inbound, std::uint32_t reqid,
                          std::chrono::seconds soft, std::chrono::seconds lifetime, std::uint32_t if_id) {
  dataplane::SaSpec s;
  s.spi = inbound ? e.inbound_spi : e.outbound_spi;
  s.direction = inbound ? dataplane::Direction::In : dataplane::Direction::Out;
  s.reqid = reqid;
  s.mode = e.mode == ike::ChildMode::Transport ? dataplane::Mode::Transport : dataplane::Mode::Tunnel;
  dataplane::set_outer_ends(s, {.local = e.local, .remote = e.remote}, e.udp_encapsulation);
  s.transform = esp_transform(e.esp);
  const ike::DirectionKeys& keys = inbound ? e.inbound_keys : e.outbound_keys;
  s.encr_key = keys.encr;
  s.integ_key = keys.integ;
  s.soft.seconds = static_cast<std::uint64_t>(soft.count());
  s.hard.seconds = static_cast<std::uint64_t>(lifetime.count());
  s.local_ts = e.local_ts;
  s.remote_ts = e.remote_ts;
  s.if_id = if_id;
  return s;
}

}  // namespace

std::vector<dataplane::PolicySpec> ChildSaInstaller::policy_specs(
    std::uint32_t reqid, const std::vector<TrafficSelector>& local_ts,
    const std::vector<TrafficSelector>& remote_ts, const EndpointPair& outer, std::uint32_t if_id) const {
  std::vector<dataplane::PolicySpec> out;
  for (const auto& l : local_ts) {
    for (const auto& r : remote_ts) {
      if (l.family() != r.family()) continue;
      dataplane::PolicySpec p;
      p.reqid = reqid;
      p.mode = dataplane::Mode::Tunnel;
      p.src = l;
      p.dst = r;
      p.direction = dataplane::Direction::Out;
      p.tunnel_src = outer.local;
      p.tunnel_dst = outer.remote;
      p.if_id = if_id;
      out.push_back(p);
      // Inbound and forwarded traffic must have come through the tunnel (RFC 4301 §5.2).
      for (auto d : {dataplane::Direction::In, dataplane::Direction::Fwd}) {
        dataplane::PolicySpec q = p;
        q.src = r;
        q.dst = l;
        q.direction = d;
        q.tunnel_src = outer.remote;
        q.tunnel_dst = outer.local;
        out.push_back(q);
      }
    }
  }
  return out;
}

namespace {

// The same policy as the data plane holds it: reqid and template addresses (ports are the
// SAs' business).
bool same_policy(const dataplane::PolicySpec& a, const dataplane::PolicySpec& b) {
  return a.reqid == b.reqid && a.mode == b.mode && a.priority == b.priority &&
         a.tunnel_src.address == b.tunnel_src.address && a.tunnel_dst.address == b.tunnel_dst.address;
}

}  // namespace

std::string policy_owner(const std::string& connection, bool any_id,
                         const std::optional<ike::Identity>& peer) {
  if (!any_id) return connection;  // one identity only: the connection names it
  return connection + " (" + (peer ? peer->to_string() : std::string("no identity yet")) + ")";
}

std::optional<std::string> ChildSaInstaller::conflict(const std::string& owner,
                                                      const std::vector<dataplane::PolicySpec>& specs) const {
  for (const auto& p : specs) {
    if (p.direction != dataplane::Direction::Out) continue;  // in/fwd mirror the out policies
    if (const HeldPolicy* held = held_.overlapping(p, owner))
      return "traffic " + p.src.to_string() + " <-> " + p.dst.to_string() + " overlaps " +
             held->spec.src.to_string() + " <-> " + held->spec.dst.to_string() + ", held by " + *held->owner +
             " (reqid " + std::to_string(held->spec.reqid) + ")";
  }
  return std::nullopt;
}

std::optional<std::string> ChildSaInstaller::owner_of(std::uint32_t reqid) const {
  if (const HeldPolicy* held = held_.any_of(reqid)) return *held->owner;
  return std::nullopt;
}

bool ChildSaInstaller::has_policies(std::uint32_t reqid) const { return owner_of(reqid).has_value(); }

std::optional<std::uint32_t> ChildSaInstaller::holder_reqid(const TrafficSelector& src,
                                                            const TrafficSelector& dst,
                                                            dataplane::Direction direction) const {
  const auto held = held_.find({src, dst, direction});
  if (!held) return std::nullopt;
  return held->spec.reqid;
}

Status ChildSaInstaller::check_policies(const std::string& owner,
                                        const std::vector<TrafficSelector>& local_ts,
                                        const std::vector<TrafficSelector>& remote_ts) const {
  if (auto clash = conflict(owner, policy_specs(0, local_ts, remote_ts, {}, 0))) return unexpected(*clash);
  return {};
}

Status ChildSaInstaller::install_policies(std::uint32_t reqid, const std::string& owner,
                                          const std::vector<TrafficSelector>& local_ts,
                                          const std::vector<TrafficSelector>& remote_ts,
                                          const EndpointPair& outer, std::uint32_t if_id) {
  const auto specs = policy_specs(reqid, local_ts, remote_ts, outer, if_id);
  if (auto clash = conflict(owner, specs)) return unexpected(*clash);
  // Reqids only grow (a successor's is newer), so a predecessor that is still around (its
  // CHILD SA rekeyed before DPD ends it) cannot take its policies back from the successor.
  for (const auto& p : specs) {
    const auto held = held_.find(PolicyBook::key_of(p));
    if (held && held->spec.reqid > reqid)
      return unexpected("policy " + p.src.to_string() + " -> " + p.dst.to_string() +
                        " belongs to a newer SA of " + owner + " (reqid " + std::to_string(held->spec.reqid) +
                        ")");
  }
  // What changed, to undo it if a later policy fails: the entry before (none if added).
  std::vector<std::pair<PolicyKey, std::optional<HeldPolicy>>> done;
  auto undo = [&] {
    for (auto it = done.rbegin(); it != done.rend(); ++it) {
      if (it->second) {
        if (backend_) (void)backend_->replace_policy(it->second->spec);
        held_.put(it->first, *it->second);
      } else {
        if (const auto added = held_.find(it->first); added && backend_)
          (void)backend_->delete_policy(added->spec);
        held_.erase(it->first);
      }
    }
  };
  for (const auto& p : specs) {
    const PolicyKey key = PolicyBook::key_of(p);
    const auto held = held_.find(key);
    if (held && same_policy(held->spec, p)) continue;
    std::optional<HeldPolicy> before;
    if (held) before = *held;
    if (backend_) {
      // Replaced in place, never deleted and added: traffic always finds a policy.
      Status s = before ? backend_->replace_policy(p) : backend_->add_policy(p);
      if (!s) {
        undo();
        return unexpected("policy " + p.src.to_string() + " -> " + p.dst.to_string() + ": " + s.error());
      }
    }
    if (before && before->spec.reqid != reqid)
      knl_log().info("{}: policy {} -> {} handed over from reqid {} to reqid {}", owner, p.src.to_string(),
                     p.dst.to_string(), before->spec.reqid, reqid);
    done.emplace_back(key, std::move(before));
    held_.put(key, owner, p);
  }
  return {};
}

void ChildSaInstaller::release_policies(std::uint32_t reqid) {
  auto keys = held_.keys_of(reqid);
  // Inbound and forward first: the book holds them as bits of their outbound policy, which
  // would otherwise store them on their own for a moment when it goes first.
  std::stable_partition(keys.begin(), keys.end(),
                        [](const PolicyKey& k) { return std::get<2>(k) != dataplane::Direction::Out; });
  for (const PolicyKey& key : keys) {
    const dataplane::PolicySpec p = held_.find(key)->spec;
    if (backend_) {
      if (Status s = backend_->delete_policy(p); !s)
        knl_log().warn("removing policy {} -> {} (reqid {}): {}", p.src.to_string(), p.dst.to_string(), reqid,
                       s.error());
    }
    held_.erase(key);
  }
}

Expected<InstalledChild> ChildSaInstaller::install(const ike::ChildSaEstablished& e, std::uint32_t reqid,
                                                   const std::string& owner, std::chrono::seconds soft,
                                                   std::chrono::seconds lifetime, std::uint32_t if_id) {
  InstalledChild c;
  c.name = e.child_config;
  c.reqid = reqid;
  c.inbound_spi = e.inbound_spi;
  c.outbound_spi = e.outbound_spi;
  c.local = e.local;
  c.remote = e.remote;
  c.udp_encapsulation = e.udp_encapsulation;
  c.local_ts = e.local_ts;
  c.remote_ts = e.remote_ts;
  c.esp = e.esp;
  if (e.replaces_inbound_spi) c.replaces_inbound_spi = *e.replaces_inbound_spi;
  if (e.defer_outbound)
    c.pending_outbound = std::make_unique<dataplane::SaSpec>(sa_spec(e, false, reqid, soft, lifetime, if_id));
  // Another owner's traffic: refused before any SA goes in.
  if (Status s = check_policies(owner, e.local_ts, e.remote_ts); !s) return unexpected(s.error());
  if (!backend_) {
    if (Status s = install_policies(reqid, owner, e.local_ts, e.remote_ts,
                                    {.local = e.local, .remote = e.remote}, if_id);
        !s)
      return unexpected(s.error());
    return c;
  }

  // Inbound first: the peer may use its outbound SA as soon as its side is done.
  if (Status s = backend_->add_sa(sa_spec(e, true, reqid, soft, lifetime, if_id)); !s)
    return unexpected("inbound SA " + spi_hex(e.inbound_spi) + ": " + s.error());
  if (e.defer_outbound) {
    // The pair this one replaces holds the connection's policies already.
    if (Status s = install_policies(reqid, owner, e.local_ts, e.remote_ts,
                                    {.local = e.local, .remote = e.remote}, if_id);
        !s) {
      (void)backend_->delete_sa(e.inbound_spi, e.local.address);
      return unexpected(s.error());
    }
    return c;
  }
  if (Status s = backend_->add_sa(sa_spec(e, false, reqid, soft, lifetime, if_id)); !s) {
    (void)backend_->delete_sa(e.inbound_spi, e.local.address);
    return unexpected("outbound SA " + spi_hex(e.outbound_spi) + ": " + s.error());
  }
  if (Status s = install_policies(reqid, owner, e.local_ts, e.remote_ts,
                                  {.local = e.local, .remote = e.remote}, if_id);
      !s) {
    (void)backend_->delete_sa(e.inbound_spi, e.local.address);
    (void)backend_->delete_sa(e.outbound_spi, e.remote.address);
    return unexpected(s.error());
  }
  return c;
}

Status ChildSaInstaller::install_outbound(InstalledChild& c) {
  if (!c.pending_outbound) return {};
  dataplane::SaSpec spec = std::move(*c.pending_outbound);
  c.pending_outbound.reset();
  if (!backend_) return {};
  if (Status s = backend_->add_sa(spec); !s)
    return unexpected("outbound SA " + spi_hex(c.outbound_spi) + ": " + s.error());
  return {};
}

void ChildSaInstaller::remove(const InstalledChild& c) {
  if (!backend_) return;
  if (Status s = backend_->delete_sa(c.inbound_spi, c.local.address); !s)
    knl_log().debug("{}: removing inbound SA {}: {}", c.name, spi_hex(c.inbound_spi), s.error());
  if (c.pending_outbound) return;  // never installed
  if (Status s = backend_->delete_sa(c.outbound_spi, c.remote.address); !s)
    knl_log().debug("{}: removing outbound SA {}: {}", c.name, spi_hex(c.outbound_spi), s.error());
}

Status ChildSaInstaller::move(InstalledChild& c, const EndpointPair& ends) {
  std::string errors;
  if (c.pending_outbound) dataplane::set_outer_ends(*c.pending_outbound, ends, c.udp_encapsulation);
  if (backend_) {
    if (Status s = backend_->update_sa_endpoints(c.inbound_spi, c.local.address, ends, c.udp_encapsulation);
        !s)
      errors += "inbound SA " + spi_hex(c.inbound_spi) + ": " + s.error();
    if (c.pending_outbound) {
      // nothing installed yet: the held spec follows above
    } else if (Status s =
                   backend_->update_sa_endpoints(c.outbound_spi, c.remote.address, ends, c.udp_encapsulation);
               !s)
      errors += (errors.empty() ? "" : "; ") + ("outbound SA " + spi_hex(c.outbound_spi) + ": " + s.error());
  }
  const bool addresses_changed =
      c.local.address != ends.local.address || c.remote.address != ends.remote.address;
  c.local = ends.local;
  c.remote = ends.remote;
  // Policy templates name the tunnel's addresses (not ports): only an address change moves them.
  if (auto owner = owner_of(c.reqid); addresses_changed && owner) {
    if (Status s = install_policies(c.reqid, *owner, c.local_ts, c.remote_ts, ends); !s)
      errors += (errors.empty() ? "" : "; ") + s.error();
  }
  if (!errors.empty()) return unexpected(errors);
  return {};
}

ChildTraffic ChildSaInstaller::traffic(const InstalledChild& c) const {
  ChildTraffic t;
  if (!backend_) return t;
  if (auto in = backend_->query_sa(c.inbound_spi, c.local.address)) t.in = *in;
  if (c.pending_outbound) return t;
  if (auto out = backend_->query_sa(c.outbound_spi, c.remote.address)) t.out = *out;
  return t;
}

}  // namespace natgate::gateway::core
