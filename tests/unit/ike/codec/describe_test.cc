#include "ike/codec/describe.h"

#include <gtest/gtest.h>

#include "sample_messages.h"

namespace natgate::ike {
namespace {

TEST(Describe, SummarisesLikeStrongSwanLogs) {
  EXPECT_EQ(describe(testing::ike_sa_init_request()),
            "IKE_SA_INIT request #0 [SA KE No N(NATD_S_IP) N(NATD_D_IP) N(FRAG_SUP) N(HASH_ALG) V]");
  EXPECT_EQ(describe(testing::ike_auth_request_encrypted()), "IKE_AUTH request #1 [SK]");
  EXPECT_EQ(describe(testing::ike_auth_fragment(2, 3)), "IKE_AUTH request #1 [SKF(2/3)]");
}

TEST(Describe, InnerPayloadsAndResponses) {
  EXPECT_EQ(describe(testing::ike_auth_inner_payloads()),
            "[IDi CERT CERTREQ N(INIT_CONTACT) IDr AUTH CPRQ SA TSi TSr N(REKEY_SA) EAP/RES EAP/SUCC D D]");
  Message m;
  m.header.exchange = iana::ExchangeType::Informational;
  m.header.set_response(true);
  m.header.message_id = MessageId{12};
  m.payloads.push_back(Notify::make(static_cast<iana::NotifyType>(40000)));
  m.payloads.push_back(UnknownPayload{99, false, {}});
  EXPECT_EQ(describe(m), "INFORMATIONAL response #12 [N(40000) PAYLOAD(99)]");
  m.header.exchange = static_cast<iana::ExchangeType>(43);
  EXPECT_EQ(exchange_name(m.header.exchange), "EXCHANGE(43)");
}

}  // namespace
}  // namespace natgate::ike
