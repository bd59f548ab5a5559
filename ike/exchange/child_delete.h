// Deleting CHILD SAs (RFC 7296 §1.4.1): a Delete payload lists the sender's inbound SPIs; the
// answer lists the answerer's inbound SPIs of the same pairs, so both directions go together.
#pragma once

#include <cstdint>
#include <vector>

#include "ike/exchange/ike_sa_context.h"
#include "ike/exchange/task.h"

namespace natgate::ike {

class ChildDelete final : public Task {
 public:
  // Initiator: the inbound SPIs of our CHILD SAs to delete. Responder: empty.
  // `unrecorded`: SPIs of pairs the peer created but we rejected (RFC 7296 §2.9), which have no
  // record here; they are named in the Delete all the same.
  ChildDelete(IkeSaContext& ctx, std::vector<std::uint32_t> inbound_spis, bool unrecorded = false)
      : ctx_(ctx), inbound_spis_(std::move(inbound_spis)), unrecorded_(unrecorded) {}

  std::string_view name() const override { return "child_delete"; }
  iana::ExchangeType exchange() const override { return iana::ExchangeType::Informational; }

  TaskStatus build_request(OutboundMessage& request) override;
  TaskStatus process_response(const InboundMessage& response) override;
  TaskStatus process_request(const InboundMessage& request) override;
  TaskStatus build_response(OutboundMessage& response) override;

 private:
  // Removes the record and reports it; by_peer says who asked.
  void remove(std::uint32_t inbound_spi, bool by_peer);

  IkeSaContext& ctx_;
  std::vector<std::uint32_t> inbound_spis_;
  bool unrecorded_ = false;
};

}  // namespace natgate::ike
