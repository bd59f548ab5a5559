// A bounded, thread-safe queue whose eventfd becomes readable while it holds items: how the data
// plane workers hand rare events (IKE datagrams, SA expiry, acquires) to the daemon's io_context
// without ever blocking on it (docs/design.md, "Rules every layer keeps").
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <mutex>
#include <utility>

#include "common/expected.h"
#include "sys/unique_fd.h"

namespace natgate::esp {

template <typename T>
class EventQueue {
 public:
  // At most `limit` items and, where push names sizes, `byte_limit` bytes of them.
  explicit EventQueue(std::size_t limit, std::size_t byte_limit = std::numeric_limits<std::size_t>::max())
      : limit_(limit), byte_limit_(byte_limit), fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

  bool ok() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }

  // False (and the item dropped) when the queue is full: a flood must not grow memory.
  bool push(T item, std::size_t bytes = 0) {
    {
      std::lock_guard lock(mutex_);
      if (items_.size() >= limit_ || bytes > byte_limit_ - bytes_) return false;
      items_.push_back(std::move(item));
      bytes_ += bytes;
    }
    const std::uint64_t one = 1;
    (void)!::write(fd_.get(), &one, sizeof one);
    return true;
  }

  // Calls f for every queued item (outside the lock) and clears the eventfd.
  template <typename F>
  std::size_t drain(F&& f) {
    std::uint64_t count;
    (void)!::read(fd_.get(), &count, sizeof count);
    std::deque<T> taken;
    {
      std::lock_guard lock(mutex_);
      taken.swap(items_);
      bytes_ = 0;
    }
    for (auto& item : taken) f(item);
    return taken.size();
  }

 private:
  std::size_t limit_;
  std::size_t byte_limit_;
  std::size_t bytes_ = 0;  // named by push, of the items queued now
  sys::UniqueFd fd_;
  std::mutex mutex_;
  std::deque<T> items_;
};

}  // namespace natgate::esp
