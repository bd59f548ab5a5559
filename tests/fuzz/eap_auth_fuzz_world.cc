#include "eap_auth_fuzz_world.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "ike/auth/cert_payloads.h"
#include "ike/auth/eap_packets.h"
#include "ike/auth/identity_match.h"
#include "ike/auth/mschapv2.h"
#include "ike/auth/shared_key_auth.h"
#include "ike/auth/signature_auth.h"
#include "ike/auth/signature_scheme.h"
#include "ike/codec/message_codec.h"
#include "ike/exchange/config_payload.h"
#include "ike/exchange/identity.h"
#include "test_pki.h"

namespace natgate::ike::fuzzing {

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "eap_auth_fuzz: %s\n", what);
  std::abort();
}

void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

// EAP_AUTH_FUZZ_VERBOSE=1: how far an input got, to check that seeds reach what they aim at.
void note(const std::string& what) {
  static const bool verbose = std::getenv("EAP_AUTH_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "eap_auth_fuzz: %s\n", what.c_str());
}

// Test-only keys, generated once with `openssl genpkey` for this fuzz target and used nowhere
// else: fixed so that certificate key hashes (CERTREQ) are the same in the generator and the fuzzer.
constexpr const char* kRootKey = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgwXL3yEyLdi8KON4+
33RyBtc9etr9ZlvvyvjY/dgdjm6hRANCAATmaP92AhEmVyN7apLf4uQV7jaPvyQc
pUoAcHK4s4iL1LYvhaJcNNGT8/5PyqzomlejQSwBcnEdH//gy5G5iM/c
-----END PRIVATE KEY-----
)";
constexpr const char* kInterKey = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgg3BrjUK6MGLWMY+w
2OA67YYBE0dlG0ZGp89T60PUyf+hRANCAAR48S5/c6dK6JwCYBZ+xQcJ3st0GJ5x
aRUy8vl8iG9weZXHzygkXLUGGgmK52ZXPwfdvera1w2hGNQXi+rVV7jD
-----END PRIVATE KEY-----
)";
constexpr const char* kLeafKey = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgyxQY2QP8BHUNNZry
w2jqgNEcWIrCCeAk4v3la7CqkW+hRANCAARD5E1E0dKNeuRqc03bvRU1eAp2caxK
UkIbKYLVKxe98ohDY31i847sP4hjUzbA2VLw5OXarom0HfuZuHoFAjF+
-----END PRIVATE KEY-----
)";
constexpr const char* kRsaKey = R"(-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQC1gQbQO9St6rvk
syR1EaCCm3WOnAswqcxKYGPMs6z9XfJawa7zo0aXbQUiKZGgIa4FvqZ0SLKF5tRi
8dKy1bHQUMa+HA4/avDmlz/0OWQxacWko3RtvMlbAxXVMWMFKMXxrj5GiudnZKcI
EK+vWR9UhrCsCKduLnIW8lJoD/YmcCrYcfrSn99/P/kwvf0jGsdMmJtltJ9IqFXs
u7g+eHAEKqLwIjTl0RVr+N/VAH/ffIzvqfvLwtdXu8BbPClyGcYnI3CR0wwCIPdv
pKpg7Wi7jzMsecYo23v7XUHlyH5WWiI4jqegHwCgwp6HNj0bbDEMiUMkki4RpTL9
uqBT3sbnAgMBAAECggEAB7IpsqD5fXRYtN5JsJ2842d/E7sXGGBNarvtOgvw96nz
nEMzzV3Xdj/npKau544gswVTSSv0nIvd5ozKungoJXqUqrvwI2KVRgRqGvYSAwGx
S9qoavzDFupUaH6YbGq/AJE6+m0VBG52ofdp051g9Ym5Klo66zI/S9dzhLkPNAWh
YfSaxFSBj+/23W9Gh4XQ5vBzjkSK26N0YhXq8441qBtNPpDOalm6S0g6+CT5H0em
3q3voTg1R83+bQIM+YSQx7c0ZwNqbx2wCtizN5muNknQosXfbCbjowvzcqTzmzfl
2bAsy6R+Q5DrdqN/lDeUq3TH3hlZEvFKDm3JCXREGQKBgQD6WZuZ4AIR1XgBrsgE
W6z8yjxJqDxrflcVqy1cclD+/Ng+6IMJpExFzgWhSOv7ebb/sxcUKooKqgfE3r6i
Mw9c6A++5HAo0YQpw8d+X0ZweOxsnXbAm2qzZUk1k1mo5yKncgxltm+Sv1aJvirD
lf8BiMkzStpXzRUd/yckMIdIHwKBgQC5mamOBKnCQqEfpxrfBJlH7eJM2ke/ksSW
6Um42J9GzmR2AaEDYc+OnzT7qR7DubvVhjMY10SjOJoudkI7a8ta1Wk0tHs2myyw
JGMdo1NeRrex6h9kvv2N/DyhM9tRirc0Xl/hiUPlsvGNXx61caqU/KdL6WPlKlHd
9dqrg6lIOQKBgQCiVXiQTrEI32LxtGP+b3O8d2agXHbRPRs68cR4LahXr5yJLjvK
BL9whCcibiaW6lW/eGF+shbQ03A2ODlk87cCh3euUHJqBXGto0W4rA8A32hvBav7
OMv3h7XxB5sb6sSNz2Y6jhHLFkcHCkiwipLQa+ILYH40cMdArDK1RMJ0AQKBgQCq
KErevT+1rchycI2eMWUmIN38f5KP/Ern4HGKWm+MRuSrm8q2gxH7O9MjdmWSI9Il
bKej+pge3GHefuUx/R2u5UFS5LSh15oc0v9byMVCBaucHX0yrDdh2QLs99H27CoS
hQN6jpIFIQ18AtzwlIlDlm76lbrT+vybdi9IV6j3YQKBgC3tFTxjZwi6gvCdi5M4
mnc/iI6hMDgNPQHReRwEvA7/vKPAQsozb2bRkly0o/aZu416PW/PAbis6ZssJnd8
CGpnK7/N/WS/HwpK3HruVPIGsTjhr3xWhFbXUwSpsbFU10lI85x3R7E7jehPvxtP
QwJT48dW+rTfysaTTCSfTTji
-----END PRIVATE KEY-----
)";
constexpr const char* kEd25519Key = R"(-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEICDC8TXuGgqudwDlXY811xhng8bVq2S7h7mmmEMi/8WS
-----END PRIVATE KEY-----
)";

