#include "ike/exchange/ike_auth.h"

#include "ike/auth/auth_octets.h"
#include "ike/auth/cert_payloads.h"
#include "ike/auth/identity_match.h"
#include "ike/auth/shared_key_auth.h"
#include "ike/auth/signature_auth.h"
#include "ike/codec/message.h"
#include "ike/suite/proposal_wire.h"

namespace natgate::ike {

using iana::NotifyType;

const AuthConfig& auth_of(const PeerConfig& peer) {
  static const AuthConfig psk_both_ways;
  return peer.auth ? *peer.auth : psk_both_ways;
}

namespace {

bool is_eap(AuthKind k) { return k == AuthKind::EapMschapv2 || k == AuthKind::EapTls; }

std::string method_name(iana::AuthMethod m) { return std::to_string(static_cast<int>(m)); }

}  // namespace

Expected<Bytes> IkeAuth::signed_octets(const Identity& id, bool own) const {
  // Our octets: our IKE_SA_INIT message, the peer's nonce, prf(SK_p of our role, our ID); the
  // peer's octets mirror that (§2.15).
  const bool signer_is_initiator = own == ctx_.initiator;
  const Bytes& message = own ? ctx_.own_init_message : ctx_.peer_init_message;
  const Bytes& nonce = signer_is_initiator ? ctx_.nonce_r : ctx_.nonce_i;
  const SecretBytes& sk_p = signer_is_initiator ? ctx_.keys->sk_pi : ctx_.keys->sk_pr;
  return auth_signed_octets(message, nonce, ctx_.suite->prf, sk_p, id.type, id.data);
}

Expected<Authentication> IkeAuth::own_auth(const PeerConfig& peer, AuthKind kind, const Identity& id) const {
  auto octets = signed_octets(id, true);
  if (!octets) return unexpected(octets.error());
  if (kind == AuthKind::Psk) {
    if (peer.psk.empty()) return unexpected(std::string("no pre-shared key configured"));
    auto data = shared_key_auth(ctx_.suite->prf, peer.psk.view(), *octets);
    if (!data) return unexpected(data.error());
    return Authentication{iana::AuthMethod::SharedKeyMic, std::move(*data)};
  }
  if (kind != AuthKind::PublicKey)
    return unexpected(std::string("cannot authenticate ourselves by ") + to_string(kind));
  const AuthConfig& a = auth_of(peer);
  if (!a.key) return unexpected(std::string("no private key configured"));
  // RFC 7427 §4: method 14 with a hash the peer announced; without its notify, the classic method.
  if (!ctx_.peer_signature_hashes.empty()) {
    if (auto scheme = choose_signature_scheme(a.key->type(), a.key->bits(), ctx_.peer_signature_hashes)) {
      return sign_auth(*a.key, *scheme, *octets);
    }
  }
  return sign_classic_auth(*a.key, *octets);
}

Expected<Authentication> IkeAuth::own_eap_auth(const Identity& id) const {
  auto octets = signed_octets(id, true);
  if (!octets) return unexpected(octets.error());
  const SecretBytes& sk_p = ctx_.initiator ? ctx_.keys->sk_pi : ctx_.keys->sk_pr;
  auto data = eap_auth(ctx_.suite->prf, eap_->msk(), sk_p, *octets);
  if (!data) return unexpected(data.error());
  return Authentication{iana::AuthMethod::SharedKeyMic, std::move(*data)};
}

Status IkeAuth::verify_peer(const PeerConfig& peer, AuthKind kind, const Identity& peer_id,
                            const Authentication& auth, const InboundMessage& message) const {
  auto octets = signed_octets(peer_id, false);
  if (!octets) return unexpected(octets.error());
  if (kind == AuthKind::Psk) {
    if (peer.psk.empty()) return unexpected(std::string("no pre-shared key configured"));
    if (auth.method != iana::AuthMethod::SharedKeyMic) {
      return unexpected("authenticated with method " + method_name(auth.method) + ", not with the PSK");
    }
    if (!verify_shared_key_auth(ctx_.suite->prf, peer.psk.view(), *octets, auth.data)) {
      return unexpected("AUTH of " + peer_id.to_string() + " does not verify");
    }
    return {};
  }
  if (kind != AuthKind::PublicKey)
    return unexpected(std::string("expected ") + to_string(kind) + ", got an AUTH payload");
  if (auth.method == iana::AuthMethod::SharedKeyMic) {
    return unexpected(peer_id.to_string() + " authenticated with a PSK; a certificate is required");
  }
  const AuthConfig& a = auth_of(peer);
  if (!a.trust) return unexpected(std::string("no CA trust store configured"));
  auto certs = find_all<Certificate>(message.payloads);
  if (certs.empty()) return unexpected(peer_id.to_string() + " sent no certificate");
  auto theirs = peer_certificates(certs);
  if (!theirs) return unexpected(theirs.error());
  // RFC 5280 §6 path to one of our anchors, CRLs included (RFC 7296 §3.6).
  auto path = a.trust->verify(theirs->end_entity, theirs->intermediates, a.wall_clock());
  if (!path) return unexpected(path.error());
  // RFC 4945 §3.1: the identity the peer claims must be in its certificate.
  if (Status s = match_identity(theirs->end_entity, peer_id.type, peer_id.data); !s) return s;
  auto key = theirs->end_entity.public_key();
  if (!key) return unexpected(key.error());
  SignaturePolicy policy;
  policy.accept_sha1 = a.allow_sha1;
  return verify_auth(auth, *key, *octets, policy);
}

Status IkeAuth::verify_peer_eap_auth(const Identity& peer_id, const Authentication& auth) const {
  auto octets = signed_octets(peer_id, false);
  if (!octets) return unexpected(octets.error());
  const SecretBytes& sk_p = ctx_.initiator ? ctx_.keys->sk_pr : ctx_.keys->sk_pi;
  if (auth.method != iana::AuthMethod::SharedKeyMic ||
      !verify_eap_auth(ctx_.suite->prf, eap_->msk(), sk_p, *octets, auth.data)) {
    return unexpected("AUTH after EAP of " + peer_id.to_string() + " does not verify with the MSK");
  }
  return {};
}

void IkeAuth::add_certificates(std::vector<Payload>& payloads, const AuthConfig& auth) const {
  if (!auth.certificate) return;
  for (auto& c : certificates_to_send(*auth.certificate, peer_requested_cas_))
    payloads.push_back(std::move(c));
}

bool IkeAuth::feed_eap(const Eap& packet) {
  auto step = eap_->process(packet);
  eap_out_ = std::move(step.reply);
  if (eap_->failed()) {
    detail_ = "EAP failed: " + eap_->failure_reason();
    // A client that failed still acknowledges (MS-CHAPv2 Failure); the server then ends it.
    return ctx_.initiator && eap_out_.has_value();
  }
  if (!eap_->succeeded() && !eap_out_) {
    detail_ = "EAP packet ignored: " + step.note;
    return false;
  }
  return true;
}

void IkeAuth::note_eap_failure(const InboundMessage& request) {
  if (ctx_.env->eap_failures && ctx_.remote_id)
    ctx_.env->eap_failures->record_failure(*ctx_.remote_id, request.source.address);
}

void IkeAuth::narrow_ike_proposals() {
  // Rekeys of this IKE SA (§2.18) negotiate from its connection's proposals alone, not from the
  // union IKE_SA_INIT offered.
  const auto& own = ctx_.peer_config->ike_proposals;
  if (own.empty() || !ctx_.ike_config || ctx_.ike_config->proposals == own) return;
  auto narrowed = std::make_shared<IkeSaConfig>(*ctx_.ike_config);
  narrowed->proposals = own;
  ctx_.ike_config = std::move(narrowed);
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
  const AuthConfig& a = auth_of(peer);
  auto fail = [&](std::string why) {
    ctx_.close_reason = DeleteReason::NegotiationFailed;
    ctx_.emit(NegotiationFailed{iana::ExchangeType::IkeAuth, std::nullopt, false, std::move(why)});
    return TaskStatus::Failed;
  };
  if (round_ == Round::Eap) {
    request.payloads.push_back(std::move(*eap_out_));
    eap_out_.reset();
    return TaskStatus::NeedMore;
  }
  if (round_ == Round::FinalAuth) {
    auto auth = own_eap_auth(*ctx_.local_id);
    if (!auth) return fail(auth.error());
    request.payloads.push_back(std::move(*auth));
    return TaskStatus::NeedMore;
  }

  ctx_.local_id = peer.local_id;
  request.payloads.push_back(IdInitiator{peer.local_id.type, peer.local_id.data});
  if (a.local == AuthKind::PublicKey) add_certificates(request.payloads, a);
  if (peer.send_initial_contact) request.payloads.push_back(Notify::make(NotifyType::InitialContact));
  // §3.7: name the CAs we trust, so the responder can pick its credential and chain.
  if (a.remote == AuthKind::PublicKey && a.trust && !a.trust->cas().empty()) {
    request.payloads.push_back(make_certificate_request(*a.trust));
  }
  // A pattern ("*.example.net") names no one responder: IDr is left out (RFC 7296 §3.5: optional).
  if (peer.remote_id && !identity_has_wildcard(peer.remote_id->type, peer.remote_id->data))
    request.payloads.push_back(IdResponder{peer.remote_id->type, peer.remote_id->data});
  if (is_eap(a.remote)) return fail("a responder cannot authenticate by EAP");
  if (is_eap(a.local)) {
    // §2.16: leaving AUTH out asks the responder for EAP.
    auto session = EapSession::client(a, ctx_.random());
    if (!session) return fail(session.error());
    eap_ = std::move(*session);
    return TaskStatus::NeedMore;
  }
  auto auth = own_auth(peer, a.local, peer.local_id);
  if (!auth) return fail(auth.error());
  request.payloads.push_back(std::move(*auth));
  return TaskStatus::NeedMore;
}

TaskStatus IkeAuth::process_response(const InboundMessage& response) {
  const auto& p = response.payloads;
  const auto& peer = *ctx_.peer_config;
  const AuthConfig& a = auth_of(peer);
  if (find_notify(p, NotifyType::AuthenticationFailed)) {
    std::string why = "the peer rejected our authentication";
    if (const auto* e = find<Eap>(p); e && e->code == eap::kFailure) why += " (EAP-Failure)";
    return auth_failed(true, ctx_.remote_id, std::move(why));
  }
  // §2.21.2: when we cannot accept the responder, we say so in an INFORMATIONAL of its own.
  auto reject = [&](std::optional<Identity> who, std::string why) {
    ctx_.one_shots.push_back(
        {iana::ExchangeType::Informational, {Notify::make(NotifyType::AuthenticationFailed)}});
    return auth_failed(false, std::move(who), std::move(why));
  };

  if (round_ == Round::Eap) {
    const auto* e = find<Eap>(p);
    if (!e) return reject(ctx_.remote_id, "IKE_AUTH response without the EAP payload");
    if (!feed_eap(*e)) return auth_failed(e->code == eap::kFailure, ctx_.remote_id, detail_);
    if (eap_->succeeded()) round_ = Round::FinalAuth;
    ctx_.auth_continues = true;
    return TaskStatus::NeedMore;
  }
  if (round_ == Round::FinalAuth) {
    const auto* auth = find<Authentication>(p);
    if (!auth) return reject(ctx_.remote_id, "last IKE_AUTH response without AUTH");
    if (Status s = verify_peer_eap_auth(*ctx_.remote_id, *auth); !s) return reject(ctx_.remote_id, s.error());
    established();
    return TaskStatus::Done;
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
  if (peer.remote_id && !identity_matches(*peer.remote_id, peer_id)) {
    return reject(peer_id, "responder identity " + peer_id.to_string() + " is not the configured " +
                               peer.remote_id->to_string());
  }
  if (Status s = verify_peer(peer, a.remote, peer_id, *auth, response); !s) {
    return reject(peer_id, "responder " + peer_id.to_string() + ": " + s.error());
  }
  ctx_.remote_id = peer_id;
  if (eap_) {
    const auto* e = find<Eap>(p);
    if (!e) return reject(peer_id, "the responder did not start EAP");
    if (!feed_eap(*e)) return reject(peer_id, detail_);
    round_ = eap_->succeeded() ? Round::FinalAuth : Round::Eap;
    ctx_.auth_continues = true;
    return TaskStatus::NeedMore;
  }
  established();
  return TaskStatus::Done;
}

// ---- responder ----

TaskStatus IkeAuth::process_request(const InboundMessage& request) {
  const auto& p = request.payloads;
  error_ = NotifyType::AuthenticationFailed;
  if (round_ == Round::Eap) {
    const auto* e = find<Eap>(p);
    if (!e) return auth_failed(false, ctx_.remote_id, "IKE_AUTH request without the EAP payload");
    if (!feed_eap(*e)) {
      if (eap_out_ && eap_out_->code != eap::kFailure) eap_out_.reset();
      if (eap_->failed()) note_eap_failure(request);
      return auth_failed(false, ctx_.remote_id, detail_);
    }
    if (eap_->succeeded()) round_ = Round::FinalAuth;
    error_.reset();
    ctx_.auth_continues = true;
    return TaskStatus::NeedMore;
  }
  if (round_ == Round::FinalAuth) {
    eap_out_.reset();
    const auto* auth = find<Authentication>(p);
    if (!auth) return auth_failed(false, ctx_.remote_id, "IKE_AUTH request after EAP without AUTH");
    if (Status s = verify_peer_eap_auth(*ctx_.remote_id, *auth); !s) {
      note_eap_failure(request);
      return auth_failed(false, ctx_.remote_id, s.error());
    }
    // EAP-TLS: the certificate TLS verified must carry the IKE identity as well (RFC 4945 §3.1
    // as for a certificate in IKE), so a client cannot claim another user's IDi.
    if (auto cert = eap_->peer_certificate()) {
      if (Status s = match_identity(*cert, ctx_.remote_id->type, ctx_.remote_id->data); !s) {
        note_eap_failure(request);
        return auth_failed(false, ctx_.remote_id, "EAP-TLS certificate: " + s.error());
      }
    }
    error_.reset();
    return TaskStatus::NeedMore;
  }

  const auto* idi = find<IdInitiator>(p);
  const auto* auth = find<Authentication>(p);
  if (!idi) return auth_failed(false, std::nullopt, "IKE_AUTH request without IDi");
  Identity peer_id{idi->type, idi->data};
  std::optional<Identity> wanted;
  if (const auto* idr = find<IdResponder>(p)) wanted = Identity{idr->type, idr->data};

  std::shared_ptr<const PeerConfig> peer;
  if (ctx_.env->configs)
    peer = ctx_.env->configs->peer_config(peer_id, wanted, request.destination, request.source);
  if (!peer) return auth_failed(false, peer_id, "no configuration for " + peer_id.to_string());
  if (peer->remote_id && !identity_matches(*peer->remote_id, peer_id)) {
    return auth_failed(false, peer_id,
                       "identity " + peer_id.to_string() + " does not match the configuration");
  }
  // IKE_SA_INIT chose from the proposals of every connection this peer might belong to; the one
  // its identity selects must accept what was negotiated.
  if (!peer->ike_proposals.empty() && ctx_.suite &&
      !accepted_suite(to_proposal(*ctx_.suite, 1, {}), peer->ike_proposals)) {
    return auth_failed(
        false, peer_id,
        "IKE proposal " + to_string(*ctx_.suite) + " is not among connection " + peer->name + "'s");
  }
  const AuthConfig& a = auth_of(*peer);
  auto requested = requested_ca_hashes(find_all<CertificateRequest>(p));
  if (requested) peer_requested_cas_ = std::move(*requested);
  if (is_eap(a.remote)) {
    if (auth) {
      return auth_failed(false, peer_id,
                         peer_id.to_string() + " sent AUTH method " + method_name(auth->method) +
                             " but must authenticate by " + to_string(a.remote));
    }
    // Password guessing: refused before any EAP work once this identity or source failed too
    // often (daemon.limits.eap_failures_per_identity / _per_source).
    if (ctx_.env->eap_failures) {
      if (auto why = ctx_.env->eap_failures->refusal(peer_id, request.source.address))
        return auth_failed(false, peer_id, "EAP refused: " + *why);
    }
    auto session = EapSession::server(a, ctx_.random(), peer_id);
    if (!session) return auth_failed(false, peer_id, session.error());
    eap_ = std::move(*session);
    eap_out_ = eap_->start();
    round_ = Round::Eap;
    ctx_.auth_continues = true;
  } else {
    if (!auth) return auth_failed(false, peer_id, "IKE_AUTH request without AUTH");
    if (Status s = verify_peer(*peer, a.remote, peer_id, *auth, request); !s) {
      return auth_failed(false, peer_id, s.error());
    }
  }
  error_.reset();
  ctx_.peer_config = std::move(peer);
  ctx_.remote_id = peer_id;
  narrow_ike_proposals();
  ctx_.local_id = ctx_.peer_config->local_id;
  ctx_.initial_contact_received = find_notify(p, NotifyType::InitialContact) != nullptr;
  return TaskStatus::NeedMore;
}

TaskStatus IkeAuth::build_response(OutboundMessage& response) {
  if (error_) {
    response.payloads.clear();
    // §2.16: a failed EAP method ends with EAP-Failure; the notify says the IKE SA is refused.
    if (eap_out_ && eap_out_->code == eap::kFailure) response.payloads.push_back(std::move(*eap_out_));
    response.payloads.push_back(Notify::make(*error_));
    return TaskStatus::Failed;
  }
  const AuthConfig& a = auth_of(*ctx_.peer_config);
  const Identity& id = *ctx_.local_id;
  auto refuse = [&](std::string why) {
    response.only(Notify::make(NotifyType::AuthenticationFailed));
    return auth_failed(false, ctx_.remote_id, std::move(why));
  };
  if (round_ == Round::Eap || (round_ == Round::FinalAuth && eap_out_)) {
    // A middle round, or the first one when EAP starts: the responder authenticated itself in
    // the first answer already (§2.16), later ones carry EAP alone.
    if (!eap_out_) return refuse("EAP round without an EAP packet");
    if (!eap_started_) {
      eap_started_ = true;
      auto auth = own_auth(*ctx_.peer_config, a.local, id);
      if (!auth) return refuse(auth.error());
      response.payloads.push_back(IdResponder{id.type, id.data});
      if (a.local == AuthKind::PublicKey) add_certificates(response.payloads, a);
      response.payloads.push_back(std::move(*auth));
    }
    response.payloads.push_back(std::move(*eap_out_));
    eap_out_.reset();
    return TaskStatus::NeedMore;
  }
  if (round_ == Round::FinalAuth) {
    auto auth = own_eap_auth(id);
    if (!auth) return refuse(auth.error());
    response.payloads.push_back(std::move(*auth));
    established();
    return TaskStatus::Done;
  }
  auto auth = own_auth(*ctx_.peer_config, a.local, id);
  if (!auth) return refuse(auth.error());
  response.payloads.push_back(IdResponder{id.type, id.data});
  if (a.local == AuthKind::PublicKey) add_certificates(response.payloads, a);
  response.payloads.push_back(std::move(*auth));
  established();
  return TaskStatus::Done;
}

}  // namespace natgate::ike
