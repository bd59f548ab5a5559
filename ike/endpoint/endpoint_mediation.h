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
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/random.h"
#include "ike/endpoint/sa_table.h"
#include "ike/exchange/mediation_hook.h"
#include "ike/mediation/connectivity_checks.h"
#include "ike/mediation/me_connect.h"
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

  // ---- the mediated peer (docs/mediation.md, "natgated as mediated peer") ----------------------
  // One mediated connection being set up: its ME_CONNECT and, once both sides' endpoints are
  // known, its check list.
  struct Attempt {
    std::uint32_t number = 0;  // the MediationChecks timer's key
    std::string connection;    // the mediated connection
    SaId mediation_sa = 0;
    mediation::PeerId peer;
    bool initiator = false;
    mediation::MeConnect ours;  // connect ID, our key and endpoints as sent
    std::vector<mediation::Candidate> local;
    std::unique_ptr<mediation::ConnectivityChecks> checks;
    bool accepted = false;   // the server answered our ME_CONNECT empty
    bool fell_back = false;  // responder: its pairs all failed and the path fell back (once)
  };
  // The responder's side of a direct path: the peer's mediated IKE_SA_INIT arrived for
  // `connection` (the path's reason in `reason`).
  struct DirectArrived {
    std::string connection;
    std::string reason;
  };
  static constexpr std::size_t kMaxAttempts = 32;  // oldest dropped beyond this

  void set_random(crypto::RandomSource* random) { random_ = random; }
  void on_server_reflexive(const IkeSpi& local_spi, const natgate::Endpoint& seen_at) override;
  Bytes mediated_connect_id(const IkeSpi& local_spi) const override;
  void on_mediated_init(ByteView connect_id) override;
  void on_me_connect_response(const IkeSpi& local_spi, const std::vector<Payload>& response) override;

  std::optional<natgate::Endpoint> server_reflexive(SaId mediation_sa) const;
  // Our ME_CONNECT for `connection` to `peer` over the mediation SA whose local end is `local`:
  // queued as a Send; the attempt waits for the peer's answer.
  void connect(const std::string& connection, SaId mediation_sa, const natgate::Endpoint& local,
               const mediation::PeerId& peer);
  // The responder's answer to a forwarded request (`request` from the peer).
  void answer(const std::string& connection, SaId mediation_sa, const natgate::Endpoint& local,
              const mediation::MeConnect& request);
  // The initiator: the peer's response arrived; its checks start (nullptr: no attempt of ours).
  Attempt* peer_responded(const mediation::MeConnect& response);
  Attempt* attempt_by_number(std::uint32_t number);
  Attempt* attempt_by_connect_id(ByteView connect_id);
  void drop_attempt(std::uint32_t number);
  void mediated_sa(SaId sa, Bytes connect_id) { mediated_sas_[sa] = std::move(connect_id); }
  // Attempts whose server answer arrived and whose checks can start (responder) and the ME_CONNECTs
  // the server refused (initiator), both for the Endpoint after the call.
  std::vector<std::uint32_t> take_ready() { return std::exchange(ready_, {}); }
  std::vector<std::uint32_t> take_refused() { return std::exchange(refused_attempts_, {}); }
  std::vector<Received> take_pending() { return std::exchange(pending_, {}); }
  std::vector<DirectArrived> take_direct_arrived() { return std::exchange(direct_arrived_, {}); }
  const std::map<std::uint32_t, Attempt>& attempts() const { return attempts_; }
  const mediation::MediationRegistry& registry() const { return registry_; }
  // The counters under the names the Endpoint's counters() shows ("mediation_...").
  std::map<std::string, std::uint64_t> counters() const;

 private:
  std::vector<Payload> as_peer(SaId sa, const std::vector<Payload>& request);
  std::vector<mediation::Candidate> gather(SaId mediation_sa, const natgate::Endpoint& local) const;
  Attempt& new_attempt();

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

  crypto::RandomSource* random_ = nullptr;
  std::map<SaId, natgate::Endpoint> server_reflexive_;  // by mediation IKE SA
  std::map<SaId, Bytes> mediated_sas_;                  // our mediated IKE SAs: their ME_CONNECTID
  std::map<std::uint32_t, Attempt> attempts_;
  std::uint32_t next_attempt_ = 1;
  std::map<SaId, std::deque<std::uint32_t>> awaiting_answer_;  // our ME_CONNECTs in flight, per SA
  std::vector<std::uint32_t> ready_;
  std::vector<std::uint32_t> refused_attempts_;
  std::vector<Received> pending_;
  std::vector<DirectArrived> direct_arrived_;
  std::uint64_t connect_failed_ = 0;
};

}  // namespace natgate::ike
