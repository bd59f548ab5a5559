#include "ike/exchange/ike_sa.h"

#include <algorithm>

#include "ike/codec/describe.h"
#include "ike/codec/encrypted_message.h"
#include "ike/codec/message_codec.h"
#include "ike/exchange/child_create.h"
#include "ike/exchange/child_delete.h"
#include "ike/exchange/config_payload.h"
#include "ike/exchange/ike_auth.h"
#include "ike/exchange/ike_delete.h"
#include "ike/exchange/ike_dpd.h"
#include "ike/exchange/ike_init.h"
#include "ike/exchange/ike_mediation.h"
#include "ike/exchange/ike_mobike.h"
#include "ike/exchange/ike_natd.h"
#include "ike/exchange/ike_rekey.h"
#include "ike/exchange/message_protection.h"

namespace natgate::ike {

using iana::ExchangeType;

namespace {

// SK_pi/SK_pr and both nonces go into AUTH payloads only (RFC 7296 §2.15) and the nonces also
// into the first CHILD SA's keys (§2.17), all in IKE_AUTH; the peer's signature hashes choose how
// we sign our AUTH (RFC 7427 §4). Once the SA is up none is read again, and they cost a road
// warrior ~200 bytes (two secret slots, heap buffers) for its lifetime (docs/performance.md,
// "Scale: memory per road warrior").
void forget_auth_material(IkeSaContext& ctx) {
  if (ctx.keys) {
    ctx.keys->sk_pi = SecretBytes();
    ctx.keys->sk_pr = SecretBytes();
  }
  Bytes().swap(ctx.nonce_i);
  Bytes().swap(ctx.nonce_r);
  std::vector<iana::HashAlgorithm>().swap(ctx.peer_signature_hashes);
}

// Sets ctx.out for the duration of one call into the SA.
class CallScope {
 public:
  CallScope(IkeSaContext& ctx, Output& out) : ctx_(ctx) { ctx_.out = &out; }
  ~CallScope() { ctx_.out = nullptr; }
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;

