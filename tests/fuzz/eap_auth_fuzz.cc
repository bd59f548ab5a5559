// libFuzzer target for the IKE_AUTH sub-parsers (docs/security.md, strangers): EAP and EAP-MSCHAPv2
// packets and both MSCHAPv2 state machines, EAP-TLS fragmentation and reassembly on both sides,
// CERT/CERTREQ payloads and certificate parsing, RFC 7427 signature AUTH data, shared-key and EAP
// AUTH checks, SIGNATURE_HASH_ALGORITHMS, configuration attributes and identities. The input layout
// and the invariants are in eap_auth_fuzz_world.h.
#include <cstdint>

#include "eap_auth_fuzz_world.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  natgate::ike::fuzzing::run(natgate::ByteView(data, size));
  return 0;
}
