#include "ike/exchange/ike_init.h"

#include <string>

#include "ike/auth/cert_payloads.h"
#include "ike/auth/signature_scheme.h"
#include "ike/codec/message.h"
#include "ike/codec/redirect_payloads.h"
#include "ike/exchange/redirect.h"
#include "ike/suite/proposal_wire.h"

namespace natgate::ike {

namespace {

using iana::NotifyType;

// RFC 7427 §4: the hashes we can verify signatures with; peers that sign (strongSwan with
// certificates) then use method 14.
Bytes signature_hash_list() {
  Bytes out;
  for (auto h :
       {iana::HashAlgorithm::Sha2_256, iana::HashAlgorithm::Sha2_384, iana::HashAlgorithm::Sha2_512}) {
    auto v = static_cast<std::uint16_t>(h);
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
  }
  return out;
}

}  // namespace

TaskStatus IkeInit::fail(std::optional<iana::NotifyType> notify, bool by_peer, std::string detail) {
  ctx_.close_reason = DeleteReason::NegotiationFailed;
  ctx_.emit(NegotiationFailed{iana::ExchangeType::IkeSaInit, notify, by_peer, std::move(detail)});
  return TaskStatus::Failed;
}

void IkeInit::add_capability_notifies(std::vector<Payload>& payloads) const {
  if (ctx_.ike_config->fragmentation)
    payloads.push_back(Notify::make(NotifyType::Ikev2FragmentationSupported));
  payloads.push_back(Notify::make(NotifyType::SignatureHashAlgorithms, signature_hash_list()));
}

TaskStatus IkeInit::follow_redirect(const Notify& redirect) {
  auto& counters = redirect_counters();
  if (!ctx_.ike_config->follow_redirects) {
    // We did not say we would follow (§3): the answer ends this attempt, as any refusal does.
    ++counters.refused_malformed;
    return fail(redirect_notify::kRedirect, true, "REDIRECT, but we do not follow redirects");
  }
  auto data = decode_redirect(redirect.data);
  if (!data) {
    ++counters.refused_malformed;
    return fail(redirect_notify::kRedirect, true, "malformed REDIRECT: " + data.error().to_string());
  }
  // §4.1: the nonce data is our Ni; a REDIRECT without it could come from anyone who saw our
  // SPI, and is never followed.
  if (data->nonce != ctx_.nonce_i) {
    ++counters.refused_nonce;
    return fail(redirect_notify::kRedirect, true, "REDIRECT whose nonce data is not our nonce: not followed");
  }
  const auto* to = std::get_if<IpAddress>(&data->gateway.value);
  if (!to) {
    // The sans-I/O core does not resolve names; a gateway pool of ours redirects by address.
    ++counters.refused_malformed;
    return fail(redirect_notify::kRedirect, true,
                "REDIRECT to the FQDN " + data->gateway.to_string() + ", which we do not resolve");
  }
  if (to->family() != ctx_.local.address.family()) {
    ++counters.refused_malformed;
    return fail(redirect_notify::kRedirect, true,
                "REDIRECT to " + to->to_string() + ", another address family than ours");
  }
  // §5 leaves loop detection to the client; strongSwan gives up after 5 redirects as well.
  if (++redirects_ > ctx_.ike_config->max_redirects) {
    ++counters.refused_loop;
    return fail(redirect_notify::kRedirect, true,
                "redirected " + std::to_string(redirects_) + " times: redirect loop, giving up");
  }
  ++counters.followed;
  // §5: a new IKE_SA_INIT to the new gateway, with REDIRECTED_FROM naming the old one. Nothing
  // learnt from the old gateway carries over (its cookie); our nonce is drawn afresh.
  redirected_from_ = ctx_.remote.address;
  ctx_.remote.address = *to;
  cookie_.clear();
  ctx_.nonce_i.clear();
  return TaskStatus::Restart;
}

bool IkeInit::redirect_elsewhere(const InboundMessage& request, ByteView nonce_i) {
  const auto& redirector = ctx_.ike_config->redirect;
  if (!redirector) return false;
  auto& counters = redirect_counters();
  // §4.1 / §5: only a peer that said it can follow a redirect is sent one (REDIRECTED_FROM says
  // so too); the others are served here as if no redirect were configured.
  if (!find_notify(request.payloads, redirect_notify::kSupported) &&
      !find_notify(request.payloads, redirect_notify::kRedirectedFrom)) {
    ++counters.not_supported;
    return false;
  }
  auto to = redirector->choose(request.destination.address);
  if (!to) return false;
  ++counters.sent;
  error_ = redirect_notify::kRedirect;
  error_data_ = encode_redirect({GatewayId{*to}, Bytes(nonce_i.begin(), nonce_i.end())});
  error_detail_ = "redirected to " + to->to_string();
  return true;
}

void IkeInit::note_capabilities(const InboundMessage& message) {
  ctx_.peer_fragmentation = ctx_.ike_config->fragmentation &&
                            find_notify(message.payloads, NotifyType::Ikev2FragmentationSupported) != nullptr;
  ctx_.peer_signature_hashes.clear();
  if (const auto* n = find_notify(message.payloads, NotifyType::SignatureHashAlgorithms)) {
    if (auto hashes = parse_signature_hash_algorithms(n->data))
      ctx_.peer_signature_hashes = std::move(*hashes);
  }
}

bool IkeInit::derive_keys(ByteView peer_public) {
  auto shared = ke_.shared_secret(peer_public);
  if (!shared) return false;
  auto keys = derive_ike_sa_keys(*ctx_.suite, shared->view(), ctx_.nonce_i, ctx_.nonce_r, ctx_.spi_i.bytes,
                                 ctx_.spi_r.bytes);
  if (!keys) return false;
  const bool i = ctx_.initiator;
  auto out =
      MessageProtector::create(*ctx_.suite, i ? keys->sk_ei : keys->sk_er, i ? keys->sk_ai : keys->sk_ar);
  auto in =
      MessageProtector::create(*ctx_.suite, i ? keys->sk_er : keys->sk_ei, i ? keys->sk_ar : keys->sk_ai);
  if (!out || !in) return false;
  ctx_.keys = std::move(*keys);
  ctx_.outbound.emplace(std::move(*out));
  ctx_.inbound.emplace(std::move(*in));
  return true;
}

// ---- initiator ----

TaskStatus IkeInit::build_request(OutboundMessage& request) {
  const auto& cfg = *ctx_.ike_config;
  if (!ke_.has_group()) {
    if (cfg.proposals.empty() || cfg.proposals.front().dh.empty()) {
      return fail(std::nullopt, false, "no IKE proposal with a key exchange method configured");
    }
    ke_.use_group(cfg.proposals.front().dh.front());
  }
  if (Status s = ke_.prepare(ctx_.random(), ctx_.key_pairs()); !s)
    return fail(std::nullopt, false, "key exchange: " + s.error());
  // The nonce survives restarts: a COOKIE covers it (§2.6), and strongSwan keeps it across
  // INVALID_KE_PAYLOAD as well.
  if (ctx_.nonce_i.empty()) ctx_.nonce_i = ctx_.random().bytes(cfg.nonce_size);

  if (!cookie_.empty()) request.payloads.push_back(Notify::make(NotifyType::Cookie, cookie_));  // §2.6: first
  SecurityAssociation sa;
  for (std::size_t i = 0; i < cfg.proposals.size(); ++i) {
    sa.proposals.push_back(to_proposal(cfg.proposals[i], static_cast<std::uint8_t>(i + 1), {}));
  }
  request.payloads.push_back(std::move(sa));
  request.payloads.push_back(ke_.payload());
  request.payloads.push_back(Nonce{ctx_.nonce_i});
  add_capability_notifies(request.payloads);
  // RFC 5685 §3, §5: we follow redirects; after one, REDIRECTED_FROM says so instead.
  if (redirected_from_) {
    request.payloads.push_back(
        Notify::make(redirect_notify::kRedirectedFrom, encode_redirected_from(GatewayId{*redirected_from_})));
  } else if (cfg.follow_redirects) {
    request.payloads.push_back(Notify::make(redirect_notify::kSupported));
  }
  return TaskStatus::NeedMore;
}

TaskStatus IkeInit::process_response(const InboundMessage& response) {
  const auto& cfg = *ctx_.ike_config;
  const auto& p = response.payloads;

  if (const Notify* redirect = find_notify(p, redirect_notify::kRedirect);
      redirect && !find<SecurityAssociation>(p))
    return follow_redirect(*redirect);
  if (const Notify* cookie = find_notify(p, NotifyType::Cookie); cookie && !find<SecurityAssociation>(p)) {
    // §2.6: the responder wants proof that we receive at our address; same request plus cookie.
    if (cookie->data.empty() || cookie->data.size() > 64)
      return fail(NotifyType::Cookie, true, "invalid COOKIE");
    if (++restarts_ > cfg.max_init_restarts)
      return fail(NotifyType::Cookie, true, "too many IKE_SA_INIT restarts");
    cookie_ = cookie->data;
    return TaskStatus::Restart;
  }
  if (const Notify* ke = find_notify(p, NotifyType::InvalidKePayload)) {
    // §1.2: the responder names the group it wants; we retry with it if we offered it.
    const auto verdict = ke_.judge_invalid_ke(*ke, cfg.proposals);
    if (verdict.kind == InvalidKeVerdict::Kind::Malformed) {
      return fail(NotifyType::InvalidKePayload, true, "INVALID_KE_PAYLOAD without a group");
    }
    if (verdict.kind == InvalidKeVerdict::Kind::Unoffered) {
      return fail(NotifyType::InvalidKePayload, true,
                  "peer asked for key exchange group " + std::to_string(static_cast<int>(verdict.wanted)) +
                      ", which we did not offer");
    }
    if (++restarts_ > cfg.max_init_restarts)
      return fail(NotifyType::InvalidKePayload, true, "too many IKE_SA_INIT restarts");
    ke_.use_group(verdict.wanted);
    return TaskStatus::Restart;
  }
  for (const auto& payload : p) {
    if (const auto* n = std::get_if<Notify>(&payload); n && n->is_error()) {
      return fail(n->type, true, "IKE_SA_INIT refused by the peer");
    }
  }

  const auto* sa = find<SecurityAssociation>(p);
  const auto* ke = find<KeyExchange>(p);
  const auto* nonce = find<Nonce>(p);
  if (!sa || !ke || !nonce) return fail(std::nullopt, false, "IKE_SA_INIT response lacks SA, KE or Nonce");
  if (response.header.spi_r.is_zero())
    return fail(std::nullopt, false, "IKE_SA_INIT response without a responder SPI");
  if (sa->proposals.size() != 1)
    return fail(std::nullopt, false, "responder must choose exactly one proposal");
  auto suite = accepted_suite(sa->proposals.front(), cfg.proposals);
  if (!suite) return fail(std::nullopt, false, "unacceptable proposal chosen: " + suite.error());
  if (!ke_.answer_matches(ke, suite->dh)) {
    return fail(std::nullopt, false, "responder's key exchange does not match the group we sent");
  }
  if (!nonce_ok(nonce)) return fail(std::nullopt, false, "responder nonce of invalid length");

  ctx_.spi_r = response.header.spi_r;
  ctx_.nonce_r = nonce->data;
  ctx_.suite = *suite;
  if (!derive_keys(ke->data))
    return fail(std::nullopt, false, "invalid key exchange value from the responder");
  note_capabilities(response);
  ke_.forget_key();  // the private value is no longer needed
  return TaskStatus::Done;
}

// ---- responder ----

TaskStatus IkeInit::process_request(const InboundMessage& request) {
  const auto& cfg = *ctx_.ike_config;
  const auto& p = request.payloads;
  const auto* sa = find<SecurityAssociation>(p);
  const auto* ke = find<KeyExchange>(p);
  const auto* nonce = find<Nonce>(p);
  if (!sa || !ke || !nonce_ok(nonce)) {
    error_ = NotifyType::InvalidSyntax;
    return TaskStatus::Failed;
  }
  // RFC 5685 §4.1: a redirecting entry gateway answers before any key exchange work.
  if (redirect_elsewhere(request, nonce->data)) return TaskStatus::Failed;

  // The peer's proposals as far as we can use them; keep their numbers to echo the chosen one.
  std::vector<ProposalSpec> theirs;
  std::vector<std::uint8_t> numbers;
  for (const auto& proposal : sa->proposals) {
    if (proposal.protocol != iana::ProtocolId::Ike) continue;
    auto spec = from_proposal(proposal);
    if (!spec) continue;  // unusable proposals are skipped, not fatal (RFC 7296 §3.3.6)
    theirs.push_back(std::move(*spec));
    numbers.push_back(proposal.number);
  }
  auto selection = select_suite(cfg.proposals, theirs);
  if (!selection) {
    error_ = NotifyType::NoProposalChosen;
    return TaskStatus::Failed;
  }
  if (!KeyExchangeStep::request_matches(ke, selection->suite.dh)) {
    // §1.2: we chose another group than the one the KE payload uses; name ours.
    error_ = NotifyType::InvalidKePayload;
    error_data_ = invalid_ke_data(selection->suite.dh);
    return TaskStatus::Failed;
  }
  // The peer's public value is checked before we generate ours: a request that cannot
  // complete costs no key generation (§2.6: little work for an unverified initiator).
  if (!crypto::DhKeyPair::check_peer_value(ke->group, ke->data)) {
    error_ = NotifyType::InvalidSyntax;
    return TaskStatus::Failed;
  }
  if (!ke_.respond_in(selection->suite.dh, ctx_.random(), ctx_.key_pairs())) {
    error_ = NotifyType::NoProposalChosen;
    return TaskStatus::Failed;
  }
  ctx_.suite = selection->suite;
  ctx_.nonce_i = nonce->data;
  ctx_.nonce_r = ctx_.random().bytes(cfg.nonce_size);
  if (!derive_keys(ke->data)) {
    // A public value that fails the checks of crypto::DhKeyPair (wrong length, not on the curve…).
    error_ = NotifyType::InvalidSyntax;
    return TaskStatus::Failed;
  }
  chosen_ = to_proposal(selection->suite, numbers[selection->their_index], {});
  note_capabilities(request);
  return TaskStatus::NeedMore;
}

TaskStatus IkeInit::build_response(OutboundMessage& response) {
  if (error_) {
    // §2.6 and §1.2: error answers to IKE_SA_INIT are HDR(SPIi, 0) plus the notify alone; the
    // responder keeps no state for them.
    response.header.spi_r = IkeSpi{};
    response.only(Notify::make(*error_, error_data_));
    return fail(*error_, false, error_detail_.empty() ? "IKE_SA_INIT request refused" : error_detail_);
  }
  response.payloads.push_back(SecurityAssociation{{*chosen_}});
  response.payloads.push_back(ke_.payload());
  response.payloads.push_back(Nonce{ctx_.nonce_r});
  if (ctx_.peer_fragmentation)
    response.payloads.push_back(Notify::make(NotifyType::Ikev2FragmentationSupported));
  response.payloads.push_back(Notify::make(NotifyType::SignatureHashAlgorithms, signature_hash_list()));
  if (const auto& cas = ctx_.ike_config->certificate_request; cas && !cas->cas().empty()) {
    response.payloads.push_back(make_certificate_request(*cas));
  }
  ke_.forget_key();
  return TaskStatus::Done;
}

}  // namespace natgate::ike
