#include "ike/exchange/ike_mobike.h"

#include "ike/codec/message.h"
#include "natt/nat_detection.h"

namespace natgate::ike {

using iana::NotifyType;

namespace {

// §3.5 leaves the COOKIE2 length to the sender within 8..64 octets (§4.2.5).
constexpr std::size_t kCookie2Size = 16;
constexpr std::size_t kCookie2Min = 8;
constexpr std::size_t kCookie2Max = 64;
// A peer announcing more addresses than this is not believed beyond them (we never use them to
// send: they are kept for status only).
constexpr std::size_t kMaxAdditionalAddresses = 16;

}  // namespace

void read_additional_addresses(IkeSaContext& ctx, const std::vector<Payload>& payloads) {
  std::vector<IpAddress> found;
  bool seen = false;
  for (const auto& p : payloads) {
    const auto* n = std::get_if<Notify>(&p);
    if (!n) continue;
    if (n->type == NotifyType::NoAdditionalAddresses) seen = true;
    if (n->type == NotifyType::AdditionalIp4Address && n->data.size() == 4) {
      seen = true;
      if (found.size() < kMaxAdditionalAddresses)
        found.push_back(IpAddress::from_bytes(IpFamily::V4, n->data));
    }
    if (n->type == NotifyType::AdditionalIp6Address && n->data.size() == 16) {
      seen = true;
      if (found.size() < kMaxAdditionalAddresses)
        found.push_back(IpAddress::from_bytes(IpFamily::V6, n->data));
    }
  }
  if (seen) ctx.peer_additional_addresses = std::move(found);
}

TaskStatus MobikeAuth::build_request(OutboundMessage& request) {
  if (!enabled()) return TaskStatus::Done;
  request.payloads.push_back(Notify::make(NotifyType::MobikeSupported));
  request.payloads.push_back(Notify::make(NotifyType::NoAdditionalAddresses));
  return TaskStatus::NeedMore;
}

TaskStatus MobikeAuth::process_response(const InboundMessage& response) {
  ctx_.mobike = enabled() && find_notify(response.payloads, NotifyType::MobikeSupported) != nullptr;
  if (ctx_.mobike) read_additional_addresses(ctx_, response.payloads);
  return TaskStatus::Done;
}

TaskStatus MobikeAuth::process_request(const InboundMessage& request) {
  peer_offered_ = find_notify(request.payloads, NotifyType::MobikeSupported) != nullptr;
  if (peer_offered_) read_additional_addresses(ctx_, request.payloads);
  return TaskStatus::NeedMore;
}

TaskStatus MobikeAuth::build_response(OutboundMessage& response) {
  // Runs after IkeAuth found the peer's connection (peer_config) and only when nothing failed.
  if (!peer_offered_ || !enabled() || ctx_.state != SaState::Established) return TaskStatus::Done;
  response.payloads.push_back(Notify::make(NotifyType::MobikeSupported));
  response.payloads.push_back(Notify::make(NotifyType::NoAdditionalAddresses));
  ctx_.mobike = true;
  return TaskStatus::Done;
}

void MobikeUpdate::add_natd(OutboundMessage& message) const {
  // §3.5: the NAT-D notifies hash the addresses of this very message, as in IKE_SA_INIT (§2.23).
  const IkeSpi& i = message.header.spi_i;
  const IkeSpi& r = message.header.spi_r;
  Bytes source = ctx_.ike_config->force_encap ? natt::fake_natd_hash(ctx_.random())
                                              : natt::natd_hash(i.bytes, r.bytes, message.source);
  message.payloads.push_back(Notify::make(NotifyType::NatDetectionSourceIp, std::move(source)));
  message.payloads.push_back(Notify::make(NotifyType::NatDetectionDestinationIp,
                                          natt::natd_hash(i.bytes, r.bytes, message.destination)));
}

NatState MobikeUpdate::evaluate(const InboundMessage& message) const {
  std::vector<ByteView> sources;
  std::vector<ByteView> destinations;
  for (const auto& p : message.payloads) {
    const auto* n = std::get_if<Notify>(&p);
    if (!n) continue;
    if (n->type == NotifyType::NatDetectionSourceIp) sources.push_back(n->data);
    if (n->type == NotifyType::NatDetectionDestinationIp) destinations.push_back(n->data);
  }
  NatState nat = natt::detect_nat(message.header.spi_i.bytes, message.header.spi_r.bytes, sources,
                                  destinations, message.source, message.destination);
  nat.faked = ctx_.ike_config->force_encap && nat.peer_supports_natt;
  return nat;
}

TaskStatus MobikeUpdate::build_request(OutboundMessage& request) {
  update_ = true;
  cookie2_ = ctx_.random().bytes(kCookie2Size);
  request.payloads.push_back(Notify::make(NotifyType::UpdateSaAddresses));
  add_natd(request);
  request.payloads.push_back(Notify::make(NotifyType::Cookie2, cookie2_));
  request.payloads.push_back(Notify::make(NotifyType::NoAdditionalAddresses));
  return TaskStatus::NeedMore;
}

TaskStatus MobikeUpdate::process_response(const InboundMessage& response) {
  // §3.5: a response whose COOKIE2 is not ours is not an answer to this update; the SA stays on
  // the addresses it already moved to and the next update (or DPD) tries again.
  const Notify* echo = find_notify(response.payloads, NotifyType::Cookie2);
  if (!echo || echo->data != cookie2_) {
    ++ctx_.mobike_updates_refused;
    return TaskStatus::Done;
  }
  read_additional_addresses(ctx_, response.payloads);
  const NatState nat = evaluate(response);
  if (!nat.peer_supports_natt) return TaskStatus::Done;
  const bool encap_before = ctx_.nat.udp_encapsulation();
  ctx_.nat = nat;
  if (nat.udp_encapsulation() != encap_before)
    ctx_.emit(EndpointsChanged{ctx_.local, ctx_.remote, ctx_.natt, true, nat.udp_encapsulation()});
  return TaskStatus::Done;
}

TaskStatus MobikeUpdate::process_request(const InboundMessage& request) {
  if (const Notify* c = find_notify(request.payloads, NotifyType::Cookie2);
      c && c->data.size() >= kCookie2Min && c->data.size() <= kCookie2Max)
    cookie2_ = c->data;
  if (!find_notify(request.payloads, NotifyType::UpdateSaAddresses)) {
    if (ctx_.mobike) read_additional_addresses(ctx_, request.payloads);
    return TaskStatus::NeedMore;  // a return routability check (§3.7) or an address list
  }
  if (!ctx_.mobike) {
    // §3.2: without MOBIKE_SUPPORTED from both sides there is nothing to update; the request is
    // answered (it authenticated) but moves nothing.
    ++ctx_.mobike_updates_refused;
    return TaskStatus::NeedMore;
  }
  read_additional_addresses(ctx_, request.payloads);
  update_ = true;
  // §3.5: the responder takes the addresses from the IP header of this (authenticated, new)
  // request, and the NAT state from its NAT-D notifies.
  ctx_.local = request.destination;
  ctx_.remote = request.source;
  if (request.destination.port == ctx_.ike_config->natt_port) ctx_.natt = true;
  const NatState nat = evaluate(request);
  if (nat.peer_supports_natt) ctx_.nat = nat;
  ctx_.emit(EndpointsChanged{ctx_.local, ctx_.remote, ctx_.natt, true, ctx_.nat.udp_encapsulation()});
  return TaskStatus::NeedMore;
}

TaskStatus MobikeUpdate::build_response(OutboundMessage& response) {
  if (update_ && ctx_.nat.peer_supports_natt) add_natd(response);
  // §3.5, §4.2.5: COOKIE2 comes back unchanged.
  if (!cookie2_.empty()) response.payloads.push_back(Notify::make(NotifyType::Cookie2, cookie2_));
  return TaskStatus::Done;
}

}  // namespace natgate::ike
