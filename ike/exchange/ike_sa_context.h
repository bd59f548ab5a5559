// The state one IKE SA's tasks share: who we are in it, what IKE_SA_INIT negotiated, who
// authenticated, which CHILD SAs exist. Tasks read and fill it; the exchange driver and IkeSa own
// message IDs, framing and timers. Nothing here does I/O.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "common/ip_address.h"
#include "common/selector_list.h"
#include "common/traffic_selector.h"
#include "crypto/key_pair_source.h"
#include "crypto/random.h"
#include "ike/codec/ike_header.h"
#include "ike/codec/payloads.h"
#include "ike/exchange/config.h"
#include "ike/exchange/eap_failure_limiter.h"
#include "ike/exchange/events.h"
#include "ike/exchange/output.h"
#include "ike/exchange/peer_limits.h"
#include "ike/exchange/small_map.h"
#include "ike/exchange/spi_reservation.h"
#include "ike/exchange/time.h"
#include "ike/exchange/ts_narrowing.h"
#include "ike/exchange/virtual_ip.h"
#include "ike/suite/crypto_suite.h"
#include "ike/suite/key_schedule.h"
#include "ike/suite/message_protector.h"

namespace natgate::ike {

class MediationHook;  // mediation_hook.h

// What an IKE SA needs from its surroundings. The referenced objects must outlive the SA.
struct Environment {
  crypto::RandomSource* random = nullptr;  // nonces, SPIs, key exchange, IVs
  // Key pairs made ahead on another thread (crypto/key_pair_pool.h); nullptr or empty: the
  // exchange generates its own from `random`.
  crypto::KeyPairSource* key_pairs = nullptr;
  SpiAllocator allocate_spi;
  SpiReleaser release_spi;  // SPIs reserved for CHILD SAs that never came up (spi_reservation.h)
  const ConfigProvider* configs = nullptr;  // responder: peer lookup in IKE_AUTH
  SelectorCheck check_selectors;  // responder: CHILD SA selectors against other owners' (ts_narrowing.h)
  VirtualIpProvider* virtual_ips = nullptr;  // responder: address pools for CFG_REQUEST (§2.19)
  const PeerLimits* limits = nullptr;        // what the peer may ask for; nullptr: the defaults
  // Responder: limits on EAP password guessing (nullptr: none).
  EapFailureLimiter* eap_failures = nullptr;
  // The IKEv2 Mediation Extension's roles (mediation_hook.h); nullptr: ME_CONNECT is refused.
  MediationHook* mediation = nullptr;
};

enum class SaState : std::uint8_t {
  Created,      // nothing sent or received yet
  Connecting,   // IKE_SA_INIT / IKE_AUTH under way
  Established,  // authenticated (RFC 7296 §1.2)
  Deleting,     // we sent Delete(IKE) and wait for the answer
  Deleted,      // terminal: IkeSaDeleted was emitted
};
const char* to_string(SaState state);

struct ChildSaRecord {
  std::string config_name;
  std::uint32_t inbound_spi = 0;
  std::uint32_t outbound_spi = 0;
  CryptoSuite suite;
  SelectorList local_ts;  // shared with the ChildSaEstablished it came with
  SelectorList remote_ts;
  ChildMode mode = ChildMode::Tunnel;
};

// A request a task wants sent once, outside the retransmission window (e.g. the initiator's
// AUTHENTICATION_FAILED notification, RFC 7296 §2.21.2).
struct OneShotRequest {
  iana::ExchangeType exchange = iana::ExchangeType::Informational;
  std::vector<Payload> payloads;
};

// An IKE SA rekey that completed (RFC 7296 §1.3.2, §2.18): what IkeSa builds the new SA from.
struct IkeSuccessor {
  bool initiator = false;  // the rekey's initiator is the new SA's original initiator
  IkeSpi spi_i;
  IkeSpi spi_r;
  CryptoSuite suite;
  IkeSaKeys keys;
  std::optional<MessageProtector> outbound;
  std::optional<MessageProtector> inbound;
};

// The peer rekeyed a CHILD SA we were rekeying as well (RFC 7296 §2.8.1): what we answered.
struct ChildRekeyCollision {
  std::uint32_t new_inbound_spi = 0;  // our inbound SPI of the pair the peer's exchange created
  Bytes lowest_nonce;                 // the lower of that exchange's two nonces
};

// A random non-zero IKE SPI (a zero SPI means "unknown" on the wire, RFC 7296 §3.1).
IkeSpi random_ike_spi(crypto::RandomSource& random);

// §2.8.1: "lowest" compares nonces as octet strings.
bool nonce_lower(ByteView a, ByteView b);

struct IkeSaContext {
  bool initiator = false;  // the original initiator of the IKE SA (RFC 7296 §2.2)
  IkeSpi spi_i;
  IkeSpi spi_r;
  Endpoint local;
  Endpoint remote;
  bool natt = false;  // IKE runs over the NAT-T ports, with the non-ESP marker

  std::shared_ptr<const IkeSaConfig> ike_config;
  std::shared_ptr<const PeerConfig> peer_config;  // responder: known once IDi arrived
  // One per IkeDispatcher, shared by all its SAs: 144 bytes of callbacks that were copied into
  // every SA (docs/performance.md, "Scale: memory per road warrior"). Never null.
  std::shared_ptr<const Environment> env;

