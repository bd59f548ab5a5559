// Timers on the daemon's io_context. The sans-I/O IKE core asks for timers as values
// ("retransmit SA 7 at T", "rekey at T", "DPD at T"); the daemon maps each to a Timer or a
// TimerSet entry and feeds the expiry back to the core. The guarantees that matter for that:
// a cancelled, re-armed or destroyed timer never runs its old callback.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace natgate::gateway {

using SteadyClock = std::chrono::steady_clock;

class Timer {
 public:
  explicit Timer(boost::asio::io_context& io);
  ~Timer();  // cancels
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Arms (or re-arms, replacing the previous deadline and callback). The callback runs once,
  // on the io_context thread; it may re-arm or destroy this timer.
  void arm_at(SteadyClock::time_point deadline, std::function<void()> callback);
  void arm_after(SteadyClock::duration delay, std::function<void()> callback);
  void cancel();
  bool armed() const;
  SteadyClock::time_point deadline() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

// Timers by key, e.g. (IKE SA id, timer kind). Arming a key again replaces its timer; a timer
// that fires is removed before its callback runs, so the callback may arm the same key again.
template <typename Key>
class TimerSet {
 public:
  explicit TimerSet(boost::asio::io_context& io) : io_(io) {}

  void arm_at(const Key& key, SteadyClock::time_point deadline, std::function<void()> callback) {
    auto& slot = timers_[key];
    if (!slot) slot = std::make_unique<Timer>(io_);
    slot->arm_at(deadline, [this, key, cb = std::move(callback)]() mutable {
      auto keep = std::move(cb);  // the Timer holding this lambda is destroyed next
      timers_.erase(key);
      keep();
    });
  }
  void arm_after(const Key& key, SteadyClock::duration delay, std::function<void()> callback) {
    arm_at(key, SteadyClock::now() + delay, std::move(callback));
  }
  void cancel(const Key& key) { timers_.erase(key); }
  void cancel_all() { timers_.clear(); }
  bool armed(const Key& key) const { return timers_.count(key) != 0; }
  std::size_t size() const { return timers_.size(); }

 private:
  boost::asio::io_context& io_;
  std::map<Key, std::unique_ptr<Timer>> timers_;
};

}  // namespace natgate::gateway
