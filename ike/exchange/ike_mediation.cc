#include "ike/exchange/ike_mediation.h"

#include "ike/codec/mediation_payloads.h"
#include "ike/codec/message.h"
#include "ike/exchange/mediation_hook.h"

namespace natgate::ike {

namespace {

// The priority strongSwan 5.9.8 gives the server-reflexive endpoint it reports: type preference
// 64 for server-reflexive and local preference 65535, 2^16 * type + local (RFC 5245 §4.1.2.1).
constexpr std::uint32_t kServerReflexivePriority = (64u << 16) + 65535u;

// The peer asked "where do you see me?": an ME_ENDPOINT SERVER_REFLEXIVE without an address.
bool asks_for_server_reflexive(const std::vector<Payload>& payloads) {
  for (const auto& p : payloads) {
    const auto* n = std::get_if<Notify>(&p);
    if (!n || n->type != me_notify::kEndpoint) continue;
    auto endpoint = decode_me_endpoint(n->data);
    if (endpoint && endpoint->type == MeEndpointType::ServerReflexive) return true;
  }
  return false;
}

}  // namespace

TaskStatus MediationSetup::process_request(const InboundMessage& request) {
  answer_.clear();
  MediationHook* hook = ctx_.env->mediation;
  if (!hook) return TaskStatus::Done;
  if (exchange_ == iana::ExchangeType::IkeSaInit) {
    if (const Notify* id = find_notify(request.payloads, me_notify::kConnectId))
      hook->on_mediated_init(id->data);
    if (hook->serving() && find_notify(request.payloads, me_notify::kMediation))
      answer_.push_back(Notify::make(me_notify::kMediation));
    return TaskStatus::NeedMore;
  }
  // IKE_AUTH: IkeAuth, which runs first, has chosen the connection by the peer's identity.
  if (!ctx_.peer_config || !ctx_.peer_config->mediation_server) return TaskStatus::NeedMore;
  if (asks_for_server_reflexive(request.payloads)) {
    MeEndpoint seen{kServerReflexivePriority, MeEndpointType::ServerReflexive, request.source};
    answer_.push_back(Notify::make(me_notify::kEndpoint, encode_me_endpoint(seen)));
  }
  return TaskStatus::NeedMore;
}

TaskStatus MediationSetup::build_response(OutboundMessage& response) {
  for (auto& p : answer_) response.payloads.push_back(std::move(p));
  answer_.clear();
  return TaskStatus::Done;
}

bool MediationClient::mediation_connection() const {
  return ctx_.peer_config && ctx_.peer_config->mediation_client;
}

TaskStatus MediationClient::build_request(OutboundMessage& request) {
  MediationHook* hook = ctx_.env->mediation;
  if (exchange_ == iana::ExchangeType::IkeSaInit) {
    if (mediation_connection()) {
      request.payloads.push_back(Notify::make(me_notify::kMediation));
      return TaskStatus::NeedMore;
    }
    // A mediated IKE SA names the check list it came from (strongSwan 5.9.8).
    if (hook) {
      Bytes id = hook->mediated_connect_id(ctx_.own_spi());
      if (!id.empty()) request.payloads.push_back(Notify::make(me_notify::kConnectId, std::move(id)));
    }
    return TaskStatus::Done;
  }
  if (!mediation_connection()) return TaskStatus::Done;
  // IKE_AUTH: ask where the server sees us only when a NAT sits in front of us (draft §3.3).
  if (ctx_.nat.local_behind_nat) {
    MeEndpoint ask{0, MeEndpointType::ServerReflexive, std::nullopt};
    request.payloads.push_back(Notify::make(me_notify::kEndpoint, encode_me_endpoint(ask)));
  }
  return TaskStatus::NeedMore;
}

TaskStatus MediationClient::process_response(const InboundMessage& response) {
  if (exchange_ == iana::ExchangeType::IkeSaInit) {
    // IKE_SA_INIT starts again (RFC 7296 §2.6, §1.2): the answer comes with the next response.
    if (find_notify(response.payloads, iana::NotifyType::Cookie) ||
        find_notify(response.payloads, iana::NotifyType::InvalidKePayload))
      return TaskStatus::NeedMore;
    // strongSwan 5.9.8 gives up on a mediation connection whose server did not confirm.
    if (!find_notify(response.payloads, me_notify::kMediation)) {
      ctx_.close_reason = DeleteReason::NegotiationFailed;
      ctx_.emit(NegotiationFailed{exchange_, std::nullopt, false,
                                  "the mediation server did not answer ME_MEDIATION"});
      return TaskStatus::Failed;
    }
    return TaskStatus::Done;
  }
  for (const auto& p : response.payloads) {
    const auto* n = std::get_if<Notify>(&p);
    if (!n || n->type != me_notify::kEndpoint) continue;
    auto endpoint = decode_me_endpoint(n->data);
    if (!endpoint || endpoint->type != MeEndpointType::ServerReflexive || !endpoint->address) continue;
    if (MediationHook* hook = ctx_.env->mediation)
      hook->on_server_reflexive(ctx_.own_spi(), *endpoint->address);
    break;
  }
  return TaskStatus::Done;
}

iana::ExchangeType MeConnectExchange::exchange() const { return kMeConnect; }

TaskStatus MeConnectExchange::build_request(OutboundMessage& request) {
  for (auto& p : payloads_) request.payloads.push_back(std::move(p));
  payloads_.clear();
  return TaskStatus::NeedMore;
}

TaskStatus MeConnectExchange::process_response(const InboundMessage& response) {
  // A server forwarding: an error (ME_CONNECT_FAILED: the peer we forwarded to has no mediated
  // connection for it, or its connection to us is going) changes nothing, the requester learns of
  // it by never hearing the response, as with strongSwan 5.9.8's server. A peer: the hook learns
  // whether the server took its request.
  if (MediationHook* hook = ctx_.env->mediation)
    hook->on_me_connect_response(ctx_.own_spi(), response.payloads);
  return TaskStatus::Done;
}

TaskStatus MeConnectExchange::process_request(const InboundMessage& request) {
  payloads_.clear();
  if (MediationHook* hook = ctx_.env->mediation) {
    payloads_ = hook->on_me_connect(ctx_.own_spi(), request.payloads, now_);
  } else {
    payloads_.push_back(Notify::make(me_notify::kConnectFailed));
  }
  return TaskStatus::NeedMore;
}

TaskStatus MeConnectExchange::build_response(OutboundMessage& response) {
  for (auto& p : payloads_) response.payloads.push_back(std::move(p));
  payloads_.clear();
  return TaskStatus::Done;
}

}  // namespace natgate::ike
