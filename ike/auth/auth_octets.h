// The octets an AUTH payload covers (RFC 7296 §2.15). The exchange hands in the pieces it already
// has; nothing here parses messages.
//
//   InitiatorSignedOctets = RealMessage1 | NonceRData | prf(SK_pi, RestOfInitIDPayload)
//   ResponderSignedOctets = RealMessage2 | NonceIData | prf(SK_pr, RestOfRespIDPayload)
//   RestOfIDPayload       = IDType | RESERVED (3 zero octets) | Identification Data
//
// RealMessage1/2 is the whole IKE_SA_INIT message as sent or received (IKE header included; the
// non-ESP marker, if it was on port 4500, excluded), and the nonce is the OTHER side's nonce data
// without its payload header. SK_pi/SK_pr belong to the side whose AUTH is being computed or checked.
#pragma once

#include "common/bytes.h"
#include "common/expected.h"
#include "common/iana.h"
#include "common/secret_bytes.h"
#include "ike/codec/payloads.h"

namespace natgate::ike {

// RestOfIDPayload: the ID payload body after the generic payload header.
Bytes rest_of_id_payload(iana::IdType id_type, ByteView id_data);

// The signed octets for one side. `prf` is the IKE SA's negotiated PRF; `sk_p` is SK_pi when the
// octets are the initiator's and SK_pr when they are the responder's.
Expected<Bytes> auth_signed_octets(ByteView real_message, ByteView peer_nonce, iana::PrfId prf,
                                   const SecretBytes& sk_p, iana::IdType id_type, ByteView id_data);

// The same, taking the ID payload as the codec decoded it (IDi for the initiator, IDr for the responder).
template <PayloadType T>
Expected<Bytes> auth_signed_octets(ByteView real_message, ByteView peer_nonce, iana::PrfId prf,
                                   const SecretBytes& sk_p, const Identification<T>& id) {
  return auth_signed_octets(real_message, peer_nonce, prf, sk_p, id.type, id.data);
}

}  // namespace natgate::ike
