#include "ike/exchange/child_create.h"

#include "ike/codec/message.h"
#include "ike/exchange/ts_narrowing.h"
#include "ike/suite/proposal_wire.h"

namespace natgate::ike {

using iana::NotifyType;

namespace {

Bytes spi_bytes(std::uint32_t spi) {
  return {static_cast<std::uint8_t>(spi >> 24), static_cast<std::uint8_t>(spi >> 16),
          static_cast<std::uint8_t>(spi >> 8), static_cast<std::uint8_t>(spi)};
}

std::uint32_t spi_value(const Bytes& b) {
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
}

std::vector<ProposalSpec> without_dh(std::vector<ProposalSpec> specs) {
  for (auto& s : specs) s.dh.clear();
  return specs;
}

// Errors a responder may answer a CHILD SA request with (RFC 7296 §3.10.1).
bool is_child_error(NotifyType t) {
  switch (t) {
    case NotifyType::NoProposalChosen:
    case NotifyType::TsUnacceptable:
    case NotifyType::InvalidSelectors:
    case NotifyType::SinglePairRequired:
    case NotifyType::NoAdditionalSas:
    case NotifyType::InternalAddressFailure:
    case NotifyType::FailedCpRequired:
    case NotifyType::TemporaryFailure:
    case NotifyType::InvalidKePayload:
      return true;
    default:
      return false;
  }
}

bool all_single_host(const std::vector<TrafficSelector>& list, const IpAddress& address) {
  for (const auto& ts : list)
    if (!is_single_host(ts, address)) return false;
  return !list.empty();
}

}  // namespace

std::vector<ProposalSpec> ChildCreate::offered_proposals() const { return without_dh(config_->proposals); }

void ChildCreate::child_failed(NotifyType notify, bool by_peer, std::string detail) {
  ctx_.emit(ChildSaFailed{config_ ? config_->name : std::string(), notify, by_peer, inbound_spi_, std::move(detail)});
}

bool ChildCreate::install(const CryptoSuite& suite, std::vector<TrafficSelector> local_ts,
                          std::vector<TrafficSelector> remote_ts) {
  // §2.17: KEYMAT = prf+(SK_d, Ni | Nr); in IKE_AUTH these are IKE_SA_INIT's nonces.
  auto keys = derive_child_sa_keys(ctx_.suite->prf, ctx_.keys->sk_d, suite, {}, ctx_.nonce_i, ctx_.nonce_r);
  if (!keys) return false;
  ChildSaEstablished e;
  e.child_config = config_->name;
  e.inbound_spi = inbound_spi_;
  e.outbound_spi = outbound_spi_;
  e.esp = suite;
  // The first half of KEYMAT protects initiator → responder traffic.
  if (ctx_.initiator) {
    e.outbound_keys = std::move(keys->initiator_to_responder);
    e.inbound_keys = std::move(keys->responder_to_initiator);
  } else {
    e.inbound_keys = std::move(keys->initiator_to_responder);
    e.outbound_keys = std::move(keys->responder_to_initiator);
  }
  e.local_ts = local_ts;
  e.remote_ts = remote_ts;
  e.mode = mode_;
  e.udp_encapsulation = ctx_.nat.udp_encapsulation();
  e.local = ctx_.local;
  e.remote = ctx_.remote;
  ctx_.children.push_back(
      ChildSaRecord{config_->name, inbound_spi_, outbound_spi_, suite, std::move(local_ts), std::move(remote_ts), mode_});
  ctx_.emit(std::move(e));
  return true;
}

// ---- initiator ----

TaskStatus ChildCreate::build_request(OutboundMessage& request) {
  if (!config_) return TaskStatus::Done;
  if (!ctx_.env.allocate_spi) {
    child_failed(NotifyType::NoProposalChosen, false, "no SPI allocator");
    return TaskStatus::Done;
  }
  auto spi = ctx_.env.allocate_spi(ctx_.remote.address, ctx_.local.address);
  if (!spi) {
    child_failed(NotifyType::NoProposalChosen, false, "SPI allocation failed: " + spi.error());
    return TaskStatus::Done;
  }
  inbound_spi_ = *spi;
  tsi_ = resolve_selectors(config_->local_ts, ctx_.local.address);
  tsr_ = resolve_selectors(config_->remote_ts, ctx_.remote.address);

  if (config_->mode == ChildMode::Transport) request.payloads.push_back(Notify::make(NotifyType::UseTransportMode));
  SecurityAssociation sa;
  auto specs = offered_proposals();
  for (std::size_t i = 0; i < specs.size(); ++i) {
    sa.proposals.push_back(to_proposal(specs[i], static_cast<std::uint8_t>(i + 1), spi_bytes(inbound_spi_)));
  }
  request.payloads.push_back(std::move(sa));
  request.payloads.push_back(TsInitiator{tsi_});
  request.payloads.push_back(TsResponder{tsr_});
  return TaskStatus::NeedMore;
}

TaskStatus ChildCreate::process_response(const InboundMessage& response) {
  const auto& p = response.payloads;
  for (const auto& payload : p) {
    if (const auto* n = std::get_if<Notify>(&payload); n && is_child_error(n->type)) {
      child_failed(n->type, true, "the peer refused the CHILD SA");
      return TaskStatus::Done;
    }
  }
  const auto* sa = find<SecurityAssociation>(p);
  const auto* tsi = find<TsInitiator>(p);
  const auto* tsr = find<TsResponder>(p);
  if (!sa || !tsi || !tsr) {
    child_failed(NotifyType::NoProposalChosen, false, "response lacks SA, TSi or TSr");
    return TaskStatus::Done;
  }
  // TODO(natgate): a CHILD SA the responder created but we reject should be deleted with an
  // INFORMATIONAL (RFC 7296 §2.9); the IKE SA's informational task will do that.
  if (sa->proposals.size() != 1 || sa->proposals.front().spi.size() != 4) {
    child_failed(NotifyType::NoProposalChosen, false, "responder must choose one ESP proposal with a 4-octet SPI");
    return TaskStatus::Done;
  }
  auto suite = accepted_suite(sa->proposals.front(), offered_proposals());
  if (!suite) {
    child_failed(NotifyType::NoProposalChosen, false, "unacceptable ESP proposal chosen: " + suite.error());
    return TaskStatus::Done;
  }
  if (!selectors_within(tsi->selectors, tsi_) || !selectors_within(tsr->selectors, tsr_)) {
    child_failed(NotifyType::TsUnacceptable, false, "responder widened the traffic selectors");
    return TaskStatus::Done;
  }
  outbound_spi_ = spi_value(sa->proposals.front().spi);
  // §1.3.1: transport mode only if we asked and the responder agreed; otherwise tunnel.
  mode_ = (config_->mode == ChildMode::Transport && find_notify(p, NotifyType::UseTransportMode))
              ? ChildMode::Transport
              : ChildMode::Tunnel;
  if (!install(*suite, tsi->selectors, tsr->selectors)) {
    child_failed(NotifyType::NoProposalChosen, false, "CHILD SA key derivation failed");
  }
  return TaskStatus::Done;
}

// ---- responder ----

TaskStatus ChildCreate::process_request(const InboundMessage& request) {
  const auto& p = request.payloads;
  const auto* sa = find<SecurityAssociation>(p);
  const auto* tsi = find<TsInitiator>(p);
  const auto* tsr = find<TsResponder>(p);
  if (!sa && !tsi && !tsr) return TaskStatus::NeedMore;  // no CHILD SA requested
  requested_ = true;
  if (!sa || !tsi || !tsr) {
    error_ = NotifyType::InvalidSyntax;
    return TaskStatus::NeedMore;
  }
  // §2.9: pick the first CHILD config whose selectors overlap the proposal on both sides, and
  // narrow to the overlap.
  const auto& peer = *ctx_.peer_config;
  for (const auto& cfg : peer.children) {
    auto ni = narrow_selectors(tsi->selectors, resolve_selectors(cfg.remote_ts, request.source.address));
    auto nr = narrow_selectors(tsr->selectors, resolve_selectors(cfg.local_ts, request.destination.address));
    if (!ni.empty() && !nr.empty()) {
      config_ = cfg;
      tsi_ = std::move(ni);
      tsr_ = std::move(nr);
      break;
    }
  }
  if (!config_) {
    error_ = NotifyType::TsUnacceptable;
    return TaskStatus::NeedMore;
  }

  std::vector<ProposalSpec> theirs;
  std::vector<const Proposal*> sources;
  for (const auto& proposal : sa->proposals) {
    if (proposal.protocol != iana::ProtocolId::Esp || proposal.spi.size() != 4) continue;
    auto spec = from_proposal(proposal);
    if (!spec) continue;
    spec->dh.clear();
    theirs.push_back(std::move(*spec));
    sources.push_back(&proposal);
  }
  auto selection = select_suite(offered_proposals(), theirs);
  if (!selection) {
    error_ = NotifyType::NoProposalChosen;
    return TaskStatus::NeedMore;
  }
  const Proposal& theirs_chosen = *sources[selection->their_index];
  outbound_spi_ = spi_value(theirs_chosen.spi);

  // §1.3.1: honour USE_TRANSPORT_MODE when our config wants transport and both sides are
  // single hosts; otherwise answer without the notify, which means tunnel mode.
  mode_ = ChildMode::Tunnel;
  if (find_notify(p, NotifyType::UseTransportMode) && config_->mode == ChildMode::Transport &&
      all_single_host(tsi_, request.source.address) && all_single_host(tsr_, request.destination.address)) {
    mode_ = ChildMode::Transport;
  }

  auto spi = ctx_.env.allocate_spi ? ctx_.env.allocate_spi(ctx_.remote.address, ctx_.local.address)
                                   : Expected<std::uint32_t>(unexpected(std::string("no SPI allocator")));
  if (!spi) {
    error_ = NotifyType::NoProposalChosen;  // as strongSwan answers a failed SPI allocation
    return TaskStatus::NeedMore;
  }
  inbound_spi_ = *spi;
  suite_ = selection->suite;
  chosen_ = to_proposal(selection->suite, theirs_chosen.number, spi_bytes(inbound_spi_));
  return TaskStatus::NeedMore;
}

TaskStatus ChildCreate::build_response(OutboundMessage& response) {
  if (!requested_) return TaskStatus::Done;
  if (error_) {
    response.payloads.push_back(Notify::make(*error_));
    child_failed(*error_, false, "CHILD SA request refused");
    return TaskStatus::Done;
  }
  if (mode_ == ChildMode::Transport) response.payloads.push_back(Notify::make(NotifyType::UseTransportMode));
  response.payloads.push_back(SecurityAssociation{{*chosen_}});
  response.payloads.push_back(TsInitiator{tsi_});
  response.payloads.push_back(TsResponder{tsr_});
  // Our local side is TSr, the initiator's is TSi.
  if (!install(*suite_, tsr_, tsi_)) {
    child_failed(NotifyType::NoProposalChosen, false, "CHILD SA key derivation failed");
  }
  return TaskStatus::Done;
}

}  // namespace natgate::ike
