#include "ike/exchange/ike_auth.h"

#include "ike/codec/message.h"
#include "ike/auth/auth_octets.h"
#include "ike/auth/shared_key_auth.h"

namespace natgate::ike {

using iana::NotifyType;

Expected<Bytes> IkeAuth::signed_octets(const Identity& id, bool own) const {
  // Our octets: our IKE_SA_INIT message, the peer's nonce, prf(SK_p of our role, our ID); the
  // peer's octets mirror that (§2.15).
  const bool signer_is_initiator = own == ctx_.initiator;
  const Bytes& message = own ? ctx_.own_init_message : ctx_.peer_init_message;
  const Bytes& nonce = signer_is_initiator ? ctx_.nonce_r : ctx_.nonce_i;
  const SecretBytes& sk_p = signer_is_initiator ? ctx_.keys->sk_pi : ctx_.keys->sk_pr;
  return auth_signed_octets(message, nonce, ctx_.suite->prf, sk_p, id.type, id.data);
}

Expected<Bytes> IkeAuth::own_auth(const SecretBytes& psk, const Identity& id) const {
  auto octets = signed_octets(id, true);
  if (!octets) return unexpected(octets.error());
  return shared_key_auth(ctx_.suite->prf, psk.view(), *octets);
}

bool IkeAuth::peer_auth_verifies(const SecretBytes& psk, const Identity& id, ByteView received) const {
  auto octets = signed_octets(id, false);
  return octets && verify_shared_key_auth(ctx_.suite->prf, psk.view(), *octets, received);
}

TaskStatus IkeAuth::auth_failed(bool by_peer, std::optional<Identity> peer, std::string detail) {
  ctx_.close_reason = DeleteReason::AuthenticationFailed;
  ctx_.emit(AuthenticationFailed{by_peer, std::move(peer), std::move(detail)});
  return TaskStatus::Failed;
}

void IkeAuth::established() {
  ctx_.state = SaState::Established;
  IkeSaEstablished e;
  e.spi_i = ctx_.spi_i;
  e.spi_r = ctx_.spi_r;
  e.initiator = ctx_.initiator;
  e.suite = *ctx_.suite;
  e.peer_config = ctx_.peer_config->name;
  e.local_id = *ctx_.local_id;
  e.remote_id = *ctx_.remote_id;
  e.local = ctx_.local;
  e.remote = ctx_.remote;
  e.nat = ctx_.nat;
  e.floated = ctx_.natt;
  e.initial_contact = ctx_.initial_contact_received;
  ctx_.emit(std::move(e));
}

// ---- initiator ----

TaskStatus IkeAuth::build_request(OutboundMessage& request) {
  const auto& peer = *ctx_.peer_config;
  ctx_.local_id = peer.local_id;
  request.payloads.push_back(IdInitiator{peer.local_id.type, peer.local_id.data});
  if (peer.send_initial_contact) request.payloads.push_back(Notify::make(NotifyType::InitialContact));
  if (peer.remote_id) request.payloads.push_back(IdResponder{peer.remote_id->type, peer.remote_id->data});
  auto auth = own_auth(peer.psk, peer.local_id);
  if (peer.psk.empty() || !auth) {
    ctx_.close_reason = DeleteReason::NegotiationFailed;
    ctx_.emit(NegotiationFailed{iana::ExchangeType::IkeAuth, std::nullopt, false,
                                peer.psk.empty() ? "no pre-shared key configured" : auth.error()});
    return TaskStatus::Failed;
  }
  request.payloads.push_back(Authentication{iana::AuthMethod::SharedKeyMic, std::move(*auth)});
  return TaskStatus::NeedMore;
}

TaskStatus IkeAuth::process_response(const InboundMessage& response) {
  const auto& p = response.payloads;
  if (find_notify(p, NotifyType::AuthenticationFailed)) {
    return auth_failed(true, std::nullopt, "the peer rejected our authentication");
  }
  const auto* idr = find<IdResponder>(p);
  const auto* auth = find<Authentication>(p);
  if (!idr || !auth) {
    std::optional<iana::NotifyType> error;
    for (const auto& payload : p)
      if (const auto* n = std::get_if<Notify>(&payload); n && n->is_error()) error = n->type;
    ctx_.close_reason = DeleteReason::NegotiationFailed;
    ctx_.emit(NegotiationFailed{iana::ExchangeType::IkeAuth, error, error.has_value(),
                                "IKE_AUTH response without IDr and AUTH"});
    return TaskStatus::Failed;
  }
  Identity peer_id{idr->type, idr->data};
  const auto& peer = *ctx_.peer_config;
  // §2.21.2: when we cannot accept the responder, we say so in an INFORMATIONAL of its own.
  auto reject = [&](std::string why) {
    ctx_.one_shots.push_back({iana::ExchangeType::Informational, {Notify::make(NotifyType::AuthenticationFailed)}});
    return auth_failed(false, peer_id, std::move(why));
  };
  if (peer.remote_id && *peer.remote_id != peer_id) {
    return reject("responder identity " + peer_id.to_string() + " is not the configured " +
                  peer.remote_id->to_string());
  }
  if (auth->method != iana::AuthMethod::SharedKeyMic) return reject("responder did not authenticate with the PSK");
  if (!peer_auth_verifies(peer.psk, peer_id, auth->data)) return reject("responder AUTH does not verify");

  ctx_.remote_id = peer_id;
  established();
  return TaskStatus::Done;
}

// ---- responder ----

TaskStatus IkeAuth::process_request(const InboundMessage& request) {
  const auto& p = request.payloads;
  const auto* idi = find<IdInitiator>(p);
  const auto* auth = find<Authentication>(p);
  if (!idi || !auth) {
    error_ = NotifyType::AuthenticationFailed;
    return auth_failed(false, std::nullopt, "IKE_AUTH request without IDi and AUTH");
  }
  Identity peer_id{idi->type, idi->data};
  std::optional<Identity> wanted;
  if (const auto* idr = find<IdResponder>(p)) wanted = Identity{idr->type, idr->data};

  std::shared_ptr<const PeerConfig> peer;
  if (ctx_.env.configs) peer = ctx_.env.configs->peer_config(peer_id, wanted, request.destination, request.source);
  error_ = NotifyType::AuthenticationFailed;
  if (!peer) return auth_failed(false, peer_id, "no configuration for " + peer_id.to_string());
  if (peer->remote_id && *peer->remote_id != peer_id) {
    return auth_failed(false, peer_id, "identity " + peer_id.to_string() + " does not match the configuration");
  }
  if (peer->psk.empty()) return auth_failed(false, peer_id, "no pre-shared key configured");
  if (auth->method != iana::AuthMethod::SharedKeyMic) {
    return auth_failed(false, peer_id, "unsupported authentication method " + std::to_string(static_cast<int>(auth->method)));
  }
  if (!peer_auth_verifies(peer->psk, peer_id, auth->data)) {
    return auth_failed(false, peer_id, "AUTH of " + peer_id.to_string() + " does not verify");
  }
  error_.reset();
  ctx_.peer_config = std::move(peer);
  ctx_.remote_id = peer_id;
  ctx_.local_id = ctx_.peer_config->local_id;
  ctx_.initial_contact_received = find_notify(p, NotifyType::InitialContact) != nullptr;
  return TaskStatus::NeedMore;
}

TaskStatus IkeAuth::build_response(OutboundMessage& response) {
  if (error_) {
    response.only(Notify::make(*error_));
    return TaskStatus::Failed;
  }
  const Identity& id = *ctx_.local_id;
  auto auth = own_auth(ctx_.peer_config->psk, id);
  if (!auth) {
    response.only(Notify::make(NotifyType::AuthenticationFailed));
    return auth_failed(false, ctx_.remote_id, auth.error());
  }
  response.payloads.push_back(IdResponder{id.type, id.data});
  response.payloads.push_back(Authentication{iana::AuthMethod::SharedKeyMic, std::move(*auth)});
  established();
  return TaskStatus::Done;
}

}  // namespace natgate::ike
