// Endpoint candidates and the pairs the connectivity checks test (draft-brunner-ikev2-mediation-00
// borrows both from ICE: RFC 5245 §4.1 gathering and prioritising, §5.7 forming check lists).
// Sans-I/O: the caller hands in the local addresses and the server-reflexive endpoint it learnt
// from the mediation server; nothing here reads an interface or a clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/endpoint_pair.h"
#include "common/ip_address.h"
#include "ike/codec/mediation_payloads.h"

namespace natgate::ike::mediation {

// Type preferences (RFC 5245 §4.1.2.2 recommends 126/110/100/0; IKE-ME as strongSwan 5.9.8 sends
// it uses the full octet: host 255, peer-reflexive 128, server-reflexive 64, relayed 0).
std::uint32_t type_preference(MeEndpointType type);

// Candidate priority. IKE has one "component", so ICE's formula (RFC 5245 §4.1.2.1,
// 2^24*type + 2^8*local + (256 - component)) collapses to 2^16*type + local, with a 16-bit local
// preference. strongSwan gives every candidate local preference 65535.
std::uint32_t candidate_priority(MeEndpointType type, std::uint16_t local_preference);
inline constexpr std::uint16_t kTopLocalPreference = 65535;

struct Candidate {
  MeEndpointType type = MeEndpointType::Host;
  natgate::Endpoint address;  // what the peer is told (the ME_ENDPOINT address)
  natgate::Endpoint base;     // where checks for it leave from: the host address behind a reflexive one
  std::uint32_t priority = 0;

  MeEndpoint to_wire() const { return MeEndpoint{priority, type, address}; }
  // A candidate the peer announced: we only ever send to its address.
  static Candidate remote(const MeEndpoint& announced);
  friend bool operator==(const Candidate&, const Candidate&) = default;
};

// At most this many candidates per side, and pairs per check list: strongSwan sets no limit, but
// the peer's list arrives over the wire and every pair costs up to 14 datagrams.
inline constexpr std::size_t kMaxCandidates = 16;
inline constexpr std::size_t kMaxPairs = 64;

struct GatherInput {
  std::vector<IpAddress> host_addresses;  // this host's usable addresses, most preferred first
  std::uint16_t port = 0;                 // the port our mediation IKE SA uses (4500 after floating)
  // What the mediation server told us it sees (ME_ENDPOINT SERVER_REFLEXIVE in IKE_AUTH), and our
  // end of that IKE SA, which is the reflexive candidate's base.
  std::optional<natgate::Endpoint> server_reflexive;
  natgate::Endpoint server_reflexive_base;
  std::optional<natgate::Endpoint> relayed;  // a relay allocation, when one exists (RFC 5245 §4.1.1.2)
};

// Host candidates (one per address, unspecified and loopback skipped, local preference counting
// down from 65535 in the given order so each is distinct), then the server-reflexive one unless it
// equals a host candidate (no NAT in between: RFC 5245 §4.1.3 drops redundant candidates), then
// the relayed one. At most kMaxCandidates.
std::vector<Candidate> gather_candidates(const GatherInput& input);

// A pair as the check list holds it. The id is 1, 2, ... in priority order after pruning and is
// the Message ID of every check sent for the pair (strongSwan 5.9.8 matches responses by it).
struct CandidatePair {
  std::uint32_t id = 0;
  std::uint64_t priority = 0;
  EndpointPair path;  // local: our base; remote: the peer's candidate address
  friend bool operator==(const CandidatePair&, const CandidatePair&) = default;
};

// RFC 5245 §5.7.2 with the initiator as the controlling agent:
// 2^32*min(G,D) + 2*max(G,D) + (G > D ? 1 : 0), G the initiator's and D the responder's priority.
std::uint64_t pair_priority(std::uint32_t initiator_priority, std::uint32_t responder_priority);

// Every local x remote pair of one address family, highest priority first (equal priorities keep
// the order they were formed in), pairs with the same local base and remote address pruned to the
// first (RFC 5245 §5.7.3), numbered from 1, and cut at max_pairs.
std::vector<CandidatePair> form_pairs(const std::vector<Candidate>& local,
                                      const std::vector<Candidate>& remote, bool we_initiate,
                                      std::size_t max_pairs = kMaxPairs);

}  // namespace natgate::ike::mediation
