// Writes valid IKE messages into a directory: the seed corpus for decode_message_fuzz.
// Usage: codec_seed_corpus <dir>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "ike/codec/mediation_payloads.h"
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

  // The Mediation Extension: a ME_CONNECT chain in the clear (it travels inside SK) and a
  // connectivity check, which is sent unencrypted (docs/mediation.md).
  {
    using natgate::hex_bytes;
    Message connect{IkeHeader{}, {}};
    connect.header.exchange = kMeConnect;
    MeEndpoint host{0x00ffffff, MeEndpointType::Host,
                    natgate::Endpoint{*natgate::IpAddress::parse("10.1.0.2"), 4500}};
    MeEndpoint v6{0x0040ffff, MeEndpointType::ServerReflexive,
                  natgate::Endpoint{*natgate::IpAddress::parse("2001:db8::7"), 61000}};
    connect.payloads = {IdPeer{natgate::iana::IdType::Fqdn, natgate::Bytes{'b', 'o', 'b'}},
                        Notify::make(me_notify::kConnectId, hex_bytes("01020304")),
                        Notify::make(me_notify::kConnectKey, natgate::Bytes(16, 0x5a)),
                        Notify::make(me_notify::kCallback),
                        Notify::make(me_notify::kEndpoint, encode_me_endpoint(host)),
                        Notify::make(me_notify::kEndpoint, encode_me_endpoint(v6))};
    seeds.push_back(connect);
    Message check{IkeHeader{}, {}};
    check.header.exchange = natgate::iana::ExchangeType::Informational;
    check.header.message_id = MessageId{1};
    check.header.set_initiator(true);
    MeEndpoint prflx{0x0080ffff, MeEndpointType::PeerReflexive, std::nullopt};
    check.payloads = {Notify::make(me_notify::kConnectId, hex_bytes("0a0b0c0d")),
                      Notify::make(me_notify::kEndpoint, encode_me_endpoint(prflx)),
                      Notify::make(me_notify::kConnectAuth, natgate::Bytes(20, 0x11))};
    seeds.push_back(check);
  }

  std::vector<natgate::Bytes> wires;
  for (const Message& m : seeds) wires.push_back(encode_message(m));
  // Real strongSwan frames (SK, SKF, IKE_SA_INIT both ways).
  namespace ss = testing::strongswan;
  for (const char* hex : {ss::kIkeSaInitRequest, ss::kIkeSaInitResponse, ss::kIkeAuthRequestFragment1,
                          ss::kIkeAuthRequestFragment3, ss::kIkeAuthResponse})
    wires.push_back(natgate::hex_bytes(hex));

  return natgate::fuzz_seeds::write_seed_files(*dir, wires, "ike");
}
