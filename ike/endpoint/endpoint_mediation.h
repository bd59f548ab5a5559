// ike::Endpoint's side of the IKEv2 Mediation Extension (draft-brunner-ikev2-mediation-00,
// docs/mediation.md "natgated as mediation server"): the MediationHook its IKE SAs call, over the
// mediation server's registry (ike/mediation/mediation_registry.h) and its limits.
//
//  - Server: a peer whose IKE SA authenticated on a connection with PeerConfig::mediation_server is
//    registered under its identity (IDi) with the address its SA comes from; its ME_CONNECTs are
//    decided by the registry: forwarded to the named peer's mediation IKE SA (queued here, sent by
//    the Endpoint after the current call), or refused with ME_CONNECT_FAILED / INVALID_SYNTAX.
//    Whatever a hostile but authenticated peer sends (unknown targets, floods, oversized candidate
//    lists) is counted and answered, never fatal.
//  - Peer: a ME_CONNECT arriving on an IKE SA we initiated (the server forwarding a request, or a
//    callback) is parsed and kept for the mediated peer's role, answered empty.
//  - Anything else (a ME_CONNECT on an SA that never registered) is answered ME_CONNECT_FAILED.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "ike/endpoint/sa_table.h"
#include "ike/exchange/mediation_hook.h"
#include "ike/mediation/mediation_registry.h"

namespace natgate::ike {

class EndpointMediation final : public MediationHook {
 public:
  // A ME_CONNECT to send on the IKE SA `to` (to_string of it for the log).
  struct Send {
    SaId to = 0;
    std::vector<Payload> payloads;
    std::string what;
  };
  // A ME_CONNECT the server sent us, on our IKE SA `sa`.
  struct Received {
    SaId sa = 0;
    mediation::MeConnect message;
  };
  static constexpr std::size_t kMaxReceived = 64;  // oldest dropped beyond this

  explicit EndpointMediation(IkeSaTable& table, mediation::RegistryLimits limits = {})
      : table_(table), registry_(limits) {}

  void set_serving(bool serving) { serving_ = serving; }
  bool serving() const override { return serving_; }
  std::vector<Payload> on_me_connect(const IkeSpi& local_spi, const std::vector<Payload>& request,
                                     TimePoint now) override;

  // Server: the IKE SA `sa` authenticated `id` on a mediation connection; `seen_at` is where its
  // IKE SA comes from (the server-reflexive endpoint reported to it).
  void peer_online(const Identity& id, SaId sa, const natgate::Endpoint& seen_at);
  void sa_rekeyed(SaId old_sa, SaId new_sa);
  void sa_gone(SaId sa);
  bool registered(SaId sa) const { return registry_.peer_of(sa).has_value(); }

  // What the Endpoint does after the current call.
  std::vector<Send> take_sends() { return std::exchange(sends_, {}); }
  std::vector<std::string> take_notes() { return std::exchange(notes_, {}); }

  const std::deque<Received>& received() const { return received_; }
  const mediation::MediationRegistry& registry() const { return registry_; }
  // The counters under the names the Endpoint's counters() shows ("mediation_...").
  std::map<std::string, std::uint64_t> counters() const;

 private:
  std::vector<Payload> as_peer(SaId sa, const std::vector<Payload>& request);

  IkeSaTable& table_;
  mediation::MediationRegistry registry_;
  bool serving_ = false;
  std::vector<Send> sends_;
  std::vector<std::string> notes_;
  std::deque<Received> received_;
  std::uint64_t received_count_ = 0;
  std::uint64_t received_invalid_ = 0;
  std::uint64_t refused_ = 0;
  mediation::MeConnectCounters peer_decode_counters_;
};

}  // namespace natgate::ike
