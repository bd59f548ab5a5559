// libFuzzer target for the codec, natgate's entry point for untrusted IKE bytes (docs/design.md, Layers).
// Whatever decodes must re-encode to a message of the same size that decodes to the same value,
// and the re-encoding may differ from the input only by cleared reserved/critical bits.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "ike/codec/describe.h"
#include "ike/codec/encrypted_message.h"
#include "ike/codec/mediation_payloads.h"
#include "ike/codec/message_codec.h"

namespace {

using namespace natgate;
using namespace natgate::ike;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "decode_message_fuzz: %s\n", what);
  std::abort();
}

// An encrypted body whose octets happen to form a payload chain: exercise the inner-chain decoder.
void check_inner_chain(PayloadType first, ByteView body) {
  auto inner = decode_payload_chain(first, body);
  if (!inner) {
    if (inner.error().offset > body.size()) fail("inner error offset past the input");
    return;
  }
  PayloadChain again = encode_payload_chain(*inner);
  if (again.bytes.size() != body.size()) fail("inner chain size changed");
  auto back = decode_payload_chain(again.first_type, again.bytes);
  if (!back || *back != *inner) fail("inner chain round trip");
  (void)unpad_plaintext(body);
}

// ME_ENDPOINT data (Mediation Extension): the decoder is strict, so what decodes re-encodes exactly,
// except the port of an endpoint without address, which is ignored and written back as zero.
void check_me_endpoints(const Message& m) {
  for (const Notify* n : find_all<Notify>(m)) {
    if (n->type != me_notify::kEndpoint) continue;
    auto e = decode_me_endpoint(n->data);
    if (!e) {
      if (e.error().offset > n->data.size()) fail("ME_ENDPOINT error offset past the data");
      continue;
    }
    Bytes expected = n->data;
    if (!e->address) expected[6] = expected[7] = 0;
    if (encode_me_endpoint(*e) != expected) fail("ME_ENDPOINT round trip");
    if (!mediation_notify_length_ok(n->type, n->data.size())) fail("decoded ME_ENDPOINT of a bad length");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteView in(data, size);
  auto m = decode_message(in);
  if (!m) {
    if (m.error().offset > size) fail("error offset past the input");
    (void)m.error().to_string();
    return 0;
  }

  Bytes again = encode_message(*m);
  if (again.size() != size) fail("re-encoded size differs");
  for (std::size_t i = 0; i < size; ++i)
    if ((again[i] & ~in[i]) != 0) fail("re-encoding set bits the input did not have");
  auto back = decode_message(again);
  if (!back) fail("re-encoded message does not decode");
  if (*back != *m) fail("round trip changed the message");
  if (encode_message(*back) != again) fail("encoding is not stable");
  (void)describe(*m);
  check_me_endpoints(*m);

  auto view = decode_encrypted_message(in);
  if (view) {
    if (view->aad.size() + view->body.size() != size) fail("aad and body do not cover the message");
    for (std::size_t iv : {0u, 8u, 16u})
      for (std::size_t icv : {0u, 12u, 16u})
        if (auto parts = view->split(iv, icv))
          if (parts->authenticated.size() + parts->icv.size() != size)
            fail("split does not cover the message");
    if (view->first_inner != PayloadType::None) check_inner_chain(view->first_inner, view->body);
  }
  return 0;
}
