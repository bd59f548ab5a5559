#include "ike/auth/eap_mschapv2_server.h"

#include <openssl/crypto.h>

#include "common/log_escape.h"
#include "ike/auth/mschapv2.h"

namespace natgate::ike {

namespace {

// Peer-chosen text for messages and logs (common/log_escape.h).
std::string printable(const std::string& s) { return escape_for_log(s); }

std::string upper_hex(ByteView b) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (std::uint8_t x : b) {
    out += kDigits[x >> 4];
    out += kDigits[x & 0x0f];
  }
  return out;
}

}  // namespace

EapMschapv2Server::EapMschapv2Server(NtHashLookup lookup, crypto::RandomSource& random, Config config)
    : lookup_(std::move(lookup)), random_(random), config_(std::move(config)) {
  std::uint8_t first = 0;
  random_.fill(MutableByteView(&first, 1));
  identifier_ = first;
}

Eap EapMschapv2Server::request(Eap packet) {
  packet.code = eap::kRequest;
  packet.identifier = ++identifier_;
  last_request_ = packet;
  return packet;
}

Eap EapMschapv2Server::challenge() {
  authenticator_challenge_ = random_.bytes(mschapv2::kChallengeSize);
  state_ = State::WaitResponse;
  Eap p = eap::mschapv2_packet(eap::kRequest, 0,
                               {eap::kChallenge, 0, authenticator_challenge_, config_.server_name});
  p.identifier = static_cast<std::uint8_t>(identifier_ + 1);
  p.data[1] = p.identifier;  // MS-CHAPv2-ID follows the EAP Identifier
  return request(std::move(p));
}

Eap EapMschapv2Server::start() {
  if (config_.ask_identity) {
    state_ = State::WaitIdentity;
    return request(eap::identity_request(0));
  }
  return challenge();
}

eap::Step EapMschapv2Server::fail(std::string reason) {
  state_ = State::Failed;
  failure_reason_ = reason;
  return {eap::failure(last_request_.identifier), std::move(reason)};
}

// RFC 2759 §6 / draft §2.5: E=691 (authentication failure), not retryable, a fresh challenge, V=3.
eap::Step EapMschapv2Server::mschap_failure(std::string reason) {
  failure_reason_ = reason;
  state_ = State::WaitFailureAck;
  const Bytes c = random_.bytes(mschapv2::kChallengeSize);
  const std::uint8_t id = static_cast<std::uint8_t>(identifier_ + 1);
  Eap p = eap::mschapv2_packet(
      eap::kRequest, id,
      {eap::kMsFailure, id, {}, "E=691 R=0 C=" + upper_hex(c) + " V=3 M=Authentication failed"});
  return {request(std::move(p)), std::move(reason)};
}

eap::Step EapMschapv2Server::process(const Eap& response) {
  if (done()) return {std::nullopt, "EAP method already finished"};
  if (response.code != eap::kResponse) return {std::nullopt, "not an EAP Response"};
  if (response.identifier != last_request_.identifier)
    return {std::nullopt, "EAP Identifier " + std::to_string(response.identifier) +
                              " does not answer request " + std::to_string(last_request_.identifier)};
  return on_response(response);
}

eap::Step EapMschapv2Server::on_response(const Eap& response) {
  if (response.type == eap::kNak) return fail("the peer refused EAP-MSCHAPv2 (Nak)");
  switch (state_) {
    case State::WaitIdentity:
      if (response.type != eap::kIdentity) return fail("expected an EAP-Identity response");
      identity_ = std::string(response.data.begin(), response.data.end());
      if (name_allowed_ && !name_allowed_(std::string_view(
                               reinterpret_cast<const char*>(response.data.data()), response.data.size()))) {
        return fail("EAP identity '" + printable(identity_) + "' is not the identity the peer claimed");
      }
      return {challenge(), {}};
    case State::WaitResponse: {
      auto m = eap::parse_mschapv2(response);
      if (!m) return fail(m.error());
      if (m->opcode != eap::kMsResponse) return fail("expected an MS-CHAPv2 Response");
      if (m->ms_id != last_request_.data[1]) return fail("MS-CHAPv2-ID does not match the Challenge");
      const ByteView value(m->value);
      const ByteView peer_challenge = value.first(16);
      const ByteView nt_response = value.subspan(24, mschapv2::kNtResponseSize);
      peer_name_ = m->text;
      if (name_allowed_ && !name_allowed_(m->text))
        return mschap_failure("MS-CHAPv2 name '" + printable(peer_name_) +
                              "' is not the identity the peer claimed");
      const auto nt_hash = lookup_(m->text);
      if (!nt_hash || nt_hash->size() != 16)
        return mschap_failure("unknown user '" + printable(peer_name_) + "'");
      auto expected =
          mschapv2::generate_nt_response(authenticator_challenge_, peer_challenge, m->text, *nt_hash);
      if (!expected) return fail(expected.error());
      if (CRYPTO_memcmp(expected->data(), nt_response.data(), nt_response.size()) != 0)
        return mschap_failure("wrong password for '" + printable(peer_name_) + "'");
      const std::string auth_response = mschapv2::generate_authenticator_response(
          *nt_hash, nt_response, peer_challenge, authenticator_challenge_, m->text);
      msk_ = mschapv2::msk(mschapv2::hash_nt_password_hash(*nt_hash), nt_response);
      state_ = State::WaitSuccessAck;
      const std::uint8_t id = static_cast<std::uint8_t>(identifier_ + 1);
      Eap p = eap::mschapv2_packet(
          eap::kRequest, id, {eap::kMsSuccess, id, {}, auth_response + " M=" + config_.success_message});
      return {request(std::move(p)), {}};
    }
    case State::WaitSuccessAck: {
      auto m = eap::parse_mschapv2(response);
      if (!m || m->opcode != eap::kMsSuccess) return fail("expected the peer's MS-CHAPv2 Success");
      state_ = State::Succeeded;
      // RFC 3748 §4.2: Success carries the Identifier of the response it answers.
      return {eap::success(response.identifier), {}};
    }
    case State::WaitFailureAck: {
      const std::string reason = failure_reason_;
      auto step = fail(reason);
      step.reply = eap::failure(response.identifier);
      return step;
    }
    default:
      return {std::nullopt, "no EAP response expected"};
  }
}

}  // namespace natgate::ike
