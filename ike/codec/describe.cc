#include "ike/codec/describe.h"

#include <string>

#include "ike/codec/mediation_payloads.h"
#include "ike/codec/redirect_payloads.h"

namespace natgate::ike {
namespace {

using iana::NotifyType;

const char* known_notify_name(NotifyType t) {
  // Short forms as strongSwan logs them, so logs from both sides of an interop test line up.
  switch (t) {
    case NotifyType::UnsupportedCriticalPayload:
      return "UNSUPPORTED_CRITICAL_PAYLOAD";
    case NotifyType::InvalidIkeSpi:
      return "INVALID_IKE_SPI";
    case NotifyType::InvalidMajorVersion:
      return "INVALID_MAJOR_VERSION";
    case NotifyType::InvalidSyntax:
      return "INVALID_SYNTAX";
    case NotifyType::InvalidMessageId:
      return "INVALID_MESSAGE_ID";
    case NotifyType::InvalidSpi:
      return "INVALID_SPI";
    case NotifyType::NoProposalChosen:
      return "NO_PROP";
    case NotifyType::InvalidKePayload:
      return "INVAL_KE";
    case NotifyType::AuthenticationFailed:
      return "AUTH_FAILED";
    case NotifyType::SinglePairRequired:
      return "SINGLE_PAIR";
    case NotifyType::NoAdditionalSas:
      return "NO_ADD_SAS";
    case NotifyType::InternalAddressFailure:
      return "INT_ADDR_FAIL";
    case NotifyType::FailedCpRequired:
      return "FAIL_CP_REQ";
    case NotifyType::TsUnacceptable:
      return "TS_UNACCEPT";
    case NotifyType::InvalidSelectors:
      return "INVAL_SEL";
    case NotifyType::TemporaryFailure:
      return "TEMP_FAIL";
    case NotifyType::ChildSaNotFound:
      return "NO_CHILD_SA";
    case NotifyType::InitialContact:
      return "INIT_CONTACT";
    case NotifyType::SetWindowSize:
      return "SET_WINSIZE";
    case NotifyType::AdditionalTsPossible:
      return "ADD_TS_POSS";
    case NotifyType::IpcompSupported:
      return "IPCOMP_SUP";
    case NotifyType::NatDetectionSourceIp:
      return "NATD_S_IP";
    case NotifyType::NatDetectionDestinationIp:
      return "NATD_D_IP";
    case NotifyType::Cookie:
      return "COOKIE";
    case NotifyType::UseTransportMode:
      return "USE_TRANSP";
    case NotifyType::HttpCertLookupSupported:
      return "HTTP_CERT_LOOK";
    case NotifyType::RekeySa:
      return "REKEY_SA";
    case NotifyType::EspTfcPaddingNotSupported:
      return "ESP_TFC_PAD_N";
    case NotifyType::NonFirstFragmentsAlso:
      return "NON_FIRST_FRAG";
    case NotifyType::MobikeSupported:
      return "MOBIKE_SUP";
    case NotifyType::AdditionalIp4Address:
      return "ADD_4_ADDR";
    case NotifyType::AdditionalIp6Address:
      return "ADD_6_ADDR";
    case NotifyType::NoAdditionalAddresses:
      return "NO_ADD_ADDR";
    case NotifyType::UpdateSaAddresses:
      return "UPD_SA_ADDR";
    case NotifyType::Cookie2:
      return "COOKIE2";
    case NotifyType::NoNatsAllowed:
      return "NO_NATS";
    case NotifyType::MultipleAuthSupported:
      return "MULT_AUTH";
    case NotifyType::AnotherAuthFollows:
      return "AUTH_FOLLOWS";
    case NotifyType::EapOnlyAuthentication:
      return "EAP_ONLY";
    case NotifyType::Ikev2FragmentationSupported:
      return "FRAG_SUP";
    case NotifyType::SignatureHashAlgorithms:
      return "HASH_ALG";
  }
  return nullptr;
}

std::string one_payload(const Payload& p) {
  if (const auto* n = std::get_if<Notify>(&p)) return "N(" + notify_name(n->type) + ")";
  if (const auto* f = std::get_if<EncryptedFragment>(&p))
    return "SKF(" + std::to_string(f->fragment_number) + "/" + std::to_string(f->total_fragments) + ")";
  if (const auto* cp = std::get_if<Configuration>(&p)) {
    static const char* const kinds[] = {"?", "RQ", "RP", "S", "A"};
    auto k = static_cast<unsigned>(cp->type);
    return std::string("CP") + (k <= 4 ? kinds[k] : "?");  // CPRQ, CPRP, CPS, CPA as strongSwan logs
  }
  if (const auto* eap = std::get_if<Eap>(&p))
    return "EAP/" + std::string(eap->code == 1   ? "REQ"
                                : eap->code == 2 ? "RES"
                                : eap->code == 3 ? "SUCC"
                                : eap->code == 4 ? "FAIL"
                                                 : "CODE" + std::to_string(eap->code));
  return payload_name(payload_type(p));
}

}  // namespace

std::string exchange_name(iana::ExchangeType type) {
  if (type == kMeConnect) return "ME_CONNECT";
  switch (type) {
    case iana::ExchangeType::IkeSaInit:
      return "IKE_SA_INIT";
    case iana::ExchangeType::IkeAuth:
      return "IKE_AUTH";
    case iana::ExchangeType::CreateChildSa:
      return "CREATE_CHILD_SA";
    case iana::ExchangeType::Informational:
      return "INFORMATIONAL";
  }
  return "EXCHANGE(" + std::to_string(static_cast<unsigned>(type)) + ")";
}

std::string payload_name(PayloadType type) {
  if (type == kIdPeer) return "IDp";
  switch (type) {
    case PayloadType::None:
      return "NONE";
    case PayloadType::SecurityAssociation:
      return "SA";
    case PayloadType::KeyExchange:
      return "KE";
    case PayloadType::IdInitiator:
      return "IDi";
    case PayloadType::IdResponder:
      return "IDr";
    case PayloadType::Certificate:
      return "CERT";
    case PayloadType::CertificateRequest:
      return "CERTREQ";
    case PayloadType::Authentication:
      return "AUTH";
    case PayloadType::Nonce:
      return "No";
    case PayloadType::Notify:
      return "N";
    case PayloadType::Delete:
      return "D";
    case PayloadType::VendorId:
      return "V";
    case PayloadType::TsInitiator:
      return "TSi";
    case PayloadType::TsResponder:
      return "TSr";
    case PayloadType::Encrypted:
      return "SK";
    case PayloadType::Configuration:
      return "CP";
    case PayloadType::Eap:
      return "EAP";
    case PayloadType::EncryptedFragment:
      return "SKF";
  }
  return "PAYLOAD(" + std::to_string(static_cast<unsigned>(type)) + ")";
}

std::string notify_name(iana::NotifyType type) {
  if (const char* n = known_notify_name(type)) return n;
  if (const char* n = mediation_notify_name(type)) return n;
  if (const char* n = redirect_notify_name(type)) return n;
  return std::to_string(static_cast<unsigned>(type));
}

std::string describe(const std::vector<Payload>& payloads) {
  std::string s = "[";
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    if (i) s += ' ';
    s += one_payload(payloads[i]);
  }
  return s + "]";
}

std::string describe(const Message& m) {
  std::string s = exchange_name(m.header.exchange);
  s += m.header.response() ? " response #" : " request #";
  s += std::to_string(m.header.message_id.value);
  s += ' ';
  return s + describe(m.payloads);
}

}  // namespace natgate::ike
