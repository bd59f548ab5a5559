// Receiving side of IKEv2 fragmentation (RFC 7383 §2.6) for one IKE SA and one direction of
// requests or responses (an SA keeps two: the peer's requests and the responses to ours, whose
// Message IDs are separate sequences).
//
// Each fragment is authenticated and decrypted on arrival with the SA's inbound MessageProtector; a
// fragment that fails is dropped and counted, and a good copy arriving later is still taken (§2.6).
// Only fragments of the newest Message ID are kept: an older one is stale, a newer one replaces
// what was collected. A fragment announcing more Total Fragments than the collected ones restarts
// the reassembly (the sender re-fragmented smaller, §2.6); one announcing fewer is dropped. Limits
// on fragment count, total size and age bound what an authenticated but misbehaving peer can make
// us hold. Time is an input.
//
//   auto r = reassembler.add(*decode_encrypted_message(datagram), inbound_protector, now);
//   if (r.status == FragmentReassembler::Status::Complete)
//     auto payloads = decode_payload_chain(r.message->first_inner, r.message->chain);
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "ike/codec/encrypted_message.h"
#include "ike/codec/ike_header.h"
#include "ike/suite/message_protector.h"

namespace natgate::ike {

class FragmentReassembler {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  struct Limits {
    std::size_t max_fragments = 64;                         // Total Fragments above this is refused
    std::size_t max_message_size = std::size_t{64} * 1024;  // decrypted inner chain, all fragments together
    std::chrono::milliseconds timeout{30'000};              // from the first fragment kept to the last
  };

  enum class Status {
    Incomplete,            // kept; more fragments needed
    Complete,              // `message` holds the reassembled inner chain
    Duplicate,             // this fragment number is already kept: dropped
    AlreadyComplete,       // a fragment of the message completed last: dropped (the exchange may resend its
                           // response)
    AuthenticationFailed,  // ICV/tag did not verify: dropped, counted (§2.6)
    Stale,                 // an older Message ID, or fewer Total Fragments than the kept ones: dropped
    OverLimit,             // Total Fragments or the collected size exceeds the limits: dropped
    Invalid,               // not an SKF message, Fragment Number outside 1..Total, or a header
                           // that differs from the kept fragments': dropped
  };

  struct Message {
    IkeHeader header;  // as every fragment carried it
    PayloadType first_inner = PayloadType::None;
    Bytes chain;  // the decrypted inner payload chain, fragments joined in order
  };

  struct Result {
    Status status = Status::Invalid;
    std::optional<Message> message;        // set for Complete
    std::string reason;                    // for the debug log; names no secret
    std::optional<FragmentInfo> fragment;  // the datagram's Fragment Number / Total, when it had them
    std::optional<MessageId> message_id;   // the datagram's Message ID, when it decoded
  };

  struct Counters {
    std::uint64_t kept = 0;
    std::uint64_t completed = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t authentication_failed = 0;
    std::uint64_t stale = 0;
    std::uint64_t over_limit = 0;
    std::uint64_t invalid = 0;
    std::uint64_t restarted = 0;  // a higher Total Fragments or a newer Message ID discarded what was kept
    std::uint64_t timed_out = 0;
  };

  FragmentReassembler() : FragmentReassembler(Limits{}) {}
  explicit FragmentReassembler(Limits limits) : limits_(limits) {}

  // One received SKF message (decode_encrypted_message() of the datagram). `protector` is the SA's
  // inbound direction.
  Result add(const EncryptedMessageView& fragment, MessageProtector& protector, TimePoint now);
  // Decodes first; a datagram that does not decode or carries SK instead of SKF is Invalid.
  Result add(ByteView datagram, MessageProtector& protector, TimePoint now);

  // Drops a partial message whose first fragment is older than the timeout.
  void expire(TimePoint now);

  // The Message ID being collected, if any.
  std::optional<MessageId> pending() const;
  std::size_t pending_fragments() const;
  // Bytes of decrypted fragments kept (a responder's half-open memory account counts them).
  std::size_t pending_bytes() const { return partial_ ? partial_->bytes : 0; }
  // Forgets a partial message (the SA was evicted to free memory).
  void discard() { partial_.reset(); }
  const Counters& counters() const { return counters_; }
  const Limits& limits() const { return limits_; }

 private:
  struct Partial {
    IkeHeader header;
    std::uint16_t total = 0;
    PayloadType first_inner = PayloadType::None;
    std::vector<std::optional<Bytes>> pieces;  // index = Fragment Number - 1
    std::size_t received = 0;
    std::size_t bytes = 0;
    TimePoint started{};
  };

  Result add_checked(const EncryptedMessageView& fragment, MessageProtector& protector, TimePoint now);
  Result drop(Status status, std::string reason);
  void start(const IkeHeader& header, std::uint16_t total, TimePoint now);

  Limits limits_;
  Counters counters_;
  std::optional<Partial> partial_;
  std::optional<MessageId> last_completed_;
};

const char* to_string(FragmentReassembler::Status status);

}  // namespace natgate::ike
