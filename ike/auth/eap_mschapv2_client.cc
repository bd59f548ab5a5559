#include "ike/auth/eap_mschapv2_client.h"

#include <openssl/crypto.h>

#include "common/log_escape.h"
#include "ike/auth/mschapv2.h"

namespace natgate::ike {

namespace {

// "S=<40 hex> M=<text>" / "E=691 R=0 C=... V=3 M=<text>": the value of `key`, up to the next space
// (M= runs to the end: its text may contain spaces).
std::optional<std::string> field(const std::string& message, std::string_view key) {
  std::size_t pos = 0;
  while (pos < message.size()) {
    if (message.compare(pos, key.size(), key) == 0) {
      const std::size_t start = pos + key.size();
      const std::size_t end = key == "M=" ? message.size() : message.find(' ', start);
      return message.substr(start, (end == std::string::npos ? message.size() : end) - start);
    }
    const std::size_t space = message.find(' ', pos);
    if (space == std::string::npos) break;
    pos = space + 1;
  }
  return std::nullopt;
}

// Peer-chosen text for messages and logs (common/log_escape.h).
std::string printable(const std::string& s) { return escape_for_log(s); }

}  // namespace

Expected<EapMschapv2Client> EapMschapv2Client::create(std::string identity, std::string_view password,
                                                      crypto::RandomSource& random) {
  auto hash = mschapv2::nt_password_hash(password);
  if (!hash) return unexpected("EAP-MSCHAPv2: " + hash.error());
  return EapMschapv2Client(std::move(identity), std::move(*hash), random);
}

eap::Step EapMschapv2Client::answer(Eap reply) {
  last_reply_ = reply;
  return {std::move(reply), {}};
}

eap::Step EapMschapv2Client::fail(std::string reason, std::optional<Eap> reply) {
  state_ = State::Failed;
  failure_reason_ = reason;
  return {std::move(reply), std::move(reason)};
}

eap::Step EapMschapv2Client::process(const Eap& request) {
  if (done()) return {std::nullopt, "EAP method already finished"};
  if (request.code == eap::kSuccess) {
    if (state_ != State::WaitEapSuccess)
      return fail("EAP-Success before the server proved it knows the password");
    state_ = State::Succeeded;
    return {};
  }
  if (request.code == eap::kFailure) return fail("the server sent EAP-Failure");
  if (request.code != eap::kRequest) return {std::nullopt, "not an EAP Request"};
  // RFC 3748 §4.1: a retransmitted request gets the same response.
  if (last_reply_ && request.identifier == last_reply_->identifier) return {last_reply_, "repeated request"};

  if (request.type == eap::kIdentity) return answer(eap::identity_response(request.identifier, identity_));
  if (request.type == eap::kMschapv2) return on_mschapv2(request);
  if (request.type == eap::kNak) return {std::nullopt, "Nak is not a request type"};
  return answer(eap::nak(request.identifier, eap::kMschapv2));
}

eap::Step EapMschapv2Client::on_mschapv2(const Eap& request) {
  auto m = eap::parse_mschapv2(request);
  if (!m) return fail(m.error());
  // strongSwan's server ends its Success message with the C string's NUL ("M=Welcome2strongSwan\0").
  while (!m->text.empty() && m->text.back() == '\0') m->text.pop_back();
  switch (m->opcode) {
    case eap::kChallenge: {
      if (state_ != State::Idle) return {std::nullopt, "unexpected second Challenge"};
      const Bytes peer_challenge = random_->bytes(mschapv2::kChallengeSize);
      auto nt_response = mschapv2::generate_nt_response(m->value, peer_challenge, identity_, nt_hash_);
      if (!nt_response) return fail(nt_response.error());
      expected_auth_response_ = mschapv2::generate_authenticator_response(
          nt_hash_, *nt_response, peer_challenge, m->value, identity_);
      msk_ = mschapv2::msk(mschapv2::hash_nt_password_hash(nt_hash_), *nt_response);
      // Response value: Peer-Challenge | 8 reserved zero octets | NT-Response | Flags (0).
      Bytes value = peer_challenge;
      value.insert(value.end(), 8, 0);
      append(value, *nt_response);
      value.push_back(0);
      state_ = State::WaitSuccess;
      return answer(eap::mschapv2_packet(eap::kResponse, request.identifier,
                                         {eap::kMsResponse, m->ms_id, std::move(value), identity_}));
    }
    case eap::kMsSuccess: {
      if (state_ != State::WaitSuccess) return {std::nullopt, "unexpected MS-CHAPv2 Success"};
      const auto s = field(m->text, "S=");
      const std::string got = s ? "S=" + *s : std::string();
      if (got.size() != expected_auth_response_.size() ||
          CRYPTO_memcmp(got.data(), expected_auth_response_.data(), got.size()) != 0)
        return fail("the server's authenticator response is wrong: it does not know the password");
      server_message_ = printable(field(m->text, "M=").value_or(""));
      state_ = State::WaitEapSuccess;
      return answer(
          eap::mschapv2_packet(eap::kResponse, request.identifier, {eap::kMsSuccess, m->ms_id, {}, {}}));
    }
    case eap::kMsFailure: {
      server_message_ = printable(field(m->text, "M=").value_or(""));
      const std::string code = printable(field(m->text, "E=").value_or("?"));
      return fail(
          "the server refused the password (E=" + code + ", " + server_message_ + ")",
          eap::mschapv2_packet(eap::kResponse, request.identifier, {eap::kMsFailure, m->ms_id, {}, {}}));
    }
    default:
      return fail("unknown MS-CHAPv2 OpCode " + std::to_string(m->opcode));
  }
}

}  // namespace natgate::ike
