#include "esp/sa/replay_window.h"

#include <string>

namespace natgate::esp {

namespace {

std::size_t ring_words_for(std::uint32_t size) {
  std::size_t needed = (size + 63) / 64 + 1;
  std::size_t words = 1;
  while (words < needed) words <<= 1;  // power of two: the ring index is a mask
  return words;
}

// With replay checking off, ESN still needs a window to place the high half (Appendix A2).
constexpr std::uint32_t kEsnWindowWhenDisabled = 64;

}  // namespace

Expected<ReplayWindow> ReplayWindow::create(std::uint32_t size, bool esn) {
  if (size > kMaxSize)
    return unexpected("replay window of " + std::to_string(size) + " packets; at most " +
                      std::to_string(kMaxSize));
  return ReplayWindow(size, esn, ring_words_for(size == 0 ? 64 : size));
}

ReplayWindow::ReplayWindow(std::uint32_t size, bool esn, std::size_t words)
    : size_(size), esn_(esn), ring_(words, 0), word_mask_(words == 0 ? 0 : words - 1) {}

bool ReplayWindow::bit(std::uint64_t seq) const { return (ring_[(seq >> 6) & word_mask_] >> (seq & 63)) & 1; }

void ReplayWindow::set_bit(std::uint64_t seq) {
  ring_[(seq >> 6) & word_mask_] |= std::uint64_t{1} << (seq & 63);
}

ReplayWindow::Check ReplayWindow::check(std::uint32_t seq_low) const {
  const std::uint64_t w = size_ == 0 ? kEsnWindowWhenDisabled : size_;
  std::uint64_t seq = seq_low;
  if (esn_) {
    // RFC 4303 Appendix A2.2: T = top of window (Th, Tl), B = bottom; pick Seqh for Seql.
    const std::uint32_t th = static_cast<std::uint32_t>(top_ >> 32);
    const std::uint32_t tl = static_cast<std::uint32_t>(top_);
    const std::uint32_t bl = tl - static_cast<std::uint32_t>(w) + 1;  // modulo 2^32
    std::uint64_t seqh;
    if (tl >= w - 1) {
      // Case A: the window lies within one 2^32 subspace.
      seqh = seq_low >= bl ? th : std::uint64_t{th} + 1;
    } else {
      // Case B: the window spans two subspaces; a Seql at or above Bl belongs to the lower one.
      if (seq_low >= bl) {
        if (th == 0) return {Verdict::TooOld, SequenceNumber(seq_low)};  // there is no subspace below 0
        seqh = std::uint64_t{th} - 1;
      } else {
        seqh = th;
      }
    }
    seq = (seqh << 32) | seq_low;
  }
  if (seq == 0) return {Verdict::Invalid, SequenceNumber(0)};
  if (size_ == 0 || seq > top_) return {Verdict::Fresh, SequenceNumber(seq)};
  if (top_ - seq >= size_) return {Verdict::TooOld, SequenceNumber(seq)};
  return {bit(seq) ? Verdict::Duplicate : Verdict::Fresh, SequenceNumber(seq)};
}

void ReplayWindow::accept(SequenceNumber s) {
  const std::uint64_t seq = s.value();
  if (seq > top_) {
    // Slide: clear the words between the old top and the new one (all of them if it jumped far).
    const std::uint64_t old_word = top_ >> 6;
    const std::uint64_t new_word = seq >> 6;
    const std::uint64_t diff = new_word - old_word;
    if (diff >= ring_.size()) {
      for (auto& word : ring_) word = 0;
    } else {
      for (std::uint64_t i = 1; i <= diff; ++i) ring_[(old_word + i) & word_mask_] = 0;
    }
    top_ = seq;
  }
  set_bit(seq);
}

}  // namespace natgate::esp
