#include "ike/exchange/eap_failure_limiter.h"

#include <algorithm>

#include "crypto/hash.h"

namespace natgate::ike {

EapFailureLimiter::EapFailureLimiter(EapFailureLimits limits, std::function<TimePoint()> clock)
    : limits_(limits), clock_(std::move(clock)) {}

void EapFailureLimiter::set_limits(const EapFailureLimits& limits) { limits_ = limits; }

std::string EapFailureLimiter::identity_key(const Identity& identity) {
  const std::uint8_t type = static_cast<std::uint8_t>(identity.type);
  Bytes digest = crypto::hash(crypto::Digest::Sha256, {ByteView(&type, 1), identity.data});
  return std::string(digest.begin(), digest.end());
}

std::string EapFailureLimiter::source_key(const IpAddress& source) {
  ByteView b = source.bytes();
  // IPv6: the /64 (RFC 4291 §2.5.4: the interface identifier is the host's to choose).
  if (b.size() == 16) b = b.first(8);
  return std::string(b.begin(), b.end());
}

std::size_t EapFailureLimiter::Table::count(const std::string& key, TimePoint now, Duration window) {
  auto it = index_.find(key);
  if (it == index_.end()) return 0;
  auto& times = it->second->times;
  times.erase(times.begin(),
              std::find_if(times.begin(), times.end(), [&](TimePoint t) { return now - t < window; }));
  if (times.empty()) {
    order_.erase(it->second);
    index_.erase(it);
    return 0;
  }
  return times.size();
}

void EapFailureLimiter::Table::add(const std::string& key, TimePoint now, std::size_t keep,
                                   std::size_t max_keys) {
  if (keep == 0 || max_keys == 0) return;
  auto it = index_.find(key);
  if (it == index_.end()) {
    while (order_.size() >= max_keys) {
      index_.erase(order_.front().key);
      order_.pop_front();
    }
    order_.push_back(Entry{key, {}});
    it = index_.emplace(key, std::prev(order_.end())).first;
  } else {
    order_.splice(order_.end(), order_, it->second);  // now the most recent failure
  }
  auto& times = it->second->times;
  times.push_back(now);
  if (times.size() > keep) times.erase(times.begin(), times.end() - static_cast<std::ptrdiff_t>(keep));
}

std::optional<std::string> EapFailureLimiter::refusal(const Identity& identity, const IpAddress& source) {
  const TimePoint now = clock_();
  if (limits_.per_identity > 0 &&
      identities_.count(identity_key(identity), now, limits_.window) >= limits_.per_identity) {
    return std::to_string(limits_.per_identity) + " failed EAP attempts for " + identity.to_string() +
           " in the last " +
           std::to_string(std::chrono::duration_cast<std::chrono::seconds>(limits_.window).count()) + " s";
  }
  if (limits_.per_source > 0 &&
      sources_.count(source_key(source), now, limits_.window) >= limits_.per_source) {
    return std::to_string(limits_.per_source) + " failed EAP attempts from " + source.to_string() +
           (source.family() == IpFamily::V6 ? "/64" : "") + " in the last " +
           std::to_string(std::chrono::duration_cast<std::chrono::seconds>(limits_.window).count()) + " s";
  }
  return std::nullopt;
}

void EapFailureLimiter::record_failure(const Identity& identity, const IpAddress& source) {
  const TimePoint now = clock_();
  identities_.add(identity_key(identity), now, limits_.per_identity, limits_.max_tracked);
  sources_.add(source_key(source), now, limits_.per_source, limits_.max_tracked);
}

}  // namespace natgate::ike
