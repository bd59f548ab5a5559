// One IKE SA, as a sans-I/O state machine (docs/design.md, "The sans-I/O contract"; like quinn-proto's
// Connection): it takes datagrams, timer expiries and commands together with the current time,
// and returns what to send, which timers to (re)arm and what happened. It never reads a clock,
// touches a socket or keeps global state.
//
//   auto sa = IkeSa::create_initiator({ike_cfg, peer_cfg, local, remote}, env);
//   Output out = (*sa)->initiate(now);             // IKE_SA_INIT request
//   ... send out.datagrams, arm out.timers, act on out.events ...
//   out = (*sa)->handle({bytes, local, remote, natt}, now);
//   out = (*sa)->on_timer(TimerKind::Retransmit, now);
//
// Responders are created by IkeDispatcher from an IKE_SA_INIT request. Both roles end with an
// IkeSaDeleted event, after which the SA takes no more input.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "common/expected.h"
#include "ike/exchange/exchange_driver.h"
#include "ike/exchange/half_open_limiter.h"
#include "ike/exchange/ike_sa_context.h"
#include "ike/exchange/message_protection.h"
#include "ike/exchange/output.h"
#include "ike/fragment/fragment_reassembler.h"

namespace natgate::ike {

struct IkeSaCounters {
  std::uint64_t datagrams_received = 0;
  // Datagrams dropped, by InputError::Kind.
  std::uint64_t malformed = 0;
  std::uint64_t wrong_sa = 0;
  std::uint64_t unexpected_message_id = 0;
  std::uint64_t unexpected_exchange = 0;
  std::uint64_t integrity_failures = 0;
  std::uint64_t unprotected = 0;
  std::uint64_t unsupported = 0;
  std::uint64_t fragments_kept = 0;  // SKF fragments waiting for the rest of their message
  std::uint64_t dropped() const {
    return malformed + wrong_sa + unexpected_message_id + unexpected_exchange + integrity_failures +
           unprotected + unsupported;
  }
};

class IkeSa {
 public:
  struct InitiatorSetup {
    std::shared_ptr<const IkeSaConfig> ike;
    std::shared_ptr<const PeerConfig> peer;
    Endpoint local;   // our address and IKE port (500)
    Endpoint remote;  // the peer's
    // IKE runs over the NAT-T port from the first message (a mediated IKE SA leaves from the
    // socket the connectivity checks used, docs/mediation.md).
    bool natt = false;
  };
  // A new initiator with a random SPIi. The first CHILD SA is peer->children[0], if any.
  // `env` is shared with the caller's other SAs (it must not be null); the overloads taking an
  // Environment by value give the SA a copy of its own.
  static Expected<std::unique_ptr<IkeSa>> create_initiator(InitiatorSetup setup,
                                                           std::shared_ptr<const Environment> env);
  static Expected<std::unique_ptr<IkeSa>> create_initiator(InitiatorSetup setup, Environment env);
  // A responder for an IKE_SA_INIT request from spi_i; spi_r is ours (random, non-zero).
  static std::unique_ptr<IkeSa> create_responder(std::shared_ptr<const IkeSaConfig> ike, IkeSpi spi_i,
                                                 IkeSpi spi_r, Endpoint local, Endpoint remote,
                                                 std::shared_ptr<const Environment> env);
  static std::unique_ptr<IkeSa> create_responder(std::shared_ptr<const IkeSaConfig> ike, IkeSpi spi_i,
                                                 IkeSpi spi_r, Endpoint local, Endpoint remote,
                                                 Environment env);

  IkeSa(const IkeSa&) = delete;
  IkeSa& operator=(const IkeSa&) = delete;

  // Initiator: sends IKE_SA_INIT.
  Output initiate(TimePoint now);
  // A datagram for this SA (the caller routed it by our SPI, IkeDispatcher::local_spi).
  Output handle(const ReceivedDatagram& datagram, TimePoint now);
  // A timer this SA armed has expired.
  Output on_timer(TimerKind kind, TimePoint now);

  // Commands from the daemon.
  Output delete_ike_sa(TimePoint now);  // RFC 7296 §1.4.1
  Output delete_child_sa(std::uint32_t inbound_spi, TimePoint now);
  Output check_liveness(TimePoint now);  // DPD, §2.4
  // CREATE_CHILD_SA (§1.3.1): another CHILD SA from the peer config's children, by name.
  Output create_child_sa(const std::string& child_config, TimePoint now);
  // Rekeys a CHILD SA (§1.3.3, §2.8): a new pair replaces it (ChildSaEstablished with
  // replaces_inbound_spi), then the old pair is deleted (ChildSaDeleted).
  Output rekey_child_sa(std::uint32_t inbound_spi, TimePoint now);
  // MOBIKE (RFC 4555 §3.5), as the initiator that moved: the IKE SA and its CHILD SAs
  // (EndpointsChanged) go to new_local (and new_remote, if the peer should be reached at another
  // address) at once, and an UPDATE_SA_ADDRESSES tells the peer. Nothing without MOBIKE.
  Output update_addresses(const Endpoint& new_local, const std::optional<Endpoint>& new_remote,
                          TimePoint now);
  // Sends a ME_CONNECT request with these payloads (draft-brunner-ikev2-mediation-00,
  // ike_mediation.h) once the window is free; only on an established SA.
  Output send_me_connect(std::vector<Payload> payloads, TimePoint now);
  // Rekeys the IKE SA (§1.3.2, §2.8). On success this SA reports IkeSaRekeyed: the caller takes
  // the new SA with take_successor(), calls its activate() and routes its SPIs to it; this one
  // is then deleted (by us, having initiated) and ends with IkeSaDeleted(Rekeyed).
  Output rekey_ike_sa(TimePoint now);
  // After IkeSaRekeyed: the new IKE SA, holding the CHILD SAs (once; nullptr afterwards).
  std::unique_ptr<IkeSa> take_successor() { return std::move(successor_); }
  // A successor's first call: arms its timers (DPD).
  Output activate(TimePoint now);
  // Our IKE rekey is queued or in flight (the daemon does not ask twice).
  bool rekeying() const { return ctx_.ike_rekey_pending; }
  bool rekeyed() const { return ctx_.rekeyed; }

