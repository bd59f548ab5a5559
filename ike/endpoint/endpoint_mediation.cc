#include "ike/endpoint/endpoint_mediation.h"

#include <algorithm>
#include <utility>
#include <variant>

#include "ike/codec/mediation_payloads.h"
#include "ike/codec/message_codec.h"
#include "ike/endpoint/endpoint.h"
#include "ike/mediation/check_message.h"

namespace natgate::ike {

namespace {

mediation::PeerId peer_id(const Identity& id) { return {id.type, id.data}; }
// A peer as the log names identities elsewhere ("bob.example.net", not the registry's "2:…").
std::string peer_text(const mediation::PeerId& p) { return Identity{p.type, p.data}.to_string(); }

std::string describe(const mediation::MeConnect& m) {
  std::string text = mediation::PeerId::of(m.peer).to_string();
  if (m.callback) return "callback for " + text;
  return std::string(m.response ? "response from " : "request from ") + text + ", " +
         std::to_string(m.endpoints.size()) + " endpoint" + (m.endpoints.size() == 1 ? "" : "s");
}

}  // namespace

std::vector<Payload> EndpointMediation::on_me_connect(const IkeSpi& local_spi,
                                                      const std::vector<Payload>& request, TimePoint now) {
  IkeSaEntry* e = table_.find_by_local_spi(local_spi);
  const SaId sa = e ? e->id : 0;
  if (e && e->sa->is_initiator() && !registered(sa)) return as_peer(sa, request);

  auto decision = registry_.on_me_connect(sa, request, now);
  if (auto* forward = std::get_if<mediation::Forward>(&decision)) {
    sends_.push_back(Send{forward->to, mediation::payloads_from_server(forward->message),
                          "ME_CONNECT " + describe(forward->message)});
    return {};
  }
  const auto& refuse = std::get<mediation::Refuse>(decision);
  ++refused_;
  notes_.push_back(
      "ME_CONNECT refused (" +
      std::string(refuse.notify == me_notify::kConnectFailed ? "ME_CONNECT_FAILED" : "INVALID_SYNTAX") +
      "): " + refuse.reason);
  return {Notify::make(refuse.notify)};
}

std::vector<Payload> EndpointMediation::as_peer(SaId sa, const std::vector<Payload>& request) {
  auto parsed = mediation::parse_me_connect(request, mediation::Reader::Peer, peer_decode_counters_);
  if (!parsed) {
    ++received_invalid_;
    notes_.push_back(std::string("ME_CONNECT from the mediation server refused: ") +
                     to_string(parsed.error()));
    return {Notify::make(iana::NotifyType::InvalidSyntax)};
  }
  ++received_count_;
  notes_.push_back("ME_CONNECT " + describe(*parsed) + " from the mediation server");
  if (received_.size() >= kMaxReceived) received_.pop_front();
  received_.push_back(Received{sa, *parsed});
  pending_.push_back(Received{sa, std::move(*parsed)});
  return {};
}

// ---- the mediated peer ------------------------------------------------------------------------

void EndpointMediation::on_server_reflexive(const IkeSpi& local_spi, const natgate::Endpoint& seen_at) {
  if (IkeSaEntry* e = table_.find_by_local_spi(local_spi)) {
    server_reflexive_[e->id] = seen_at;
    notes_.push_back("the mediation server sees us at " + seen_at.to_string());
  }
}

std::optional<natgate::Endpoint> EndpointMediation::server_reflexive(SaId mediation_sa) const {
  auto it = server_reflexive_.find(mediation_sa);
  if (it == server_reflexive_.end()) return std::nullopt;
  return it->second;
}

Bytes EndpointMediation::mediated_connect_id(const IkeSpi& local_spi) const {
  const IkeSaEntry* e = table_.find_by_local_spi(local_spi);
  if (!e) return {};
  auto it = mediated_sas_.find(e->id);
  return it == mediated_sas_.end() ? Bytes{} : it->second;
}

void EndpointMediation::on_mediated_init(ByteView connect_id) {
  // The responder's check list ends (strongSwan 5.9.8); the IKE SA itself is an ordinary one.
  if (Attempt* a = attempt_by_connect_id(connect_id); a && !a->initiator) {
    std::string reason = "the peer's mediated IKE_SA_INIT arrived";
    if (a->checks) {
      // The pair our own checks found valid, if any, is the one the peer most likely nominated.
      if (auto pair = a->checks->best_valid_pair())
        reason = "pair " + std::to_string(pair->id) + " " + pair->path.local.to_string() + " - " +
                 pair->path.remote.to_string() + " succeeded; " + reason;
      a->checks->stop();
    }
    notes_.push_back(a->connection + ": the mediated IKE_SA_INIT arrived, checks end");
    direct_arrived_.push_back(DirectArrived{a->connection, std::move(reason)});
  }
}

void EndpointMediation::on_me_connect_response(const IkeSpi& local_spi,
                                               const std::vector<Payload>& response) {
  IkeSaEntry* e = table_.find_by_local_spi(local_spi);
  if (!e) return;
  auto waiting = awaiting_answer_.find(e->id);
  if (waiting == awaiting_answer_.end() || waiting->second.empty()) return;  // a forward of ours (server)
  const std::uint32_t number = waiting->second.front();
  waiting->second.pop_front();
  auto it = attempts_.find(number);
  if (it == attempts_.end()) return;
  bool refused = false;
  for (const auto& p : response)
    if (const auto* n = std::get_if<Notify>(&p); n && n->is_error()) refused = true;
  if (refused) {
    ++connect_failed_;
    refused_attempts_.push_back(number);
    return;
  }
  it->second.accepted = true;
  // strongSwan 5.9.8: the responder starts checking once the server took its answer; the
  // initiator waits for the peer's response.
  if (!it->second.initiator) ready_.push_back(number);
}

std::vector<mediation::Candidate> EndpointMediation::gather(SaId mediation_sa,
                                                            const natgate::Endpoint& local) const {
  mediation::GatherInput in;
  in.host_addresses = {local.address};
  in.port = local.port;
  in.server_reflexive = server_reflexive(mediation_sa);
  in.server_reflexive_base = local;
  return mediation::gather_candidates(in);
}

EndpointMediation::Attempt& EndpointMediation::new_attempt() {
  while (attempts_.size() >= kMaxAttempts) attempts_.erase(attempts_.begin());
  const std::uint32_t number = next_attempt_++;
  Attempt& a = attempts_[number];
  a.number = number;
  return a;
}

namespace {
std::vector<MeEndpoint> to_wire(const std::vector<mediation::Candidate>& candidates) {
  std::vector<MeEndpoint> out;
  out.reserve(candidates.size());
  for (const auto& c : candidates) out.push_back(c.to_wire());
  return out;
}
}  // namespace

void EndpointMediation::connect(const std::string& connection, SaId mediation_sa,
                                const natgate::Endpoint& local, const mediation::PeerId& peer) {
  if (!random_) return;
  // A new ME_CONNECT replaces an attempt of the same connection that is still waiting.
  for (auto it = attempts_.begin(); it != attempts_.end();)
    it = it->second.connection == connection ? attempts_.erase(it) : std::next(it);
  Attempt& a = new_attempt();
  a.connection = connection;
  a.mediation_sa = mediation_sa;
  a.peer = peer;
  a.initiator = true;
  a.local = gather(mediation_sa, local);
  a.ours = mediation::make_connect_request(*random_, peer.to_id_peer(), to_wire(a.local));
  awaiting_answer_[mediation_sa].push_back(a.number);
  sends_.push_back(Send{mediation_sa, mediation::payloads_from_peer(a.ours),
                        "ME_CONNECT request to " + peer_text(peer) + " for " + connection});
}

void EndpointMediation::answer(const std::string& connection, SaId mediation_sa,
                               const natgate::Endpoint& local, const mediation::MeConnect& request) {
  if (!random_) return;
  for (auto it = attempts_.begin(); it != attempts_.end();)
    it = it->second.connection == connection ? attempts_.erase(it) : std::next(it);
  Attempt& a = new_attempt();
  a.connection = connection;
  a.mediation_sa = mediation_sa;
  a.peer = mediation::PeerId::of(request.peer);
  a.initiator = false;
  a.local = gather(mediation_sa, local);
  a.ours = mediation::make_connect_response(*random_, request, to_wire(a.local));
  a.ours.peer = request.peer;
  mediation::ChecklistConfig config;
  config.initiator = false;
  config.connect_id = request.connect_id;
  config.our_key = a.ours.connect_key;
  config.peer_key = request.connect_key;
  config.local = a.local;
  for (const auto& e : request.endpoints)
    if (e.address) config.remote.push_back(mediation::Candidate::remote(e));
  a.checks = std::make_unique<mediation::ConnectivityChecks>(std::move(config));
  awaiting_answer_[mediation_sa].push_back(a.number);
  sends_.push_back(Send{mediation_sa, mediation::payloads_from_peer(a.ours),
                        "ME_CONNECT response to " + peer_text(a.peer) + " for " + connection});
}

EndpointMediation::Attempt* EndpointMediation::peer_responded(const mediation::MeConnect& response) {
  Attempt* a = attempt_by_connect_id(response.connect_id);
  if (!a || !a->initiator || a->checks) return nullptr;
  if (mediation::PeerId::of(response.peer) != a->peer) return nullptr;
  mediation::ChecklistConfig config;
  config.initiator = true;
  config.connect_id = a->ours.connect_id;
  config.our_key = a->ours.connect_key;
  config.peer_key = response.connect_key;
  config.local = a->local;
  for (const auto& e : response.endpoints)
    if (e.address) config.remote.push_back(mediation::Candidate::remote(e));
  a->checks = std::make_unique<mediation::ConnectivityChecks>(std::move(config));
  return a;
}

EndpointMediation::Attempt* EndpointMediation::attempt_by_number(std::uint32_t number) {
  auto it = attempts_.find(number);
  return it == attempts_.end() ? nullptr : &it->second;
}

EndpointMediation::Attempt* EndpointMediation::attempt_by_connect_id(ByteView connect_id) {
  for (auto& [number, a] : attempts_)
    if (std::ranges::equal(a.ours.connect_id, connect_id)) return &a;
  return nullptr;
}

void EndpointMediation::drop_attempt(std::uint32_t number) { attempts_.erase(number); }

void EndpointMediation::peer_online(const Identity& id, SaId sa, const natgate::Endpoint& seen_at) {
  for (auto& callback : registry_.peer_online(peer_id(id), sa, seen_at))
    sends_.push_back(Send{callback.to, mediation::payloads_from_server(callback.message),
                          "ME_CONNECT " + describe(callback.message)});
}

void EndpointMediation::sa_rekeyed(SaId old_sa, SaId new_sa) {
  auto who = registry_.peer_of(old_sa);
  if (!who) return;
  // The same peer on its new IKE SA (RFC 7296 §2.8): nobody is waiting for it, so no callbacks.
  for (auto& callback : registry_.peer_online(*who, new_sa, registry_.server_reflexive(*who)))
    sends_.push_back(Send{callback.to, mediation::payloads_from_server(callback.message),
                          "ME_CONNECT " + describe(callback.message)});
}

void EndpointMediation::sa_gone(SaId sa) {
  registry_.peer_offline(sa);
  server_reflexive_.erase(sa);
  mediated_sas_.erase(sa);
  awaiting_answer_.erase(sa);
}

std::map<std::string, std::uint64_t> EndpointMediation::counters() const {
  const auto& r = registry_.counters();
  const auto& d = registry_.decode_counters();
  return {
      {"mediation_peers_online", registry_.online_count()},
      {"mediation_forwarded", r.forwarded},
      {"mediation_target_offline", r.target_offline},
      {"mediation_invalid", r.invalid},
      {"mediation_sender_limited", r.sender_limited},
      {"mediation_pair_limited", r.pair_limited},
      {"mediation_callbacks_sent", r.callbacks_sent},
      {"mediation_callbacks_dropped", r.callbacks_dropped},
      {"mediation_unknown_sender", r.unknown_sender},
      {"mediation_bad_endpoints", d.bad_endpoints + peer_decode_counters_.bad_endpoints},
      {"mediation_extra_endpoints", d.extra_endpoints + peer_decode_counters_.extra_endpoints},
      {"mediation_refused", refused_},
      {"mediation_received", received_count_},
      {"mediation_received_invalid", received_invalid_},
      {"mediation_connect_failed", connect_failed_},
  };
}

// ---- the Endpoint's side ----------------------------------------------------------------------

EndpointOutput Endpoint::send_me_connect(SaId sa, std::vector<Payload> payloads, TimePoint now) {
  now_ = now;
  call(sa, [&](IkeSa& s) { return s.send_me_connect(std::move(payloads), now); });
  return finish();
}

// ---- the Endpoint's side of the mediated peer ----------------------------------------------------

namespace {
mediation::PeerId mediation_peer_of(const ConnectionSettings& c) {
  return {c.peer->mediation_peer->type, c.peer->mediation_peer->data};
}
}  // namespace

const IkeSaEntry* Endpoint::established_sa_of(const std::string& connection) const {
  for (const IkeSaEntry* e : table_.of_connection(connection))
    if (e->is_established() && !removals_.count(e->id)) return e;
  return nullptr;
}

bool Endpoint::initiate_mediated(const std::shared_ptr<const ConnectionSettings>& c, TimePoint now) {
  if (!c || !c->peer || c->peer->mediated_by.empty() || !c->peer->mediation_peer) return false;
  const IkeSaEntry* med = established_sa_of(c->peer->mediated_by);
  if (!med) {
    // The mediation connection comes first; its IKE SA's arrival sends our ME_CONNECT.
    log(LogLine::Level::Info, c->name + ": waiting for mediation connection " + c->peer->mediated_by);
    if (table_.of_connection(c->peer->mediated_by).empty()) {
      // One that starts by itself (start: initiate) is left to do so.
      if (auto m = by_name_.find(c->peer->mediated_by);
          m != by_name_.end() && m->second->start != ConnectionStart::Initiate)
        (void)initiate_now(m->second, "needed by " + c->name, now);
    }
    return true;
  }
  log(LogLine::Level::Info,
      c->name + ": ME_CONNECT to " + peer_text(mediation_peer_of(*c)) + " via " + med->connection());
  mediation_->connect(c->name, med->id, med->sa->local(), mediation_peer_of(*c));
  count("mediation_connects_sent");
  // A relayed connection keeps its relay while it asks again (ike/mediation/mediated_path.h).
  if (auto& path = runtime_of(c->name).path; !path || path->kind != mediation::PathKind::Relayed)
    path = mediation::checking(peer_text(mediation_peer_of(*c)));
  if (depth_ == 0) mediation_after_call();  // not inside an SA's call: send it now
  return true;
}

void Endpoint::mediation_client_up(IkeSaEntry& e, TimePoint now) {
  for (const auto& c : connections_) {
    if (!c->peer || c->peer->mediated_by != e.connection() || c->start != ConnectionStart::Initiate) continue;
    if (runtime_of(c->name).admin_down || !table_.of_connection(c->name).empty()) continue;
    initiate_mediated(c, now);
  }
}

void Endpoint::mediation_peer_messages(TimePoint now) {
  for (auto& r : mediation_->take_pending()) {
    const IkeSaEntry* med = table_.find(r.sa);
    if (!med || !med->connection_settings) continue;
    const auto who = mediation::PeerId::of(r.message.peer);
    // Which of our mediated connections is about this peer (strongSwan 5.9.8 looks it up the same
    // way: mediated_by this connection, mediation_peer the requester).
    std::shared_ptr<const ConnectionSettings> conn;
    for (const auto& c : connections_)
      if (c->peer && c->peer->mediated_by == med->connection() && c->peer->mediation_peer &&
          mediation_peer_of(*c) == who)
        conn = c;
    if (!conn) {
      count("mediation_unknown_peer");
      log(LogLine::Level::Info,
          med->connection() + ": ME_CONNECT about " + peer_text(who) + ", no connection for it");
      continue;
    }
    if (r.message.callback) {
      // The peer we asked for is online now: ask again.
      if (conn->start == ConnectionStart::Initiate && table_.of_connection(conn->name).empty())
        initiate_mediated(conn, now);
      continue;
    }
    if (r.message.response) {
      auto* a = mediation_->peer_responded(r.message);
      if (!a) {
        count("mediation_unexpected_response");
        continue;
      }
      log(LogLine::Level::Info, conn->name + ": " + peer_text(who) + " answered with " +
                                    std::to_string(r.message.endpoints.size()) + " endpoints, checking");
      run_checks(*a, a->checks->start(now), now);
      continue;
    }
    mediation_->answer(conn->name, med->id, med->sa->local(), r.message);
    log(LogLine::Level::Info, conn->name + ": " + peer_text(who) + " asks for a mediated connection");
    if (auto& path = runtime_of(conn->name).path; !path || path->kind != mediation::PathKind::Relayed)
      path = mediation::checking(peer_text(who));
  }
  for (auto& arrived : mediation_->take_direct_arrived()) {
    runtime_of(arrived.connection).path = mediation::direct(arrived.reason);
    log(LogLine::Level::Info, arrived.connection + ": path direct: " + arrived.reason);
  }
  for (auto number : mediation_->take_ready())
    if (auto* a = mediation_->attempt_by_number(number); a && a->checks)
      run_checks(*a, a->checks->start(now), now);
  for (auto number : mediation_->take_refused()) {
    auto* a = mediation_->attempt_by_number(number);
    if (!a) continue;
    // ME_CONNECT_FAILED: the peer is not online; the server calls back when it registers.
    log(LogLine::Level::Info, a->connection + ": ME_CONNECT_FAILED, " + peer_text(a->peer) +
                                  " is not online (waiting for the server's callback)");
    runtime_of(a->connection).detail = "mediation: peer not online";
    const std::string connection = a->connection;
    const std::string detail = peer_text(a->peer) + " is not online";
    mediation_->drop_attempt(number);
    mediation_no_direct(connection, mediation::NoDirect::ConnectFailed, detail, now);
  }
}

void Endpoint::run_checks(EndpointMediation::Attempt& a, mediation::ChecksOutput out, TimePoint now) {
  for (auto& send : out.sends)
    emit(SendDatagram{Datagram{std::move(send.datagram), send.path.local, send.path.remote,
                               send.path.local.port != config_.ike_port},
                      0});
  const EndpointTimerKey key{EndpointTimer::MediationChecks, 0, a.number};
  if (!a.initiator && !a.fell_back && a.checks->state() == mediation::ChecklistState::Failed) {
    // The responder never nominates, but once every pair of its own failed no direct path is
    // coming either: it falls back as the initiator does (its list still answers checks).
    a.fell_back = true;
    count("mediation_checks_failed");
    mediation_no_direct(a.connection, mediation::NoDirect::ChecksFailed,
                        "all " + std::to_string(a.checks->pairs().size()) + " pairs failed", now);
  }
  if (!out.finished) {
    arm(key, a.checks->finished() ? std::nullopt : a.checks->next_deadline());
    return;
  }
  arm(key, std::nullopt);
  const std::string connection = a.connection;
  const Bytes connect_id = a.ours.connect_id;
  auto nomination = std::move(*out.finished);
  mediation_->drop_attempt(a.number);
  auto c = settings(connection);
  if (!c) return;
  if (!nomination.pair) {
    count("mediation_checks_failed");
    log(LogLine::Level::Info, connection + ": connectivity checks failed (" + nomination.reason + ")");
    runtime_of(connection).detail = "mediation: " + nomination.reason;
    mediation_no_direct(connection,
                        nomination.reason.starts_with("no candidate pairs")
                            ? mediation::NoDirect::NoPairs
                            : mediation::NoDirect::ChecksFailed,
                        nomination.reason, now);
    return;
  }
  count("mediation_checks_succeeded");
  runtime_of(connection).path = mediation::direct(nomination.reason);
  const auto& path = nomination.pair->path;
  // The mediated IKE SA leaves from the pair's local end, the socket whose NAT mapping the
  // checks opened, with the connect ID so the peer ends its checks (strongSwan 5.9.8).
  auto sa = IkeSa::create_initiator(
      {c->ike, c->peer, path.local, path.remote, path.local.port != config_.ike_port}, config_.environment);
  if (!sa) {
    log(LogLine::Level::Warn, connection + ": " + sa.error());
    return;
  }
  IkeSaEntry& e = table_.add(std::move(*sa), c, now);
  mediation_->mediated_sa(e.id, connect_id);
  runtime_of(connection).detail = "mediated: " + nomination.reason;
  log(LogLine::Level::Info, e,
      connection + ": " + nomination.reason + "; initiating mediated IKE SA to " + path.remote.to_string() +
          " from " + path.local.to_string());
  count("ike_sas_initiated");
  call(e.id, [&](IkeSa& s) { return s.initiate(now); });
}

void Endpoint::mediation_no_direct(const std::string& connection, mediation::NoDirect why,
                                   const std::string& detail, TimePoint now) {
  auto c = settings(connection);
  if (!c) return;
  const std::string& relay = c->mediation_relay;
  const bool relay_up = !relay.empty() && !table_.of_connection(relay).empty();
  auto path = mediation::no_direct(why, detail, relay, relay_up);
  log(path.kind == mediation::PathKind::Relayed ? LogLine::Level::Info : LogLine::Level::Warn,
      connection + ": path " + mediation::to_string(path.kind) + ": " + path.reason);
  count(path.kind == mediation::PathKind::Relayed ? "mediation_relay_fallbacks" : "mediation_no_path");
  const bool start = path.start_relay;
  runtime_of(connection).path = std::move(path);
  if (!start) return;
  if (Status s = initiate_now(settings(relay), "relay for " + connection, now); !s) {
    log(LogLine::Level::Error, connection + ": cannot bring up relay connection " + relay + ": " + s.error());
    runtime_of(connection).path->reason += " (not up: " + s.error() + ")";
  }
}

void Endpoint::mediation_checks_due(std::uint32_t number, TimePoint now) {
  auto* a = mediation_->attempt_by_number(number);
  if (!a || !a->checks) return;
  run_checks(*a, a->checks->on_timer(now), now);
}

void Endpoint::handle_check(const ReceivedDatagram& in, TimePoint now) {
  auto message = decode_message(in.bytes);
  if (!message || !mediation::looks_like_check(*message)) {
    drop("mediation_check_dropped", in.remote, "zero-SPI message that is no connectivity check");
    return;
  }
  auto check = mediation::parse_check(*message);
  if (!check) {
    drop("mediation_check_dropped", in.remote,
         std::string("connectivity check: ") + to_string(check.error()));
    return;
  }
  auto* a = mediation_->attempt_by_connect_id(check->connect_id);
  if (!a || !a->checks) {
    drop("mediation_check_dropped", in.remote, "connectivity check for no check list of ours");
    return;
  }
  count("mediation_checks_received");
  run_checks(*a, a->checks->on_check(*check, EndpointPair{in.local, in.remote}, now), now);
}

void Endpoint::mediation_after_call() {
  // Forwarding may trigger more (a callback list), so until nothing is left; each send is one
  // request on an established SA, so this ends.
  for (auto sends = mediation_->take_sends(); !sends.empty(); sends = mediation_->take_sends()) {
    for (auto& s : sends) {
      const IkeSaEntry* to = table_.find(s.to);
      if (!to || removals_.count(s.to) || !to->is_established()) {
        count("mediation_forward_lost");
        continue;
      }
      log(LogLine::Level::Debug, to->connection() + ": " + s.what + " to IKE SA " + sa_name(*to->sa));
      call(s.to, [&](IkeSa& sa) { return sa.send_me_connect(std::move(s.payloads), now_); });
    }
  }
  mediation_peer_messages(now_);
  for (auto sends = mediation_->take_sends(); !sends.empty(); sends = mediation_->take_sends()) {
    for (auto& s : sends) {
      const IkeSaEntry* to = table_.find(s.to);
      if (!to || removals_.count(s.to) || !to->is_established()) {
        count("mediation_forward_lost");
        continue;
      }
      log(LogLine::Level::Debug, to->connection() + ": " + s.what + " to IKE SA " + sa_name(*to->sa));
      call(s.to, [&](IkeSa& sa) { return sa.send_me_connect(std::move(s.payloads), now_); });
    }
  }
  for (auto& note : mediation_->take_notes()) log(LogLine::Level::Debug, std::move(note));
  for (const auto& [name, value] : mediation_->counters())
    if (value != 0 || counters_.count(name)) counters_[name] = value;
}

}  // namespace natgate::ike
