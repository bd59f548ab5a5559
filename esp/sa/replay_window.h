// Anti-replay window of one inbound SA (RFC 4303 §3.4.3 and Appendix A), with the ESN high half
// reconstructed from the 32 bits on the wire (RFC 4303 Appendix A2).
//
// Use: check() before decrypting (cheap rejection of duplicates and old packets, and the full
// sequence number the ICV needs); accept() only after the ICV verified (§3.4.3: the window must
// not move for packets that fail authentication). Owned by the one worker that receives the SA.
#pragma once

#include <cstdint>
#include <vector>

#include "common/expected.h"
#include "esp/wire/types.h"

namespace natgate::esp {

class ReplayWindow {
 public:
  static constexpr std::uint32_t kMaxSize = 4096;

  enum class Verdict : std::uint8_t {
    Fresh,      // not seen, inside or ahead of the window
    Duplicate,  // inside the window and already accepted
    TooOld,     // left of the window
    Invalid,    // sequence number 0, which no sender uses (RFC 4303 §3.3.3 starts at 1)
  };
  struct Check {
    Verdict verdict = Verdict::Invalid;
    SequenceNumber seq;  // full 64-bit value (high half 0 without ESN)
  };

  // size: packets, 0..kMaxSize. 0 disables replay checking (the receiver's choice, RFC 4303 §3.4.3);
  // with ESN the high half is then still tracked against a notional 64-packet window.
  static Expected<ReplayWindow> create(std::uint32_t size, bool esn);
  // An outbound SA's: no ring (a road warrior's outbound SA saved its 2-word ring). check() and
  // accept() must not be called on it; only inbound SAs are looked up by received packets.
  static ReplayWindow none() { return ReplayWindow(0, false, 0); }

  Check check(std::uint32_t seq_low) const;
  void accept(SequenceNumber seq);

  std::uint32_t size() const { return size_; }
  // Highest sequence number accepted so far (0 before the first).
  SequenceNumber highest() const { return SequenceNumber(top_); }

 private:
  ReplayWindow(std::uint32_t size, bool esn, std::size_t words);
  bool bit(std::uint64_t seq) const;
  void set_bit(std::uint64_t seq);

  std::uint32_t size_;
  bool esn_;
  std::uint64_t top_ = 0;
  // Ring of bits, one per sequence number, indexed by seq modulo the ring size. It holds at least
  // one word more than the window, so advancing the window never clears a bit still inside it.
  std::vector<std::uint64_t> ring_;
  std::uint64_t word_mask_;
};

}  // namespace natgate::esp
