#include "ike/exchange/ike_dpd.h"

#include "ike/codec/message.h"

namespace natgate::ike {

TaskStatus IkeDpd::process_request(const InboundMessage& request) {
  auth_failed_ = find_notify(request.payloads, iana::NotifyType::AuthenticationFailed) != nullptr;
  return TaskStatus::NeedMore;
}

TaskStatus IkeDpd::build_response(OutboundMessage&) {
  if (!auth_failed_) return TaskStatus::Done;
  ctx_.close_reason = DeleteReason::AuthenticationFailed;
  ctx_.emit(AuthenticationFailed{true, ctx_.remote_id, "the peer rejected our authentication"});
  return TaskStatus::Failed;
}

}  // namespace natgate::ike