PrivateKey key(const char* pem) {
  auto k = PrivateKey::from_pem(pem);
  if (!k) fail("a fixed fuzz key does not load");
  return *k;
}

using testing::day;

Credentials make_credentials() {
  const PrivateKey root_key = key(kRootKey), inter_key = key(kInterKey), leaf_key = key(kLeafKey);
  const X509Certificate root =
      testing::issue({"C=CH/O=natgate/CN=Fuzz Root CA", 1, day(2024, 1, 1), day(2040, 1, 1), true, ""},
                     root_key, nullptr, root_key);
  const X509Certificate inter = testing::issue(
      {"C=CH/O=natgate/CN=Fuzz Intermediate CA", 2, day(2024, 1, 1), day(2038, 1, 1), true, ""}, inter_key,
      &root, root_key);
  const X509Certificate gateway =
      testing::issue({"C=CH/O=natgate/CN=gw.example.net", 0x1001, day(2024, 6, 1), day(2030, 1, 1), false,
                      "DNS:gw.example.net,IP:192.0.2.1,IP:2001:db8::1"},
                     leaf_key, &inter, inter_key);
  const X509Certificate carol = testing::issue(
      {"C=CH/O=natgate/CN=carol", 0x2001, day(2024, 6, 1), day(2030, 1, 1), false, "email:carol@example.net"},
      leaf_key, &inter, inter_key);
  auto trust = std::make_shared<TrustStore>();
  if (!trust->add_ca(root)) fail("the fuzz root CA is refused");
  return Credentials{root_key, inter_key, leaf_key, key(kRsaKey), key(kEd25519Key), root,
                     inter,    gateway,   carol,    trust,        day(2025, 6, 1)};
}

// The body as the codec would decode it, if it decodes as a payload of type T.
template <typename T>
std::optional<T> decode_as(ByteView body) {
  if (body.size() + 4 > 0xFFFF) return std::nullopt;
  Bytes chain = {0, 0, static_cast<std::uint8_t>((body.size() + 4) >> 8),
                 static_cast<std::uint8_t>(body.size() + 4)};
  append(chain, body);
  auto payloads = decode_payload_chain(T::kType, chain);
  if (!payloads || payloads->size() != 1) return std::nullopt;
  const T* p = std::get_if<T>(&payloads->front());
  if (!p) return std::nullopt;
  return *p;
}

