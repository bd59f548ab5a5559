// libFuzzer target for the responder's entry points (docs/security.md, strangers; iked's lesson: the
// packet path facing the network is the attack surface). See responder_fuzz_world.h for the input
// layout. Every call must return normally, with the SA either still usable or cleanly deleted.
#include <cstdint>
#include <cstdlib>

#include "ike/codec/message_codec.h"
#include "responder_fuzz_world.h"

namespace {

using namespace natgate;
using namespace natgate::ike;

void check(bool ok) {
  if (!ok) std::abort();
}

// Whatever the SA sends must itself be well-formed IKE.
void check_output(const Output& out) {
  for (const auto& d : out.datagrams) check(decode_header(d.bytes).has_value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t mode = data[0] % 4;
  ByteView rest(data + 1, size - 1);
  fuzzing::ResponderWorld world;
  switch (mode) {
    case 0:
      check_output(world.deliver_initial(rest));
      break;
    case 1:
      world.to_auth_stage();
      check_output(world.deliver(rest));
      break;
    case 2: {
      if (rest.empty()) return 0;
      world.to_auth_stage();
      auto first = static_cast<PayloadType>(rest[0]);
      check_output(world.deliver(world.seal_request(iana::ExchangeType::IkeAuth, 1, first, rest.subspan(1))));
      break;
    }
    case 3: {
      if (rest.size() < 2) return 0;
      world.to_established_stage();
      auto exchange = static_cast<iana::ExchangeType>(rest[0]);
      auto first = static_cast<PayloadType>(rest[1]);
      check_output(world.deliver(world.seal_request(exchange, 2, first, rest.subspan(2))));
      break;
    }
  }
  // The responder never ends up half-alive: established, still connecting, or deleted.
  if (IkeSa* r = world.responder()) check(r->state() != SaState::Created);
  return 0;
}
