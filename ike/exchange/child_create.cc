#include "ike/exchange/child_create.h"

#include "ike/codec/message.h"
#include "ike/exchange/config_payload.h"
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
    case NotifyType::ChildSaNotFound:
    case NotifyType::InvalidSyntax:
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

constexpr unsigned kMaxKeRetries = 3;

}  // namespace

std::vector<ProposalSpec> ChildCreate::offered_proposals() const {
  auto specs = config_->proposals;
  if (in_ike_auth()) {
    for (auto& s : specs) s.dh.clear();
  }
  return specs;
}

void ChildCreate::child_failed(NotifyType notify, bool by_peer, std::string detail) {
  ctx_.emit(ChildSaFailed{config_ ? config_->name : std::string(), notify, by_peer, inbound_spi_,
                          std::move(detail)});
}

Status ChildCreate::reserve_spi() {
  auto r = SpiReservation::reserve(ctx_.env->allocate_spi, ctx_.env->release_spi, ctx_.remote.address,
                                   ctx_.local.address);
  if (!r) return unexpected(r.error());
  reservation_ = std::move(*r);
  inbound_spi_ = reservation_.spi();
  return {};
}

TaskStatus ChildCreate::refuse(NotifyType notify, Bytes data) {
  error_ = notify;
  error_data_ = std::move(data);
  return TaskStatus::NeedMore;
}

bool ChildCreate::install(const CryptoSuite& suite, std::vector<TrafficSelector> local_ts,
                          std::vector<TrafficSelector> remote_ts, bool we_initiated) {
  // §2.17: KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr). In IKE_AUTH the nonces are IKE_SA_INIT's;
  // in CREATE_CHILD_SA they are this exchange's, and "initiator" is this exchange's initiator.
  const Bytes& ni = in_ike_auth() ? ctx_.nonce_i : ni_;
  const Bytes& nr = in_ike_auth() ? ctx_.nonce_r : nr_;
  auto keys = derive_child_sa_keys(ctx_.suite->prf, ctx_.keys->sk_d, suite, pfs_secret_.view(), ni, nr);
  if (!keys) return false;
  ChildSaEstablished e;
  e.child_config = config_->name;
  e.inbound_spi = inbound_spi_;
  e.outbound_spi = outbound_spi_;
  e.esp = suite;
  // The first half of KEYMAT protects what the exchange's initiator sends.
  if (we_initiated) {
    e.outbound_keys = std::move(keys->initiator_to_responder);
    e.inbound_keys = std::move(keys->responder_to_initiator);
  } else {
    e.inbound_keys = std::move(keys->initiator_to_responder);
    e.outbound_keys = std::move(keys->responder_to_initiator);
  }
  e.local_ts = std::move(local_ts);
  e.remote_ts = std::move(remote_ts);
  e.mode = mode_;
  e.udp_encapsulation = ctx_.nat.udp_encapsulation();
  e.local = ctx_.local;
  e.remote = ctx_.remote;
  if (rekeys_) {
    e.replaces_inbound_spi = *rekeys_;
    e.defer_outbound = !we_initiated;
  }
  ctx_.children.push_back(
      ChildSaRecord{config_->name, inbound_spi_, outbound_spi_, suite, e.local_ts, e.remote_ts, mode_});
  ctx_.emit(std::move(e));
  reservation_.hand_over();  // installing the inbound SA takes it
  pfs_secret_.wipe();
  return true;
}

// ---- initiator ----

