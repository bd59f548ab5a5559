#include "ike/exchange/ike_natd.h"

#include "ike/codec/message.h"
#include "ike/exchange/config.h"
#include "natt/nat_detection.h"

namespace natgate::ike {

using iana::NotifyType;

void IkeNatd::add_notifies(OutboundMessage& message) {
  // The SPIs as they stand in this message's header (SPIr is zero in the first request).
  const IkeSpi& i = message.header.spi_i;
  const IkeSpi& r = message.header.spi_r;
  Bytes source = ctx_.ike_config->force_encap ? natt::fake_natd_hash(ctx_.random())
                                              : natt::natd_hash(i.bytes, r.bytes, message.source);
  message.payloads.push_back(Notify::make(NotifyType::NatDetectionSourceIp, std::move(source)));
  message.payloads.push_back(Notify::make(NotifyType::NatDetectionDestinationIp,
                                          natt::natd_hash(i.bytes, r.bytes, message.destination)));
}

void IkeNatd::evaluate(const InboundMessage& message) {
  std::vector<ByteView> sources;
  std::vector<ByteView> destinations;
  for (const auto& p : message.payloads) {
    const auto* n = std::get_if<Notify>(&p);
    if (!n) continue;
    if (n->type == NotifyType::NatDetectionSourceIp) sources.push_back(n->data);
    if (n->type == NotifyType::NatDetectionDestinationIp) destinations.push_back(n->data);
  }
  ctx_.nat = natt::detect_nat(message.header.spi_i.bytes, message.header.spi_r.bytes, sources, destinations,
                              message.source, message.destination);
  // Our fake source hash makes the peer see a NAT in front of us; we encapsulate as well, so that
  // both sides agree (strongSwan's COND_NAT_FAKE).
  ctx_.nat.faked = ctx_.ike_config->force_encap && ctx_.nat.peer_supports_natt;
}

TaskStatus IkeNatd::build_request(OutboundMessage& request) {
  add_notifies(request);
  return TaskStatus::NeedMore;
}

TaskStatus IkeNatd::process_response(const InboundMessage& response) {
  evaluate(response);
  // A mediation connection moves to port 4500 even without a NAT (strongSwan 5.9.8 does the
  // same; docs/mediation.md, "Setting up the mediation connection"): our end of it is the host
  // candidate we announce, and the connectivity checks and the mediated IKE SA run on the NAT-T
  // socket. Left on port 500, a peer without NAT announced :500, where the other peer's checks
  // (sent with the non-ESP marker from its 4500) were not IKE, and every pair failed.
  const bool mediation =
      ctx_.peer_config && ctx_.peer_config->mediation_client && ctx_.nat.peer_supports_natt;
  if ((ctx_.nat.udp_encapsulation() || mediation) && !ctx_.natt) {
    // §2.23: "the initiator MUST ... use UDP port 4500 for all subsequent IKE messages" once a
    // NAT is detected; both our port and the peer's change.
    ctx_.local.port = ctx_.ike_config->natt_port;
    ctx_.remote.port = ctx_.ike_config->remote_natt_port;
    ctx_.natt = true;
    ctx_.floated = true;
  }
  return TaskStatus::Done;
}

TaskStatus IkeNatd::process_request(const InboundMessage& request) {
  evaluate(request);
  return TaskStatus::NeedMore;
}

TaskStatus IkeNatd::build_response(OutboundMessage& response) {
  // Only a peer that asked gets NAT-D back (it may not support NAT-T, §2.23).
  if (ctx_.nat.peer_supports_natt) add_notifies(response);
  return TaskStatus::Done;
}

}  // namespace natgate::ike
