// A fixed, deterministic responder world for responder_fuzz and its seed corpus: the same configs
// and random seeds every run, so a generated IKE_AUTH request (or an inner payload chain sealed
// with the SA's keys) reaches the same SA state the seeds were made from.
//
// Fuzz input layout (first octet selects the stage, modulo 4):
//   0  datagram            → IkeDispatcher::handle_initial (IKE_SA_INIT, cookies, admission)
//   1  datagram            → the responder SA right after IKE_SA_INIT (header checks, SK/SKF opening)
//   2  T | inner chain     → sealed as the IKE_AUTH request (first inner payload type T) with the SA's
//                            real SK_ei/SK_ai and handed to the responder: ike_auth and child_create
//                            see arbitrary authenticated payloads
//   3  X | T | inner chain → the same, as a request of exchange type X (#2) to an established SA
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "crypto/random.h"
#include "ike/exchange/ike_dispatcher.h"
#include "ike/exchange/ike_sa.h"

namespace natgate::ike::fuzzing {

class ResponderWorld {
 public:
  ResponderWorld();
  ~ResponderWorld();

  // The initiator's IKE_SA_INIT request.
  const Bytes& init_request() const { return init_request_; }
  // Runs IKE_SA_INIT through the dispatcher; the responder then waits for IKE_AUTH. Returns the
  // initiator's IKE_AUTH request (protected).
  Bytes to_auth_stage();
  // Runs IKE_AUTH too; the responder is established and expects request #2.
  void to_established_stage();

  // A request from the initiator, sealed with the SA's keys.
  Bytes seal_request(iana::ExchangeType exchange, std::uint32_t message_id, PayloadType first_inner,
                     ByteView inner_chain);

  Output deliver_initial(ByteView datagram);
  Output deliver(ByteView datagram);  // to the responder SA (requires a stage >= 1)

  IkeSa* responder() { return responder_.get(); }
  IkeSa* initiator() { return initiator_.get(); }

 private:
  Environment env(crypto::RandomSource& random);
  ReceivedDatagram to_responder(ByteView bytes) const;

  crypto::DeterministicRandom random_i_{11};
  crypto::DeterministicRandom random_r_{22};
  crypto::DeterministicRandom random_seal_{33};
  class Configs;
  std::unique_ptr<Configs> configs_;
  std::shared_ptr<IkeSaConfig> ike_i_;
  std::shared_ptr<PeerConfig> peer_i_;
  std::unique_ptr<IkeDispatcher> dispatcher_;
  std::unique_ptr<IkeSa> initiator_;
  std::unique_ptr<IkeSa> responder_;
  Bytes init_request_;
  std::uint32_t spi_ = 0x100;
  const TimePoint now_ = TimePoint{} + std::chrono::hours(1);
};

}  // namespace natgate::ike::fuzzing
