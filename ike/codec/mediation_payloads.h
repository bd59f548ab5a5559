// The wire vocabulary of the IKEv2 Mediation Extension (draft-brunner-ikev2-mediation-00, "IKE-ME")
// as strongSwan 5.9.8 speaks it: the ME_CONNECT exchange, the ID_PEER payload, the ME_* notifies
// and the ME_ENDPOINT notification data. docs/mediation.md, "How mediation works (protocol)",
// lists every number with its source. The values sit in IKEv2's private-use ranges, so they are
// constants here rather than members of the IANA enums in common/iana.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/bytes.h"
#include "common/expected.h"
#include "common/iana.h"
#include "common/ip_address.h"
#include "ike/codec/decode_error.h"

namespace natgate::ike {

// Exchange type of the ME_CONNECT exchange (private use range 240-255, RFC 7296 §3.1).
inline constexpr iana::ExchangeType kMeConnect{240};
// ID_PEER payload ("IDp"): the peer a ME_CONNECT is about; laid out like IDi/IDr (RFC 7296 §3.5),
// type from the private use range 128-255 (RFC 7296 §3.2).
inline constexpr iana::PayloadType kIdPeer{128};

// Notify message types. ME_CONNECT_FAILED is an error type (private use 8192-16383),
// the rest are status types (private use 40960-65535) (RFC 7296 §3.10.1).
namespace me_notify {
inline constexpr iana::NotifyType kConnectFailed{8192};
inline constexpr iana::NotifyType kMediation{40962};
inline constexpr iana::NotifyType kEndpoint{40963};
inline constexpr iana::NotifyType kCallback{40964};
inline constexpr iana::NotifyType kConnectId{40965};
inline constexpr iana::NotifyType kConnectKey{40966};
inline constexpr iana::NotifyType kConnectAuth{40967};
inline constexpr iana::NotifyType kResponse{40968};
}  // namespace me_notify

// True for the eight ME_* notify types above.
bool is_mediation_notify(iana::NotifyType type);
// "ME_CONN_FAIL", "ME_EP", ... (strongSwan's short log names), or nullptr for other types.
const char* mediation_notify_name(iana::NotifyType type);

// Sizes of the opaque ME notify data. strongSwan 5.9.8 sends 4-octet IDs and 16-octet keys and
// rejects a message whose CONNECTID is outside 4..16, CONNECTKEY outside 16..32 or CONNECTAUTH not
// exactly a SHA-1 digest; we accept and check the same ranges.
inline constexpr std::size_t kConnectIdSize = 4;
inline constexpr std::size_t kConnectIdMin = 4;
inline constexpr std::size_t kConnectIdMax = 16;
inline constexpr std::size_t kConnectKeySize = 16;
inline constexpr std::size_t kConnectKeyMin = 16;
inline constexpr std::size_t kConnectKeyMax = 32;
inline constexpr std::size_t kConnectAuthSize = 20;  // SHA-1

// ME_ENDPOINT "Family" octet.
enum class MeFamily : std::uint8_t { None = 0, Ipv4 = 1, Ipv6 = 2 };
// ME_ENDPOINT "Type" octet: the candidate kinds of ICE (RFC 5245 §2.1, §4.1.1).
enum class MeEndpointType : std::uint8_t { Host = 1, PeerReflexive = 2, ServerReflexive = 3, Relayed = 4 };
const char* to_string(MeEndpointType type);  // "HOST", "PEER_REFLEXIVE", ...

// ME_ENDPOINT notification data:
//   Priority (4) | Family (1) | Type (1) | Port (2) | IP Address (0, 4 or 16 octets)
// Family None carries no address (8 octets in all): a peer sends a SERVER_REFLEXIVE one in IKE_AUTH
// to ask the mediation server what it sees, and a PEER_REFLEXIVE one in every check request.
struct MeEndpoint {
  std::uint32_t priority = 0;
  MeEndpointType type = MeEndpointType::Host;
  std::optional<Endpoint> address;  // absent: family None

  MeFamily family() const;
  friend bool operator==(const MeEndpoint&, const MeEndpoint&) = default;
};

// Strict, like strongSwan: the length must be exactly 8, 12 or 24 and agree with the family, the
// family 0..2 and the type 1..4. The port of a family-0 endpoint is ignored (strongSwan does not
// read it either). Errors are DecodeError values naming the Notify payload.
Expected<MeEndpoint, DecodeError> decode_me_endpoint(ByteView data);
Bytes encode_me_endpoint(const MeEndpoint& endpoint);

// Whether an ME_* notify's data has a length strongSwan accepts (always true for other types).
bool mediation_notify_length_ok(iana::NotifyType type, std::size_t length);

}  // namespace natgate::ike
