#include "ike/exchange/exchange_driver.h"

#include "ike/codec/message.h"
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
#include "ike/fragment/fragmenter.h"

namespace natgate::ike {

using iana::ExchangeType;

namespace {

// Answers a request we do not implement with one error notify and keeps the SA.
class Refusal final : public Task {
 public:
  explicit Refusal(iana::NotifyType notify) : notify_(notify) {}
  std::string_view name() const override { return "refusal"; }
  ExchangeType exchange() const override { return ExchangeType::CreateChildSa; }
  TaskStatus build_request(OutboundMessage&) override { return TaskStatus::Done; }
  TaskStatus process_response(const InboundMessage&) override { return TaskStatus::Done; }
  TaskStatus process_request(const InboundMessage&) override { return TaskStatus::NeedMore; }
  TaskStatus build_response(OutboundMessage& response) override {
    response.payloads.push_back(Notify::make(notify_));
    return TaskStatus::Done;
  }

 private:
  iana::NotifyType notify_;
};

}  // namespace

ExchangeDriver::ExchangeDriver(IkeSaContext& ctx) : ctx_(ctx), requests_(ctx.ike_config->retransmit) {}

void ExchangeDriver::queue(std::unique_ptr<Task> task) { queued_.push_back(std::move(task)); }

std::optional<ExchangeType> ExchangeDriver::in_flight_exchange() const {
  if (!requests_.busy()) return std::nullopt;
  return active_exchange_;
}

std::optional<std::vector<Datagram>> ExchangeDriver::encode(const OutboundMessage& message, bool natt) {
  Bytes bytes;
  if (message.header.exchange == ExchangeType::IkeSaInit) {
    bytes = encode_message(Message{message.header, message.payloads});
  } else {
    if (!ctx_.outbound) return std::nullopt;
    if (ctx_.peer_fragmentation) {
      // RFC 7383 §2.5: too big for one datagram of fragment_size → SKF fragments, each sealed alone.
      FragmentSizing sizing;
      sizing.ip_datagram_size = ctx_.ike_config->fragment_size;
      sizing.ipv6 = !message.destination.address.is_v4();
      sizing.non_esp_marker = natt;
      PayloadChain inner = encode_payload_chain(message.payloads);
      if (!fits_unfragmented(inner.bytes.size(), sizing, *ctx_.outbound)) {
        auto pieces = fragment_message(message.header, inner.first_type, inner.bytes, sizing, *ctx_.outbound,
                                       ctx_.random());
        if (!pieces) return std::nullopt;
        std::vector<Datagram> out;
        for (auto& piece : *pieces)
          out.push_back(Datagram{std::move(piece), message.source, message.destination, natt});
        return out;
      }
    }
    auto sealed = seal_message(message.header, message.payloads, *ctx_.outbound, ctx_.random());
    if (!sealed) return std::nullopt;
    bytes = std::move(*sealed);
  }
  std::vector<Datagram> out;
  out.push_back(Datagram{std::move(bytes), message.source, message.destination, natt});
  return out;
}

void ExchangeDriver::initiate(TimePoint now) {
  // A task may finish while building (nothing to send); then the next one gets its turn.
  while (ctx_.state != SaState::Deleted && !requests_.busy() && !queued_.empty()) {
    active_exchange_ = queued_.front()->exchange();
    // IKE_SA_INIT and IKE_AUTH carry several concerns in one message; other exchanges do one
    // thing each.
    const bool combine =
        active_exchange_ == ExchangeType::IkeSaInit || active_exchange_ == ExchangeType::IkeAuth;
    do {
      active_.push_back(std::move(queued_.front()));
      queued_.erase(queued_.begin());
    } while (combine && !queued_.empty() && queued_.front()->exchange() == active_exchange_);
    send_request(now);
  }
}

void ExchangeDriver::send_request(TimePoint now, std::optional<std::size_t> only) {
  OutboundMessage msg;
  msg.header.spi_i = ctx_.spi_i;
  msg.header.spi_r = ctx_.spi_r;
  msg.header.exchange = active_exchange_;
  msg.header.set_initiator(ctx_.initiator);
  msg.header.message_id = requests_.next_id();
  msg.source = ctx_.local;
  msg.destination = ctx_.remote;

  std::vector<std::unique_ptr<Task>> keep;
  for (std::size_t i = 0; i < active_.size(); ++i) {
    auto& task = active_[i];
    if (only && i != *only) {  // another IKE_AUTH round: the other tasks wait for the last one
      keep.push_back(std::move(task));
      continue;
    }
    TaskStatus st = task->build_request(msg);
    if (st == TaskStatus::Failed) {
      active_.clear();
      close(ctx_.close_reason);
      return;
    }
    if (st != TaskStatus::Done) keep.push_back(std::move(task));
  }
  active_ = std::move(keep);
  if (active_.empty()) return;  // nothing left that needs an exchange

  auto datagrams = encode(msg, ctx_.natt);
  if (!datagrams) {
    ctx_.emit(NegotiationFailed{active_exchange_, std::nullopt, false, "could not protect the request"});
    active_.clear();
    close(DeleteReason::NegotiationFailed);
    return;
  }
  if (active_exchange_ == ExchangeType::IkeSaInit) ctx_.own_init_message = datagrams->front().bytes;
  for (const auto& d : *datagrams) out().datagrams.push_back(d);
  out().arm(TimerKind::Retransmit, requests_.sent(msg.header.message_id, std::move(*datagrams), now));
  ++counters_.requests_sent;
  if (ctx_.state == SaState::Created) ctx_.state = SaState::Connecting;
}

void ExchangeDriver::on_response(const InboundMessage& response, TimePoint now) {
  std::vector<TaskStatus> statuses;
  ctx_.auth_continues = false;
  for (std::size_t i = 0; i < active_.size(); ++i) {
    auto& task = active_[i];
    TaskStatus st = task->process_response(response);
    if (st == TaskStatus::Failed) {
      // The exchange is complete even so: a notification sent on the way out takes the next ID.
      requests_.completed();
      active_.clear();
      close(ctx_.close_reason);
      return;
    }
    if (st == TaskStatus::Restart) {
      // §1.2 / §2.6: the same exchange again, under the same message ID, with every task of it.
      requests_.restart();
      out().cancel(TimerKind::Retransmit);
      send_request(now);
      return;
    }
    statuses.push_back(st);
    if (ctx_.auth_continues) {
      // RFC 7296 §2.16: IKE_AUTH goes another round (EAP). Only this task speaks in it; the
      // others read the last response.
      ctx_.auth_continues = false;
      requests_.completed();
      out().cancel(TimerKind::Retransmit);
      send_request(now, i);
      return;
    }
  }
  requests_.completed();
  out().cancel(TimerKind::Retransmit);
  // Tasks that want another round go first, in their order.
  for (std::size_t i = active_.size(); i-- > 0;) {
    if (statuses[i] == TaskStatus::NeedMore) queued_.insert(queued_.begin(), std::move(active_[i]));
  }
  active_.clear();
  flush_one_shots();
  queue_follow_ups();
  initiate(now);
}

bool ExchangeDriver::admit_peer_rekey(TimePoint now) {
  auto& seen = ctx_.peer_rekeys;
  std::size_t old = 0;
  while (old < seen.size() && now - seen[old] >= std::chrono::minutes(1)) ++old;
  seen.erase(seen.begin(), seen.begin() + static_cast<std::ptrdiff_t>(old));
  if (seen.size() >= ctx_.limits().rekeys_per_minute) return false;
  seen.push_back(now);
  return true;
}

std::vector<std::unique_ptr<Task>> ExchangeDriver::passive_tasks(const InboundMessage& request,
                                                                 TimePoint now) {
  std::vector<std::unique_ptr<Task>> tasks;
  if (request.header.exchange == kMeConnect) {
    // The mediation extension's exchange (ike_mediation.h), on an authenticated SA only.
    if (ctx_.state == SaState::Established && ctx_.keys)
      tasks.push_back(std::make_unique<MeConnectExchange>(ctx_, now));
    return tasks;
  }
  const bool mediation = ctx_.env->mediation != nullptr;
  switch (request.header.exchange) {
    case ExchangeType::IkeSaInit:
      if (!ctx_.initiator && ctx_.state == SaState::Created) {
        tasks.push_back(std::make_unique<IkeInit>(ctx_));
        tasks.push_back(std::make_unique<IkeNatd>(ctx_));
        if (mediation) tasks.push_back(std::make_unique<MediationSetup>(ctx_, ExchangeType::IkeSaInit));
      }
      break;
    case ExchangeType::IkeAuth:
      if (!ctx_.initiator && ctx_.state == SaState::Connecting && ctx_.keys) {
        tasks.push_back(std::make_unique<IkeAuth>(ctx_));
        tasks.push_back(std::make_unique<IkeConfig>(ctx_));  // leases before the CHILD SA's selectors
        tasks.push_back(std::make_unique<ChildCreate>(ctx_, std::nullopt));
        tasks.push_back(std::make_unique<MobikeAuth>(ctx_));  // RFC 4555 §3.2
        if (mediation) tasks.push_back(std::make_unique<MediationSetup>(ctx_, ExchangeType::IkeAuth));
      }
      break;
    case ExchangeType::Informational: {
      if (!ctx_.keys) break;
      bool delete_ike = false;
      bool delete_child = false;
      for (const auto* d : find_all<Delete>(request.payloads)) {
        if (d->protocol == iana::ProtocolId::Ike) delete_ike = true;
        if (d->protocol == iana::ProtocolId::Esp) delete_child = true;
      }
      if (delete_ike) {
        tasks.push_back(std::make_unique<IkeDelete>(ctx_));
        break;
      }
      if (delete_child) tasks.push_back(std::make_unique<ChildDelete>(ctx_, std::vector<std::uint32_t>{}));
      // MOBIKE (RFC 4555 §3.5, §3.7): an address update, a return routability check, an address list.
      for (auto n : {iana::NotifyType::UpdateSaAddresses, iana::NotifyType::Cookie2,
                     iana::NotifyType::NoAdditionalAddresses, iana::NotifyType::AdditionalIp4Address,
                     iana::NotifyType::AdditionalIp6Address}) {
        if (!find_notify(request.payloads, n)) continue;
        tasks.push_back(std::make_unique<MobikeUpdate>(ctx_));
        break;
      }
      tasks.push_back(std::make_unique<IkeDpd>(ctx_));
      break;
    }
    case ExchangeType::CreateChildSa: {
      if (ctx_.state != SaState::Established && ctx_.state != SaState::Deleting) break;
      // An SA that was rekeyed or is being deleted creates nothing any more; the peer may try
      // again on the new SA (§2.25).
      if (ctx_.rekeyed || ctx_.state == SaState::Deleting) {
        tasks.push_back(std::make_unique<Refusal>(iana::NotifyType::TemporaryFailure));
        break;
      }
      // An SA payload proposing IKE is an IKE SA rekey (§1.3.2), REKEY_SA a CHILD SA rekey
      // (§1.3.3). A peer rekeying faster than daemon.limits.rekeys_per_minute is asked to try
      // later (§2.25); its SAs stay as they are.
      const auto* sa = find<SecurityAssociation>(request.payloads);
      const bool ike_rekey =
          sa && !sa->proposals.empty() && sa->proposals.front().protocol == iana::ProtocolId::Ike;
      if ((ike_rekey || find_notify(request.payloads, iana::NotifyType::RekeySa)) && !admit_peer_rekey(now)) {
        tasks.push_back(std::make_unique<Refusal>(iana::NotifyType::TemporaryFailure));
        break;
      }
      if (ike_rekey) {
        // §2.25: while one of our CREATE_CHILD_SA exchanges is out (a CHILD SA or IKE rekey of
        // our own) the IKE SA cannot move under it; the peer retries later.
        if (in_flight_exchange() == ExchangeType::CreateChildSa) {
          tasks.push_back(std::make_unique<Refusal>(iana::NotifyType::TemporaryFailure));
        } else {
          tasks.push_back(std::make_unique<IkeRekey>(ctx_));
        }
        break;
      }
      tasks.push_back(std::make_unique<ChildCreate>(ctx_, std::nullopt, ExchangeType::CreateChildSa));
      break;
    }
  }
  return tasks;
}

bool ExchangeDriver::on_request(const InboundMessage& request, bool natt, TimePoint now) {
  // RFC 7296 §2.16: a later IKE_AUTH round goes to the tasks of the first one, of which only the
  // authentication task (the first) takes part until the last round.
  const bool auth_round = request.header.exchange == ExchangeType::IkeAuth && !auth_tasks_.empty();
  auto tasks = auth_round ? std::move(auth_tasks_) : passive_tasks(request, now);
  auth_tasks_.clear();
  if (tasks.empty()) return false;
  ctx_.auth_continues = false;

  OutboundMessage response;
  response.header.spi_i = ctx_.spi_i;
  response.header.spi_r = ctx_.spi_r;
  response.header.exchange = request.header.exchange;
  response.header.set_initiator(ctx_.initiator);
  response.header.set_response(true);
  response.header.message_id = request.header.message_id;
  // §2.11: a response goes back to where the request came from.
  response.source = request.destination;
  response.destination = request.source;

  // The first task reads the request. When it is IKE_AUTH's and asks for another round (EAP,
  // §2.16), the others (configuration payload, CHILD SA) wait for the last round and then read
  // the exchange's first request: a peer that never authenticates gets no pool address and no
  // SPI, and a failure in between leaves nothing to release.
  Task* failing = nullptr;
  if (tasks.front()->process_request(request) == TaskStatus::Failed) failing = tasks.front().get();
  const bool another_round = ctx_.auth_continues && !failing;
  ctx_.auth_continues = false;
  if (another_round && !auth_round) first_auth_request_ = std::make_unique<InboundMessage>(request);
  if (!failing && !another_round) {
    const InboundMessage& first = auth_round && first_auth_request_ ? *first_auth_request_ : request;
    for (std::size_t i = 1; i < tasks.size(); ++i) {
      if (tasks[i]->process_request(first) == TaskStatus::Failed) {
        failing = tasks[i].get();
        break;
      }
    }
  }
  if (!another_round) first_auth_request_.reset();
  bool close_after = false;
  if (failing) {
    response.payloads.clear();
    failing->build_response(response);
    close_after = true;
  } else {
    for (std::size_t i = 0; i < tasks.size() && !(another_round && i > 0); ++i) {
      if (tasks[i]->build_response(response) == TaskStatus::Failed) {
        close_after = true;
        break;
      }
    }
  }
  if (another_round && !close_after) auth_tasks_ = std::move(tasks);

  auto datagrams = encode(response, natt);
  if (!datagrams) {
    ctx_.emit(
        NegotiationFailed{request.header.exchange, std::nullopt, false, "could not protect the response"});
    close(DeleteReason::NegotiationFailed);
    return true;
  }
  if (request.header.exchange == ExchangeType::IkeSaInit && !close_after) {
    ctx_.own_init_message = datagrams->front().bytes;
  }
  for (const auto& d : *datagrams) out().datagrams.push_back(d);
  responses_.answered(request.header.message_id, std::move(*datagrams));
  ++counters_.responses_sent;
  if (close_after) {
    close(ctx_.close_reason);
    return true;
  }
  if (ctx_.state == SaState::Created) ctx_.state = SaState::Connecting;
  flush_one_shots();
  queue_follow_ups();
  initiate(now);
  return true;
}

void ExchangeDriver::resend_response() {
  for (const Datagram& d : responses_.cached()) out().datagrams.push_back(d);
  ++counters_.cached_responses_resent;
}

void ExchangeDriver::on_retransmit_timer(TimePoint now) {
  auto r = requests_.on_timer(now);
  switch (r.kind) {
    case RequestWindow::TimerOutcome::Kind::NotDue:
      if (r.next) out().arm(TimerKind::Retransmit, *r.next);
      return;
    case RequestWindow::TimerOutcome::Kind::Retransmit:
      for (auto& d : r.resend) out().datagrams.push_back(std::move(d));
      out().arm(TimerKind::Retransmit, *r.next);
      ++counters_.retransmissions;
      return;
    case RequestWindow::TimerOutcome::Kind::GiveUp:
      if (ctx_.state == SaState::Connecting) {
        ctx_.emit(NegotiationFailed{active_exchange_, std::nullopt, false,
                                    "no response after " +
                                        std::to_string(ctx_.ike_config->retransmit.retransmits) +
                                        " retransmissions"});
      }
      active_.clear();
      // §2.4: a peer that stops answering is dead; a delete that goes unanswered still deletes.
      close(ctx_.state != SaState::Deleting ? DeleteReason::Timeout
            : ctx_.rekeyed                  ? DeleteReason::Rekeyed
                                            : DeleteReason::LocalRequest);
      return;
  }
}

void ExchangeDriver::queue_follow_ups() {
  if (ctx_.state != SaState::Established) {
    ctx_.children_to_delete.clear();
    ctx_.rejected_children.clear();
    return;
  }
  if (ctx_.delete_after_rekey) {
    // §2.8: the rekey's initiator deletes the old IKE SA; nothing else runs on it any more.
    ctx_.delete_after_rekey = false;
    ctx_.children_to_delete.clear();
    ctx_.rejected_children.clear();
    queued_.clear();
    queued_.push_back(std::make_unique<IkeDelete>(ctx_));
    return;
  }
  if (ctx_.rekeyed) {
    // The peer rekeyed this SA: our queued requests have no SA to run in here.
    queued_.clear();
    ctx_.children_to_delete.clear();
    ctx_.rejected_children.clear();
    return;
  }
  for (auto spi : ctx_.children_to_delete) {
    queued_.push_back(std::make_unique<ChildDelete>(ctx_, std::vector<std::uint32_t>{spi}));
  }
  ctx_.children_to_delete.clear();
  if (!ctx_.rejected_children.empty()) {
    queued_.push_back(std::make_unique<ChildDelete>(ctx_, std::move(ctx_.rejected_children), true));
    ctx_.rejected_children.clear();
  }
}

void ExchangeDriver::flush_one_shots() {
  // Sent once, outside the window: the SA is about to end, so no later request can collide with
  // the message ID used here.
  for (auto& shot : ctx_.one_shots) {
    OutboundMessage msg;
    msg.header.spi_i = ctx_.spi_i;
    msg.header.spi_r = ctx_.spi_r;
    msg.header.exchange = shot.exchange;
    msg.header.set_initiator(ctx_.initiator);
    msg.header.message_id = requests_.next_id();
    msg.source = ctx_.local;
    msg.destination = ctx_.remote;
    msg.payloads = std::move(shot.payloads);
    if (auto datagrams = encode(msg, ctx_.natt)) {
      for (auto& d : *datagrams) out().datagrams.push_back(std::move(d));
    }
  }
  ctx_.one_shots.clear();
}

void ExchangeDriver::close(DeleteReason reason) {
  if (ctx_.state == SaState::Deleted) return;
  flush_one_shots();
  const bool was_established = ctx_.state == SaState::Established || ctx_.state == SaState::Deleting;
  for (const auto& child : ctx_.children) {
    ctx_.emit(ChildSaDeleted{child.config_name, child.inbound_spi, child.outbound_spi,
                             reason == DeleteReason::PeerDeleted});
  }
  ctx_.children.clear();
  ctx_.emit(IkeSaDeleted{ctx_.spi_i, ctx_.spi_r, reason, was_established});
  ctx_.state = SaState::Deleted;
  requests_.abandon();
  queued_.clear();
  active_.clear();  // tasks release what they reserved (SPIs) now, not when the SA is destroyed
  auth_tasks_.clear();
  first_auth_request_.reset();
  out().cancel(TimerKind::Retransmit);
  out().cancel(TimerKind::HalfOpen);
  out().cancel(TimerKind::Dpd);
}

}  // namespace natgate::ike
