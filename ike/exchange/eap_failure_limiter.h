// Password guessing through EAP (RFC 7296 §2.16, RFC 2759): a failed EAP authentication costs
// the guesser one round trip and us an MS-CHAPv2 computation. This counts failures in a sliding
// window per claimed identity and per source (an IPv4 address or an IPv6 /64, since one IPv6
// host can use any address of its prefix); from `per_identity` / `per_source` failures in the
// window on, further EAP attempts for that identity or from that source are refused before any
// EAP work. Refusals are not failures, so a lockout ends one window after the last real failure.
//
// Memory is bounded: each table keeps at most `max_tracked` keys (identities are kept as a
// SHA-256 digest, whatever their length) and each key at most its limit of timestamps; when a
// table is full the key whose last failure is oldest is forgotten.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/ip_address.h"
#include "ike/exchange/identity.h"
#include "ike/exchange/time.h"

namespace natgate::ike {

struct EapFailureLimits {
  std::uint32_t per_identity = 5;
  std::uint32_t per_source = 50;
  Duration window = std::chrono::minutes(1);
  std::size_t max_tracked = 4096;  // keys per table
};

class EapFailureLimiter {
 public:
  // ike/ reads no clock itself: the gateway passes steady_clock, tests a clock they move.
  EapFailureLimiter(EapFailureLimits limits, std::function<TimePoint()> clock);

  void set_limits(const EapFailureLimits& limits);
  // Why an EAP attempt of `identity` from `source` is refused now; nullopt when it may go on.
  std::optional<std::string> refusal(const Identity& identity, const IpAddress& source);
  void record_failure(const Identity& identity, const IpAddress& source);

  std::size_t tracked_identities() const { return identities_.size(); }
  std::size_t tracked_sources() const { return sources_.size(); }

 private:
  // Failure times per key, least recently failed first.
  class Table {
   public:
    std::size_t count(const std::string& key, TimePoint now, Duration window);
    void add(const std::string& key, TimePoint now, std::size_t keep, std::size_t max_keys);
    std::size_t size() const { return order_.size(); }

   private:
    struct Entry {
      std::string key;
      std::vector<TimePoint> times;  // oldest first, at most `keep`
    };
    std::list<Entry> order_;
    std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  };

  static std::string identity_key(const Identity& identity);
  static std::string source_key(const IpAddress& source);

  EapFailureLimits limits_;
  std::function<TimePoint()> clock_;
  Table identities_;
  Table sources_;
};

}  // namespace natgate::ike
