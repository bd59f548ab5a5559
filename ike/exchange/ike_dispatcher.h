// The daemon's entry point for IKE datagrams that belong to no SA yet: IKE_SA_INIT requests.
// It decides, without keeping state per request, whether to ask for a cookie (RFC 7296 §2.6),
// to refuse or to drop, finds the IKE configuration by addresses, and creates the responder
// IkeSa, which answers. The daemon owns the SA table; the dispatcher owns only the half-open
// count and the cookie secret.
//
// Routing, for the daemon:  local_spi(header) is the SPI of ours a datagram names. A request
// from an initiator with SPIr zero is an IKE_SA_INIT: either a retransmission for a half-open SA
// the daemon already has (look it up by remote endpoint and SPIi, and hand it to that SA) or a
// new one for handle_initial().
#pragma once

#include <memory>
#include <optional>

#include "ike/codec/ike_header.h"
#include "ike/exchange/config.h"
#include "ike/exchange/cookie_jar.h"
#include "ike/exchange/half_open_limiter.h"
#include "ike/exchange/ike_sa.h"
#include "ike/exchange/output.h"

namespace natgate::ike {

struct DispatcherConfig {
  AdmissionPolicy admission;
  Duration cookie_secret_lifetime = 120s;
  // Refusals worth a log line: at most `refusal_log_burst` per `refusal_log_interval`; the rest
  // are only counted (a flood of bad requests must not become a flood of log lines).
  std::uint32_t refusal_log_burst = 10;
  Duration refusal_log_interval = 10s;
  std::uint64_t refusal_hash_key = 0;  // keys the per-source refusal table (the daemon draws it)
};

struct DispatcherCounters {
  std::uint64_t received = 0;
  std::uint64_t malformed = 0;          // did not decode
  std::uint64_t not_initial = 0;        // not an IKE_SA_INIT request for a new SA
  std::uint64_t cookies_sent = 0;       // answered with N(COOKIE)
  std::uint64_t bad_cookies = 0;        // carried a cookie that did not verify (answered with a fresh one)
  std::uint64_t overloaded = 0;         // valid cookie, but dropped at the half-open caps
  std::uint64_t no_config = 0;          // no IKE config for the addresses: NO_PROPOSAL_CHOSEN
  std::uint64_t refused = 0;            // the new SA answered with an error and ended at once
  std::uint64_t created = 0;            // responder SAs handed to the daemon
  std::uint64_t refusals_unlogged = 0;  // refusals (no_config + refused) past the log budget
};

class IkeDispatcher {
 public:
  // `configs` and everything in `env` must outlive the dispatcher and the SAs it creates.
  IkeDispatcher(DispatcherConfig config, const ConfigProvider& configs, Environment env);

  struct Result {
    std::unique_ptr<IkeSa> sa;  // a new responder to add to the table, or null
    Output output;              // what to send (the IKE_SA_INIT response, a cookie request …)
    // A refusal (its NegotiationFailed is in output.events) the daemon may log; when set,
    // `unlogged_before` refusals went unlogged since the last one that was.
    bool log_refusal = false;
    std::uint64_t unlogged_before = 0;
  };
  Result handle_initial(const ReceivedDatagram& datagram, TimePoint now);

  // Our SPI in a header: SPIr when the sender is the original initiator, else SPIi. nullopt for
  // a request with SPIr zero (an IKE_SA_INIT, see above).
  static std::optional<IkeSpi> local_spi(const IkeHeader& header);

  const DispatcherCounters& counters() const { return counters_; }
  const HalfOpenLimiter& half_open() const { return limiter_; }

 private:
  Datagram stateless_reply(const IkeHeader& request, const ReceivedDatagram& in, iana::NotifyType type,
                           Bytes data);
  void refused(Result& result, const IpAddress& from, TimePoint now);

  DispatcherConfig config_;
  const ConfigProvider& configs_;
  std::shared_ptr<const Environment> env_;  // shared by every responder SA it creates
  HalfOpenLimiter limiter_;
  CookieJar cookies_;
  DispatcherCounters counters_;
  TimePoint log_window_start_{};
  std::uint32_t logged_in_window_ = 0;
  std::uint64_t unlogged_since_last_ = 0;
};

}  // namespace natgate::ike
