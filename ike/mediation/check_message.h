// The connectivity check message of IKE-ME (draft-brunner-ikev2-mediation-00, connectivity checks;
// verified against strongSwan 5.9.8): an unencrypted INFORMATIONAL with both SPIs zero whose
// Message ID is the sender's pair id, carrying exactly
//   N(ME_CONNECTID)  N(ME_ENDPOINT)  N(ME_CONNECTAUTH)
// Requests carry the I flag, responses the R flag. The ME_ENDPOINT of a request is a
// PEER_REFLEXIVE one without address (family 0); the response's names the request's source as the
// responder saw it, with the request's priority. ME_CONNECTAUTH authenticates the check:
//   SHA-1( Message ID (4 octets, big-endian) | ME_CONNECTID data | ME_ENDPOINT data | sender's ME_CONNECTKEY
//   )
#pragma once

#include <cstdint>

#include "common/bytes.h"
#include "common/expected.h"
#include "common/secret_bytes.h"
#include "ike/codec/mediation_payloads.h"
#include "ike/codec/message.h"

namespace natgate::ike::mediation {

struct Check {
  bool request = true;
  std::uint32_t message_id = 0;  // the sender's pair id
  Bytes connect_id;
  MeEndpoint endpoint;
  Bytes endpoint_data;  // the ME_ENDPOINT notify data as sent: the signature covers these octets
  Bytes auth;           // ME_CONNECTAUTH
};

// How strongSwan 5.9.8 tells a check from IKE traffic: INFORMATIONAL whose first payload is not SK.
// We also require both SPIs zero, which is what it sends; anything else goes to the IKE SA table.
bool looks_like_check(const Message& message);

Bytes check_signature(std::uint32_t message_id, ByteView connect_id, ByteView endpoint_data,
                      const SecretBytes& sender_key);

// A signed check ready to encode. sender_key is our own ME_CONNECTKEY.
Message build_check(bool request, std::uint32_t message_id, ByteView connect_id, const MeEndpoint& endpoint,
                    const SecretBytes& sender_key);

enum class CheckError : std::uint8_t {
  NotACheck,       // fails looks_like_check
  MissingPayload,  // one of the three notifies is absent
  BadNotify,       // a ME notify of a length strongSwan rejects, or an undecodable ME_ENDPOINT
};
const char* to_string(CheckError error);

// Takes the first of each notify (strongSwan ignores repeats) and ignores every other payload.
// Does not verify the signature: the check list holds the peer's key (verify_check).
Expected<Check, CheckError> parse_check(const Message& message);

// Constant-time comparison of the ME_CONNECTAUTH against the one computed with the peer's key.
bool verify_check(const Check& check, const SecretBytes& peer_key);

}  // namespace natgate::ike::mediation
