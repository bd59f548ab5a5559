// Untrusted bytes into every ike/auth parser: random and truncated inputs are refused with an
// error, never read past their length (run under ASan/UBSan in CI). Bounded, seeded loops.
#include <gtest/gtest.h>

#include <random>

#include "ike/auth/cert_payloads.h"
#include "ike/auth/eap_mschapv2_client.h"
#include "ike/auth/eap_mschapv2_server.h"
#include "ike/auth/signature_auth.h"
#include "pki_fixture.h"

namespace natgate::ike {
namespace {

Bytes random_bytes(std::mt19937& rng, std::size_t max_len) {
  std::uniform_int_distribution<std::size_t> len(0, max_len);
  Bytes b(len(rng));
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  return b;
}

TEST(MalformedInput, SignatureAuthData) {
  std::mt19937 rng(1);
  const PublicKey key = testing::pki().leaf_key.public_key();
  const Bytes octets(40, 3);
  const iana::AuthMethod methods[] = {iana::AuthMethod::DigitalSignature, iana::AuthMethod::RsaSignature,
                                      iana::AuthMethod::EcdsaSha256P256, iana::AuthMethod::EcdsaSha512P521};
  for (int i = 0; i < 2000; ++i) {
    Authentication a{methods[i % 4], random_bytes(rng, 150)};
    // Sometimes a valid AlgorithmIdentifier prefix with a random signature.
    if (i % 3 == 0) {
      a.method = iana::AuthMethod::DigitalSignature;
      const ByteView id = algorithm_identifier(SignatureScheme::EcdsaSha256);
      Bytes d{static_cast<std::uint8_t>(id.size())};
      append(d, id);
      append(d, a.data);
      a.data = std::move(d);
    }
    EXPECT_FALSE(verify_auth(a, key, octets));
  }
}

TEST(MalformedInput, CertificatePayloads) {
  std::mt19937 rng(2);
  const Bytes good = testing::pki().gateway.der();
  for (int i = 0; i < 1000; ++i) {
    Bytes der = i % 2 ? random_bytes(rng, 300)
                      : Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(rng() % good.size()));
    const Certificate c{iana::CertEncoding::X509Signature, der};
    EXPECT_FALSE(peer_certificates({&c}));
    const CertificateRequest r{iana::CertEncoding::X509Signature, der};
    auto hashes = requested_ca_hashes({&r});
    EXPECT_EQ(static_cast<bool>(hashes), der.size() % 20 == 0);
    (void)parse_signature_hash_algorithms(der);
  }
}

TEST(MalformedInput, EapPacketsToServerAndPeer) {
  std::mt19937 rng(3);
  crypto::DeterministicRandom r1(1), r2(2);
  for (int i = 0; i < 500; ++i) {
    EapMschapv2Server server(
        [](std::string_view) { return std::optional<SecretBytes>(SecretBytes(Bytes(16, 1))); }, r1,
        {i % 2 == 0, "gw", "ok"});
    const Eap first = server.start();
    auto client = EapMschapv2Client::create("alice", "pw", r2).value();
    for (int k = 0; k < 4; ++k) {
      Eap junk{static_cast<std::uint8_t>(1 + rng() % 4), first.identifier, std::uint8_t{26},
               random_bytes(rng, 80)};
      if (rng() % 4 == 0) junk.type = static_cast<std::uint8_t>(rng() % 30);
      // Keep the MS-CHAPv2 OpCode plausible half of the time so the parsers past it get exercised.
      if (!junk.data.empty() && rng() % 2) junk.data[0] = static_cast<std::uint8_t>(1 + rng() % 4);
      Eap to_server = junk;
      to_server.code = eap::kResponse;
      (void)server.process(to_server);
      Eap to_client = junk;
      to_client.code = eap::kRequest;
      to_client.identifier = static_cast<std::uint8_t>(rng());
      (void)client.process(to_client);
    }
    EXPECT_NE(server.state(), EapMschapv2Server::State::Succeeded);
    EXPECT_NE(client.state(), EapMschapv2Client::State::Succeeded);
    EXPECT_TRUE(server.msk().empty());
    EXPECT_TRUE(client.msk().empty());
  }
}

}  // namespace
}  // namespace natgate::ike
