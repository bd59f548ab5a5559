// Where an IKE SA hands the IKEv2 Mediation Extension's messages to whoever plays a mediation role
// (draft-brunner-ikev2-mediation-00, docs/mediation.md). ike/exchange knows only the wire rules of
// the exchanges (ME_MEDIATION in IKE_SA_INIT, ME_ENDPOINT in IKE_AUTH, the ME_CONNECT exchange);
// what a ME_CONNECT means (register, forward, refuse) is decided behind this interface, which
// ike::Endpoint implements over the mediation registry (ike/endpoint/endpoint_mediation.h).
//
// Sans-I/O like the rest (docs/design.md): the hook answers synchronously; anything it wants sent
// on another IKE SA it queues and its owner sends after the current call.
#pragma once

#include <vector>

#include "common/bytes.h"
#include "common/endpoint_pair.h"
#include "ike/codec/ike_header.h"
#include "ike/codec/payloads.h"
#include "ike/exchange/time.h"

namespace natgate::ike {

class MediationHook {
 public:
  virtual ~MediationHook() = default;
  // Some connection makes us a mediation server: an IKE_SA_INIT request carrying ME_MEDIATION is
  // answered with ME_MEDIATION (strongSwan 5.9.8 fails the mediation connection without it).
  virtual bool serving() const = 0;
  // A ME_CONNECT request arrived, authenticated, on the established IKE SA whose own SPI is
  // `local_spi`. Returns the response's payloads: empty (accepted) or one error notify.
  virtual std::vector<Payload> on_me_connect(const IkeSpi& local_spi, const std::vector<Payload>& request,
                                             TimePoint now) = 0;

  // ---- the mediated peer's side (all optional: a server-only hook ignores them) ----
  // Our mediation connection's server reported where it sees us (ME_ENDPOINT SERVER_REFLEXIVE in
  // its IKE_AUTH response, draft §3.3).
  virtual void on_server_reflexive(const IkeSpi& local_spi, const Endpoint& seen_at) {
    (void)local_spi;
    (void)seen_at;
  }
  // The ME_CONNECTID our mediated IKE SA's IKE_SA_INIT request carries (empty: not a mediated SA).
  virtual Bytes mediated_connect_id(const IkeSpi& local_spi) const {
    (void)local_spi;
    return {};
  }
  // A mediated IKE_SA_INIT request arrived with this ME_CONNECTID: the responder's check list
  // for it ends.
  virtual void on_mediated_init(ByteView connect_id) { (void)connect_id; }
  // The server's answer to a ME_CONNECT request we sent on the IKE SA `local_spi`: empty
  // (accepted) or an error notify (ME_CONNECT_FAILED: the peer is not online).
  virtual void on_me_connect_response(const IkeSpi& local_spi, const std::vector<Payload>& response) {
    (void)local_spi;
    (void)response;
  }
};

}  // namespace natgate::ike
