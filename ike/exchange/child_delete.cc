#include "ike/exchange/child_delete.h"

#include <algorithm>

#include "ike/codec/message.h"

namespace natgate::ike {

namespace {

Bytes spi_bytes(std::uint32_t spi) {
  return {static_cast<std::uint8_t>(spi >> 24), static_cast<std::uint8_t>(spi >> 16),
          static_cast<std::uint8_t>(spi >> 8), static_cast<std::uint8_t>(spi)};
}

}  // namespace

void ChildDelete::remove(std::uint32_t inbound_spi, bool by_peer) {
  auto it = std::find_if(ctx_.children.begin(), ctx_.children.end(),
                         [&](const ChildSaRecord& c) { return c.inbound_spi == inbound_spi; });
  if (it == ctx_.children.end()) return;
  ctx_.emit(ChildSaDeleted{it->config_name, it->inbound_spi, it->outbound_spi, by_peer});
  ctx_.children.erase(it);
}

TaskStatus ChildDelete::build_request(OutboundMessage& request) {
  std::vector<Bytes> spis;
  for (auto spi : inbound_spis_)
    if (unrecorded_ || ctx_.find_child_by_inbound(spi)) spis.push_back(spi_bytes(spi));
  if (spis.empty()) return TaskStatus::Done;  // nothing (left) to delete: no exchange
  request.payloads.push_back(Delete::child_sas(iana::ProtocolId::Esp, std::move(spis)));
  return TaskStatus::NeedMore;
}

TaskStatus ChildDelete::process_response(const InboundMessage&) {
  // The peer's answer names its halves of the pairs; ours go regardless (§1.4.1).
  for (auto spi : inbound_spis_) remove(spi, false);
  return TaskStatus::Done;
}

TaskStatus ChildDelete::process_request(const InboundMessage& request) {
  for (const auto* del : find_all<Delete>(request.payloads)) {
    if (del->protocol != iana::ProtocolId::Esp || del->spi_size != 4) continue;
    for (const auto& spi : del->spis) {
      if (spi.size() != 4) continue;
      auto outbound = (std::uint32_t{spi[0]} << 24) | (std::uint32_t{spi[1]} << 16) |
                      (std::uint32_t{spi[2]} << 8) | spi[3];
      if (const auto* child = ctx_.find_child_by_outbound(outbound))
        inbound_spis_.push_back(child->inbound_spi);
    }
  }
  return TaskStatus::NeedMore;
}

TaskStatus ChildDelete::build_response(OutboundMessage& response) {
  if (!inbound_spis_.empty()) {
    std::vector<Bytes> spis;
    for (auto spi : inbound_spis_) spis.push_back(spi_bytes(spi));
    response.payloads.push_back(Delete::child_sas(iana::ProtocolId::Esp, std::move(spis)));
  }
  for (auto spi : inbound_spis_) remove(spi, true);
  return TaskStatus::Done;
}

}  // namespace natgate::ike