template <typename T>
std::vector<T> decode_all(const std::vector<ByteView>& bodies) {
  std::vector<T> out;
  for (ByteView b : bodies)
    if (auto p = decode_as<T>(b)) out.push_back(std::move(*p));
  return out;
}

// --- the targets ---

void eap_packets(const std::vector<Eap>& packets) {
  for (const Eap& p : packets) {
    auto m = eap::parse_mschapv2(p);
    if (!m) continue;
    // What parsed encodes to a packet that parses to the same message.
    const Eap again = eap::mschapv2_packet(static_cast<eap::Code>(p.code), p.identifier, *m);
    auto back = eap::parse_mschapv2(again);
    check(back && back->opcode == m->opcode && back->value == m->value && back->text == m->text &&
              (back->ms_id == m->ms_id || again.data.size() == 1),
          "EAP-MSCHAPv2 message does not survive its own encoding");
  }
}

template <typename Machine>
void check_outcome(const Machine& m) {
  if (m.done() && !m.msk().empty()) check(m.msk().size() == mschapv2::kMskSize, "MSK of the wrong size");
  if (!m.done()) check(m.msk().empty(), "an MSK before the method ended");
}

void mschap_server_target(const std::vector<Eap>& packets, bool ask_identity) {
  auto random = mschap_server_random();
  EapMschapv2Server server = mschap_server(random, ask_identity);
  (void)server.start();
  for (const Eap& p : packets) {
    (void)server.process(p);
    check_outcome(server);
    if (server.state() == EapMschapv2Server::State::Succeeded)
      check(server.peer_name() == kClientIdentity || mschapv2::strip_domain(server.peer_name()) == "bob",
            "the MSCHAPv2 server accepted a user it does not know");
  }
  note("MSCHAPv2 server state " + std::to_string(static_cast<int>(server.state())) + " " +
       server.failure_reason());
}

void mschap_client_target(const std::vector<Eap>& packets) {
  auto random = mschap_client_random();
  auto client = mschap_client(random);
  if (!client) fail("cannot create the MSCHAPv2 client");
  for (const Eap& p : packets) {
    (void)client->process(p);
    check_outcome(*client);
  }
  note("MSCHAPv2 client state " + std::to_string(static_cast<int>(client->state())) + " " +
       client->failure_reason());
}

void tls_target(const std::vector<Eap>& packets, bool server, std::size_t fragment_size) {
  std::unique_ptr<EapTls> tls = server ? tls_server(fragment_size) : tls_peer(fragment_size);
  if (server) (void)tls->start();
  for (const Eap& p : packets) {
    const eap::Step step = tls->process(p);
    if (step.reply) check(step.reply->data.size() <= fragment_size + 16, "EAP-TLS sent more than a fragment");
    if (tls->state() == EapTls::State::Succeeded)
      check(tls->msk().size() == 64 && tls->peer_certificate().has_value(),
            "EAP-TLS succeeded without an MSK or the peer's certificate");
  }
  note("EAP-TLS state " + std::to_string(static_cast<int>(tls->state())) + " " + tls->failure_reason());
}

void cert_target(const std::vector<Certificate>& certs) {
  const Credentials& c = Credentials::get();
  std::vector<const Certificate*> ptrs;
  for (const Certificate& cert : certs) ptrs.push_back(&cert);
  auto peer = peer_certificates(ptrs);
  if (!peer) return;
  const X509Certificate& ee = peer->end_entity;
  (void)ee.subject();
  (void)ee.issuer();
  (void)ee.serial_hex();
  (void)format_date(ee.not_before());
  (void)format_date(ee.not_after());
  (void)ee.is_ca();
  (void)ee.is_self_signed();
  (void)ee.dns_names();
  (void)ee.email_addresses();
  for (const Bytes& ip : ee.ip_addresses())
    check(ip.size() == 4 || ip.size() == 16, "SAN iPAddress of odd size");
  if (auto pk = ee.public_key()) (void)pk->describe();
  check(ee.public_key_info_sha1().size() == kCaKeyHashSize, "key hash of the wrong size");
  (void)match_identity(ee, iana::IdType::Fqdn, as_bytes(std::string_view("gw.example.net")));
  (void)match_identity(ee, iana::IdType::Rfc822Addr, as_bytes(std::string_view("carol@example.net")));
  (void)match_identity(ee, iana::IdType::Ipv4Addr, Bytes{192, 0, 2, 1});
  (void)match_identity(ee, iana::IdType::DerAsn1Dn, ee.subject_der());
  for (const X509Certificate& i : peer->intermediates) (void)ee.signed_by(i);
  auto path = c.trust->verify(ee, peer->intermediates, c.now);
  note("certificate " + ee.subject() + (path ? " verifies" : " does not verify: " + path.error()));
  if (path) check(!path->empty() && path->back() == c.root, "a verified path that does not end at our root");
}

