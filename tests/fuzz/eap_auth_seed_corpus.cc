// Writes the seed corpus for eap_auth_fuzz (layout in eap_auth_fuzz_world.h): whole EAP-MSCHAPv2
// conversations against the fuzzer's own server and client (right password, wrong password, unknown
// and domain users), EAP-TLS handshakes between the fuzzer's server and peer at both fragment sizes,
// the fixed PKI's CERT and CERTREQ payloads, AUTH payloads of every signature scheme and of the
// shared-key method, SIGNATURE_HASH_ALGORITHMS, CFG_REQUEST/CFG_REPLY and identities of each type.
// Usage: eap_auth_seed_corpus <dir>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "eap_auth_fuzz_world.h"
#include "ike/auth/cert_payloads.h"
#include "ike/auth/mschapv2.h"
#include "ike/auth/shared_key_auth.h"
#include "ike/auth/signature_auth.h"
#include "ike/auth/signature_scheme.h"
#include "ike/exchange/config_payload.h"
#include "seed_files.h"

using namespace natgate;
using namespace natgate::ike;
using namespace natgate::ike::fuzzing;

namespace {

// Client replies to the fuzzer's MSCHAPv2 server, from a client with these credentials.
std::vector<Bytes> replies_to_server(const std::string& user, const std::string& password,
                                     bool ask_identity) {
  auto server_random = mschap_server_random();
  EapMschapv2Server server = mschap_server(server_random, ask_identity);
  crypto::DeterministicRandom client_random(99);
  auto client = EapMschapv2Client::create(user, password, client_random);
  std::vector<Bytes> out;
  std::optional<Eap> request = server.start();
  for (int round = 0; request && client && round < 10; ++round) {
    auto reply = client->process(*request).reply;
    if (!reply) break;
    out.push_back(body_of(*reply));
    request = server.process(*reply).reply;
  }
  return out;
}

// Server requests to the fuzzer's MSCHAPv2 client, from a server knowing `password` for alice.
std::vector<Bytes> requests_to_client(const std::string& password) {
  crypto::DeterministicRandom server_random(98);
  const SecretBytes hash = mschapv2::nt_password_hash(password).value();
  EapMschapv2Server server([&](std::string_view) -> std::optional<SecretBytes> { return hash; },
                           server_random);
  auto client_random = mschap_client_random();
  auto client = mschap_client(client_random);
  std::vector<Bytes> out;
  std::optional<Eap> request = server.start();
  for (int round = 0; request && client && round < 10; ++round) {
    out.push_back(body_of(*request));
    auto reply = client->process(*request).reply;
    if (!reply) break;
    request = server.process(*reply).reply;
  }
  return out;
}

// An EAP-TLS handshake between the fuzzer's server and peer: what each of them received.
void tls_handshake(std::size_t fragment_size, std::vector<Bytes>& to_server, std::vector<Bytes>& to_peer) {
  auto server = tls_server(fragment_size);
  auto peer = tls_peer(fragment_size);
  std::optional<Eap> request = server->start();
  for (int round = 0; request && round < 40; ++round) {
    to_peer.push_back(body_of(*request));
    auto reply = peer->process(*request).reply;
    if (!reply) break;
    to_server.push_back(body_of(*reply));
    request = server->process(*reply).reply;
  }
}

Bytes cert_body(const X509Certificate& c) {
  return body_of(Certificate{iana::CertEncoding::X509Signature, c.der()});
}

Bytes id_body(iana::IdType type, ByteView data) {
  return body_of(IdInitiator{type, Bytes(data.begin(), data.end())});
}

}  // namespace

