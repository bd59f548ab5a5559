// Timers on the daemon's io_context. The sans-I/O IKE core asks for timers as values
// ("retransmit SA 7 at T", "rekey at T", "DPD at T"); the daemon maps each to a Timer or a
// TimerSet entry and feeds the expiry back to the core. The guarantees that matter for that:
// a cancelled, re-armed or destroyed timer never runs its old callback.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <utility>

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

// Timers by key, e.g. (IKE SA id, timer kind), all on one asio timer: a deadline per key, kept in
// deadline order, and the one asio timer armed at the earliest. Arming a key again replaces its
// deadline; a key that fires is removed before the handler runs, so the handler may arm it again.
//
// Why not one asio timer per key: with a hundred thousand road warriors and three or four timers
// each (DPD, IKE lifetime, CHILD SA rekey), each key cost ~650 bytes (an asio timer, its shared
// state, a std::function and a map node); here a key costs two tree nodes (docs/performance.md,
// "Memory per road warrior"). Arming, cancelling and firing are O(log n).
template <typename Key>
class TimerSet {
 public:
  using Handler = std::function<void(const Key&)>;
  // `on_expiry` runs on the io_context thread for each key whose deadline has passed, in
  // deadline order (keys with the same deadline in the order they were armed).
  TimerSet(boost::asio::io_context& io, Handler on_expiry) : wake_(io), on_expiry_(std::move(on_expiry)) {}
  ~TimerSet() { *alive_ = false; }
  TimerSet(const TimerSet&) = delete;
  TimerSet& operator=(const TimerSet&) = delete;

  void arm_at(const Key& key, SteadyClock::time_point deadline) {
    auto [it, added] = deadlines_.try_emplace(key);
    if (!added) queue_.erase({it->second.deadline, it->second.order});
    it->second = Slot{deadline, next_order_++};
    queue_.emplace(Queued{deadline, it->second.order}, &it->first);
    rearm();
  }
  void arm_after(const Key& key, SteadyClock::duration delay) { arm_at(key, SteadyClock::now() + delay); }
  void cancel(const Key& key) {
    auto it = deadlines_.find(key);
    if (it == deadlines_.end()) return;
    queue_.erase({it->second.deadline, it->second.order});
    deadlines_.erase(it);
    rearm();
  }
  void cancel_all() {
    queue_.clear();
    deadlines_.clear();
    rearm();
  }
  bool armed(const Key& key) const { return deadlines_.count(key) != 0; }
  std::optional<SteadyClock::time_point> deadline(const Key& key) const {
    auto it = deadlines_.find(key);
    if (it == deadlines_.end()) return std::nullopt;
    return it->second.deadline;
  }
  std::size_t size() const { return deadlines_.size(); }

 private:
  struct Slot {
    SteadyClock::time_point deadline;
    std::uint64_t order = 0;  // arming order: ties between equal deadlines, and the queue's key
  };
  using Queued = std::pair<SteadyClock::time_point, std::uint64_t>;

  // The asio timer follows the earliest deadline (not while expired keys are being handled:
  // fire() re-arms once at the end).
  void rearm() {
    if (firing_) return;
    if (queue_.empty()) {
      if (wake_.armed()) wake_.cancel();
      armed_for_.reset();
      return;
    }
    const SteadyClock::time_point first = queue_.begin()->first.first;
    if (armed_for_ == first && wake_.armed()) return;
    armed_for_ = first;
    wake_.arm_at(first, [this] { fire(); });
  }

  void fire() {
    armed_for_.reset();
    firing_ = true;
    const std::shared_ptr<bool> alive = alive_;  // a handler may destroy this set
    const SteadyClock::time_point now = SteadyClock::now();
    // Keys a handler arms meanwhile wait for the next turn of the io_context, even when already
    // due, so a handler that re-arms its key at `now` cannot keep this loop going.
    const std::uint64_t armed_before = next_order_;
    while (!queue_.empty() && queue_.begin()->first.first <= now &&
           queue_.begin()->first.second < armed_before) {
      const Key key = *queue_.begin()->second;
      queue_.erase(queue_.begin());
      deadlines_.erase(key);
      on_expiry_(key);
      if (!*alive) return;
    }
    firing_ = false;
    rearm();
  }

  Timer wake_;
  Handler on_expiry_;
  std::map<Key, Slot> deadlines_;
  // Deadline order; the Key pointer is into deadlines_ (map nodes do not move).
  std::map<Queued, const Key*> queue_;
  std::uint64_t next_order_ = 0;
  std::optional<SteadyClock::time_point> armed_for_;
  bool firing_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace natgate::gateway
