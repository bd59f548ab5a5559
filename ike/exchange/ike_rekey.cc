#include "ike/exchange/ike_rekey.h"

#include "ike/codec/message.h"
#include "ike/suite/proposal_wire.h"

namespace natgate::ike {

using iana::NotifyType;

namespace {

// RFC 7296 §2.10.
bool nonce_size_ok(std::size_t n) { return n >= 16 && n <= 256; }

bool offers_group(const std::vector<ProposalSpec>& specs, iana::DhGroup g) {
  for (const auto& s : specs)
    for (auto d : s.dh)
      if (d == g) return true;
  return false;
}

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

bool IkeRekey::derive(const CryptoSuite& suite, ByteView shared, IkeSpi spi_i, IkeSpi spi_r, bool we_initiated) {
  // §2.18: the old SA's PRF and SK_d seed the new SA; Ni/Nr are this exchange's, and the
  // rekey's initiator is the new SA's initiator.
  auto keys = derive_rekeyed_ike_sa_keys(ctx_.suite->prf, ctx_.keys->sk_d, suite, shared, ni_, nr_, spi_i.bytes,
                                         spi_r.bytes);
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
  s.nonce_i = ni_;
  s.nonce_r = nr_;
  s.outbound.emplace(std::move(*out));
  s.inbound.emplace(std::move(*in));
  pending_ = std::move(s);
  return true;
}

// ---- initiator ----

TaskStatus IkeRekey::build_request(OutboundMessage& request) {
  if (ctx_.state != SaState::Established || ctx_.rekeyed || !ctx_.keys || !ctx_.suite) return TaskStatus::Done;
  const auto& cfg = *ctx_.ike_config;
  if (group_ == iana::DhGroup::None) {
    // The group in use if we still offer it (the peer took it once), else our first.
    if (offers_group(cfg.proposals, ctx_.suite->dh)) {
      group_ = ctx_.suite->dh;
    } else if (!cfg.proposals.empty() && !cfg.proposals.front().dh.empty()) {
      group_ = cfg.proposals.front().dh.front();
    } else {
      return TaskStatus::Done;
    }
  }
  if (!ke_ || ke_->group() != group_) {
    auto ke = crypto::KeyExchange::generate(group_, ctx_.random());
    if (!ke) return TaskStatus::Done;
    ke_.emplace(std::move(*ke));
  }
  if (own_spi_.is_zero()) own_spi_ = random_ike_spi(ctx_.random());
  if (ni_.empty()) ni_ = ctx_.random().bytes(cfg.nonce_size);

  // §1.3.2: SA (with our new SPI in each proposal), Ni, KEi.
  SecurityAssociation sa;
  for (std::size_t i = 0; i < cfg.proposals.size(); ++i) {
    sa.proposals.push_back(to_proposal(cfg.proposals[i], static_cast<std::uint8_t>(i + 1), own_spi_.bytes));
  }
  request.payloads.push_back(std::move(sa));
  request.payloads.push_back(Nonce{ni_});
  auto pub = ke_->public_value();
  request.payloads.push_back(KeyExchange{group_, Bytes(pub.begin(), pub.end())});
  return TaskStatus::NeedMore;
}

TaskStatus IkeRekey::process_response(const InboundMessage& response) {
  const auto& p = response.payloads;
  const auto& cfg = *ctx_.ike_config;
  if (const Notify* ke = find_notify(p, NotifyType::InvalidKePayload)) {
    // §1.3: the responder wants another group; retry with it if we offered it.
    if (ke->data.size() == 2 && ++ke_retries_ <= kMaxKeRetries) {
      auto wanted = static_cast<iana::DhGroup>((ke->data[0] << 8) | ke->data[1]);
      if (wanted != group_ && offers_group(cfg.proposals, wanted) && crypto::KeyExchange::supported(wanted)) {
        group_ = wanted;
        return TaskStatus::NeedMore;
      }
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
  if (!sa || !nonce || !ke || !ke_ || !nonce_size_ok(nonce->data.size())) return TaskStatus::Done;
  if (sa->proposals.size() != 1 || sa->proposals.front().protocol != iana::ProtocolId::Ike ||
      sa->proposals.front().spi.size() != 8)
    return TaskStatus::Done;
  auto suite = accepted_suite(sa->proposals.front(), cfg.proposals);
  if (!suite || suite->dh != group_ || ke->group != group_) return TaskStatus::Done;
  const IkeSpi peer_spi = spi_from(sa->proposals.front().spi);
  if (peer_spi.is_zero()) return TaskStatus::Done;
  auto shared = ke_->shared_secret(ke->data);
  if (!shared) return TaskStatus::Done;
  nr_ = nonce->data;
  if (!derive(*suite, shared->view(), own_spi_, peer_spi, true)) return TaskStatus::Done;
  ke_.reset();
  ctx_.successor = std::move(pending_);
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
  if (!sa || !nonce || !ke || !nonce_size_ok(nonce->data.size())) return refuse(NotifyType::InvalidSyntax);

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
  if (ke->group != selection->suite.dh) {
    const auto g = static_cast<std::uint16_t>(selection->suite.dh);
    return refuse(NotifyType::InvalidKePayload, {static_cast<std::uint8_t>(g >> 8), static_cast<std::uint8_t>(g)});
  }
  const IkeSpi peer_spi = spi_from(chosen.spi);
  if (peer_spi.is_zero()) return refuse(NotifyType::InvalidSyntax);
  auto own = crypto::KeyExchange::generate(selection->suite.dh, ctx_.random());
  if (!own) return refuse(NotifyType::NoProposalChosen);
  auto shared = own->shared_secret(ke->data);
  if (!shared) return refuse(NotifyType::InvalidSyntax);
  own_spi_ = random_ike_spi(ctx_.random());
  ni_ = nonce->data;
  nr_ = ctx_.random().bytes(cfg.nonce_size);
  if (!derive(selection->suite, shared->view(), peer_spi, own_spi_, false)) return refuse(NotifyType::NoProposalChosen);
  ke_.emplace(std::move(*own));
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
  auto pub = ke_->public_value();
  response.payloads.push_back(KeyExchange{ke_->group(), Bytes(pub.begin(), pub.end())});
  ke_.reset();
  ctx_.successor = std::move(pending_);
  pending_.reset();
  ctx_.rekeyed = true;
  return TaskStatus::Done;
}

}  // namespace natgate::ike