  SaState state = SaState::Created;

  // IKE_SA_INIT
  std::optional<CryptoSuite> suite;
  std::optional<IkeSaKeys> keys;
  Bytes nonce_i;
  Bytes nonce_r;
  Bytes own_init_message;   // our IKE_SA_INIT message as sent (RealMessage1/2, §2.15)
  Bytes peer_init_message;  // the peer's, as received
  NatState nat;
  bool floated = false;
  bool peer_fragmentation = false;  // the peer sent IKEV2_FRAGMENTATION_SUPPORTED
  // RFC 7427 §4: the hashes the peer's SIGNATURE_HASH_ALGORITHMS named (empty: it sent none, so
  // we sign with the classic methods).
  std::vector<iana::HashAlgorithm> peer_signature_hashes;
  std::optional<MessageProtector> outbound;  // SK payloads we send
  std::optional<MessageProtector> inbound;   // SK payloads we receive

  // IKE_AUTH
  std::optional<Identity> local_id;
  std::optional<Identity> remote_id;
  bool initial_contact_received = false;
  // Set by IkeAuth while processing a message when IKE_AUTH needs another round (EAP, RFC 7296
  // §2.16); the driver then carries only the authentication task into the next message.
  bool auth_continues = false;
  // Configuration payload (RFC 7296 §2.19): the addresses we leased to the peer (responder) or
  // the peer leased to us (initiator). A CFG_REQUEST we could not serve leaves the CHILD SA
  // without selectors for the peer (it fails with TS_UNACCEPTABLE).
  std::vector<IpAddress> peer_virtual_ips;
  std::vector<IpAddress> own_virtual_ips;
  bool virtual_ip_failed = false;

  std::vector<ChildSaRecord> children;

  // MOBIKE (RFC 4555, ike_mobike.h): both sides sent MOBIKE_SUPPORTED in IKE_AUTH. Only then
  // does the responder move the SA, and only on an authenticated UPDATE_SA_ADDRESSES (§3.5);
  // the implicit §2.23 address updates are off.
  bool mobike = false;
  // The peer's other addresses (ADDITIONAL_IP4/6_ADDRESS; empty after NO_ADDITIONAL_ADDRESSES).
  std::vector<IpAddress> peer_additional_addresses;
  std::uint32_t mobike_updates_refused = 0;  // UPDATE_SA_ADDRESSES without MOBIKE negotiated

  // Set by a task that returns TaskStatus::Failed: why the IKE SA ends.
  DeleteReason close_reason = DeleteReason::NegotiationFailed;
  TimePoint last_heard{};  // last authenticated message from the peer (DPD, RFC 7296 §2.4)

  // Per call: where events go, and requests to send outside the window.
  Output* out = nullptr;
  std::vector<OneShotRequest> one_shots;
  // CHILD SAs (our inbound SPIs) to delete once the current exchange is done: the old SAs of
  // completed rekeys (RFC 7296 §2.8).
  std::vector<std::uint32_t> children_to_delete;
  // Our inbound SPIs of CHILD SAs the responder created but we rejected (§2.9): deleted next.
  std::vector<std::uint32_t> rejected_children;

  // IKE SA rekey (§2.8). `successor` is set by the task that completed a rekey and taken by
  // IkeSa in the same call; from then on this SA is `rekeyed`: its CHILD SAs belong to the new
  // one and it only waits to be deleted, by us (delete_after_rekey) or by the peer.
  // (Behind a pointer: 600 bytes, present for one call per IKE rekey.)
  std::unique_ptr<IkeSuccessor> successor;
  bool rekeyed = false;
  bool delete_after_rekey = false;
  bool ike_rekey_pending = false;  // our rekey is queued or in flight

  // CHILD rekeys of ours queued (false) or in flight (true), by our inbound SPI of the SA being
  // replaced, and the
  // peer's rekeys of the same SAs that we answered meanwhile (§2.8.1).
  // (SmallMaps: a few entries at most, mostly none, and an empty std::map is 48 bytes.)
  SmallMap<std::uint32_t, bool> child_rekeys_in_flight;
  SmallMap<std::uint32_t, ChildRekeyCollision> child_rekey_collisions;

  // When the peer asked for its rekeys in the last minute (PeerLimits::rekeys_per_minute); an
  // IKE rekey hands the list to the new SA, so rekeying the IKE SA itself resets nothing.
  // (A vector: at most rekeys_per_minute entries, and an empty std::deque holds 576 bytes.)
  std::vector<TimePoint> peer_rekeys;

  crypto::RandomSource& random() const { return *env->random; }
  crypto::KeyPairSource* key_pairs() const { return env->key_pairs; }
  const PeerLimits& limits() const {
    static const PeerLimits defaults;
    return env->limits ? *env->limits : defaults;
  }
  const Bytes& own_nonce() const { return initiator ? nonce_i : nonce_r; }
  const Bytes& peer_nonce() const { return initiator ? nonce_r : nonce_i; }
  IkeSpi own_spi() const { return initiator ? spi_i : spi_r; }
  void emit(Event event) const {
    if (out) out->events.push_back(std::move(event));
  }
  ChildSaRecord* find_child_by_inbound(std::uint32_t spi);
  ChildSaRecord* find_child_by_outbound(std::uint32_t spi);
};

}  // namespace natgate::ike
