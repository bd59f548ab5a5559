// The certificate pieces wired together as IKE_AUTH uses them (RFC 7296 §1.2, §2.15, §3.6-§3.8,
// RFC 7427 §4): the initiator's CERTREQ picks the responder's credential and chain, the responder
// signs its AUTH octets with RFC 7427, and the initiator checks chain, identity and signature from
// payloads that went through the codec.
#include <gtest/gtest.h>

#include "ike/auth/auth_octets.h"
#include "ike/auth/cert_payloads.h"
#include "ike/auth/identity_match.h"
#include "ike/auth/signature_auth.h"
#include "ike/codec/message_codec.h"
#include "pki_fixture.h"

namespace natgate::ike {
namespace {

using testing::day;
using testing::pki;

struct ResponderSide {
  std::vector<Payload> payloads;  // IDr, CERT..., AUTH as sent
  Bytes signed_octets;
};

const Bytes kRealMessage2 = Bytes(300, 0x42);  // stands in for the IKE_SA_INIT response
const Bytes kNonceI = Bytes(32, 0x17);
const SecretBytes kSkPr(Bytes(32, 0x5c));

ResponderSide responder_builds(const std::vector<Payload>& request_payloads, const std::string& fqdn) {
  // Which CAs the initiator trusts, and which of our credentials chains to one of them.
  auto requested = requested_ca_hashes(find_all<CertificateRequest>(request_payloads));
  EXPECT_TRUE(requested);
  auto other_key = PrivateKey::generate_ec(EcCurve::P256).value();
  auto other_root = testing::issue({"CN=Unrelated Root", 77, day(2024, 1, 1), day(2040, 1, 1), true, ""},
                                   other_key, nullptr, other_key);
  const std::vector<CertificateChain> creds{{other_root, {}}, {pki().gateway, {pki().inter, pki().root}}};
  const auto chosen = choose_credential(creds, *requested);
  EXPECT_EQ(chosen, std::optional<std::size_t>(1));

  ResponderSide out;
  const IdResponder idr{iana::IdType::Fqdn, Bytes(fqdn.begin(), fqdn.end())};
  out.payloads.push_back(idr);
  for (auto& c : certificates_to_send(creds[chosen.value_or(1)], *requested))
    out.payloads.push_back(std::move(c));
  out.signed_octets =
      auth_signed_octets(kRealMessage2, kNonceI, iana::PrfId::HmacSha2_256, kSkPr, idr).value();
  // The initiator announced its hashes in IKE_SA_INIT (RFC 7427 §4).
  const auto hashes = parse_signature_hash_algorithms(signature_hash_algorithms_notify().data).value();
  const auto scheme = choose_signature_scheme(pki().leaf_key.type(), pki().leaf_key.bits(), hashes).value();
  out.payloads.push_back(sign_auth(pki().leaf_key, scheme, out.signed_octets).value());
  return out;
}

// What the initiator does with the response; the first error, or ok.
Status initiator_checks(const std::vector<Payload>& response, const TrustStore& store,
                        std::chrono::system_clock::time_point now, const std::string& expected_fqdn) {
  // Through the codec, as it would arrive inside SK.
  const PayloadChain chain = encode_payload_chain(response);
  auto decoded = decode_payload_chain(chain.first_type, chain.bytes);
  if (!decoded) return unexpected(decoded.error().to_string());
  const IdResponder* idr = find<IdResponder>(*decoded);
  const Authentication* auth = find<Authentication>(*decoded);
  if (idr == nullptr || auth == nullptr) return unexpected(std::string("IDr or AUTH missing"));
  if (std::string(idr->data.begin(), idr->data.end()) != expected_fqdn)
    return unexpected("peer claims " + describe_identity(idr->type, idr->data));

  auto certs = peer_certificates(find_all<Certificate>(*decoded));
  if (!certs) return unexpected(certs.error());
  auto path = store.verify(certs->end_entity, certs->intermediates, now);
  if (!path) return unexpected(path.error());
  if (auto st = match_identity(certs->end_entity, *idr); !st) return st;
  auto octets = auth_signed_octets(kRealMessage2, kNonceI, iana::PrfId::HmacSha2_256, kSkPr, *idr);
  if (!octets) return unexpected(octets.error());
  return verify_auth(*auth, certs->end_entity.public_key().value(), *octets);
}

TEST(CertificateAuthFlow, ResponderAuthenticatesWithItsChain) {
  TrustStore store;
  ASSERT_TRUE(store.add_ca(pki().root));
  const std::vector<Payload> request{make_certificate_request(store)};
  const ResponderSide r = responder_builds(request, "gw.example.net");
  // IDr, the gateway certificate, the intermediate (the root is what the initiator asked for), AUTH.
  ASSERT_EQ(find_all<Certificate>(r.payloads).size(), 2u);
  EXPECT_EQ(find<Authentication>(r.payloads)->method, iana::AuthMethod::DigitalSignature);
  const Status ok = initiator_checks(r.payloads, store, day(2025, 6, 1), "gw.example.net");
  EXPECT_TRUE(ok) << ok.error();
}

TEST(CertificateAuthFlow, EachCheckCatchesItsProblem) {
  TrustStore store;
  ASSERT_TRUE(store.add_ca(pki().root));
  const std::vector<Payload> request{make_certificate_request(store)};

  // An identity the certificate does not carry.
  const ResponderSide wrong_id = responder_builds(request, "mail.example.net");
  auto st = initiator_checks(wrong_id.payloads, store, day(2025, 6, 1), "mail.example.net");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().find("no SAN matches ID fqdn:mail.example.net"), std::string::npos) << st.error();

  // The certificate has expired by then.
  const ResponderSide r = responder_builds(request, "gw.example.net");
  st = initiator_checks(r.payloads, store, day(2031, 1, 1), "gw.example.net");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error(), "certificate for C=CH, O=natgate, CN=gw.example.net expired 2030-01-01");

  // The AUTH payload from another exchange (here: signed over other octets) does not verify.
  std::vector<Payload> replayed = r.payloads;
  for (auto& p : replayed)
    if (auto* a = std::get_if<Authentication>(&p))
      *a = sign_auth(pki().leaf_key, SignatureScheme::EcdsaSha256, Bytes(10, 1)).value();
  st = initiator_checks(replayed, store, day(2025, 6, 1), "gw.example.net");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().find("does not verify"), std::string::npos);

  // Without the intermediate, a store that has only the root cannot build the path.
  std::vector<Payload> leaf_only;
  bool first_cert = true;
  for (const auto& p : r.payloads) {
    if (std::holds_alternative<Certificate>(p) && !first_cert) continue;
    if (std::holds_alternative<Certificate>(p)) first_cert = false;
    leaf_only.push_back(p);
  }
  st = initiator_checks(leaf_only, store, day(2025, 6, 1), "gw.example.net");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().find("is not trusted"), std::string::npos);
}

}  // namespace
}  // namespace natgate::ike
