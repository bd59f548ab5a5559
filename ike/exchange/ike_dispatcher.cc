#include "ike/exchange/ike_dispatcher.h"

#include "ike/codec/message.h"
#include "ike/codec/message_codec.h"

namespace natgate::ike {

using iana::NotifyType;

namespace {

std::shared_ptr<const Environment> with_configs(Environment env, const ConfigProvider& configs) {
  env.configs = &configs;
  return std::make_shared<const Environment>(std::move(env));
}

}  // namespace

IkeDispatcher::IkeDispatcher(DispatcherConfig config, const ConfigProvider& configs, Environment env)
    : config_(config),
      configs_(configs),
      env_(with_configs(std::move(env), configs_)),
      limiter_(config.admission, config.refusal_hash_key),
      cookies_(*env_->random, config.cookie_secret_lifetime) {}

std::optional<IkeSpi> IkeDispatcher::local_spi(const IkeHeader& header) {
  if (!header.initiator()) return header.spi_i;  // from the responder: we initiated
  if (header.spi_r.is_zero()) return std::nullopt;
  return header.spi_r;
}

Datagram IkeDispatcher::stateless_reply(const IkeHeader& request, const ReceivedDatagram& in, NotifyType type,
                                        Bytes data) {
  Message reply;
  reply.header.spi_i = request.spi_i;  // SPIr stays zero: we keep no state (§2.6)
  reply.header.exchange = iana::ExchangeType::IkeSaInit;
  reply.header.set_response(true);
  reply.header.message_id = request.message_id;
  reply.payloads.push_back(Notify::make(type, std::move(data)));
  return Datagram{encode_message(reply), in.local, in.remote, in.natt};
}

void IkeDispatcher::refused(Result& result, const IpAddress& from, TimePoint now) {
  limiter_.refused(from, now);
  if (now - log_window_start_ >= config_.refusal_log_interval) {
    log_window_start_ = now;
    logged_in_window_ = 0;
  }
  if (logged_in_window_ < config_.refusal_log_burst) {
    ++logged_in_window_;
    result.log_refusal = true;
    result.unlogged_before = unlogged_since_last_;
    unlogged_since_last_ = 0;
  } else {
    ++unlogged_since_last_;
    ++counters_.refusals_unlogged;
  }
}

IkeDispatcher::Result IkeDispatcher::handle_initial(const ReceivedDatagram& in, TimePoint now) {
  Result result;
  ++counters_.received;
  auto message = decode_message(in.bytes);
  if (!message) {
    ++counters_.malformed;
    result.output.rejected =
        InputError{InputError::Kind::Malformed, message.error(), message.error().to_string()};
    return result;
  }
  const IkeHeader& h = message->header;
  if (h.exchange != iana::ExchangeType::IkeSaInit || h.response() || !h.initiator() || !h.spi_r.is_zero() ||
      h.spi_i.is_zero() || h.message_id.value != 0) {
    ++counters_.not_initial;
    result.output.rejected =
        InputError{InputError::Kind::WrongSa, std::nullopt, "not an IKE_SA_INIT request for a new SA"};
    return result;
  }

  // §2.6: a cookie, when present, is the first payload; it binds the nonce, address and SPI.
  const Notify* cookie =
      message->payloads.empty() ? nullptr : std::get_if<Notify>(&message->payloads.front());
  if (cookie && cookie->type != NotifyType::Cookie) cookie = nullptr;
  const Nonce* nonce = find<Nonce>(*message);
  ByteView ni = nonce ? ByteView(nonce->data) : ByteView();
  const bool valid_cookie = cookie && cookies_.verify(cookie->data, ni, in.remote.address, h.spi_i, now);
  if (cookie && !valid_cookie) ++counters_.bad_cookies;

  switch (limiter_.decide(in.remote.address, valid_cookie, now)) {
    case HalfOpenLimiter::Decision::Drop:
      ++counters_.overloaded;
      result.output.rejected =
          InputError{InputError::Kind::Unsupported, std::nullopt, "too many half-open IKE SAs"};
      return result;
    case HalfOpenLimiter::Decision::RequireCookie:
      ++counters_.cookies_sent;
      result.output.datagrams.push_back(
          stateless_reply(h, in, NotifyType::Cookie, cookies_.make(ni, in.remote.address, h.spi_i, now)));
      return result;
    case HalfOpenLimiter::Decision::Admit:
      break;
  }

  auto ike = configs_.ike_config(in.local, in.remote);
  if (!ike) {
    ++counters_.no_config;
    result.output.datagrams.push_back(stateless_reply(h, in, NotifyType::NoProposalChosen, {}));
    refused(result, in.remote.address, now);
    return result;
  }

  IkeSpi spi_r;
  for (int i = 0; i < 8 && spi_r.is_zero(); ++i) env_->random->fill(spi_r.bytes);
  if (spi_r.is_zero()) spi_r.bytes[7] = 1;
  auto sa = IkeSa::create_responder(std::move(ike), h.spi_i, spi_r, in.local, in.remote, env_);
  result.output = sa->handle(in, now);
  if (sa->state() == SaState::Deleted) {
    // Refused (no proposal, INVALID_KE_PAYLOAD …): the answer goes out, no state stays (§2.6).
    ++counters_.refused;
    refused(result, in.remote.address, now);
    return result;
  }
  sa->hold(limiter_.admit(in.remote.address, valid_cookie));
  ++counters_.created;
  result.sa = std::move(sa);
  return result;
}

}  // namespace natgate::ike
