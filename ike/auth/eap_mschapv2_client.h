// EAP peer for EAP-MSCHAPv2 (RFC 2759, draft-kamath-pppext-eap-mschapv2) that also answers
// EAP-Identity (RFC 3748 §5.1) and proposes MSCHAPv2 by Nak to any other method. Sans-I/O: the
// IKE_AUTH initiator feeds each EAP payload from the responder to process() and sends Step::reply.
//
// The server must prove it knows the password (the "S=" authenticator response) before the peer
// accepts EAP-Success: an EAP-Success that arrives earlier fails the method, so a rogue gateway
// cannot skip MS-CHAPv2's mutual authentication. A repeated request (same Identifier) gets the
// same response again (RFC 3748 §4.1).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/expected.h"
#include "common/secret_bytes.h"
#include "crypto/random.h"
#include "ike/auth/eap_packets.h"
#include "ike/codec/payloads.h"

namespace natgate::ike {

class EapMschapv2Client {
 public:
  enum class State { Idle, WaitSuccess, WaitEapSuccess, Succeeded, Failed };

  // `identity` is sent in EAP-Identity and as the MS-CHAPv2 Name ("DOMAIN\\user" allowed; the
  // domain is left out of the challenge hash, RFC 2759 §8.2). The password is UTF-8.
  static Expected<EapMschapv2Client> create(std::string identity, std::string_view password,
                                            crypto::RandomSource& random);

  eap::Step process(const Eap& request);

  State state() const { return state_; }
  bool done() const { return state_ == State::Succeeded || state_ == State::Failed; }
  const SecretBytes& msk() const { return state_ == State::Succeeded ? msk_ : empty_; }
  const std::string& failure_reason() const { return failure_reason_; }
  const std::string& server_message() const { return server_message_; }  // the "M=" text

 private:
  EapMschapv2Client(std::string identity, SecretBytes nt_hash, crypto::RandomSource& random)
      : identity_(std::move(identity)), nt_hash_(std::move(nt_hash)), random_(&random) {}
  eap::Step answer(Eap reply);
  eap::Step fail(std::string reason, std::optional<Eap> reply = std::nullopt);
  eap::Step on_mschapv2(const Eap& request);

  std::string identity_;
  SecretBytes nt_hash_;
  crypto::RandomSource* random_;
  State state_ = State::Idle;
  std::optional<Eap> last_reply_;
  std::string expected_auth_response_;
  SecretBytes msk_;
  SecretBytes empty_;
  std::string failure_reason_;
  std::string server_message_;
};

}  // namespace natgate::ike