void certreq_target(const std::vector<CertificateRequest>& requests) {
  const Credentials& c = Credentials::get();
  std::vector<const CertificateRequest*> ptrs;
  for (const CertificateRequest& r : requests) ptrs.push_back(&r);
  auto hashes = requested_ca_hashes(ptrs);
  if (!hashes) return;
  note("CERTREQ with " + std::to_string(hashes->size()) + " CA hashes");
  for (const Bytes& h : *hashes) check(h.size() == kCaKeyHashSize, "a CA hash of the wrong size");
  const std::vector<CertificateChain> credentials = {{c.gateway, {c.inter, c.root}}, {c.carol, {c.inter}}};
  if (auto chosen = choose_credential(credentials, *hashes))
    check(*chosen < credentials.size(), "no such credential");
  const std::vector<Certificate> sent = certificates_to_send(credentials.front(), *hashes);
  check(!sent.empty() && sent.front().data == c.gateway.der(),
        "our end-entity certificate does not go first");
}

void auth_target(const Authentication& auth) {
  const Credentials& c = Credentials::get();
  for (const PrivateKey* k : {&c.rsa_key, &c.leaf_key, &c.ed25519_key}) {
    if (verify_auth(auth, k->public_key(), signed_octets())) note("AUTH verifies with " + k->describe());
    SignaturePolicy strict;
    strict.accept_classic = false;
    (void)verify_auth(auth, k->public_key(), signed_octets(), strict);
  }
  if (auth.method == iana::AuthMethod::DigitalSignature && !auth.data.empty()) {
    const std::size_t n = std::min<std::size_t>(auth.data[0], auth.data.size() - 1);
    if (auto scheme = scheme_for_algorithm_identifier(ByteView(auth.data.data() + 1, n)))
      check(algorithm_identifier(*scheme).size() == n,
            "a scheme whose AlgorithmIdentifier has another length");
  }
  const SecretBytes msk(Bytes(64, 0x4d)), sk_p(Bytes(32, 0x50));
  for (auto prf : {iana::PrfId::HmacSha2_256, iana::PrfId::HmacSha2_512, iana::PrfId::HmacSha1}) {
    if (verify_shared_key_auth(prf, as_bytes(std::string_view("fuzz psk")), signed_octets(), auth.data))
      note("shared-key AUTH verifies");
    (void)verify_eap_auth(prf, msk, sk_p, signed_octets(), auth.data);
  }
}

void hash_notify_target(const Notify& n) {
  auto hashes = parse_signature_hash_algorithms(n.data);
  if (!hashes) return;
  struct KeyShape {
    KeyType type;
    int bits;
  };
  for (KeyShape k :
       {KeyShape{KeyType::Rsa, 2048}, KeyShape{KeyType::Ecdsa, 256}, KeyShape{KeyType::Ecdsa, 384},
        KeyShape{KeyType::Ecdsa, 521}, KeyShape{KeyType::Ed25519, 256}})
    for (bool pss : {false, true}) {
      auto scheme = choose_signature_scheme(k.type, k.bits, *hashes, pss);
      if (!scheme) continue;
      // RFC 7427 §4: only a hash the peer announced may be used.
      check(std::find(hashes->begin(), hashes->end(), hash_algorithm_of(*scheme)) != hashes->end(),
            "a signature scheme whose hash the peer did not announce");
      check(key_type_for(*scheme) == k.type, "a signature scheme for another key type");
    }
}

void config_target(const std::vector<Configuration>& cps) {
  for (const Configuration& cp : cps) {
    (void)parse_cfg_request(cp);
    unsigned skipped = 0;
    const VirtualIpAttributes got = parse_cfg_reply(cp, &skipped);
    check(skipped <= cp.attributes.size(), "more attributes skipped than sent");
    unsigned again_skipped = 0;
    check(parse_cfg_reply(make_cfg_reply(got), &again_skipped) == got && again_skipped == 0,
          "configuration attributes do not survive their own encoding");
  }
}

void id_target(const std::vector<IdInitiator>& ids) {
  const Credentials& c = Credentials::get();
  for (const IdInitiator& id : ids) {
    (void)Identity{id.type, id.data}.to_string();
    (void)describe_identity(id.type, id.data);
    (void)match_identity(c.gateway, id);
    (void)match_identity(c.carol, id);
  }
}

}  // namespace

