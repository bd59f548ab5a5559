// The mediation server's side of IKE-ME (draft-brunner-ikev2-mediation-00, mediation server; the
// rules as strongSwan 5.9.8's server applies them): which peers are online under which identity,
// and what to do with a ME_CONNECT.
//
//  - A peer is online while its mediation IKE SA is up; the server remembers the server-reflexive
//    endpoint it reported to it (ME_ENDPOINT SERVER_REFLEXIVE in IKE_AUTH).
//  - A valid ME_CONNECT for an online target is forwarded to the target's mediation IKE SA with IDp
//    replaced by the requester's identity; the requester's ME_CONNECT is answered empty.
//  - For a target that is not online the answer is ME_CONNECT_FAILED. If the request asked for a
//    callback, the requester is remembered and, when the target registers, sent a ME_CONNECT with
//    ME_CALLBACK naming the target. Waiting requesters are forgotten when they go offline.
//
// Beyond strongSwan (which forwards every request): rate limits, so that one hostile but
// authenticated peer cannot use the server to flood others. Each sender has a token bucket for its
// ME_CONNECTs, and each (sender, target) pair another, so that no peer hammers one target; there is
// deliberately no bucket per target, which a hostile peer could drain to cut a victim off. The
// callback lists are bounded. Refused requests are answered ME_CONNECT_FAILED and counted.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/ip_address.h"
#include "ike/codec/payloads.h"
#include "ike/exchange/time.h"
#include "ike/mediation/me_connect.h"
#include "ike/mediation/token_bucket.h"

namespace natgate::ike::mediation {

// A peer's identity as the server knows it: the IDi of its mediation IKE SA, or an IDp.
struct PeerId {
  iana::IdType type = iana::IdType::Fqdn;
  Bytes data;
  static PeerId of(const IdPeer& id) { return {id.type, id.data}; }
  IdPeer to_id_peer() const { return {type, data}; }
  std::string to_string() const;  // printable form for logs and status
  friend auto operator<=>(const PeerId&, const PeerId&) = default;
};

// Whatever the daemon uses to find a mediation IKE SA again (e.g. its local SPI); opaque here.
using SaHandle = std::uint64_t;

struct RegistryLimits {
  // Forwarded ME_CONNECTs per sender: a burst, then one per interval.
  std::uint32_t sender_burst = 10;
  Duration sender_refill{1000};
  // Forwarded ME_CONNECTs from one sender to one target.
  std::uint32_t pair_burst = 3;
  Duration pair_refill{2000};
  std::size_t max_waiting_per_target = 32;   // requesters waiting for one target's callback
  std::size_t max_waits_per_requester = 16;  // targets one requester may wait for
};

// Send this ME_CONNECT (payloads_from_server) as a request on the mediation IKE SA `to`.
struct Forward {
  SaHandle to;
  MeConnect message;
};
// Answer the requester's ME_CONNECT with this error notify (ME_CONNECT_FAILED or INVALID_SYNTAX).
struct Refuse {
  iana::NotifyType notify;
  std::string reason;
};
using ConnectDecision = std::variant<Forward, Refuse>;

struct RegistryCounters {
  std::uint64_t forwarded = 0;
  std::uint64_t target_offline = 0;
  std::uint64_t invalid = 0;
  std::uint64_t sender_limited = 0;
  std::uint64_t pair_limited = 0;
  std::uint64_t callbacks_sent = 0;
  std::uint64_t callbacks_dropped = 0;  // callback lists full
  std::uint64_t unknown_sender = 0;     // a ME_CONNECT on an SA that never registered
};

class MediationRegistry {
 public:
  explicit MediationRegistry(RegistryLimits limits = {}) : limits_(limits) {}

  // The peer's mediation IKE SA is up (IKE_AUTH done). A newer SA of the same identity replaces the
  // older one. Returns the callbacks for requesters that were waiting for this peer.
  std::vector<Forward> peer_online(const PeerId& id, SaHandle sa,
                                   std::optional<natgate::Endpoint> server_reflexive);
  // The mediation IKE SA is gone (deleted, timed out). Unknown handles are ignored.
  void peer_offline(SaHandle sa);

  // A ME_CONNECT request arrived on the mediation IKE SA `from`.
  ConnectDecision on_me_connect(SaHandle from, const std::vector<Payload>& payloads, TimePoint now);

  bool online(const PeerId& id) const;
  // Who registered with the mediation IKE SA `sa`, if anyone.
  std::optional<PeerId> peer_of(SaHandle sa) const;
  std::optional<natgate::Endpoint> server_reflexive(const PeerId& id) const;
  std::size_t online_count() const { return by_sa_.size(); }
  const RegistryCounters& counters() const { return counters_; }
  const MeConnectCounters& decode_counters() const { return decode_counters_; }

 private:
  struct Peer {
    std::optional<SaHandle> sa;  // nullopt: offline, kept only for its waiting list
    std::optional<natgate::Endpoint> server_reflexive;
    std::vector<PeerId> waiting;  // requesters to call back when it comes online
  };

  using PairKey = std::pair<PeerId, PeerId>;  // (sender, target)
  void forget_idle_buckets(TimePoint now);
  std::size_t waits_of(const PeerId& requester) const;

  RegistryLimits limits_;
  std::map<PeerId, Peer> peers_;
  std::map<SaHandle, PeerId> by_sa_;
  std::map<PeerId, TokenBucket> sender_buckets_;
  std::map<PairKey, TokenBucket> pair_buckets_;
  std::optional<TimePoint> last_sweep_;
  RegistryCounters counters_;
  MeConnectCounters decode_counters_;
};

}  // namespace natgate::ike::mediation