int main(int argc, char** argv) {
  const auto dir = natgate::fuzz_seeds::seed_corpus_dir(argc, argv);
  if (!dir) return 2;
  std::vector<Bytes> seeds;
  const Credentials& c = Credentials::get();

  // EAP packets: every MSCHAPv2 message of a conversation, both ways.
  {
    std::vector<Bytes> all = replies_to_server(kClientIdentity, kClientPassword, true);
    for (Bytes& b : requests_to_client(kClientPassword)) all.push_back(std::move(b));
    seeds.push_back(input_of(kEapPacket, all));
  }
  // MSCHAPv2 server: success, wrong password, unknown user, domain user, without EAP-Identity.
  seeds.push_back(input_of(kMschapServer, replies_to_server(kClientIdentity, kClientPassword, true)));
  seeds.push_back(input_of(kMschapServer, replies_to_server(kClientIdentity, "wrong", true)));
  seeds.push_back(input_of(kMschapServer, replies_to_server("mallory", "x", true)));
  seeds.push_back(input_of(kMschapServer, replies_to_server("DOMAIN\\bob", "bob-password", true)));
  seeds.push_back(
      input_of(kMschapServer | kVariant, replies_to_server(kClientIdentity, kClientPassword, false)));
  // MSCHAPv2 client: a server that knows the password, and one that does not.
  seeds.push_back(input_of(kMschapClient, requests_to_client(kClientPassword)));
  seeds.push_back(input_of(kMschapClient, requests_to_client("other")));
  // EAP-TLS at both fragment sizes.
  for (std::size_t fragment : {std::size_t{1024}, std::size_t{100}}) {
    std::vector<Bytes> to_server, to_peer;
    tls_handshake(fragment, to_server, to_peer);
    const std::uint8_t variant = fragment == 100 ? kVariant : 0;
    seeds.push_back(input_of(kTlsServer | variant, to_server));
    seeds.push_back(input_of(kTlsPeer | variant, to_peer));
  }
  // CERT: the gateway's chain, carol's, the root alone, an unknown encoding first.
  seeds.push_back(input_of(kCert, {cert_body(c.gateway), cert_body(c.inter)}));
  seeds.push_back(input_of(kCert, {cert_body(c.carol), cert_body(c.inter), cert_body(c.root)}));
  seeds.push_back(input_of(kCert, {cert_body(c.root)}));
  seeds.push_back(input_of(kCert, {body_of(Certificate{static_cast<iana::CertEncoding>(12), Bytes(30, 1)}),
                                   cert_body(c.gateway)}));
  // CERTREQ: for our root, for the intermediate, for both, and of another encoding.
  seeds.push_back(input_of(kCertReq, {body_of(make_certificate_request(*c.trust))}));
  {
    const std::vector<X509Certificate> cas = {c.inter, c.root};
    seeds.push_back(input_of(kCertReq, {body_of(make_certificate_request(cas))}));
    seeds.push_back(
        input_of(kCertReq, {body_of(make_certificate_request(std::span(cas).first(1))),
                            body_of(CertificateRequest{static_cast<iana::CertEncoding>(12), Bytes(7, 2)})}));
  }
  // AUTH: each method-14 scheme with the key it needs, the classic methods, shared key.
  {
    std::vector<Bytes> auths;
    const ByteView octets = signed_octets();
    for (auto s :
         {SignatureScheme::RsaPkcs1Sha256, SignatureScheme::RsaPkcs1Sha384, SignatureScheme::RsaPkcs1Sha512,
          SignatureScheme::RsaPssSha256, SignatureScheme::RsaPssSha384, SignatureScheme::RsaPssSha512})
      if (auto a = sign_auth(c.rsa_key, s, octets)) auths.push_back(body_of(*a));
    for (auto s : {SignatureScheme::EcdsaSha256, SignatureScheme::EcdsaSha384, SignatureScheme::EcdsaSha512})
      if (auto a = sign_auth(c.leaf_key, s, octets)) auths.push_back(body_of(*a));
    if (auto a = sign_auth(c.ed25519_key, SignatureScheme::Ed25519, octets)) auths.push_back(body_of(*a));
    for (const PrivateKey* k : {&c.rsa_key, &c.leaf_key})
      if (auto a = sign_classic_auth(*k, octets)) auths.push_back(body_of(*a));
    if (auto mic = shared_key_auth(iana::PrfId::HmacSha2_256, as_bytes(std::string_view("fuzz psk")), octets))
      auths.push_back(body_of(Authentication{iana::AuthMethod::SharedKeyMic, *mic}));
    for (const Bytes& a : auths) seeds.push_back(input_of(kAuth, {a}));
  }
  // SIGNATURE_HASH_ALGORITHMS: ours, SHA-1 only, an unknown value with SHA2-384.
  seeds.push_back(input_of(kHashNotify, {body_of(signature_hash_algorithms_notify())}));
  {
    const std::vector<iana::HashAlgorithm> sha1 = {iana::HashAlgorithm::Sha1};
    const std::vector<iana::HashAlgorithm> odd = {static_cast<iana::HashAlgorithm>(77),
                                                  iana::HashAlgorithm::Sha2_384};
    seeds.push_back(input_of(kHashNotify, {body_of(signature_hash_algorithms_notify(sha1)),
                                           body_of(signature_hash_algorithms_notify(odd))}));
  }
  // Configuration payloads: a road warrior's request and a gateway's reply.
  {
    const Configuration request =
        make_cfg_request({IpAddress::any(IpFamily::V4), IpAddress::any(IpFamily::V6)});
    VirtualIpAttributes attrs;
    attrs.addresses = {*IpAddress::parse("10.10.0.5"), *IpAddress::parse("fd00:10::5")};
    attrs.dns = {*IpAddress::parse("10.10.0.1"), *IpAddress::parse("fd00:10::1")};
    attrs.subnets = {*Subnet::parse("10.1.0.0/16"), *Subnet::parse("fd00:1::/48")};
    seeds.push_back(input_of(kConfig, {body_of(request), body_of(make_cfg_reply(attrs))}));
  }
  // Identities of every type.
  {
    std::vector<Bytes> ids = {
        id_body(iana::IdType::Fqdn, as_bytes(std::string_view("gw.example.net"))),
        id_body(iana::IdType::Rfc822Addr, as_bytes(std::string_view("carol@example.net"))),
        id_body(iana::IdType::Ipv4Addr, Bytes{192, 0, 2, 1}),
        id_body(iana::IdType::Ipv6Addr, IpAddress::parse("2001:db8::1")->bytes()),
        id_body(iana::IdType::DerAsn1Dn, c.gateway.subject_der()),
        id_body(iana::IdType::KeyId, Bytes{1, 2, 3, 4})};
    seeds.push_back(input_of(kId, ids));
  }

  return natgate::fuzz_seeds::write_seed_files(*dir, seeds, "bin");
}