const Credentials& Credentials::get() {
  static const Credentials c = make_credentials();
  return c;
}

ByteView signed_octets() {
  static const Bytes octets = [] {
    Bytes b(96);
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(i * 13 + 1);
    return b;
  }();
  return octets;
}

crypto::DeterministicRandom mschap_server_random() { return crypto::DeterministicRandom(7001); }
crypto::DeterministicRandom mschap_client_random() { return crypto::DeterministicRandom(7002); }

EapMschapv2Server mschap_server(crypto::RandomSource& random, bool ask_identity) {
  static const SecretBytes alice = mschapv2::nt_password_hash(kClientPassword).value();
  static const SecretBytes bob = mschapv2::nt_password_hash("bob-password").value();
  auto lookup = [](std::string_view user) -> std::optional<SecretBytes> {
    if (user == kClientIdentity) return alice;
    if (user == "DOMAIN\\bob" || user == "bob") return bob;
    return std::nullopt;
  };
  EapMschapv2Server::Config config;
  config.ask_identity = ask_identity;
  return EapMschapv2Server(lookup, random, config);
}

Expected<EapMschapv2Client> mschap_client(crypto::RandomSource& random) {
  return EapMschapv2Client::create(kClientIdentity, kClientPassword, random);
}

std::unique_ptr<EapTls> tls_server(std::size_t fragment_size) {
  const Credentials& c = Credentials::get();
  auto s = EapTls::create(EapTls::Role::Server,
                          {c.gateway, {c.inter}, c.leaf_key, c.trust, c.now, fragment_size, ""});
  if (!s) fail("cannot create the EAP-TLS server");
  return std::move(*s);
}

std::unique_ptr<EapTls> tls_peer(std::size_t fragment_size) {
  const Credentials& c = Credentials::get();
  auto p = EapTls::create(EapTls::Role::Peer,
                          {c.carol, {c.inter}, c.leaf_key, c.trust, c.now, fragment_size, "carol"});
  if (!p) fail("cannot create the EAP-TLS peer");
  return std::move(*p);
}

Bytes body_of(const Payload& p) {
  const PayloadChain chain = encode_payload_chain({p});
  return Bytes(chain.bytes.begin() + 4, chain.bytes.end());
}

Bytes input_of(std::uint8_t target, const std::vector<Bytes>& bodies) {
  Bytes in{target};
  for (const Bytes& b : bodies) {
    in.push_back(static_cast<std::uint8_t>(b.size() >> 8));
    in.push_back(static_cast<std::uint8_t>(b.size()));
    append(in, b);
  }
  return in;
}

void run(ByteView input) {
  if (input.empty()) return;
  const std::uint8_t t = input[0] & 0x0F;
  const bool variant = (input[0] & kVariant) != 0;
  std::vector<ByteView> bodies;
  std::size_t pos = 1;
  while (pos < input.size() && bodies.size() < kMaxBodies) {
    const std::size_t len = pos + 1 < input.size() ? (std::size_t{input[pos]} << 8 | input[pos + 1]) : 0;
    pos += 2;
    const std::size_t start = std::min(pos, input.size());
    const std::size_t n = std::min(len, input.size() - start);
    bodies.push_back(input.subspan(start, n));
    pos = start + n;
  }
  switch (t) {
    case kEapPacket:
      eap_packets(decode_all<Eap>(bodies));
      break;
    case kMschapServer:
      mschap_server_target(decode_all<Eap>(bodies), !variant);
      break;
    case kMschapClient:
      mschap_client_target(decode_all<Eap>(bodies));
      break;
    case kTlsServer:
    case kTlsPeer:
      tls_target(decode_all<Eap>(bodies), t == kTlsServer, variant ? 100 : 1024);
      break;
    case kCert:
      cert_target(decode_all<Certificate>(bodies));
      break;
    case kCertReq:
      certreq_target(decode_all<CertificateRequest>(bodies));
      break;
    case kAuth:
      for (const Authentication& a : decode_all<Authentication>(bodies)) auth_target(a);
      break;
    case kHashNotify:
      for (const Notify& n : decode_all<Notify>(bodies)) hash_notify_target(n);
      break;
    case kConfig:
      config_target(decode_all<Configuration>(bodies));
      break;
    case kId:
      id_target(decode_all<IdInitiator>(bodies));
      break;
    default:
      break;
  }
}

}  // namespace natgate::ike::fuzzing
