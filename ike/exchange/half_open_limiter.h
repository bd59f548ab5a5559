// Admission of new IKE SAs at the responder (RFC 7296 §2.6): when to ask for a cookie, when to
// stop accepting, and how much memory half-open IKE SAs (IKE_SA_INIT answered, IKE_AUTH not
// yet done) may hold between them.
//
// Sources are counted per IPv4 address and per IPv6 /64: one IPv6 host can pick any address of
// its /64, so counting exact addresses would give it 2^64 budgets. The thresholds are
// configurable (daemon.limits) because one source may be a carrier-grade NAT with a hundred road
// warriors behind it: strongSwan's defaults (cookies from the 3rd half-open SA of an address)
// made 100 such clients take 35 s (docs/security.md, Limits).
//
// What a source costs us is its half-open SAs plus the IKE_SA_INIT requests we recently refused
// from it (no proposal, wrong group, bad public value): those keep no SA, but each still costs
// parsing, proposal selection and a log line, so they count toward the cookie decision through a
// small decaying counter (bounded memory, whatever the number of sources).
//
// Requests without a valid cookie never create more than `cookie_threshold` half-open SAs: beyond
// it they get a stateless COOKIE answer. Requests with a valid cookie come from an address that
// receives our answers; they are counted apart and admitted up to `half_open`, so a spoofed flood
// admitted before cookies started cannot lock them out. Memory held by half-open SAs (the
// IKE_SA_INIT messages kept for AUTH, the cached response, IKE_AUTH fragments being reassembled)
// is capped by `half_open_memory`: beyond it the oldest half-open SAs are evicted (their buffers
// are freed at once, the SA ends on its next event).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include "common/ip_address.h"
#include "ike/exchange/time.h"

namespace natgate::ike {

struct AdmissionPolicy {
  std::size_t cookie_threshold = 512;             // half-open SAs in all from which everyone needs a cookie
  std::size_t cookie_threshold_per_source = 128;  // … from one source (+ its recent refusals)
  std::size_t half_open_per_source = 1024;        // never more half-open SAs from one source
  std::size_t half_open = 16384;                  // never more half-open SAs admitted with a valid cookie
  std::size_t half_open_memory = std::size_t{64} << 20;   // bytes held by all half-open SAs
  Duration refusal_half_life = std::chrono::seconds(10);  // refused requests are forgotten at this pace
};

// A source as counted: an IPv4 address, or the /64 of an IPv6 address (the rest zeroed).
IpAddress admission_source(const IpAddress& ip);

// Recent refusals per source, in a fixed table of decaying counters: a source's slot is picked by
// a keyed hash, so memory stays constant under a flood from any number of addresses (sources that
// share a slot share a count, which errs towards asking for cookies). Each count halves every
// `half_life`.
class RefusalCounter {
 public:
  RefusalCounter(Duration half_life, std::uint64_t hash_key);
  void add(const IpAddress& source, TimePoint now);
  std::uint32_t count(const IpAddress& source, TimePoint now) const;
  std::uint32_t total(TimePoint now) const;

  static constexpr std::size_t kSlots = 4096;

 private:
  struct Slot {
    std::uint32_t value = 0;
    TimePoint since{};
  };
  std::size_t slot_of(const IpAddress& source) const;
  std::uint32_t decayed(const Slot& slot, TimePoint now) const;
  void bump(Slot& slot, TimePoint now) const;

  Duration half_life_;
  std::uint64_t key_;
  std::array<Slot, kSlots> slots_{};
  Slot total_;
};

class HalfOpenLimiter;

// One half-open SA in the count; releasing it (or destroying it) takes it out again. IkeSa holds
// its token until IKE_AUTH completes or the SA ends, and reports through it how many bytes it
// holds. Safe to outlive the limiter.
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

  // Called when the memory cap evicts this SA: it must free its buffers (and may not call back
  // into the limiter). The holder must outlive the token or clear the hook.
  void on_evict(std::function<void()> hook);
  // The bytes this SA holds now. Beyond the global cap the oldest SAs are evicted, maybe this one.
  void charge(std::size_t bytes);
  bool evicted() const;

 private:
  friend class HalfOpenLimiter;
  struct State;
  HalfOpenToken(std::shared_ptr<State> state, std::uint64_t id) : state_(std::move(state)), id_(id) {}
  std::shared_ptr<State> state_;
  std::uint64_t id_ = 0;
};

class HalfOpenLimiter {
 public:
  // `hash_key` keys the refusal table's hash (draw it at random, so nobody can aim at a slot).
  explicit HalfOpenLimiter(AdmissionPolicy policy, std::uint64_t hash_key = 0);

  enum class Decision : std::uint8_t { Admit, RequireCookie, Drop };
  // What to do with a new IKE_SA_INIT from `ip`, given whether it carried a valid cookie.
  Decision decide(const IpAddress& ip, bool valid_cookie, TimePoint now) const;
  HalfOpenToken admit(const IpAddress& ip, bool valid_cookie);
  // An IKE_SA_INIT from `ip` was refused (answered with an error, no SA kept).
  void refused(const IpAddress& ip, TimePoint now) { refusals_.add(admission_source(ip), now); }

  std::size_t total() const;
  std::size_t verified() const;                  // of total(): admitted with a valid cookie
  std::size_t count(const IpAddress& ip) const;  // half-open SAs of ip's source
  std::uint32_t recent_refusals(const IpAddress& ip, TimePoint now) const {
    return refusals_.count(admission_source(ip), now);
  }
  std::size_t memory() const;  // bytes held by half-open SAs
  std::uint64_t evictions() const;
  const AdmissionPolicy& policy() const { return policy_; }

 private:
  AdmissionPolicy policy_;
  std::shared_ptr<HalfOpenToken::State> state_;
  RefusalCounter refusals_;
};

}  // namespace natgate::ike
