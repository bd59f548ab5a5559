#include "ike/exchange/ike_delete.h"

namespace natgate::ike {

TaskStatus IkeDelete::build_request(OutboundMessage& request) {
  ctx_.state = SaState::Deleting;
  request.payloads.push_back(Delete::ike_sa());
  return TaskStatus::NeedMore;
}

TaskStatus IkeDelete::process_response(const InboundMessage&) {
  // Whatever the answer holds, the SA is gone on both sides now (§1.4.1).
  ctx_.close_reason = ctx_.rekeyed ? DeleteReason::Rekeyed : DeleteReason::LocalRequest;
  return TaskStatus::Failed;
}

TaskStatus IkeDelete::process_request(const InboundMessage&) { return TaskStatus::NeedMore; }

TaskStatus IkeDelete::build_response(OutboundMessage&) {
  // §1.4.1: the answer to Delete(IKE) is empty; then the SA ends.
  // The old SA of a rekey goes quietly: its CHILD SAs live on in the new one (§2.8).
  ctx_.close_reason = ctx_.rekeyed ? DeleteReason::Rekeyed : DeleteReason::PeerDeleted;
  return TaskStatus::Failed;
}

}  // namespace natgate::ike
