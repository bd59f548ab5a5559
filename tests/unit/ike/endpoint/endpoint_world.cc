#include "endpoint_world.h"

#include <cstdlib>

namespace natgate::ike::testing {

natgate::Endpoint Node::seen_as(const natgate::Endpoint& local) const {
  if (!nat_public) return local;
  return natgate::Endpoint{*nat_public, static_cast<std::uint16_t>(local.port + nat_shift)};
}

std::uint64_t Node::counter(const std::string& name) const {
  auto it = endpoint->counters().find(name);
  return it == endpoint->counters().end() ? 0 : it->second;
}

std::optional<TimePoint> Node::timer(EndpointTimer kind, SaId sa, std::uint32_t spi) const {
  for (const auto& [key, at] : timers)
    if (key.kind == kind && (sa == 0 || key.sa == sa) && (spi == 0 || key.spi == spi)) return at;
  return std::nullopt;
}

std::vector<const IkeSaEntry*> Node::established() const {
  std::vector<const IkeSaEntry*> out;
  for (SaId id : endpoint->table().ids())
    if (const IkeSaEntry* e = endpoint->table().find(id); e && e->is_established()) out.push_back(e);
  return out;
}

bool Node::logged(const std::string& text) const {
  for (const auto& l : logs)
    if (l.text.find(text) != std::string::npos) return true;
  return false;
}

EndpointWorld::~EndpointWorld() {
  // The Endpoints first: their SAs give SPIs back into the nodes' fake data planes.
  for (auto& n : nodes_) n->endpoint.reset();
}

std::shared_ptr<IkeSaConfig> EndpointWorld::default_ike_config() {
  auto c = std::make_shared<IkeSaConfig>();
  c->proposals = {ike_proposal("aes256gcm16-prfsha256-x25519")};
  return c;
}

Node& EndpointWorld::add_node(const std::string& name, const std::string& ip) {
  auto n = std::make_unique<Node>();
  n->name = name;
  n->address = endpoint(ip, 500).address;
  n->random = crypto::DeterministicRandom(nodes_.size() + 1);
  nodes_.push_back(std::move(n));
  return *nodes_.back();
}

std::size_t EndpointWorld::index_of(const Node& n) const {
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].get() == &n) return i;
  std::abort();
}

namespace {

std::shared_ptr<PeerConfig> peer(const std::string& name, const std::string& local_id,
                                 const std::optional<std::string>& remote_id, const std::string& local_ts,
                                 const std::string& remote_ts) {
  auto p = std::make_shared<PeerConfig>();
  p->name = name;
  p->local_id = Identity::fqdn(local_id);
  if (remote_id) p->remote_id = Identity::fqdn(*remote_id);
  p->psk = secret("correct horse battery staple");
  p->children.push_back(
      ChildConfig{name, {esp_proposal("aes256gcm16")}, {ts(local_ts)}, {ts(remote_ts)}, ChildMode::Tunnel});
  return p;
}

}  // namespace

std::shared_ptr<ConnectionSettings> EndpointWorld::dial(Node& a, Node& b, const std::string& name,
                                                        const std::string& a_id, const std::string& b_id,
                                                        ConnectionStart start) {
  // Each node's own /24: 10.n.0.0 for the first 254 nodes, then 10.255.k.0 (up to 509 nodes).
  auto subnet_of = [this](const Node& n) {
    const std::size_t i = index_of(n) + 1;
    return i <= 254 ? "10." + std::to_string(i) + ".0.0/24" : "10.255." + std::to_string(i - 254) + ".0/24";
  };
  const std::string a_ts = subnet_of(a);
  const std::string b_ts = subnet_of(b);
  auto sa = std::make_shared<ConnectionSettings>();
  sa->name = name;
  sa->start = start;
  sa->remote = natgate::Endpoint{b.nat_public.value_or(b.address), 500};
  sa->remote_id_text = b_id;
  sa->keepalive = std::chrono::seconds(20);
  sa->reqid = static_cast<std::uint32_t>(a.connections.size() + 1);
  sa->ike = ike;
  sa->peer = peer(name, a_id, b_id, a_ts, b_ts);
  a.connections.push_back(sa);
  return sa;
}

