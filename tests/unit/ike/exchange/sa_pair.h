// Two IKE SAs talking in memory: an initiator IkeSa and whatever IkeDispatcher makes of its
// IKE_SA_INIT, with a wire that records every datagram, can lose, garble or NAT them, and a clock
// the test moves. Nothing here reads a real clock or opens a socket.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/random.h"
#include "ike/exchange/config.h"
#include "ike/exchange/ike_dispatcher.h"
#include "ike/exchange/ike_sa.h"

namespace natgate::ike::testing {

ProposalSpec ike_proposal(const std::string& text);
ProposalSpec esp_proposal(const std::string& text);
TrafficSelector ts(const std::string& subnet);
Endpoint endpoint(const std::string& ip, std::uint16_t port);
SecretBytes secret(const std::string& text);

// Responder-side configuration lookup over fixed configs.
class FixedConfigs final : public ConfigProvider {
 public:
  std::shared_ptr<IkeSaConfig> ike = std::make_shared<IkeSaConfig>();
  std::vector<std::shared_ptr<PeerConfig>> peers;
  mutable std::vector<Identity> asked_for;  // every IDi looked up

  std::shared_ptr<const IkeSaConfig> ike_config(const Endpoint&, const Endpoint&) const override {
    return ike;
  }
  std::shared_ptr<const PeerConfig> peer_config(const Identity& peer_id, const std::optional<Identity>&,
                                                const Endpoint&, const Endpoint&) const override;
};

// One side's view of what the SA asked for.
struct SideLog {
  std::vector<Event> events;
  std::map<TimerKind, TimePoint> timers;  // armed deadlines
  std::vector<InputError> rejections;

  template <typename E>
  std::vector<const E*> all() const {
    std::vector<const E*> out;
    for (const auto& e : events)
      if (const E* x = std::get_if<E>(&e)) out.push_back(x);
    return out;
  }
  template <typename E>
  const E* first() const {
    auto v = all<E>();
    return v.empty() ? nullptr : v.front();
  }
};

struct WireRecord {
  Datagram datagram;
  bool from_initiator = false;
  bool delivered = true;
};

class SaPair {
 public:
  SaPair();
  // The SAs go first: their tasks give reserved SPIs back through env() callbacks that write to
  // members declared after them (spis_released_*), which must still be alive then.
  ~SaPair() {
    retired_i.clear();
    retired_r.clear();
    initiator.reset();
    responder.reset();
  }
  SaPair(const SaPair&) = delete;
  SaPair& operator=(const SaPair&) = delete;

  // Defaults: IKE aes256gcm16-prfsha256-x25519, ESP aes256gcm16, PSK "correct horse", initiator
  // moon.lab 10.1.0.0/24 at 192.0.2.1, responder sun.lab 10.2.0.0/24 at 192.0.2.2.
  std::shared_ptr<IkeSaConfig> ike_i = std::make_shared<IkeSaConfig>();
  std::shared_ptr<PeerConfig> peer_i = std::make_shared<PeerConfig>();
  FixedConfigs configs_r;  // configs_r.ike and configs_r.peers[0] are the responder's
  PeerConfig& peer_r() { return *configs_r.peers.front(); }
  DispatcherConfig dispatcher_config;
  SelectorCheck check_selectors_r;             // the responder's gateway on who holds which traffic
  VirtualIpProvider* virtual_ips_r = nullptr;  // the responder's address pools, if any
  // The responder's limits on EAP password guessing, if any.
  EapFailureLimiter* eap_failures_r = nullptr;

  Endpoint initiator_addr = endpoint("192.0.2.1", 500);
  Endpoint responder_addr = endpoint("192.0.2.2", 500);
  // NAT in front of the initiator: rewrites the source of what it sends (and back for replies).
  // Maps an initiator-side endpoint to the public one the responder sees.
  std::function<Endpoint(const Endpoint&)> nat;
  // A port forward in front of the responder: the initiator sends to responder_addr's address,
  // the responder sees this private address instead (ports unchanged).
  std::optional<IpAddress> responder_private;

  // Faults on the wire, consulted for every datagram: return false to lose it.
  std::function<bool(const WireRecord&)> deliver_if;

  crypto::DeterministicRandom random_i{1};
  crypto::DeterministicRandom random_r{2};
  TimePoint now = TimePoint{} + std::chrono::hours(1);

  // Each side's current IKE SA. After an IKE rekey (IkeSaRekeyed) the pair takes the successor
  // here and keeps the old SA in retired_* until it ends; datagrams go to whichever SA their
  // SPIs name. The sides keep their names: after a rekey the responder started by the pair may
  // well be the new SA's original initiator.
  std::unique_ptr<IkeSa> initiator;
  std::unique_ptr<IkeSa> responder;
  std::vector<std::unique_ptr<IkeSa>> retired_i;
  std::vector<std::unique_ptr<IkeSa>> retired_r;
  std::unique_ptr<IkeDispatcher> dispatcher;
  SideLog log_i;
  SideLog log_r;
  std::vector<WireRecord> wire;

  // Creates the initiator and dispatcher from the configs and sends IKE_SA_INIT.
  void start();
  // Delivers queued datagrams both ways until none are left (bounded).
  void run();
  // Moves the clock and fires every timer that became due (bounded).
  void advance(Duration d);
  void start_and_run() {
    start();
    run();
  }

  // Delivery of one datagram as the other side would see it, for tests that craft their own.
  Output deliver_to_responder(const Datagram& d);
  Output deliver_to_initiator(const Datagram& d);

  bool both_established() const;
  // The payloads of wire[index] in clear: decoded, and opened with the initiator's SA keys if
  // protected. Aborts the test program if it cannot, which the wire checks rule out first.
  std::vector<Payload> payloads_of(std::size_t index) const;
  IkeHeader header_of(std::size_t index) const;
  // A request as the initiator would seal it, for tests that craft their own payloads.
  Bytes seal_from_initiator(iana::ExchangeType exchange, std::uint32_t message_id,
                            const std::vector<Payload>& payloads);
  // Takes what a direct call into an SA returned, as if it had happened during run().
  void absorb_for_test(Output&& out, bool initiator_side) { absorb(std::move(out), initiator_side); }
  std::uint32_t spis_allocated_i = 0;
  std::uint32_t spis_allocated_r = 0;
  // SPIs given back unused (Environment::release_spi), in order.
  std::vector<std::uint32_t> spis_released_i;
  std::vector<std::uint32_t> spis_released_r;
  // daemon.limits for what the initiator may ask of the responder.
  PeerLimits limits_r;

 private:
  void absorb(Output&& out, bool initiator_side, bool from_retired = false);
  // The SA of this side that the datagram's SPIs name (the current one if none matches).
  IkeSa* route(const Datagram& d, bool initiator_side, bool& retired);
  Environment env(bool initiator_side);

  std::deque<Datagram> to_responder_;
  std::deque<Datagram> to_initiator_;
};

}  // namespace natgate::ike::testing
