// A fixed userspace-ESP receiver for esp_inbound_fuzz and its seed corpus: the inbound SAs of one
// gateway (every suite esp/crypto/suite.cc implements, with and without ESN, replay windows from none to
// the largest, selectors of both families or none, a volume lifetime that runs out) installed with
// fixed keys, the peer's matching senders, and the engine's InboundPath behind them. The same keys
// every run, so an ESP packet sealed by the seed generator authenticates in the fuzzer.
//
// Fuzz input: up to kMaxRecords records, each fed to a fresh world in order (so one input can move
// a replay window, run out a lifetime or fill a coalescer). A record starts with an op octet:
//   op & 3 == 0  UDP  | len (2) | datagram        -> InboundPath::handle_udp (NAT-T port demux:
//                                                    keepalive, non-ESP marker + IKE, ESP-in-UDP)
//   op & 3 == 1  RAW  | len (2) | ESP packet      -> InboundPath::handle_esp (IP protocol 50)
//   op & 3 == 2  SEAL | seq (8) | nh (1) | len (2) | inner packet
//                sealed by the engine's own EspCrypto for SA (op >> 2) % sa_count(), then delivered
//                as ESP-in-UDP (or as raw ESP when op & kSealRaw): arbitrary inner packets reach
//                the post-decryption path (inner parsing, selectors, MSS clamp, coalescer)
//   op & 3 == 3  TEXT | seq (8) | len (2) | plaintext
//                the whole ESP plaintext (inner, padding, pad length, next header) chosen by the
//                input and sealed with crypto::Aead for AEAD SA (op >> 2) % sa_count(): padding
//                and trailer checks see arbitrary values behind a valid ICV
// op & kFromMovedPeer makes the datagram arrive from another outer endpoint (a NAT rebinding).
// Lengths are big-endian and cut to what the input still holds.
//
// After every record the world checks invariants and aborts when one breaks: each datagram is
// counted exactly once (delivered or under one drop reason), a packet sealed with an SA's real
// keys never fails authentication (without ESN, whose high half is the receiver's guess), what
// goes to the control plane is the datagram minus its non-ESP marker, and what the TUN receives
// lies within the packets delivered.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "common/bytes.h"
#include "common/ip_address.h"
#include "esp/crypto/suite.h"
#include "esp/wire/types.h"

namespace natgate::esp::fuzzing {

inline constexpr std::size_t kMaxRecords = 64;
enum RecordKind : std::uint8_t { kUdp = 0, kRawEsp = 1, kSeal = 2, kPlaintext = 3 };
inline constexpr std::uint8_t kSealRaw = 0x40;
inline constexpr std::uint8_t kFromMovedPeer = 0x80;

// Appends records in the layout above (for the seed generator and tests of the harness).
class RecordWriter {
 public:
  void udp(ByteView datagram, bool moved = false);
  void raw(ByteView esp);
  void seal(std::size_t sa, std::uint64_t seq, std::uint8_t next_header, ByteView inner, bool raw = false,
            bool moved = false);
  void plaintext(std::size_t sa, std::uint64_t seq, ByteView text);
  const Bytes& bytes() const { return out_; }

 private:
  void length_and(ByteView data);
  Bytes out_;
};

class EspWorld {
 public:
  EspWorld();
  ~EspWorld();
  EspWorld(const EspWorld&) = delete;
  EspWorld& operator=(const EspWorld&) = delete;

  static std::size_t sa_count();
  static Spi spi(std::size_t sa);
  static const Suite& suite(std::size_t sa);

  // An ESP packet for SA `sa` (header .. ICV), sealed by the engine with an IV derived from seq.
  Bytes seal(std::size_t sa, std::uint64_t seq, std::uint8_t next_header, ByteView inner);
  // An ESP packet whose plaintext is exactly `text`, sealed with crypto::Aead; nullopt for a
  // non-AEAD SA or a text too short for pad length and next header.
  std::optional<Bytes> seal_plaintext(std::size_t sa, std::uint64_t seq, ByteView text);

  // Feeds every record of `input` to the inbound path; aborts when an invariant breaks.
  void run(ByteView input);

  static const Endpoint& peer();
  static const Endpoint& moved_peer();
  static const Endpoint& local();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace natgate::esp::fuzzing