std::shared_ptr<ConnectionSettings> EndpointWorld::connect(Node& a, Node& b, const std::string& name,
                                                           const std::string& a_id, const std::string& b_id,
                                                           ConnectionStart start) {
  auto sa = dial(a, b, name, a_id, b_id, start);
  // Each node's own /24: 10.n.0.0 for the first 254 nodes, then 10.255.k.0 (up to 509 nodes).
  auto subnet_of = [this](const Node& n) {
    const std::size_t i = index_of(n) + 1;
    return i <= 254 ? "10." + std::to_string(i) + ".0.0/24" : "10.255." + std::to_string(i - 254) + ".0/24";
  };
  const std::string a_ts = subnet_of(a);
  const std::string b_ts = subnet_of(b);
  auto sb = std::make_shared<ConnectionSettings>();
  sb->name = name;
  sb->start = ConnectionStart::Listen;
  sb->remote_id_text = a_id;
  sb->keepalive = std::chrono::seconds(20);
  sb->reqid = static_cast<std::uint32_t>(b.connections.size() + 1);
  sb->ike = ike;
  auto pb = peer(name, b_id, a_id, b_ts, a_ts);
  sb->peer = pb;
  b.configs.ike = ike;
  b.configs.peers.push_back(pb);
  b.connections.push_back(sb);
  return sa;
}

std::shared_ptr<ConnectionSettings> EndpointWorld::accept_any(Node& b, const std::string& name,
                                                              const std::string& b_id) {
  auto sb = std::make_shared<ConnectionSettings>();
  sb->name = name;
  sb->start = ConnectionStart::Listen;
  sb->any_remote_id = true;
  sb->keepalive = std::chrono::seconds(20);
  sb->reqid = static_cast<std::uint32_t>(b.connections.size() + 1);
  sb->ike = ike;
  // Every client proposes its own 10.x.0.0/24 to our 10.0.0.0/8 side: the responder narrows.
  auto pb = peer(name, b_id, std::nullopt, "10.0.0.0/8", "10.0.0.0/8");
  pb->children.front().remote_ts = {ts("0.0.0.0/0")};
  sb->peer = pb;
  b.configs.ike = ike;
  b.configs.peers.push_back(pb);
  b.connections.push_back(sb);
  return sb;
}

void EndpointWorld::start(Node& n) {
  const std::size_t idx = index_of(n);
  EndpointConfig config;
  config.environment.random = &n.random;
  config.environment.configs = &n.configs;
  Node* np = &n;
  config.environment.allocate_spi = [np, idx](const IpAddress&, const IpAddress&) -> Expected<std::uint32_t> {
    return static_cast<std::uint32_t>(((idx + 1) << 24) | ++np->spis_allocated);
  };
  config.environment.release_spi = [np](std::uint32_t spi, const IpAddress&) {
    np->spis_released.push_back(spi);
  };
  config.ike_sas_per_identity = n.ike_sas_per_identity;
  config.local_address_for = [np](const IpAddress&) -> Expected<IpAddress> { return np->address; };
  config.resolve_host = [np](const std::string& host) -> Expected<std::vector<IpAddress>> {
    np->dns_queries.push_back(host);
    auto it = np->dns.find(host);
    if (it == np->dns.end()) return unexpected(std::string("Name or service not known"));
    return it->second;
  };
  n.endpoint = std::make_unique<ike::Endpoint>(std::move(config), n.configs);
  std::vector<std::shared_ptr<const ConnectionSettings>> connections(n.connections.begin(),
                                                                     n.connections.end());
  apply(n, n.endpoint->start(std::move(connections), now));
}

void EndpointWorld::restart(Node& n) {
  n.endpoint.reset();
  n.timers.clear();
  n.children.clear();
  start(n);
}

void EndpointWorld::start_all() {
  // Responders first, so that an initiation finds its peer ready.
  for (auto& n : nodes_)
    if (!n->endpoint) {
      bool initiates = false;
      for (const auto& c : n->connections) initiates |= c->start == ConnectionStart::Initiate;
      if (!initiates) start(*n);
    }
  for (auto& n : nodes_)
    if (!n->endpoint) start(*n);
  run();
}