TaskStatus ChildCreate::build_request(OutboundMessage& request) {
  if (!config_) return TaskStatus::Done;
  const ChildSaRecord* old = nullptr;
  if (rekeys_) {
    old = ctx_.find_child_by_inbound(*rekeys_);
    if (!old) return TaskStatus::Done;  // deleted meanwhile: nothing to rekey
  }
  if (inbound_spi_ == 0) {
    if (Status s = reserve_spi(); !s) {
      child_failed(NotifyType::NoProposalChosen, false, "SPI allocation failed: " + s.error());
      return TaskStatus::Done;
    }
  }
  // A rekey keeps the selectors the old SA negotiated (§2.8); a new CHILD SA asks for its config's.
  tsi_ = old ? old->local_ts.get() : resolve_selectors(config_->local_ts, ctx_.local.address);
  tsr_ = old ? old->remote_ts.get() : resolve_selectors(config_->remote_ts, ctx_.remote.address);
  const auto specs = offered_proposals();

  if (old) {
    // §1.3.3: REKEY_SA names the SA being replaced by our inbound SPI.
    request.payloads.push_back(
        Notify{iana::ProtocolId::Esp, spi_bytes(old->inbound_spi), NotifyType::RekeySa, {}});
  }
  const ChildMode wanted = old ? old->mode : config_->mode;
  if (wanted == ChildMode::Transport) request.payloads.push_back(Notify::make(NotifyType::UseTransportMode));
  SecurityAssociation sa;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    sa.proposals.push_back(to_proposal(specs[i], static_cast<std::uint8_t>(i + 1), spi_bytes(inbound_spi_)));
  }
  request.payloads.push_back(std::move(sa));
  if (!in_ike_auth()) {
    if (ni_.empty()) ni_ = ctx_.random().bytes(ctx_.ike_config->nonce_size);
    request.payloads.push_back(Nonce{ni_});
    // PFS with the first group of our first proposal, unless the peer asked for another (§1.3).
    if (!ke_.has_group() && !specs.empty() && !specs.front().dh.empty())
      ke_.use_group(specs.front().dh.front());
    if (ke_.has_group()) {
      if (Status s = ke_.prepare(ctx_.random(), ctx_.key_pairs()); !s) {
        child_failed(NotifyType::NoProposalChosen, false, "key exchange: " + s.error());
        return TaskStatus::Done;
      }
      request.payloads.push_back(ke_.payload());
    }
  }
  request.payloads.push_back(TsInitiator{tsi_});
  request.payloads.push_back(TsResponder{tsr_});
  if (old) ctx_.child_rekeys_in_flight[old->inbound_spi] = true;
  return TaskStatus::NeedMore;
}

