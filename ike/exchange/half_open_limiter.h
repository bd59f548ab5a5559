// Counting half-open IKE SAs (IKE_SA_INIT answered, IKE_AUTH not yet done) per source address,
// to decide when a responder asks for cookies (RFC 7296 §2.6) and when it stops accepting.
//
// The thresholds are per address and global, and configurable, because one address may be a
// carrier-grade NAT with a hundred road warriors behind it: strongSwan's defaults (cookies from
// the 3rd half-open SA of an address, blocking from the 5th) made 100 such clients take 35 s
// (shared/notes/strongswan-peer.md §5.4). Cookies cost a spoofing flood its state on us, so the
// per-address cookie threshold can be generous; the block thresholds only bound memory.
#pragma once

#include <cstddef>
#include <map>
#include <memory>

#include "common/ip_address.h"

namespace natgate::ike {

struct AdmissionPolicy {
  std::size_t cookie_threshold = 512;         // half-open SAs in all from which everyone needs a cookie
  std::size_t cookie_threshold_per_ip = 128;  // … from one address, from which that address needs one
  std::size_t block_threshold_per_ip = 1024;  // never more half-open SAs from one address
  std::size_t block_threshold = 16384;        // never more in all
};

class HalfOpenLimiter;

// One half-open SA in the count; releasing it (or destroying it) takes it out again. IkeSa holds
// its token until IKE_AUTH completes or the SA ends. Safe to outlive the limiter.
class HalfOpenToken {
 public:
  HalfOpenToken() = default;
  HalfOpenToken(HalfOpenToken&& other) noexcept;
  HalfOpenToken& operator=(HalfOpenToken&& other) noexcept;
  HalfOpenToken(const HalfOpenToken&) = delete;
  HalfOpenToken& operator=(const HalfOpenToken&) = delete;
  ~HalfOpenToken() { release(); }

  void release();
  bool held() const { return state_ != nullptr; }

 private:
  friend class HalfOpenLimiter;
  struct State;
  HalfOpenToken(std::shared_ptr<State> state, IpAddress ip) : state_(std::move(state)), ip_(ip) {}
  std::shared_ptr<State> state_;
  IpAddress ip_;
};

class HalfOpenLimiter {
 public:
  explicit HalfOpenLimiter(AdmissionPolicy policy);

  enum class Decision : std::uint8_t { Admit, RequireCookie, Drop };
  // What to do with a new IKE_SA_INIT from `ip`, given whether it carried a valid cookie.
  Decision decide(const IpAddress& ip, bool valid_cookie) const;
  HalfOpenToken admit(const IpAddress& ip);

  std::size_t total() const;
  std::size_t count(const IpAddress& ip) const;
  const AdmissionPolicy& policy() const { return policy_; }

 private:
  AdmissionPolicy policy_;
  std::shared_ptr<HalfOpenToken::State> state_;
};

}  // namespace natgate::ike
