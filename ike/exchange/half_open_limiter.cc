#include "ike/exchange/half_open_limiter.h"

namespace natgate::ike {

struct HalfOpenToken::State {
  std::size_t total = 0;
  std::map<IpAddress, std::size_t> per_ip;
};

HalfOpenToken::HalfOpenToken(HalfOpenToken&& other) noexcept
    : state_(std::move(other.state_)), ip_(other.ip_) {
  other.state_.reset();
}

HalfOpenToken& HalfOpenToken::operator=(HalfOpenToken&& other) noexcept {
  if (this != &other) {
    release();
    state_ = std::move(other.state_);
    ip_ = other.ip_;
    other.state_.reset();
  }
  return *this;
}

void HalfOpenToken::release() {
  if (!state_) return;
  if (state_->total > 0) --state_->total;
  auto it = state_->per_ip.find(ip_);
  if (it != state_->per_ip.end() && --it->second == 0) state_->per_ip.erase(it);
  state_.reset();
}

HalfOpenLimiter::HalfOpenLimiter(AdmissionPolicy policy)
    : policy_(policy), state_(std::make_shared<HalfOpenToken::State>()) {}

std::size_t HalfOpenLimiter::total() const { return state_->total; }

std::size_t HalfOpenLimiter::count(const IpAddress& ip) const {
  auto it = state_->per_ip.find(ip);
  return it == state_->per_ip.end() ? 0 : it->second;
}

HalfOpenLimiter::Decision HalfOpenLimiter::decide(const IpAddress& ip, bool valid_cookie) const {
  const std::size_t mine = count(ip);
  if (state_->total >= policy_.block_threshold || mine >= policy_.block_threshold_per_ip) return Decision::Drop;
  if (valid_cookie) return Decision::Admit;
  if (state_->total >= policy_.cookie_threshold || mine >= policy_.cookie_threshold_per_ip) {
    return Decision::RequireCookie;
  }
  return Decision::Admit;
}

HalfOpenToken HalfOpenLimiter::admit(const IpAddress& ip) {
  ++state_->total;
  ++state_->per_ip[ip];
  return HalfOpenToken(state_, ip);
}

}  // namespace natgate::ike