void EndpointWorld::apply(Node& n, EndpointOutput&& out) {
  const std::size_t idx = index_of(n);
  std::vector<std::pair<SaId, std::uint32_t>> failed;
  for (auto& action : out.actions) {
    if (auto* d = std::get_if<SendDatagram>(&action)) {
      WirePacket p{idx, d->datagram};
      wire.push_back(p);
      if (!deliver_if || deliver_if(p)) queue_.push_back(std::move(p));
    } else if (auto* k = std::get_if<SendKeepalive>(&action)) {
      n.keepalives.push_back(*k);
    } else if (auto* t = std::get_if<ArmTimer>(&action)) {
      if (t->deadline)
        n.timers[t->key] = *t->deadline;
      else
        n.timers.erase(t->key);
    } else if (auto* i = std::get_if<InstallChildSa>(&action)) {
      n.installs.push_back(i->child.inbound_spi);
      if (n.fail_installs) {
        failed.push_back({i->sa, i->child.inbound_spi});
        continue;
      }
      n.children[i->child.inbound_spi] = FakeChild{i->sa,          i->connection,   i->child.outbound_spi,
                                                   i->child.local, i->child.remote, !i->child.defer_outbound};
    } else if (auto* s = std::get_if<SwitchOutbound>(&action)) {
      if (auto it = n.children.find(s->inbound_spi); it != n.children.end())
        it->second.outbound_switched = true;
    } else if (auto* r = std::get_if<RemoveChildSa>(&action)) {
      n.removes.push_back(r->inbound_spi);
      n.children.erase(r->inbound_spi);
    } else if (auto* m = std::get_if<MoveChildSa>(&action)) {
      n.moves.push_back(*m);
      if (auto it = n.children.find(m->inbound_spi); it != n.children.end()) {
        it->second.local = m->local;
        it->second.remote = m->remote;
      }
    } else if (auto* rp = std::get_if<ReleasePolicies>(&action)) {
      n.released_policies.push_back(rp->reqid);
    } else if (auto* tp = std::get_if<InstallTrafficPolicies>(&action)) {
      n.traffic_policies.push_back(tp->connection);
    } else if (auto* rs = std::get_if<ReleaseSaResources>(&action)) {
      n.released_resources.push_back(rs->sa);
    } else if (auto* c = std::get_if<ControlReply>(&action)) {
      ControlReply reply = *c;
      for (const auto& [sa, spi] : failed)
        if (reply.after_install == spi) reply.ok = false;
      n.replies[reply.token] = reply;
    } else if (auto* l = std::get_if<LogLine>(&action)) {
      n.logs.push_back(*l);
    } else if (std::holds_alternative<ShutdownComplete>(action)) {
      n.shutdown_complete = true;
    }
  }
  for (const auto& [sa, spi] : failed)
    apply(n, n.endpoint->child_install_failed(sa, spi, "refused by the test", now));
}

void EndpointWorld::deliver(const WirePacket& p) {
  const Node& from = *nodes_.at(p.from);
  const Datagram& d = p.datagram;
  for (auto& to : nodes_) {
    if (to->nat_public.value_or(to->address) != d.remote.address || !to->endpoint) continue;
    std::uint16_t port = d.remote.port;
    if (to->nat_public) port = static_cast<std::uint16_t>(port - to->nat_shift);
    if (port != 500 && port != 4500) return;  // no NAT mapping for it (any more)
    ReceivedDatagram in{d.bytes, natgate::Endpoint{to->address, port}, from.seen_as(d.local), d.natt};
    apply(*to, to->endpoint->handle_datagram(in, now));
    return;
  }
}

void EndpointWorld::run() {
  for (int i = 0; i < 100000 && !queue_.empty(); ++i) {
    WirePacket p = std::move(queue_.front());
    queue_.pop_front();
    deliver(p);
  }
}

void EndpointWorld::advance(std::chrono::milliseconds d) {
  const TimePoint until = now + d;
  for (int i = 0; i < 100000; ++i) {
    Node* due = nullptr;
    std::optional<EndpointTimerKey> key;
    TimePoint at = until;
    for (auto& n : nodes_)
      for (const auto& [k, deadline] : n->timers)
        if (deadline <= at) {
          at = deadline;
          due = n.get();
          key = k;
        }
    if (!due) break;
    now = std::max(now, at);
    due->timers.erase(*key);
    apply(*due, due->endpoint->on_timer(*key, now));
    run();
  }
  now = until;
}

}  // namespace natgate::ike::testing
