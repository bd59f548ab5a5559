#include "ike/exchange/ike_rekey.h"

#include "ike/codec/message.h"
#include "ike/suite/proposal_wire.h"

namespace natgate::ike {

using iana::NotifyType;

namespace {

IkeSpi spi_from(const Bytes& b) {
  IkeSpi spi;
  std::copy(b.begin(), b.end(), spi.bytes.begin());
  return spi;
}

constexpr unsigned kMaxKeRetries = 3;

}  // namespace

IkeRekey::~IkeRekey() {
  if (ours_) ctx_.ike_rekey_pending = false;
}

bool IkeRekey::derive(const CryptoSuite& suite, ByteView shared, IkeSpi spi_i, IkeSpi spi_r,
                      bool we_initiated) {
  // §2.18: the old SA's PRF and SK_d seed the new SA; Ni/Nr are this exchange's, and the
  // rekey's initiator is the new SA's initiator.
  auto keys = derive_rekeyed_ike_sa_keys(ctx_.suite->prf, ctx_.keys->sk_d, suite, shared, ni_, nr_,
                                         spi_i.bytes, spi_r.bytes);
  if (!keys) return false;
  const bool i = we_initiated;
  auto out = MessageProtector::create(suite, i ? keys->sk_ei : keys->sk_er, i ? keys->sk_ai : keys->sk_ar);
  auto in = MessageProtector::create(suite, i ? keys->sk_er : keys->sk_ei, i ? keys->sk_ar : keys->sk_ai);
  if (!out || !in) return false;
  IkeSuccessor s;
  s.initiator = we_initiated;
  s.spi_i = spi_i;
  s.spi_r = spi_r;
  s.suite = suite;
  s.keys = std::move(*keys);
  s.outbound.emplace(std::move(*out));
  s.inbound.emplace(std::move(*in));
  pending_ = std::move(s);
  return true;
}

// ---- initiator ----

TaskStatus IkeRekey::build_request(OutboundMessage& request) {
  if (ctx_.state != SaState::Established || ctx_.rekeyed || !ctx_.keys || !ctx_.suite)
    return TaskStatus::Done;
  const auto& cfg = *ctx_.ike_config;
  if (!ke_.has_group()) {
    // The group in use if we still offer it (the peer took it once), else our first.
    if (offers_group(cfg.proposals, ctx_.suite->dh)) {
      ke_.use_group(ctx_.suite->dh);
    } else if (!cfg.proposals.empty() && !cfg.proposals.front().dh.empty()) {
      ke_.use_group(cfg.proposals.front().dh.front());
    } else {
      return TaskStatus::Done;
    }
  }
  if (!ke_.prepare(ctx_.random(), ctx_.key_pairs())) return TaskStatus::Done;
  if (own_spi_.is_zero()) own_spi_ = random_ike_spi(ctx_.random());
  if (ni_.empty()) ni_ = ctx_.random().bytes(cfg.nonce_size);

  // §1.3.2: SA (with our new SPI in each proposal), Ni, KEi.
  SecurityAssociation sa;
  for (std::size_t i = 0; i < cfg.proposals.size(); ++i) {
    sa.proposals.push_back(to_proposal(cfg.proposals[i], static_cast<std::uint8_t>(i + 1), own_spi_.bytes));
  }
  request.payloads.push_back(std::move(sa));
  request.payloads.push_back(Nonce{ni_});
  request.payloads.push_back(ke_.payload());
  return TaskStatus::NeedMore;
}

TaskStatus IkeRekey::process_response(const InboundMessage& response) {
  const auto& p = response.payloads;
  const auto& cfg = *ctx_.ike_config;
  if (const Notify* ke = find_notify(p, NotifyType::InvalidKePayload)) {
    // §1.3: the responder wants another group; retry with it if we offered it.
    const auto verdict = ke_.judge_invalid_ke(*ke, cfg.proposals);
    if (verdict.kind == InvalidKeVerdict::Kind::Retry && ++ke_retries_ <= kMaxKeRetries) {
      ke_.use_group(verdict.wanted);
      return TaskStatus::NeedMore;
    }
    return TaskStatus::Done;
  }
  // Any error notify (TEMPORARY_FAILURE on a collision, NO_PROPOSAL_CHOSEN …) leaves the old SA
  // as it is; the daemon tries again later.
  for (const auto& payload : p)
    if (const auto* n = std::get_if<Notify>(&payload); n && n->is_error()) return TaskStatus::Done;

  const auto* sa = find<SecurityAssociation>(p);
  const auto* nonce = find<Nonce>(p);
  const auto* ke = find<KeyExchange>(p);
  if (!sa || !nonce || !ke || !ke_.has_key() || !nonce_ok(nonce)) return TaskStatus::Done;
  if (sa->proposals.size() != 1 || sa->proposals.front().protocol != iana::ProtocolId::Ike ||
      sa->proposals.front().spi.size() != 8)
    return TaskStatus::Done;
  auto suite = accepted_suite(sa->proposals.front(), cfg.proposals);
  if (!suite || !ke_.answer_matches(ke, suite->dh)) return TaskStatus::Done;
  const IkeSpi peer_spi = spi_from(sa->proposals.front().spi);
  if (peer_spi.is_zero()) return TaskStatus::Done;
  auto shared = ke_.shared_secret(ke->data);
  if (!shared) return TaskStatus::Done;
  nr_ = nonce->data;
  if (!derive(*suite, shared->view(), own_spi_, peer_spi, true)) return TaskStatus::Done;
  ke_.forget_key();
  ctx_.successor = pending_ ? std::make_unique<IkeSuccessor>(std::move(*pending_)) : nullptr;
  pending_.reset();
  ctx_.rekeyed = true;
  // §2.8: the new SA is in place; its creator deletes the old one.
  ctx_.delete_after_rekey = true;
  return TaskStatus::Done;
}

// ---- responder ----

TaskStatus IkeRekey::refuse(NotifyType notify, Bytes data) {
  error_ = notify;
  error_data_ = std::move(data);
  return TaskStatus::NeedMore;
}

TaskStatus IkeRekey::process_request(const InboundMessage& request) {
  const auto& p = request.payloads;
  const auto& cfg = *ctx_.ike_config;
  if (ctx_.rekeyed || ctx_.state != SaState::Established) return refuse(NotifyType::TemporaryFailure);
  const auto* sa = find<SecurityAssociation>(p);
  const auto* nonce = find<Nonce>(p);
  const auto* ke = find<KeyExchange>(p);
  if (!sa || !nonce || !ke || !nonce_ok(nonce)) return refuse(NotifyType::InvalidSyntax);

  std::vector<ProposalSpec> theirs;
  std::vector<const Proposal*> sources;
  for (const auto& proposal : sa->proposals) {
    if (proposal.protocol != iana::ProtocolId::Ike || proposal.spi.size() != 8) continue;
    auto spec = from_proposal(proposal);
    if (!spec) continue;
    theirs.push_back(std::move(*spec));
    sources.push_back(&proposal);
  }
  auto selection = select_suite(cfg.proposals, theirs);
  if (!selection) return refuse(NotifyType::NoProposalChosen);
  const Proposal& chosen = *sources[selection->their_index];
  if (!KeyExchangeStep::request_matches(ke, selection->suite.dh)) {
    return refuse(NotifyType::InvalidKePayload, invalid_ke_data(selection->suite.dh));
  }
  const IkeSpi peer_spi = spi_from(chosen.spi);
  if (peer_spi.is_zero()) return refuse(NotifyType::InvalidSyntax);
  if (!ke_.respond_in(selection->suite.dh, ctx_.random(), ctx_.key_pairs()))
    return refuse(NotifyType::NoProposalChosen);
  auto shared = ke_.shared_secret(ke->data);
  if (!shared) return refuse(NotifyType::InvalidSyntax);
  own_spi_ = random_ike_spi(ctx_.random());
  ni_ = nonce->data;
  nr_ = ctx_.random().bytes(cfg.nonce_size);
  if (!derive(selection->suite, shared->view(), peer_spi, own_spi_, false))
    return refuse(NotifyType::NoProposalChosen);
  chosen_ = to_proposal(selection->suite, chosen.number, own_spi_.bytes);
  return TaskStatus::NeedMore;
}

TaskStatus IkeRekey::build_response(OutboundMessage& response) {
  if (error_) {
    response.payloads.push_back(Notify::make(*error_, error_data_));
    return TaskStatus::Done;
  }
  response.payloads.push_back(SecurityAssociation{{*chosen_}});
  response.payloads.push_back(Nonce{nr_});
  response.payloads.push_back(ke_.payload());
  ke_.forget_key();
  ctx_.successor = pending_ ? std::make_unique<IkeSuccessor>(std::move(*pending_)) : nullptr;
  pending_.reset();
  ctx_.rekeyed = true;
  return TaskStatus::Done;
}

}  // namespace natgate::ike
