// Writes valid IKE messages into a directory: the seed corpus for decode_message_fuzz.
// Usage: codec_seed_corpus <dir>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "ike/codec/message_codec.h"
#include "sample_messages.h"
#include "seed_files.h"
#include "strongswan_exchange.h"

int main(int argc, char** argv) {
  using namespace natgate::ike;
  const auto dir = natgate::fuzz_seeds::seed_corpus_dir(argc, argv);
  if (!dir) return 2;

  std::vector<Message> seeds = testing::all_samples();
  // An SK whose body is a plain payload chain, so the fuzzer reaches the inner-chain decoder.
  PayloadChain inner = encode_payload_chain(testing::ike_auth_inner_payloads());
  Message clear_sk = testing::ike_auth_request_encrypted();
  clear_sk.payloads = {Encrypted{inner.first_type, inner.bytes}};
  seeds.push_back(clear_sk);
  // Each payload alone, so small inputs cover every decoder.
  for (const Payload& p : testing::every_payload_type().payloads) seeds.push_back(Message{IkeHeader{}, {p}});

  std::vector<natgate::Bytes> wires;
  for (const Message& m : seeds) wires.push_back(encode_message(m));
  // Real strongSwan frames (SK, SKF, IKE_SA_INIT both ways).
  namespace ss = testing::strongswan;
  for (const char* hex : {ss::kIkeSaInitRequest, ss::kIkeSaInitResponse, ss::kIkeAuthRequestFragment1,
                          ss::kIkeAuthRequestFragment3, ss::kIkeAuthResponse})
    wires.push_back(natgate::hex_bytes(hex));

  return natgate::fuzz_seeds::write_seed_files(*dir, wires, "ike");
}
