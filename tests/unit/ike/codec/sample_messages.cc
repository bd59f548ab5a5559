#include "sample_messages.h"

#include <cstdint>

namespace natgate::ike::testing {
namespace {

Bytes filler(std::size_t n, std::uint8_t seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i * 7);
  return b;
}

IkeHeader header(iana::ExchangeType ex, std::uint32_t mid, bool with_spi_r) {
  IkeHeader h;
  h.spi_i = IkeSpi::from_u64(0x0123456789abcdefULL);
  if (with_spi_r) h.spi_r = IkeSpi::from_u64(0xfedcba9876543210ULL);
  h.exchange = ex;
  h.message_id = MessageId{mid};
  h.set_initiator(true);
  return h;
}

SecurityAssociation ike_proposals() {
  using namespace iana;
  Proposal p1{1,
              ProtocolId::Ike,
              {},
              {Transform::make(EncrId::AesCbc, 256), Transform::make(IntegId::HmacSha2_256_128),
               Transform::make(PrfId::HmacSha2_256), Transform::make(DhGroup::Ecp256)}};
  Proposal p2{2,
              ProtocolId::Ike,
              {},
              {Transform::make(EncrId::AesGcm16, 128), Transform::make(PrfId::HmacSha2_384),
               Transform::make(DhGroup::Curve25519)}};
  return {{p1, p2}};
}

TrafficSelector ts(const char* from, const char* to, std::uint8_t proto, std::uint16_t p0, std::uint16_t p1) {
  return {*IpAddress::parse(from), *IpAddress::parse(to), proto, p0, p1};
}

}  // namespace

Message ike_sa_init_request() {
  using iana::NotifyType;
  Message m{header(iana::ExchangeType::IkeSaInit, 0, false), {}};
  m.payloads.push_back(ike_proposals());
  m.payloads.push_back(KeyExchange{iana::DhGroup::Ecp256, filler(64, 0x11)});
  m.payloads.push_back(Nonce{filler(32, 0x22)});
  m.payloads.push_back(Notify::make(NotifyType::NatDetectionSourceIp, filler(20, 0x33)));
  m.payloads.push_back(Notify::make(NotifyType::NatDetectionDestinationIp, filler(20, 0x44)));
  m.payloads.push_back(Notify::make(NotifyType::Ikev2FragmentationSupported));
  m.payloads.push_back(Notify::make(NotifyType::SignatureHashAlgorithms, {0, 2, 0, 3, 0, 4, 0, 5}));
  m.payloads.push_back(VendorId{filler(16, 0x55)});
  return m;
}

std::vector<Payload> ike_auth_inner_payloads() {
  using namespace iana;
  std::vector<Payload> p;
  p.push_back(IdInitiator{IdType::Fqdn, Bytes{'m', 'o', 'o', 'n'}});
  p.push_back(Certificate{CertEncoding::X509Signature, filler(300, 0x66)});
  p.push_back(CertificateRequest{CertEncoding::X509Signature, filler(40, 0x77)});
  p.push_back(Notify::make(NotifyType::InitialContact));
  p.push_back(IdResponder{IdType::Ipv4Addr, Bytes{192, 0, 2, 1}});
  p.push_back(Authentication{AuthMethod::SharedKeyMic, filler(32, 0x88)});
  p.push_back(Configuration{CfgType::Request,
                            {{CfgAttribute::InternalIp4Address, {}},
                             {CfgAttribute::InternalIp4Dns, {}},
                             {CfgAttribute::InternalIp6Address, filler(17, 0x99)}}});
  Proposal esp{1,
               ProtocolId::Esp,
               Bytes{0xc1, 0xc2, 0xc3, 0xc4},
               {Transform::make(EncrId::AesGcm16, 256), Transform::make(EsnId::NoEsn)}};
  esp.transforms[0].attributes.push_back({0x1234, Bytes{1, 2, 3}});  // a TLV attribute, kept opaque
  p.push_back(SecurityAssociation{{esp}});
  p.push_back(
      TsInitiator{{ts("10.1.0.0", "10.1.0.255", 0, 0, 65535), ts("fd00::", "fd00::ffff", 6, 22, 22)}});
  p.push_back(TsResponder{{ts("10.2.0.0", "10.2.255.255", 17, 500, 4500)}});
  p.push_back(Notify{ProtocolId::Esp, Bytes{0xc1, 0xc2, 0xc3, 0xc4}, NotifyType::RekeySa, {}});
  p.push_back(Eap{2, 7, 1, Bytes{'c', 'a', 'r', 'o', 'l'}});
  p.push_back(Eap{3, 8, std::nullopt, {}});
  p.push_back(Delete::child_sas(ProtocolId::Esp, {Bytes{1, 2, 3, 4}, Bytes{5, 6, 7, 8}}));
  p.push_back(Delete::ike_sa());
  return p;
}

Message ike_auth_request_encrypted() {
  Message m{header(iana::ExchangeType::IkeAuth, 1, true), {}};
  m.payloads.push_back(Encrypted{PayloadType::IdInitiator, filler(16 + 96 + 16, 0xa0)});
  return m;
}

Message ike_auth_fragment(std::uint16_t number, std::uint16_t total) {
  Message m{header(iana::ExchangeType::IkeAuth, 1, true), {}};
  m.payloads.push_back(EncryptedFragment{number, total,
                                         number == 1 ? PayloadType::IdInitiator : PayloadType::None,
                                         filler(16 + 48 + 16, static_cast<std::uint8_t>(number))});
  return m;
}

Message every_payload_type() {
  Message m = ike_sa_init_request();
  m.header.exchange = iana::ExchangeType::Informational;
  m.header.message_id = MessageId{7};
  m.header.set_response(true);
  for (auto& p : ike_auth_inner_payloads()) m.payloads.push_back(std::move(p));
  m.payloads.push_back(UnknownPayload{200, false, filler(5, 0xbb)});
  m.payloads.push_back(IdPeer{iana::IdType::Fqdn, filler(6, 0x61)});  // Mediation Extension ID_PEER
  m.payloads.push_back(Encrypted{PayloadType::Nonce, filler(40, 0xcc)});
  return m;
}

std::vector<Message> all_samples() {
  return {ike_sa_init_request(), ike_auth_request_encrypted(), ike_auth_fragment(1, 3),
          ike_auth_fragment(3, 3), every_payload_type()};
}

}  // namespace natgate::ike::testing