TaskStatus ChildCreate::process_response(const InboundMessage& response) {
  const auto& p = response.payloads;
  if (const Notify* ke = find_notify(p, NotifyType::InvalidKePayload); ke && !in_ike_auth()) {
    // §1.3: the responder wants another PFS group; retry once more with it if we offered it.
    const auto verdict = ke_.judge_invalid_ke(*ke, offered_proposals());
    if (verdict.kind == InvalidKeVerdict::Kind::Retry && ++ke_retries_ <= kMaxKeRetries) {
      ke_.use_group(verdict.wanted);
      return TaskStatus::NeedMore;
    }
    child_failed(NotifyType::InvalidKePayload, true, "no acceptable key exchange group for the CHILD SA");
    return TaskStatus::Done;
  }
  for (const auto& payload : p) {
    if (const auto* n = std::get_if<Notify>(&payload); n && is_child_error(n->type)) {
      child_failed(n->type, true, rekeys_ ? "the peer refused the rekey" : "the peer refused the CHILD SA");
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
  // From here the responder has created its half of the pair: one we reject is deleted with an
  // INFORMATIONAL naming our SPI, which the responder sends to (RFC 7296 §2.9).
  auto reject = [&](NotifyType notify, std::string detail) {
    child_failed(notify, false, std::move(detail));
    if (inbound_spi_ != 0) ctx_.rejected_children.push_back(inbound_spi_);
    return TaskStatus::Done;
  };
  if (sa->proposals.size() != 1 || sa->proposals.front().spi.size() != 4) {
    return reject(NotifyType::NoProposalChosen, "responder must choose one ESP proposal with a 4-octet SPI");
  }
  if (tsi->selectors.size() > ctx_.limits().selectors_per_ts ||
      tsr->selectors.size() > ctx_.limits().selectors_per_ts) {
    return reject(NotifyType::TsUnacceptable,
                  "responder narrowed to more selectors than daemon.limits allow");
  }
  auto suite = accepted_suite(sa->proposals.front(), offered_proposals());
  if (!suite)
    return reject(NotifyType::NoProposalChosen, "unacceptable ESP proposal chosen: " + suite.error());
  if (!selectors_within(tsi->selectors, tsi_) || !selectors_within(tsr->selectors, tsr_)) {
    return reject(NotifyType::TsUnacceptable, "responder widened the traffic selectors");
  }
  if (!in_ike_auth()) {
    const auto* nonce = find<Nonce>(p);
    if (!nonce_ok(nonce)) {
      return reject(NotifyType::InvalidSyntax, "CREATE_CHILD_SA response without a valid nonce");
    }
    nr_ = nonce->data;
    if (suite->dh != iana::DhGroup::None) {
      const auto* ke = find<KeyExchange>(p);
      if (!ke_.answer_matches(ke, suite->dh)) {
        return reject(NotifyType::InvalidKePayload, "PFS key exchange missing or for another group");
      }
      auto shared = ke_.shared_secret(ke->data);
      if (!shared) return reject(NotifyType::InvalidKePayload, "invalid PFS key exchange value");
      pfs_secret_ = std::move(*shared);
    }
  }
  outbound_spi_ = spi_value(sa->proposals.front().spi);
  // §1.3.1: transport mode only if we asked and the responder agreed; otherwise tunnel.
  const bool asked = find_notify(p, NotifyType::UseTransportMode) != nullptr;
  const ChildMode wanted = rekeys_ && ctx_.find_child_by_inbound(*rekeys_)
                               ? ctx_.find_child_by_inbound(*rekeys_)->mode
                               : config_->mode;
  mode_ = (wanted == ChildMode::Transport && asked) ? ChildMode::Transport : ChildMode::Tunnel;
  if (!install(*suite, tsi->selectors, tsr->selectors, true)) {
    return reject(NotifyType::NoProposalChosen, "CHILD SA key derivation failed");
  }
  if (!rekeys_) return TaskStatus::Done;
  // §2.8: the new SA is in place; the rekey's initiator deletes the old one. §2.8.1: if the
  // peer rekeyed the same SA meanwhile, the exchange with the lowest of the four nonces loses
  // and its initiator deletes the SA it made; the winner's initiator deletes the old one.
  auto collision = ctx_.child_rekey_collisions.find(*rekeys_);
  if (collision == ctx_.child_rekey_collisions.end()) {
    ctx_.children_to_delete.push_back(*rekeys_);
    return TaskStatus::Done;
  }
  const Bytes& ours = nonce_lower(ni_, nr_) ? ni_ : nr_;
  if (nonce_lower(ours, collision->second.lowest_nonce)) {
    ctx_.children_to_delete.push_back(inbound_spi_);
  } else {
    ctx_.children_to_delete.push_back(*rekeys_);
  }
  ctx_.child_rekey_collisions.erase(collision);
  return TaskStatus::Done;
}

// ---- responder ----

TaskStatus ChildCreate::process_request(const InboundMessage& request) {
  const auto& p = request.payloads;
  const auto* sa = find<SecurityAssociation>(p);
  const auto* tsi = find<TsInitiator>(p);
  const auto* tsr = find<TsResponder>(p);
  if (in_ike_auth() && !sa && !tsi && !tsr) return TaskStatus::NeedMore;  // no CHILD SA requested
  requested_ = true;
  if (!sa || !tsi || !tsr) return refuse(NotifyType::InvalidSyntax);
  // Every selector pair becomes data-plane policies: a peer's count is checked before any
  // narrowing work (daemon.limits.selectors_per_ts).
  const std::size_t max_selectors = ctx_.limits().selectors_per_ts;
  if (tsi->selectors.size() > max_selectors || tsr->selectors.size() > max_selectors)
    return refuse(NotifyType::TsUnacceptable);
  const Nonce* nonce = nullptr;
  if (!in_ike_auth()) {
    nonce = find<Nonce>(p);
    if (!nonce_ok(nonce)) return refuse(NotifyType::InvalidSyntax);
  }

  const auto& peer = *ctx_.peer_config;
  const ChildSaRecord* old = nullptr;
  if (const Notify* rekey = find_notify(p, NotifyType::RekeySa); rekey && !in_ike_auth()) {
    // §1.3.3: the SPI is the peer's inbound one, i.e. our outbound SPI of the pair.
    if (rekey->protocol != iana::ProtocolId::Esp || rekey->spi.size() != 4)
      return refuse(NotifyType::InvalidSyntax);
    old = ctx_.find_child_by_outbound(spi_value(rekey->spi));
    if (!old) return refuse(NotifyType::ChildSaNotFound);
    rekeys_ = old->inbound_spi;
  }
  // §3.10.1 NO_ADDITIONAL_SAS: this IKE SA holds as many CHILD SAs as it may (a rekey replaces
  // one and is not counted).
  if (!old && ctx_.children.size() >= ctx_.limits().child_sas_per_ike_sa)
    return refuse(NotifyType::NoAdditionalSas);

  // §2.9: pick the first CHILD config whose selectors overlap the proposal on both sides, and
  // narrow to the overlap. A rekey stays with the config of the SA it replaces.
  for (const auto& cfg : peer.children) {
    if (old && cfg.name != old->config_name) continue;
    // The peer's "dynamic" side is its virtual IP when it got one in this IKE_AUTH (§2.19).
    auto ni =
        narrow_selectors(tsi->selectors, peer_dynamic_selectors(ctx_, cfg.remote_ts, request.source.address));
    auto nr = narrow_selectors(tsr->selectors, resolve_selectors(cfg.local_ts, request.destination.address));
    if (!ni.empty() && !nr.empty()) {
      config_ = cfg;
      tsi_ = std::move(ni);
      tsr_ = std::move(nr);
      break;
    }
  }
  if (!config_) return refuse(NotifyType::TsUnacceptable);
  // The gateway's word on who may carry this traffic: selectors another connection or peer
  // identity holds are refused here, before any SA exists (TS_UNACCEPTABLE, §3.10.1).
  if (ctx_.env->check_selectors && ctx_.remote_id) {
    if (Status s = ctx_.env->check_selectors(peer.name, *ctx_.remote_id, tsr_, tsi_); !s) {
      refusal_ = s.error();
      return refuse(NotifyType::TsUnacceptable);
    }
  }

  std::vector<ProposalSpec> theirs;
  std::vector<const Proposal*> sources;
  for (const auto& proposal : sa->proposals) {
    if (proposal.protocol != iana::ProtocolId::Esp || proposal.spi.size() != 4) continue;
    auto spec = from_proposal(proposal);
    if (!spec) continue;
    if (in_ike_auth()) spec->dh.clear();
    theirs.push_back(std::move(*spec));
    sources.push_back(&proposal);
  }
  auto selection = select_suite(offered_proposals(), theirs);
  if (!selection) return refuse(NotifyType::NoProposalChosen);
  const Proposal& theirs_chosen = *sources[selection->their_index];

  if (!in_ike_auth() && selection->suite.dh != iana::DhGroup::None) {
    // §1.3: PFS in the group we chose; a KE payload for another group gets INVALID_KE_PAYLOAD.
    const auto* ke = find<KeyExchange>(p);
    if (!KeyExchangeStep::request_matches(ke, selection->suite.dh)) {
      return refuse(NotifyType::InvalidKePayload, invalid_ke_data(selection->suite.dh));
    }
    if (!ke_.respond_in(selection->suite.dh, ctx_.random(), ctx_.key_pairs()))
      return refuse(NotifyType::NoProposalChosen);
    auto shared = ke_.shared_secret(ke->data);
    if (!shared) return refuse(NotifyType::InvalidSyntax);
    pfs_secret_ = std::move(*shared);
  }

  // §1.3.1: honour USE_TRANSPORT_MODE when our config wants transport and both sides are
  // single hosts; otherwise answer without the notify, which means tunnel mode.
  mode_ = ChildMode::Tunnel;
  if (find_notify(p, NotifyType::UseTransportMode) && config_->mode == ChildMode::Transport &&
      all_single_host(tsi_, request.source.address) && all_single_host(tsr_, request.destination.address)) {
    mode_ = ChildMode::Transport;
  }

  if (!reserve_spi())
    return refuse(NotifyType::NoProposalChosen);  // as strongSwan answers a failed allocation
  outbound_spi_ = spi_value(theirs_chosen.spi);
  suite_ = selection->suite;
  chosen_ = to_proposal(selection->suite, theirs_chosen.number, spi_bytes(inbound_spi_));
  if (nonce) {
    ni_ = nonce->data;
    nr_ = ctx_.random().bytes(ctx_.ike_config->nonce_size);
  }
  if (auto ours = ctx_.child_rekeys_in_flight.find(old ? old->inbound_spi : 0);
      old && ours != ctx_.child_rekeys_in_flight.end() && ours->second &&
      ctx_.child_rekey_collisions.count(old->inbound_spi) == 0) {
    // §2.8.1: we are rekeying this SA too; our own exchange decides when its answer comes.
    ctx_.child_rekey_collisions[old->inbound_spi] = {inbound_spi_, nonce_lower(ni_, nr_) ? ni_ : nr_};
  }
  return TaskStatus::NeedMore;
}

TaskStatus ChildCreate::build_response(OutboundMessage& response) {
  if (!requested_) return TaskStatus::Done;
  if (error_) {
    response.payloads.push_back(Notify::make(*error_, error_data_));
    std::string why = refusal_;
    if (why.empty()) why = rekeys_ ? "CHILD SA rekey refused" : "CHILD SA request refused";
    child_failed(*error_, false, std::move(why));
    return TaskStatus::Done;
  }
  if (mode_ == ChildMode::Transport) response.payloads.push_back(Notify::make(NotifyType::UseTransportMode));
  response.payloads.push_back(SecurityAssociation{{*chosen_}});
  if (!in_ike_auth()) {
    response.payloads.push_back(Nonce{nr_});
    if (ke_.has_key()) response.payloads.push_back(ke_.payload());
  }
  response.payloads.push_back(TsInitiator{tsi_});
  response.payloads.push_back(TsResponder{tsr_});
  // Our local side is TSr, the initiator's is TSi.
  if (!install(*suite_, tsr_, tsi_, false)) {
    child_failed(NotifyType::NoProposalChosen, false, "CHILD SA key derivation failed");
  }
  return TaskStatus::Done;
}

}  // namespace natgate::ike
