#include "gateway/io/timer.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace natgate::gateway {

// Shared with the pending wait, so the completion can tell whether it is still current
// after the Timer was re-armed, cancelled or destroyed.
struct Timer::State {
  explicit State(boost::asio::io_context& io) : timer(io) {}
  boost::asio::steady_timer timer;
  std::uint64_t generation = 0;  // bumped on every arm/cancel; a wait is current if it matches
  std::function<void()> callback;
  bool armed = false;
};

Timer::Timer(boost::asio::io_context& io) : state_(std::make_shared<State>(io)) {}

// cancel(), except that asio's cancel may throw (it reports a failure as system_error) and a
// destructor must not: the generation bump already makes a pending completion do nothing, so
// a failed cancel only leaves the wait to expire on its own, holding the shared state.
Timer::~Timer() {
  State& s = *state_;
  ++s.generation;
  s.armed = false;
  s.callback = nullptr;
  try {
    s.timer.cancel();
  } catch (...) {
    // Nothing to undo: see above.
  }
}

void Timer::arm_at(SteadyClock::time_point deadline, std::function<void()> callback) {
  State& s = *state_;
  const std::uint64_t generation = ++s.generation;
  s.callback = std::move(callback);
  s.armed = true;
  s.timer.expires_at(deadline);
  // The wait keeps the state alive, not the Timer; a completion that is no longer current
  // (it raced with cancel or re-arm, which asio cannot always abort) does nothing.
  s.timer.async_wait([state = state_, generation](const boost::system::error_code& ec) {
    if (ec || state->generation != generation || !state->armed) return;
    state->armed = false;
    auto callback = std::move(state->callback);
    state->callback = nullptr;
    callback();
  });
}

void Timer::arm_after(SteadyClock::duration delay, std::function<void()> callback) {
  arm_at(SteadyClock::now() + delay, std::move(callback));
}

void Timer::cancel() {
  State& s = *state_;
  ++s.generation;
  s.armed = false;
  s.callback = nullptr;
  s.timer.cancel();
}

bool Timer::armed() const { return state_->armed; }

SteadyClock::time_point Timer::deadline() const { return state_->timer.expiry(); }

}  // namespace natgate::gateway
