// Shared-key authentication (RFC 7296 §2.15):
//   AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets> )
//   InitiatorSignedOctets = RealMessage1 | NonceRData | prf(SK_pi, RestOfInitIDPayload)
//   ResponderSignedOctets = RealMessage2 | NonceIData | prf(SK_pr, RestOfRespIDPayload)
// RealMessage is the sender's own IKE_SA_INIT message as sent (from the IKE header on), the nonce
// the peer's (data only), and RestOf…IDPayload the ID payload body: ID Type, three reserved
// zero octets, Identification Data.
#pragma once

#include "common/bytes.h"
#include "common/expected.h"
#include "common/iana.h"
#include "common/secret_bytes.h"
#include "ike/exchange/identity.h"

namespace natgate::ike {

// The body of an IDi/IDr payload after its generic header (§3.5).
Bytes id_payload_body(const Identity& id);

Expected<Bytes> signed_octets(iana::PrfId prf, ByteView own_init_message, ByteView peer_nonce,
                              const SecretBytes& sk_p, const Identity& own_id);

Expected<Bytes> psk_auth(iana::PrfId prf, const SecretBytes& psk, ByteView signed_octets);

// Constant-time comparison of a received AUTH against the expected value.
bool auth_matches(ByteView received, ByteView expected);

}  // namespace natgate::ike
