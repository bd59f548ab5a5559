// EAP packets (RFC 3748 §4-§5) as carried in IKEv2 EAP payloads (RFC 7296 §3.16), and the
// EAP-MSCHAPv2 framing inside them (draft-kamath-pppext-eap-mschapv2-02 §2):
//
//   EAP Type 26 data = OpCode (1) | MS-CHAPv2-ID (1) | MS-Length (2) | ...
//     Challenge (1):  Value-Size = 16 | Challenge (16) | Name
//     Response (2):   Value-Size = 49 | Peer-Challenge (16) | Reserved (8) | NT-Response (24) | Flags (1) |
//     Name Success (3):    server: Message "S=<40 hex> M=<text>";  peer: the OpCode alone Failure (4):
//     server: Message "E=691 R=0 C=<32 hex> V=3 M=<text>";  peer: the OpCode alone
//   MS-Length counts from OpCode to the end (the EAP Length minus the 5-octet EAP header).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/expected.h"
#include "ike/codec/payloads.h"

namespace natgate::ike::eap {

enum Code : std::uint8_t { kRequest = 1, kResponse = 2, kSuccess = 3, kFailure = 4 };
enum Type : std::uint8_t { kIdentity = 1, kNak = 3, kMschapv2 = 26 };
enum OpCode : std::uint8_t { kChallenge = 1, kMsResponse = 2, kMsSuccess = 3, kMsFailure = 4 };

inline constexpr std::size_t kResponseValueSize = 49;

// What an EAP state machine wants sent after consuming one packet.
struct Step {
  std::optional<Eap> reply;  // put this EAP payload in the next IKE_AUTH message, if set
  std::string note;          // why a packet was ignored or the method failed; for the debug log
};

// EAP-Identity (RFC 3748 §5.1): an empty request, and a response carrying the identity.
Eap identity_request(std::uint8_t identifier);
Eap identity_response(std::uint8_t identifier, std::string_view identity);
// Legacy Nak (RFC 3748 §5.3.1) proposing `desired` instead of the requested type.
Eap nak(std::uint8_t identifier, std::uint8_t desired);
// EAP-Success / EAP-Failure (RFC 3748 §4.2): no type, no data.
Eap success(std::uint8_t identifier);
Eap failure(std::uint8_t identifier);

// One EAP-MSCHAPv2 message, split.
struct MschapMessage {
  std::uint8_t opcode = 0;
  std::uint8_t ms_id = 0;
  Bytes value;       // Challenge (16) or Response (49); empty for Success/Failure
  std::string text;  // Name (Challenge, Response) or Message (server Success/Failure)
};

// Builds the Type-26 EAP packet. `value` non-empty -> Value-Size | value | text; a server
// Success/Failure -> MS header | text; a peer Success/Failure ack -> the OpCode alone.
Eap mschapv2_packet(Code code, std::uint8_t identifier, const MschapMessage& m);
// Splits a Type-26 EAP Request or Response, checking every length against the data.
Expected<MschapMessage> parse_mschapv2(const Eap& packet);

}  // namespace natgate::ike::eap
