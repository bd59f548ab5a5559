// Valid IKEv2 messages built from typed payloads, shared by the codec tests and the fuzz seed corpus.
#pragma once

#include <vector>

#include "ike/codec/message.h"

namespace natgate::ike::testing {

// An IKE_SA_INIT request as strongSwan sends it: SA KE No N(NATD_S_IP) N(NATD_D_IP) N(FRAG_SUP) N(HASH_ALG)
// V.
Message ike_sa_init_request();
// The payloads an IKE_AUTH request carries inside SK (every inner payload type appears once or more).
std::vector<Payload> ike_auth_inner_payloads();
// An IKE_AUTH request whose SK body is opaque filler (the codec does not decrypt).
Message ike_auth_request_encrypted();
// One fragment of an IKE_AUTH request (RFC 7383).
Message ike_auth_fragment(std::uint16_t number, std::uint16_t total);
// Every payload type of the codec in one message, unknown non-critical payload included, SK last.
Message every_payload_type();
// All of the above.
std::vector<Message> all_samples();

}  // namespace natgate::ike::testing
