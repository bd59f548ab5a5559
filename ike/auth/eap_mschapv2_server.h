// EAP server (authenticator) for EAP-MSCHAPv2 (RFC 2759, draft-kamath-pppext-eap-mschapv2), with an
// optional EAP-Identity round first (RFC 3748 §5.1). Sans-I/O: the IKE_AUTH responder feeds each EAP
// payload it receives to process() and sends back Step::reply.
//
//   server                                      peer
//   [Request/Identity]              ->
//                                   <-          [Response/Identity "alice"]
//   Request/MSCHAPv2 Challenge      ->
//                                   <-          Response/MSCHAPv2 Response (peer challenge, NT-Response,
//                                   name)
//   Request/MSCHAPv2 Success "S=.." ->          (or Failure "E=691 ..." -> Failure ack -> EAP-Failure)
//                                   <-          Response/MSCHAPv2 Success (ack)
//   EAP-Success                     ->          both now hold the 64-octet MSK for the AUTH payloads (RFC
//   7296 §2.16)
//
// A response whose Identifier is not the last request's is discarded (RFC 3748 §4.1). No retries:
// one wrong password ends the method with a Failure (R=0).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/secret_bytes.h"
#include "crypto/random.h"
#include "ike/auth/eap_packets.h"
#include "ike/codec/payloads.h"

namespace natgate::ike {

class EapMschapv2Server {
 public:
  // The NT password hash (16 octets, mschapv2::nt_password_hash) of the user the peer names in its
  // Response ("DOMAIN\\user" or "user", as sent); nullopt for an unknown user.
  using NtHashLookup = std::function<std::optional<SecretBytes>(std::string_view user)>;

  struct Config {
    bool ask_identity = true;             // start with EAP-Identity; otherwise go straight to the Challenge
    std::string server_name = "natgate";  // the Challenge's Name field
    std::string success_message = "Welcome";
  };

  enum class State { Idle, WaitIdentity, WaitResponse, WaitSuccessAck, WaitFailureAck, Succeeded, Failed };

  EapMschapv2Server(NtHashLookup lookup, crypto::RandomSource& random, Config config);
  EapMschapv2Server(NtHashLookup lookup, crypto::RandomSource& random)
      : EapMschapv2Server(std::move(lookup), random, Config{}) {}

  // Whether the peer may authenticate under a name (the EAP-Identity answer and the MS-CHAPv2
  // Name): the IKE responder binds both to the peer's IDi. A name it refuses ends the method
  // before the user's NT hash is looked up. Without one, any configured user may.
  using NameFilter = std::function<bool(std::string_view name)>;
  void restrict_names(NameFilter allowed) { name_allowed_ = std::move(allowed); }

  // The first request: Identity or Challenge.
  Eap start();
  eap::Step process(const Eap& response);

  State state() const { return state_; }
  bool done() const { return state_ == State::Succeeded || state_ == State::Failed; }
  // As the peer sent them, for comparisons: escape_for_log() (common/log_escape.h) before logging.
  const std::string& identity() const { return identity_; }    // from EAP-Identity
  const std::string& peer_name() const { return peer_name_; }  // from the MS-CHAPv2 Response
  // Empty unless the method succeeded.
  const SecretBytes& msk() const { return state_ == State::Succeeded ? msk_ : empty_; }
  const std::string& failure_reason() const { return failure_reason_; }

 private:
  Eap request(Eap packet);
  Eap challenge();
  eap::Step on_response(const Eap& response);
  eap::Step fail(std::string reason);
  eap::Step mschap_failure(std::string reason);

  NtHashLookup lookup_;
  crypto::RandomSource& random_;
  Config config_;
  NameFilter name_allowed_;
  State state_ = State::Idle;
  std::uint8_t identifier_ = 0;
  Eap last_request_;
  Bytes authenticator_challenge_;
  std::string identity_;
  std::string peer_name_;
  SecretBytes msk_;
  SecretBytes empty_;
  std::string failure_reason_;
};

}  // namespace natgate::ike
