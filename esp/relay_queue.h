// The hand-off of the SA-to-SA relay (issue 14; docs/design.md, "Data plane"): inner packets the
// inbound worker decrypted from one SA and that an outbound policy sends into another SA of this
// engine go to the outbound worker through this ring instead of through the TUN and the kernel.
//
// Why a hand-off and not a seal on the inbound worker: an outbound SA's sequence counter and
// cipher contexts have one writer, the outbound worker (esp/sa/sa_state.h). Two threads sealing
// with one SA would race on the sequence number, and a repeated AES-GCM nonce gives the key
// away (RFC 4106 §3.1). The ring keeps that rule and still spares the TUN write, the kernel's
// routing and the TUN read.
//
// One producer (the inbound worker) and one consumer (the outbound worker), lock-free: fixed
// slots of one inner packet each, written in place by the producer and read in place by the
// consumer. The producer rings the eventfd once per batch (wake()), not per packet; the consumer
// polls the eventfd with the TUN. A full ring drops the packet (counted by the caller): a router
// that cannot keep up drops, it does not queue without bound.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "sys/unique_fd.h"

namespace natgate::esp {

class RelayQueue {
 public:
  // `slot_bytes` bounds one packet; `slots` is rounded up to a power of two.
  RelayQueue(std::size_t slots, std::size_t slot_bytes)
      : mask_(round_up(slots) - 1),
        slot_bytes_(slot_bytes),
        buffer_(std::make_unique_for_overwrite<std::uint8_t[]>((mask_ + 1) * slot_bytes)),
        lengths_(mask_ + 1),
        fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

  bool ok() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }
  std::size_t slot_bytes() const { return slot_bytes_; }
  std::size_t capacity() const { return mask_ + 1; }

  // --- producer ---
  // The next free slot (slot_bytes() long), or null when the ring is full.
  std::uint8_t* reserve() {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_.load(std::memory_order_acquire) > mask_) return nullptr;
    return buffer_.get() + (tail & mask_) * slot_bytes_;
  }
  // Publishes the reserved slot holding `len` bytes.
  void commit(std::size_t len) {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    lengths_[tail & mask_] = len;
    tail_.store(tail + 1, std::memory_order_release);
    pending_ = true;
  }
  // Wakes the consumer if anything was committed since the last wake.
  void wake() {
    if (!pending_) return;
    pending_ = false;
    const std::uint64_t one = 1;
    (void)!::write(fd_.get(), &one, sizeof one);
  }

  // --- consumer ---
  // Calls f(packet, len) for each published slot, in order, then frees them. The slot may be
  // written in place by f. Also clears the eventfd: whatever is committed after the clear rings
  // it again.
  template <typename F>
  std::size_t drain(F&& f) {
    std::uint64_t count;
    (void)!::read(fd_.get(), &count, sizeof count);
    std::size_t head = head_.load(std::memory_order_relaxed);
    const std::size_t tail = tail_.load(std::memory_order_acquire);
    const std::size_t n = tail - head;
    for (; head != tail; ++head) {
      f(buffer_.get() + (head & mask_) * slot_bytes_, lengths_[head & mask_]);
      head_.store(head + 1, std::memory_order_release);
    }
    return n;
  }

 private:
  static std::size_t round_up(std::size_t n) {
    std::size_t p = 1;
    while (p < n) p <<= 1;
    return p;
  }

  const std::size_t mask_;
  const std::size_t slot_bytes_;
  // Not zeroed: a page is only touched (and resident) once the ring has come round to it.
  std::unique_ptr<std::uint8_t[]> buffer_;
  std::vector<std::size_t> lengths_;
  sys::UniqueFd fd_;
  alignas(64) std::atomic<std::size_t> head_{0};  // consumer's
  alignas(64) std::atomic<std::size_t> tail_{0};  // producer's
  bool pending_ = false;                          // producer's
};

}  // namespace natgate::esp
