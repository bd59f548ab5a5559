#include "ike/fragment/fragment_reassembler.h"

namespace natgate::ike {

const char* to_string(FragmentReassembler::Status status) {
  using S = FragmentReassembler::Status;
  switch (status) {
    case S::Incomplete:
      return "incomplete";
    case S::Complete:
      return "complete";
    case S::Duplicate:
      return "duplicate";
    case S::AlreadyComplete:
      return "already complete";
    case S::AuthenticationFailed:
      return "authentication failed";
    case S::Stale:
      return "stale";
    case S::OverLimit:
      return "over limit";
    case S::Invalid:
      return "invalid";
  }
  return "?";
}

FragmentReassembler::Result FragmentReassembler::drop(Status status, std::string reason) {
  switch (status) {
    case Status::Duplicate:
    case Status::AlreadyComplete:
      ++counters_.duplicates;
      break;
    case Status::AuthenticationFailed:
      ++counters_.authentication_failed;
      break;
    case Status::Stale:
      ++counters_.stale;
      break;
    case Status::OverLimit:
      ++counters_.over_limit;
      break;
    case Status::Invalid:
      ++counters_.invalid;
      break;
    case Status::Incomplete:
    case Status::Complete:
      break;
  }
  return {status, std::nullopt, std::move(reason), std::nullopt, std::nullopt};
}

void FragmentReassembler::start(const IkeHeader& header, std::uint16_t total, TimePoint now) {
  partial_ = Partial{};  // not emplace(): clang 14 rejects it for a nested struct with member initializers
  partial_->header = header;
  partial_->total = total;
  partial_->pieces.assign(total, std::nullopt);
  partial_->started = now;
}

void FragmentReassembler::expire(TimePoint now) {
  if (partial_ && now - partial_->started > limits_.timeout) {
    partial_.reset();
    ++counters_.timed_out;
  }
}

std::optional<MessageId> FragmentReassembler::pending() const {
  return partial_ ? std::optional<MessageId>(partial_->header.message_id) : std::nullopt;
}

std::size_t FragmentReassembler::pending_fragments() const { return partial_ ? partial_->received : 0; }

FragmentReassembler::Result FragmentReassembler::add(ByteView datagram, MessageProtector& protector,
                                                     TimePoint now) {
  auto view = decode_encrypted_message(datagram);
  if (!view) return drop(Status::Invalid, "does not decode: " + view.error().to_string());
  return add(*view, protector, now);
}

FragmentReassembler::Result FragmentReassembler::add(const EncryptedMessageView& fragment,
                                                     MessageProtector& protector, TimePoint now) {
  Result result = add_checked(fragment, protector, now);
  result.fragment = fragment.fragment;
  result.message_id = fragment.header.message_id;
  return result;
}

FragmentReassembler::Result FragmentReassembler::add_checked(const EncryptedMessageView& fragment,
                                                             MessageProtector& protector, TimePoint now) {
  if (!fragment.fragment) return drop(Status::Invalid, "not an SKF message");
  const FragmentInfo info = *fragment.fragment;
  const MessageId id = fragment.header.message_id;
  // §2.6: Fragment Number must lie in 1..Total Fragments.
  if (info.total == 0 || info.number == 0 || info.number > info.total)
    return drop(Status::Invalid,
                "fragment " + std::to_string(info.number) + " of " + std::to_string(info.total));
  if (info.total > limits_.max_fragments)
    return drop(Status::OverLimit, std::to_string(info.total) + " fragments announced, limit " +
                                       std::to_string(limits_.max_fragments));

  expire(now);
  // A partial message always has a newer Message ID than the last completed one.
  if (last_completed_ && id <= *last_completed_) {
    if (id == *last_completed_)
      return drop(Status::AlreadyComplete,
                  "message " + std::to_string(id.value) + " was already reassembled");
    return drop(Status::Stale, "message " + std::to_string(id.value) + " is older than the last reassembled");
  }
  if (partial_) {
    if (id < partial_->header.message_id)
      return drop(Status::Stale,
                  "message " + std::to_string(id.value) + " is older than the one being collected");
    if (id == partial_->header.message_id) {
      if (info.total < partial_->total)
        return drop(Status::Stale, "Total Fragments " + std::to_string(info.total) + " < " +
                                       std::to_string(partial_->total) + " already announced");
      if (info.total == partial_->total && partial_->pieces[info.number - 1])
        return drop(Status::Duplicate, "fragment " + std::to_string(info.number) + " already kept");
    }
  }

  // Authenticate before the fragment may change any state (§2.6): a forged fragment must neither
  // restart reassembly nor displace a genuine one.
  auto plain = protector.open(fragment.aad, fragment.body);
  if (!plain)
    return drop(Status::AuthenticationFailed, "fragment " + std::to_string(info.number) + " of message " +
                                                  std::to_string(id.value) + ": " + plain.error());

  if (!partial_ || id > partial_->header.message_id || info.total > partial_->total) {
    if (partial_) ++counters_.restarted;
    start(fragment.header, info.total, now);
  } else if (fragment.header.exchange != partial_->header.exchange ||
             fragment.header.flags != partial_->header.flags) {
    return drop(Status::Invalid,
                "fragment " + std::to_string(info.number) + " has another exchange type or flags");
  }

  Partial& p = *partial_;
  if (p.bytes + plain->size() > limits_.max_message_size) {
    partial_.reset();
    return drop(Status::OverLimit,
                "reassembled message would exceed " + std::to_string(limits_.max_message_size) + " octets");
  }
  p.bytes += plain->size();
  // §2.5: the first inner payload type is taken from fragment 1 only.
  if (info.number == 1) p.first_inner = fragment.first_inner;
  p.pieces[info.number - 1] = std::move(*plain);
  ++p.received;
  ++counters_.kept;
  if (p.received < p.total) return {Status::Incomplete, std::nullopt, {}, std::nullopt, std::nullopt};

  Message message{p.header, p.first_inner, {}};
  message.chain.reserve(p.bytes);
  for (const auto& piece : p.pieces) append(message.chain, *piece);
  last_completed_ = p.header.message_id;
  partial_.reset();
  ++counters_.completed;
  return {Status::Complete, std::move(message), {}, std::nullopt, std::nullopt};
}

}  // namespace natgate::ike