 private:
  IkeSaContext& ctx_;
};

}  // namespace

Expected<std::unique_ptr<IkeSa>> IkeSa::create_initiator(InitiatorSetup setup, Environment env) {
  return create_initiator(std::move(setup), std::make_shared<const Environment>(std::move(env)));
}

Expected<std::unique_ptr<IkeSa>> IkeSa::create_initiator(InitiatorSetup setup,
                                                         std::shared_ptr<const Environment> env) {
  if (!setup.ike || !setup.peer)
    return unexpected(std::string("initiator needs an IKE and a peer configuration"));
  if (setup.ike->proposals.empty()) return unexpected(std::string("no IKE proposals configured"));
  for (const auto& p : setup.ike->proposals)
    if (p.dh.empty()) return unexpected(std::string("IKE proposal without a key exchange method"));
  if (!env || !env->random) return unexpected(std::string("no random source"));

  std::unique_ptr<IkeSa> sa(new IkeSa());
  auto& ctx = sa->ctx_;
  ctx.initiator = true;
  ctx.ike_config = std::move(setup.ike);
  ctx.peer_config = std::move(setup.peer);
  ctx.env = std::move(env);
  ctx.local = setup.local;
  ctx.remote = setup.remote;
  ctx.natt = setup.natt;
  ctx.spi_i = random_ike_spi(*ctx.env->random);
  sa->driver_ = std::make_unique<ExchangeDriver>(ctx);
  sa->driver_->queue(std::make_unique<IkeInit>(ctx));
  sa->driver_->queue(std::make_unique<IkeNatd>(ctx));
  if (ctx.env->mediation) sa->driver_->queue(std::make_unique<MediationClient>(ctx, ExchangeType::IkeSaInit));
  sa->driver_->queue(std::make_unique<IkeAuth>(ctx));
  if (ctx.env->mediation) sa->driver_->queue(std::make_unique<MediationClient>(ctx, ExchangeType::IkeAuth));
  sa->driver_->queue(std::make_unique<IkeConfig>(ctx));   // CFG_REQUEST, if virtual IPs are wanted
  sa->driver_->queue(std::make_unique<MobikeAuth>(ctx));  // MOBIKE_SUPPORTED (RFC 4555 §3.2)
  const auto& children = ctx.peer_config->children;
  for (std::size_t i = 0; i < children.size(); ++i) {
    // The first CHILD SA rides in IKE_AUTH, the others follow with CREATE_CHILD_SA (§1.3.1).
    sa->driver_->queue(std::make_unique<ChildCreate>(
        ctx, children[i], i == 0 ? ExchangeType::IkeAuth : ExchangeType::CreateChildSa));
  }
  return sa;
}

std::unique_ptr<IkeSa> IkeSa::create_responder(std::shared_ptr<const IkeSaConfig> ike, IkeSpi spi_i,
                                               IkeSpi spi_r, Endpoint local, Endpoint remote,
                                               Environment env) {
  return create_responder(std::move(ike), spi_i, spi_r, local, remote,
                          std::make_shared<const Environment>(std::move(env)));
}

std::unique_ptr<IkeSa> IkeSa::create_responder(std::shared_ptr<const IkeSaConfig> ike, IkeSpi spi_i,
                                               IkeSpi spi_r, Endpoint local, Endpoint remote,
                                               std::shared_ptr<const Environment> env) {
  std::unique_ptr<IkeSa> sa(new IkeSa());
  auto& ctx = sa->ctx_;
  ctx.initiator = false;
  ctx.ike_config = std::move(ike);
  ctx.env = std::move(env);
  ctx.local = local;
  ctx.remote = remote;
  ctx.spi_i = spi_i;
  ctx.spi_r = spi_r;
  sa->driver_ = std::make_unique<ExchangeDriver>(ctx);
  return sa;
}

std::unique_ptr<IkeSa> IkeSa::create_rekeyed(IkeSaContext& old, IkeSuccessor next, TimePoint now) {
  std::unique_ptr<IkeSa> sa(new IkeSa());
  auto& ctx = sa->ctx_;
  ctx.initiator = next.initiator;
  ctx.spi_i = next.spi_i;
  ctx.spi_r = next.spi_r;
  ctx.local = old.local;
  ctx.remote = old.remote;
  ctx.natt = old.natt;
  ctx.ike_config = old.ike_config;
  ctx.peer_config = old.peer_config;
  ctx.env = old.env;
  ctx.state = SaState::Established;
  ctx.suite = next.suite;
  ctx.keys = std::move(next.keys);
  forget_auth_material(ctx);  // a rekeyed IKE SA never authenticates (§2.18)
  ctx.nat = old.nat;
  ctx.floated = old.floated;
  ctx.peer_fragmentation = old.peer_fragmentation;
  ctx.mobike = old.mobike;
  ctx.peer_additional_addresses = old.peer_additional_addresses;
  ctx.outbound = std::move(next.outbound);
  ctx.inbound = std::move(next.inbound);
  ctx.local_id = old.local_id;
  ctx.remote_id = old.remote_id;
  // The virtual IPs stay with the peer (RFC 7296 §2.19): CHILD SAs rekeyed under the new IKE SA
  // narrow to them as before.
  ctx.peer_virtual_ips = old.peer_virtual_ips;
  ctx.own_virtual_ips = old.own_virtual_ips;
  // The peer's rekey budget is per peer, not per IKE SA: rekeying the IKE SA resets nothing.
  ctx.peer_rekeys = old.peer_rekeys;
  // §2.8: the CHILD SAs now belong to the new IKE SA; the old one ends without touching them.
  ctx.children = std::move(old.children);
  old.children.clear();
  ctx.last_heard = now;
  // §2.18: a new SA, so Message IDs start again at 0 in both directions.
  sa->driver_ = std::make_unique<ExchangeDriver>(ctx);
  return sa;
}

void IkeSa::adopt_successor(TimePoint now) {
  IkeSuccessor next = std::move(*ctx_.successor);
  ctx_.successor.reset();
  IkeSaRekeyed ev{ctx_.spi_i, ctx_.spi_r, next.spi_i, next.spi_r, next.initiator, next.suite};
  successor_ = create_rekeyed(ctx_, std::move(next), now);
  ctx_.emit(ev);  // trivially copyable: a move would copy anyway
  // The old SA only waits for its Delete now: no more liveness checks, and if the peer never
  // deletes it (having rekeyed it) it goes by itself.
  Output& out = *ctx_.out;
  out.cancel(TimerKind::Dpd);
  const auto& r = ctx_.ike_config->retransmit;
  Duration wait = r.initial_timeout;
  for (unsigned i = 0; i <= r.retransmits; ++i) wait += r.timeout(i);
  out.arm(TimerKind::RekeyedOld, now + wait);
}

Output IkeSa::activate(TimePoint now) {
  Output out;
  CallScope scope(ctx_, out);
  const auto interval = ctx_.ike_config->dpd_interval;
  if (ctx_.state == SaState::Established && interval.count() > 0) out.arm(TimerKind::Dpd, now + interval);
  return out;
}

void IkeSa::reject(InputError error) {
  switch (error.kind) {
    case InputError::Kind::Malformed:
      ++counters_.malformed;
      break;
    case InputError::Kind::WrongSa:
      ++counters_.wrong_sa;
      break;
    case InputError::Kind::UnexpectedMessageId:
      ++counters_.unexpected_message_id;
      break;
    case InputError::Kind::UnexpectedExchange:
      ++counters_.unexpected_exchange;
      break;
    case InputError::Kind::IntegrityCheckFailed:
      ++counters_.integrity_failures;
      break;
    case InputError::Kind::NotProtected:
      ++counters_.unprotected;
      break;
    case InputError::Kind::Unsupported:
      ++counters_.unsupported;
      break;
  }
  if (ctx_.out) ctx_.out->rejected = std::move(error);
}

void IkeSa::after_call(SaState before, TimePoint now) {
  Output& out = *ctx_.out;
  const auto& cfg = *ctx_.ike_config;
  if (before == SaState::Created && ctx_.state == SaState::Connecting && !ctx_.initiator) {
    half_open_deadline_ = now + cfg.half_open_timeout;
    out.arm(TimerKind::HalfOpen, half_open_deadline_);
  }
  if (before != SaState::Established && ctx_.state == SaState::Established) {
    half_open_.release();
    out.cancel(TimerKind::HalfOpen);
    // Both IKE_SA_INIT messages were kept for the AUTH payloads (§2.15), now computed and
    // verified; a retransmitted IKE_SA_INIT can no longer be the window's last request.
    Bytes().swap(ctx_.own_init_message);
    Bytes().swap(ctx_.peer_init_message);
    forget_auth_material(ctx_);
    if (cfg.dpd_interval.count() > 0) out.arm(TimerKind::Dpd, now + cfg.dpd_interval);
  }
  if (ctx_.state == SaState::Deleted) half_open_.release();
  if (ctx_.successor && ctx_.state != SaState::Deleted) adopt_successor(now);
  ctx_.successor.reset();
  if (half_open_.held()) half_open_.charge(half_open_bytes());
}

void IkeSa::hold(HalfOpenToken token) {
  half_open_ = std::move(token);
  half_open_.on_evict([this] { free_half_open_buffers(); });
  half_open_.charge(half_open_bytes());
}

std::size_t IkeSa::half_open_bytes() const {
  std::size_t n = ctx_.own_init_message.size() + ctx_.peer_init_message.size() +
                  (request_fragments_ ? request_fragments_->pending_bytes() : 0) +
                  (response_fragments_ ? response_fragments_->pending_bytes() : 0);
  for (const auto& d : driver_->responses().cached()) n += d.bytes.size();
  return n;
}

void IkeSa::free_half_open_buffers() {
  // The SA cannot complete without its IKE_SA_INIT messages (AUTH signs them, §2.15): it ends
  // on its next datagram or timer. Only the cached response (our own, small) stays until then.
  if (request_fragments_) request_fragments_->discard();
  if (response_fragments_) response_fragments_->discard();
  Bytes().swap(ctx_.own_init_message);
  Bytes().swap(ctx_.peer_init_message);
}

Output IkeSa::initiate(TimePoint now) {
  Output out;
  CallScope scope(ctx_, out);
  SaState before = ctx_.state;
  if (ctx_.initiator && ctx_.state == SaState::Created) driver_->initiate(now);
  after_call(before, now);
  return out;
}

Output IkeSa::handle(const ReceivedDatagram& in, TimePoint now) {
  Output out;
  CallScope scope(ctx_, out);
  SaState before = ctx_.state;
  ++counters_.datagrams_received;
  if (half_open_.evicted() && ctx_.state == SaState::Connecting) {
    ctx_.emit(
        NegotiationFailed{ExchangeType::IkeAuth, std::nullopt, false, "evicted by the half-open memory cap"});
    driver_->close(DeleteReason::HalfOpenTimeout);
    after_call(before, now);
    return out;
  }

  auto header = decode_header(in.bytes);
  if (!header) {
    reject({InputError::Kind::Malformed, header.error(), header.error().to_string()});
  } else if (ctx_.state == SaState::Deleted) {
    reject({InputError::Kind::UnexpectedExchange, std::nullopt, "the IKE SA is deleted"});
  } else if (header->spi_i != ctx_.spi_i) {
    reject({InputError::Kind::WrongSa, std::nullopt, "initiator SPI is not this SA's"});
  } else if (header->initiator() == ctx_.initiator) {
    // §3.1: the I bit names the original initiator; a message claiming our role is not the peer's.
    reject({InputError::Kind::WrongSa, std::nullopt, "initiator flag does not match the peer's role"});
  } else if (header->response()) {
    handle_response(*header, in, now);
  } else {
    handle_request(*header, in, now);
  }
  after_call(before, now);
  return out;
}

Expected<std::optional<OpenedMessage>, InputError> IkeSa::open(const ReceivedDatagram& in,
                                                               const IkeHeader& header, TimePoint now) {
  auto view = decode_encrypted_message(in.bytes);
  if (!view || !view->fragment) {
    auto opened = open_message(in.bytes, *ctx_.inbound);
    if (!opened) return unexpected(opened.error());
    return std::optional<OpenedMessage>(std::move(*opened));
  }
  if (!ctx_.peer_fragmentation) {
    return unexpected(
        InputError{InputError::Kind::Unsupported, std::nullopt, "SKF without negotiated fragmentation"});
  }
  auto& slot = header.response() ? response_fragments_ : request_fragments_;
  if (!slot) slot = std::make_unique<FragmentReassembler>();
  FragmentReassembler& reassembler = *slot;
  auto r = reassembler.add(*view, *ctx_.inbound, now);
  switch (r.status) {
    case FragmentReassembler::Status::Complete: {
      auto payloads = decode_payload_chain(r.message->first_inner, r.message->chain);
      if (!payloads) {
        return unexpected(InputError{InputError::Kind::Malformed, payloads.error(),
                                     "inside SKF: " + payloads.error().to_string()});
      }
      return std::optional<OpenedMessage>(OpenedMessage{r.message->header, std::move(*payloads)});
    }
    case FragmentReassembler::Status::Incomplete:
      ++counters_.fragments_kept;
      return std::optional<OpenedMessage>();
    case FragmentReassembler::Status::AuthenticationFailed:
      return unexpected(InputError{InputError::Kind::IntegrityCheckFailed, std::nullopt, r.reason});
    case FragmentReassembler::Status::AlreadyComplete:
    case FragmentReassembler::Status::Duplicate:
    case FragmentReassembler::Status::Stale:
      return unexpected(InputError{InputError::Kind::UnexpectedMessageId, std::nullopt, r.reason});
    case FragmentReassembler::Status::OverLimit:
    case FragmentReassembler::Status::Invalid:
      break;
  }
  return unexpected(InputError{InputError::Kind::Unsupported, std::nullopt, r.reason});
}

void IkeSa::authenticated(const ReceivedDatagram& in, TimePoint now) {
  // Only for a new message: a request with the next Message ID or the response to our request
  // in flight. A retransmitted (or replayed) request never gets here (§2.23: "dynamic address
  // update should only be done in response to a new packet").
  ctx_.last_heard = now;
  if (in.local == ctx_.local && in.remote == ctx_.remote) return;
  // The initiator's float to port 4500 after IKE_SA_INIT found a NAT (§2.23) is followed once,
  // wherever the NAT is. After that the peer's address follows authenticated messages only when
  // the peer is behind a NAT (its mapping may change) and we are not: "a host behind a NAT SHOULD
  // NOT do this type of dynamic address update". A responder behind a static port forward still
  // follows its NATed peers (strongSwan's rule too): it is the one that cannot reach them
  // otherwise.
  // With MOBIKE negotiated a new address comes only with an UPDATE_SA_ADDRESSES (RFC 4555 §3.5,
  // ike_mobike.h). A new port on the same address is the peer's NAT rebinding (or a re-opened
  // TCP stream through it, RFC 9329 §6), which the peer cannot see from behind the NAT: that one
  // is still followed as §2.23 allows.
  const bool floats = in.natt && !ctx_.natt;
  const bool same_address =
      in.remote.address == ctx_.remote.address && in.local.address == ctx_.local.address;
  const bool peer_roams = (!ctx_.mobike || same_address) && ctx_.nat.remote_behind_nat &&
                          (!ctx_.nat.local_behind_nat || !ctx_.initiator);
  if (!floats && !peer_roams) return;
  ctx_.local = in.local;
  ctx_.remote = in.remote;
  if (in.natt && !ctx_.natt) {
    ctx_.natt = true;
    ctx_.floated = true;
  }
  if (ctx_.state == SaState::Established)
    ctx_.emit(EndpointsChanged{ctx_.local, ctx_.remote, ctx_.natt, false, std::nullopt});
}

void IkeSa::handle_request(const IkeHeader& header, const ReceivedDatagram& in, TimePoint now) {
  const auto verdict = driver_->responses().classify(header.message_id);
  if (verdict == ResponseWindow::Verdict::Invalid) {
    reject({InputError::Kind::UnexpectedMessageId, std::nullopt,
            "request #" + std::to_string(header.message_id.value) + " outside the window"});
    return;
  }

  if (header.exchange == ExchangeType::IkeSaInit) {
    if (ctx_.initiator || !header.spi_r.is_zero()) {
      reject({InputError::Kind::UnexpectedExchange, std::nullopt, "IKE_SA_INIT request for an existing SA"});
      return;
    }
    if (verdict == ResponseWindow::Verdict::Retransmit) {
      // §2.1: the identical request again gets the identical response; anything else with
      // this SPI is not the peer's retransmission.
      ByteView seen = ctx_.peer_init_message;
      if (seen.size() == in.bytes.size() && std::equal(seen.begin(), seen.end(), in.bytes.begin())) {
        driver_->resend_response();
      } else {
        reject({InputError::Kind::UnexpectedMessageId, std::nullopt,
                "a different IKE_SA_INIT under the same SPI"});
      }
      return;
    }
    auto message = decode_message(in.bytes);
    if (!message) {
      reject({InputError::Kind::Malformed, message.error(), message.error().to_string()});
      return;
    }
    InboundMessage im{message->header, std::move(message->payloads), in.remote, in.local};
    if (!driver_->on_request(im, in.natt, now)) {
      reject({InputError::Kind::UnexpectedExchange, std::nullopt, "IKE_SA_INIT not expected now"});
      return;
    }
    ctx_.peer_init_message.assign(in.bytes.begin(), in.bytes.end());
    ctx_.last_heard = now;
    return;
  }

  if (header.spi_r != ctx_.spi_r) {
    reject({InputError::Kind::WrongSa, std::nullopt, "responder SPI is not this SA's"});
    return;
  }
  if (!ctx_.inbound) {
    reject({InputError::Kind::UnexpectedExchange, std::nullopt, "no keys yet for a protected request"});
    return;
  }
  if (verdict == ResponseWindow::Verdict::Retransmit) {
    // The previous request again: verified, it gets the cached answer, sent where the answer
    // went the first time. It proves nothing new (anyone may have captured and replayed it), so
    // it neither moves the SA nor counts as a sign of life (§2.23). A fragmented one is answered
    // once, on its first fragment (RFC 7383 §2.6.1).
    auto view = decode_encrypted_message(in.bytes);
    if (!view) {
      reject({InputError::Kind::Malformed, view.error(), view.error().to_string()});
      return;
    }
    if (!ctx_.inbound->open(view->aad, view->body)) {
      reject({InputError::Kind::IntegrityCheckFailed, std::nullopt, "retransmitted request does not verify"});
      return;
    }
    if (!view->fragment || view->fragment->number == 1) driver_->resend_response();
    return;
  }
  auto opened = open(in, header, now);
  if (!opened) {
    reject(opened.error());
    return;
  }
  if (!*opened) return;  // a fragment, kept until its message is complete
  authenticated(in, now);
  InboundMessage im{(*opened)->header, std::move((*opened)->payloads), in.remote, in.local};
  if (!driver_->on_request(im, in.natt, now)) {
    reject({InputError::Kind::UnexpectedExchange, std::nullopt,
            exchange_name(header.exchange) + " request not expected in state " + to_string(ctx_.state)});
  }
}

void IkeSa::handle_response(const IkeHeader& header, const ReceivedDatagram& in, TimePoint now) {
  if (!driver_->requests().expects(header.message_id)) {
    reject({InputError::Kind::UnexpectedMessageId, std::nullopt,
            "response #" + std::to_string(header.message_id.value) + " to no request of ours"});
    return;
  }
  if (driver_->in_flight_exchange() != header.exchange) {
    reject({InputError::Kind::UnexpectedExchange, std::nullopt, "response to a different exchange"});
    return;
  }
  if (header.exchange == ExchangeType::IkeSaInit) {
    auto message = decode_message(in.bytes);
    if (!message) {
      reject({InputError::Kind::Malformed, message.error(), message.error().to_string()});
      return;
    }
    ctx_.peer_init_message.assign(in.bytes.begin(), in.bytes.end());
    ctx_.last_heard = now;
    InboundMessage im{message->header, std::move(message->payloads), in.remote, in.local};
    driver_->on_response(im, now);
    return;
  }
  if (header.spi_r != ctx_.spi_r) {
    reject({InputError::Kind::WrongSa, std::nullopt, "responder SPI is not this SA's"});
    return;
  }
  auto opened = open(in, header, now);
  if (!opened) {
    reject(opened.error());
    return;
  }
  if (!*opened) return;  // a fragment, kept until its message is complete
  authenticated(in, now);
  InboundMessage im{(*opened)->header, std::move((*opened)->payloads), in.remote, in.local};
  driver_->on_response(im, now);
}

Output IkeSa::on_timer(TimerKind kind, TimePoint now) {
  Output out;
  CallScope scope(ctx_, out);
  SaState before = ctx_.state;
  if (ctx_.state != SaState::Deleted) {
    switch (kind) {
      case TimerKind::Retransmit:
        driver_->on_retransmit_timer(now);
        break;
      case TimerKind::HalfOpen:
        if (ctx_.state == SaState::Connecting && !ctx_.initiator) {
          if (now >= half_open_deadline_ || half_open_.evicted()) {
            ctx_.emit(NegotiationFailed{ExchangeType::IkeAuth, std::nullopt, false,
                                        "IKE_AUTH did not complete in time"});
            driver_->close(DeleteReason::HalfOpenTimeout);
          } else {
            out.arm(TimerKind::HalfOpen, half_open_deadline_);
          }
        }
        break;
      case TimerKind::RekeyedOld:
        if (ctx_.rekeyed) driver_->close(DeleteReason::Rekeyed);
        break;
      case TimerKind::Dpd: {
        const auto interval = ctx_.ike_config->dpd_interval;
        if (ctx_.state != SaState::Established || ctx_.rekeyed || interval.count() <= 0) break;
        if (now - ctx_.last_heard >= interval && !driver_->busy() && !driver_->has_queued()) {
          driver_->queue(std::make_unique<IkeDpd>(ctx_));
          driver_->initiate(now);
        }
        out.arm(TimerKind::Dpd, now + interval);
        break;
      }
    }
  }
  after_call(before, now);
  return out;
}

Output IkeSa::delete_ike_sa(TimePoint now) {
  Output out;
  CallScope scope(ctx_, out);
  SaState before = ctx_.state;
  if (ctx_.state == SaState::Established) {
    driver_->clear_queue();
    driver_->queue(std::make_unique<IkeDelete>(ctx_));
    driver_->initiate(now);
  } else if (ctx_.state == SaState::Created || ctx_.state == SaState::Connecting) {
    // Not established: nothing the peer could be told with authenticated certainty.
    driver_->close(DeleteReason::LocalRequest);
  }
  after_call(before, now);
  return out;
}

Output IkeSa::delete_child_sa(std::uint32_t inbound_spi, TimePoint now) {
  Output out;
  CallScope scope(ctx_, out);
  SaState before = ctx_.state;
  if (ctx_.state == SaState::Established && ctx_.find_child_by_inbound(inbound_spi)) {
    driver_->queue(std::make_unique<ChildDelete>(ctx_, std::vector<std::uint32_t>{inbound_spi}));
    driver_->initiate(now);
  }
  after_call(before, now);
  return out;
}

Output IkeSa::check_liveness(TimePoint now) {
  Output out;
  CallScope scope(ctx_, out);
  SaState before = ctx_.state;
  if (ctx_.state == SaState::Established && !driver_->busy() && !driver_->has_queued()) {
    driver_->queue(std::make_unique<IkeDpd>(ctx_));
    driver_->initiate(now);
  }
  after_call(before, now);
  return out;
}

Output IkeSa::update_addresses(const Endpoint& new_local, const std::optional<Endpoint>& new_remote,
                               TimePoint now) {
  Output out;
  CallScope scope(ctx_, out);
  SaState before = ctx_.state;
  if (ctx_.state == SaState::Established && ctx_.mobike && !ctx_.rekeyed) {
    // RFC 4555 §3.5: the initiator moves first (its old address may be gone) and tells the peer
    // from the new one; from here on IKE runs on the NAT-T ports, where a NAT found on the new
    // path cannot break it (§3.3).
    ctx_.local = new_local;
    if (new_remote) ctx_.remote = *new_remote;
    if (!ctx_.natt) {
      ctx_.natt = true;
      ctx_.remote.port = ctx_.ike_config->remote_natt_port;
    }
    ctx_.local.port = ctx_.ike_config->natt_port;
    ctx_.emit(EndpointsChanged{ctx_.local, ctx_.remote, ctx_.natt, true, std::nullopt});
    driver_->queue(std::make_unique<MobikeUpdate>(ctx_));
    driver_->initiate(now);
  }
  after_call(before, now);
  return out;
}

Output IkeSa::send_me_connect(std::vector<Payload> payloads, TimePoint now) {
  Output out;
  CallScope scope(ctx_, out);
  SaState before = ctx_.state;
  if (ctx_.state == SaState::Established && !ctx_.rekeyed) {
    driver_->queue(std::make_unique<MeConnectExchange>(ctx_, std::move(payloads)));
    driver_->initiate(now);
  }
  after_call(before, now);
  return out;
}

Output IkeSa::create_child_sa(const std::string& child_config, TimePoint now) {
  Output out;
  CallScope scope(ctx_, out);
  SaState before = ctx_.state;
  if (ctx_.state == SaState::Established && ctx_.peer_config) {
    for (const auto& c : ctx_.peer_config->children) {
      if (c.name != child_config) continue;
      driver_->queue(std::make_unique<ChildCreate>(ctx_, c, ExchangeType::CreateChildSa));
      driver_->initiate(now);
      break;
    }
  }
  after_call(before, now);
  return out;
}

Output IkeSa::rekey_ike_sa(TimePoint now) {
  Output out;
  CallScope scope(ctx_, out);
  SaState before = ctx_.state;
  if (ctx_.state == SaState::Established && !ctx_.rekeyed && !rekeying()) {
    driver_->queue(std::make_unique<IkeRekey>(ctx_, true));
    driver_->initiate(now);
  }
  after_call(before, now);
  return out;
}

Output IkeSa::rekey_child_sa(std::uint32_t inbound_spi, TimePoint now) {
  Output out;
  CallScope scope(ctx_, out);
  SaState before = ctx_.state;
  const ChildSaRecord* child = ctx_.find_child_by_inbound(inbound_spi);
  if (ctx_.state == SaState::Established && !ctx_.rekeyed && child && ctx_.peer_config &&
      !ctx_.child_rekeys_in_flight.count(inbound_spi)) {
    for (const auto& c : ctx_.peer_config->children) {
      if (c.name != child->config_name) continue;
      driver_->queue(std::make_unique<ChildCreate>(ctx_, c, ExchangeType::CreateChildSa, inbound_spi));
      driver_->initiate(now);
      break;
    }
  }
  after_call(before, now);
  return out;
}

}  // namespace natgate::ike
