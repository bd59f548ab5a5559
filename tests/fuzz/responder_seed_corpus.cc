// Writes the seed corpus for responder_fuzz (layout in responder_fuzz_world.h): a real IKE_SA_INIT
// request, the matching IKE_AUTH request, its inner payload chain, and INFORMATIONAL chains for an
// established SA. Usage: responder_seed_corpus <dir>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "ike/codec/message.h"
#include "ike/codec/message_codec.h"
#include "ike/exchange/message_protection.h"
#include "responder_fuzz_world.h"
#include "seed_files.h"

using namespace natgate;
using namespace natgate::ike;

namespace {

Bytes with_prefix(std::initializer_list<std::uint8_t> prefix, ByteView rest) {
  Bytes out(prefix);
  append(out, rest);
  return out;
}

Bytes chain_seed(std::initializer_list<std::uint8_t> prefix, const std::vector<Payload>& payloads) {
  PayloadChain chain = encode_payload_chain(payloads);
  Bytes out(prefix);
  out.push_back(static_cast<std::uint8_t>(chain.first_type));
  append(out, chain.bytes);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const auto dir = natgate::fuzz_seeds::seed_corpus_dir(argc, argv);
  if (!dir) return 2;
  std::vector<Bytes> seeds;

  fuzzing::ResponderWorld world;
  seeds.push_back(with_prefix({0}, world.init_request()));
  // The same request with a (stale) cookie in front, for the cookie path.
  auto init = decode_message(world.init_request());
  init->payloads.insert(init->payloads.begin(), Notify::make(iana::NotifyType::Cookie, Bytes(36, 1)));
  seeds.push_back(with_prefix({0}, encode_message(*init)));

  Bytes auth = world.to_auth_stage();
  seeds.push_back(with_prefix({1}, auth));
  const IkeSaKeys* keys = world.responder()->key_material_for_testing();
  auto protector = MessageProtector::create(*world.responder()->suite(), keys->sk_ei, keys->sk_ai);
  auto opened = open_message(auth, *protector);
  if (!opened) return 1;
  seeds.push_back(chain_seed({2}, opened->payloads));

  const auto informational = static_cast<std::uint8_t>(iana::ExchangeType::Informational);
  const auto create_child = static_cast<std::uint8_t>(iana::ExchangeType::CreateChildSa);
  seeds.push_back(Bytes{3, informational, 0});  // empty INFORMATIONAL (DPD)
  seeds.push_back(chain_seed({3, informational}, {Delete::ike_sa()}));
  seeds.push_back(
      chain_seed({3, informational}, {Delete::child_sas(iana::ProtocolId::Esp, {Bytes{0, 0, 1, 1}})}));
  seeds.push_back(chain_seed({3, informational}, {Notify::make(iana::NotifyType::AuthenticationFailed)}));
  // A CREATE_CHILD_SA request shaped like a CHILD SA rekey.
  std::vector<Payload> rekey;
  for (const auto& p : opened->payloads) {
    if (std::holds_alternative<SecurityAssociation>(p) || std::holds_alternative<TsInitiator>(p) ||
        std::holds_alternative<TsResponder>(p))
      rekey.push_back(p);
  }
  Notify rekey_sa{iana::ProtocolId::Esp, Bytes{0, 0, 1, 1}, iana::NotifyType::RekeySa, {}};
  rekey.insert(rekey.begin(), rekey_sa);
  rekey.insert(rekey.begin() + 2, Nonce{Bytes(32, 7)});
  seeds.push_back(chain_seed({3, create_child}, rekey));

  return natgate::fuzz_seeds::write_seed_files(*dir, seeds, "bin");
}
