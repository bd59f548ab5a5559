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
#include <vector>

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
// state, a std::function and a map node). Here a key costs one map node (key, deadline, arming
// order, heap position) and one pointer in a binary heap ordered by deadline, which points back
// at the node (docs/performance.md, "Scale: memory per road warrior"). Arming, cancelling and
// firing are O(log n).
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
    auto [it, added] = slots_.try_emplace(key);
    it->second.deadline = deadline;
    it->second.order = next_order_++;
    if (added) {
      it->second.position = heap_.size();
      heap_.push_back(it);
    }
    restore(it->second.position);
    rearm();
  }
  void arm_after(const Key& key, SteadyClock::duration delay) { arm_at(key, SteadyClock::now() + delay); }
  void cancel(const Key& key) {
    auto it = slots_.find(key);
    if (it == slots_.end()) return;
    remove_from_heap(it->second.position);
    slots_.erase(it);
    rearm();
  }
  void cancel_all() {
    heap_.clear();
    slots_.clear();
    rearm();
  }
  bool armed(const Key& key) const { return slots_.count(key) != 0; }
  std::optional<SteadyClock::time_point> deadline(const Key& key) const {
    auto it = slots_.find(key);
    if (it == slots_.end()) return std::nullopt;
    return it->second.deadline;
  }
  std::size_t size() const { return slots_.size(); }

 private:
  struct Slot {
    SteadyClock::time_point deadline;
    std::uint64_t order = 0;   // arming order: ties between equal deadlines
    std::size_t position = 0;  // index in heap_
  };
  using Slots = std::map<Key, Slot>;
  using Handle = typename Slots::iterator;  // map iterators stay valid until their node goes

  static bool earlier(const Handle& a, const Handle& b) {
    const Slot& x = a->second;
    const Slot& y = b->second;
    return x.deadline != y.deadline ? x.deadline < y.deadline : x.order < y.order;
  }
  void place(std::size_t i, Handle h) {
    heap_[i] = h;
    h->second.position = i;
  }
  // Moves the entry at i up or down until the heap order holds again.
  void restore(std::size_t i) {
    Handle h = heap_[i];
    while (i > 0 && earlier(h, heap_[(i - 1) / 2])) {
      place(i, heap_[(i - 1) / 2]);
      i = (i - 1) / 2;
    }
    for (;;) {
      std::size_t child = 2 * i + 1;
      if (child >= heap_.size()) break;
      if (child + 1 < heap_.size() && earlier(heap_[child + 1], heap_[child])) ++child;
      if (!earlier(heap_[child], h)) break;
      place(i, heap_[child]);
      i = child;
    }
    place(i, h);
  }
  void remove_from_heap(std::size_t i) {
    const std::size_t last = heap_.size() - 1;
    if (i != last) {
      place(i, heap_[last]);
      heap_.pop_back();
      restore(i);
    } else {
      heap_.pop_back();
    }
  }

  // The asio timer follows the earliest deadline (not while expired keys are being handled:
  // fire() re-arms once at the end).
  void rearm() {
    if (firing_) return;
    if (heap_.empty()) {
      if (wake_.armed()) wake_.cancel();
      armed_for_.reset();
      return;
    }
    const SteadyClock::time_point first = heap_.front()->second.deadline;
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
    while (!heap_.empty() && heap_.front()->second.deadline <= now &&
           heap_.front()->second.order < armed_before) {
      const Handle first = heap_.front();
      const Key key = first->first;
      remove_from_heap(0);
      slots_.erase(first);
      on_expiry_(key);
      if (!*alive) return;
    }
    firing_ = false;
    rearm();
  }

  Timer wake_;
  Handler on_expiry_;
  Slots slots_;
  std::vector<Handle> heap_;  // a binary min-heap by (deadline, order)
  std::uint64_t next_order_ = 0;
  std::optional<SteadyClock::time_point> armed_for_;
  bool firing_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace natgate::gateway
