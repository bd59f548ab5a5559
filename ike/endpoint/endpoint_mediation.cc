#include "ike/endpoint/endpoint_mediation.h"

#include <utility>
#include <variant>

#include "ike/codec/mediation_payloads.h"
#include "ike/endpoint/endpoint.h"

namespace natgate::ike {

namespace {

mediation::PeerId peer_id(const Identity& id) { return {id.type, id.data}; }

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
  received_.push_back(Received{sa, std::move(*parsed)});
  return {};
}

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

void EndpointMediation::sa_gone(SaId sa) { registry_.peer_offline(sa); }

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
  };
}

// ---- the Endpoint's side ----------------------------------------------------------------------

EndpointOutput Endpoint::send_me_connect(SaId sa, std::vector<Payload> payloads, TimePoint now) {
  now_ = now;
  call(sa, [&](IkeSa& s) { return s.send_me_connect(std::move(payloads), now); });
  return finish();
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
  for (auto& note : mediation_->take_notes()) log(LogLine::Level::Debug, std::move(note));
  for (const auto& [name, value] : mediation_->counters())
    if (value != 0 || counters_.count(name)) counters_[name] = value;
}

}  // namespace natgate::ike
