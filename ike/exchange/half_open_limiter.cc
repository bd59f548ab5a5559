#include "ike/exchange/half_open_limiter.h"

#include <algorithm>

namespace natgate::ike {

IpAddress admission_source(const IpAddress& ip) {
  if (ip.is_v4()) return ip;
  std::array<std::uint8_t, 16> bytes{};
  std::copy_n(ip.bytes().begin(), 8,
              bytes.begin());  // the /64; the interface identifier is the host's choice
  return IpAddress::from_bytes(IpFamily::V6, ByteView(bytes.data(), bytes.size()));
}

// ---- RefusalCounter ----------------------------------------------------------------------

RefusalCounter::RefusalCounter(Duration half_life, std::uint64_t hash_key)
    : half_life_(std::max(half_life, Duration(1))), key_(hash_key) {}

std::size_t RefusalCounter::slot_of(const IpAddress& source) const {
  // FNV-1a over the key and the address: cheap, and the key keeps slots unpredictable.
  std::uint64_t h = 0xcbf29ce484222325ull ^ key_;
  auto mix = [&h](std::uint8_t b) {
    h ^= b;
    h *= 0x100000001b3ull;
  };
  mix(static_cast<std::uint8_t>(source.family()));
  for (auto b : source.bytes()) mix(b);
  h ^= h >> 29;
  return static_cast<std::size_t>(h % kSlots);
}

std::uint32_t RefusalCounter::decayed(const Slot& slot, TimePoint now) const {
  if (slot.value == 0 || now <= slot.since) return slot.value;
  const auto halvings = (now - slot.since) / half_life_;
  return halvings >= 32 ? 0 : slot.value >> halvings;
}

void RefusalCounter::bump(Slot& slot, TimePoint now) const {
  if (now > slot.since) {
    const auto halvings = (now - slot.since) / half_life_;
    if (halvings >= 32) {
      slot.value = 0;
      slot.since = now;
    } else if (halvings > 0) {
      slot.value >>= halvings;
      slot.since += std::chrono::duration_cast<Clock::duration>(half_life_ * halvings);
    }
  }
  if (slot.value < (1u << 30)) ++slot.value;
}

void RefusalCounter::add(const IpAddress& source, TimePoint now) {
  bump(slots_[slot_of(source)], now);
  bump(total_, now);
}

std::uint32_t RefusalCounter::count(const IpAddress& source, TimePoint now) const {
  return decayed(slots_[slot_of(source)], now);
}

std::uint32_t RefusalCounter::total(TimePoint now) const { return decayed(total_, now); }

// ---- tokens ------------------------------------------------------------------------------

struct HalfOpenToken::State {
  explicit State(const AdmissionPolicy& p) : policy(p) {}
  struct Entry {
    IpAddress source;
    bool verified = false;
    bool evicted = false;
    std::size_t bytes = 0;
    std::function<void()> evict;
  };
  AdmissionPolicy policy;
  std::size_t verified = 0;
  std::size_t memory = 0;
  std::uint64_t evictions = 0;
  std::uint64_t next_id = 1;
  std::map<std::uint64_t, Entry> entries;  // by admission: the first is the oldest
  std::map<IpAddress, std::size_t> per_source;

  // Evicts the oldest half-open SAs that hold memory until the total fits the cap.
  void enforce_memory_cap() {
    for (auto it = entries.begin(); memory > policy.half_open_memory && it != entries.end(); ++it) {
      Entry& e = it->second;
      if (e.evicted || e.bytes == 0) continue;
      e.evicted = true;
      memory -= e.bytes;
      e.bytes = 0;
      ++evictions;
      if (e.evict) e.evict();
    }
  }
};

HalfOpenToken::HalfOpenToken(HalfOpenToken&& other) noexcept
    : state_(std::move(other.state_)), id_(other.id_) {
  other.state_.reset();
}

HalfOpenToken& HalfOpenToken::operator=(HalfOpenToken&& other) noexcept {
  if (this != &other) {
    release();
    state_ = std::move(other.state_);
    id_ = other.id_;
    other.state_.reset();
  }
  return *this;
}

void HalfOpenToken::release() {
  if (!state_) return;
  auto it = state_->entries.find(id_);
  if (it != state_->entries.end()) {
    const auto& e = it->second;
    state_->memory -= e.bytes;
    if (e.verified) --state_->verified;
    auto src = state_->per_source.find(e.source);
    if (src != state_->per_source.end() && --src->second == 0) state_->per_source.erase(src);
    state_->entries.erase(it);
  }
  state_.reset();
}

void HalfOpenToken::on_evict(std::function<void()> hook) {
  if (!state_) return;
  if (auto it = state_->entries.find(id_); it != state_->entries.end()) it->second.evict = std::move(hook);
}

void HalfOpenToken::charge(std::size_t bytes) {
  if (!state_) return;
  auto it = state_->entries.find(id_);
  if (it == state_->entries.end() || it->second.evicted) return;
  state_->memory = state_->memory - it->second.bytes + bytes;
  it->second.bytes = bytes;
  state_->enforce_memory_cap();
}

bool HalfOpenToken::evicted() const {
  if (!state_) return false;
  auto it = state_->entries.find(id_);
  return it != state_->entries.end() && it->second.evicted;
}

// ---- HalfOpenLimiter ---------------------------------------------------------------------

HalfOpenLimiter::HalfOpenLimiter(AdmissionPolicy policy, std::uint64_t hash_key)
    : policy_(policy),
      state_(std::make_shared<HalfOpenToken::State>(policy)),
      refusals_(policy.refusal_half_life, hash_key) {}

std::size_t HalfOpenLimiter::total() const { return state_->entries.size(); }
std::size_t HalfOpenLimiter::verified() const { return state_->verified; }
std::size_t HalfOpenLimiter::memory() const { return state_->memory; }
std::uint64_t HalfOpenLimiter::evictions() const { return state_->evictions; }

std::size_t HalfOpenLimiter::count(const IpAddress& ip) const {
  auto it = state_->per_source.find(admission_source(ip));
  return it == state_->per_source.end() ? 0 : it->second;
}

HalfOpenLimiter::Decision HalfOpenLimiter::decide(const IpAddress& ip, bool valid_cookie,
                                                  TimePoint now) const {
  const IpAddress source = admission_source(ip);
  const std::size_t mine = count(source);
  if (valid_cookie) {
    // The address receives our answers: admitted up to its own caps, whatever unverified
    // requests did to the total.
    if (mine >= policy_.half_open_per_source || state_->verified >= policy_.half_open) return Decision::Drop;
    return Decision::Admit;
  }
  const std::size_t unverified = total() - state_->verified;
  const std::size_t load_all = total() + refusals_.total(now);
  const std::size_t load_mine = mine + refusals_.count(source, now);
  if (load_all >= policy_.cookie_threshold || load_mine >= policy_.cookie_threshold_per_source ||
      mine >= policy_.half_open_per_source || unverified >= policy_.half_open) {
    return Decision::RequireCookie;  // stateless: answering costs a hash, never a drop
  }
  return Decision::Admit;
}

HalfOpenToken HalfOpenLimiter::admit(const IpAddress& ip, bool valid_cookie) {
  const std::uint64_t id = state_->next_id++;
  HalfOpenToken::State::Entry e;
  e.source = admission_source(ip);
  e.verified = valid_cookie;
  ++state_->per_source[e.source];
  if (valid_cookie) ++state_->verified;
  state_->entries.emplace(id, std::move(e));
  return HalfOpenToken(state_, id);
}

}  // namespace natgate::ike
