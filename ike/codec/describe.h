// One-line summaries of IKE messages for logs, in the style of strongSwan and tshark:
//   "IKE_SA_INIT request #0 [SA KE No N(NATD_S_IP) N(NATD_D_IP)]"
// Names only: never payload contents, so nothing secret reaches a log through here.
#pragma once

#include <string>
#include <vector>

#include "common/iana.h"
#include "ike/codec/message.h"

namespace natgate::ike {

std::string describe(const Message& message);
// "[IDi AUTH SA TSi TSr]" — for a decrypted inner chain.
std::string describe(const std::vector<Payload>& payloads);

std::string exchange_name(iana::ExchangeType type);  // "IKE_AUTH", or "EXCHANGE(43)"
std::string payload_name(PayloadType type);          // "SA", "No", "SKF", or "PAYLOAD(99)"
std::string notify_name(iana::NotifyType type);      // "NATD_S_IP", or "N(40000)"-style "40000"

}  // namespace natgate::ike
