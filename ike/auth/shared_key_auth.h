// AUTH data for shared-key authentication (RFC 7296 §2.15, Auth Method 2) and for EAP (§2.16):
//
//   AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets> )
//
// With EAP, the shared secret is the MSK the EAP method produced; a method without an MSK uses
// SK_pi (initiator) or SK_pr (responder) instead (§2.16). The pad string is 17 ASCII octets without
// a terminating NUL.
#pragma once

#include "common/bytes.h"
#include "common/expected.h"
#include "common/iana.h"
#include "common/secret_bytes.h"

namespace natgate::ike {

// AUTH data for a pre-shared key. `shared_secret` is the configured key's octets.
Expected<Bytes> shared_key_auth(iana::PrfId prf, ByteView shared_secret, ByteView signed_octets);

// Checks a received AUTH payload's data in constant time. False also for a wrong length.
bool verify_shared_key_auth(iana::PrfId prf, ByteView shared_secret, ByteView signed_octets,
                            ByteView received_auth);

// EAP (RFC 7296 §2.16): the AUTH both sides send after EAP succeeded, keyed with the MSK, or with
// `sk_p` (SK_pi / SK_pr of the side computing its AUTH) when the method yielded no MSK (msk empty).
// Sent with Auth Method 2 (Shared Key Message Integrity Code).
Expected<Bytes> eap_auth(iana::PrfId prf, const SecretBytes& msk, const SecretBytes& sk_p,
                         ByteView signed_octets);
bool verify_eap_auth(iana::PrfId prf, const SecretBytes& msk, const SecretBytes& sk_p, ByteView signed_octets,
                     ByteView received_auth);

}  // namespace natgate::ike