  // Responder: the half-open count this SA occupies until IKE_AUTH completes (or it ends); the
  // SA reports its buffers' size through it, and ends if the memory cap evicts it.
  void hold(HalfOpenToken token);

  SaState state() const { return ctx_.state; }
  bool is_initiator() const { return ctx_.initiator; }
  IkeSpi spi_i() const { return ctx_.spi_i; }
  IkeSpi spi_r() const { return ctx_.spi_r; }
  IkeSpi local_spi() const { return ctx_.own_spi(); }
  const Endpoint& local() const { return ctx_.local; }
  const Endpoint& remote() const { return ctx_.remote; }
  bool natt() const { return ctx_.natt; }
  const NatState& nat() const { return ctx_.nat; }
  // MOBIKE (RFC 4555): negotiated in IKE_AUTH; the peer's other addresses; updates refused.
  bool mobike() const { return ctx_.mobike; }
  const std::vector<IpAddress>& peer_additional_addresses() const { return ctx_.peer_additional_addresses; }
  std::uint32_t mobike_updates_refused() const { return ctx_.mobike_updates_refused; }
  const std::optional<CryptoSuite>& suite() const { return ctx_.suite; }
  const std::vector<ChildSaRecord>& children() const { return ctx_.children; }
  const IkeSaCounters& counters() const { return counters_; }
  const ExchangeCounters& exchange_counters() const { return driver_->counters(); }
  bool holds_half_open() const { return half_open_.held(); }
  // Liveness, for `natgate status`: when the peer last sent an authenticated message, and our
  // request in flight (a DPD probe is an empty INFORMATIONAL, RFC 7296 §2.4) with how often it
  // has been sent so far and at most (the retransmit policy, §2.1).
  TimePoint last_heard() const { return ctx_.last_heard; }
  std::optional<iana::ExchangeType> request_in_flight() const { return driver_->in_flight_exchange(); }
  unsigned request_sends() const { return driver_->requests().retransmissions() + 1; }
  unsigned request_sends_max() const {
    return ctx_.ike_config ? ctx_.ike_config->retransmit.retransmits + 1 : 1;
  }

  // The IKE SA's keys, for tests that check both ends derived the same ones. Never log them.
  const IkeSaKeys* key_material_for_testing() const { return ctx_.keys ? &*ctx_.keys : nullptr; }

 private:
  IkeSa() = default;
  // The new SA of a completed IKE rekey; takes the old one's CHILD SAs.
  static std::unique_ptr<IkeSa> create_rekeyed(IkeSaContext& old, IkeSuccessor next, TimePoint now);
  void adopt_successor(TimePoint now);
  void handle_request(const IkeHeader& header, const ReceivedDatagram& in, TimePoint now);
  void handle_response(const IkeHeader& header, const ReceivedDatagram& in, TimePoint now);
  // Verifies and decrypts an SK message, or collects an SKF fragment (RFC 7383 §2.6): nullopt
  // while the message is incomplete.
  Expected<std::optional<OpenedMessage>, InputError> open(const ReceivedDatagram& in, const IkeHeader& header,
                                                          TimePoint now);
  void authenticated(const ReceivedDatagram& in, TimePoint now);
  void reject(InputError error);
  void after_call(SaState before, TimePoint now);
  std::size_t half_open_bytes() const;  // what a half-open SA holds: INIT messages, cache, fragments
  void free_half_open_buffers();        // evicted by the half-open memory cap

  IkeSaContext ctx_;
  std::unique_ptr<ExchangeDriver> driver_;
  IkeSaCounters counters_;
  HalfOpenToken half_open_;
  // The peer's requests and the responses to ours have separate Message ID sequences (§2.2).
  // Created by the first SKF message of each kind: most peers never fragment, and the pair is
  // 384 bytes per SA (docs/performance.md, "Memory per road warrior").
  std::unique_ptr<FragmentReassembler> request_fragments_;
  std::unique_ptr<FragmentReassembler> response_fragments_;
  TimePoint half_open_deadline_{};
  std::unique_ptr<IkeSa> successor_;
};

}  // namespace natgate::ike
