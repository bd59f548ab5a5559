// RFC 7383 fragmentation: natgate's fragmenter and reassembler against each other (sizes, order,
// duplicates, tampering, limits, Total Fragments changes, time-outs), and the reassembler against
// real SKF fragments from strongSwan 5.9.8 (tests/unit/ike/codec/strongswan_exchange.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "ike/codec/encrypted_message.h"
#include "ike/codec/message_codec.h"
#include "ike/fragment/fragment_reassembler.h"
#include "ike/fragment/fragmenter.h"
#include "ike/suite/proposal_spec.h"
#include "tests/unit/ike/codec/strongswan_exchange.h"

namespace natgate::ike {
namespace {

using Status = FragmentReassembler::Status;
using std::chrono::seconds;
namespace ss = testing::strongswan;

const FragmentReassembler::TimePoint kT0{std::chrono::hours(1)};

CryptoSuite suite_for(std::string_view text) {
  auto spec = parse_proposal(iana::ProtocolId::Ike, text);
  return select_suite(*spec, *spec).value();
}

struct Direction {
  MessageProtector sender;
  MessageProtector receiver;
};

Direction direction(std::string_view suite_text) {
  const CryptoSuite suite = suite_for(suite_text);
  Bytes e(suite.encr_keymat_size()), a(suite.integ_key_size());
  for (std::size_t i = 0; i < e.size(); ++i) e[i] = static_cast<std::uint8_t>(0x40 + i);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<std::uint8_t>(0x90 + i);
  return {MessageProtector::create(suite, SecretBytes(e), SecretBytes(a)).value(),
          MessageProtector::create(suite, SecretBytes(e), SecretBytes(a)).value()};
}

IkeHeader auth_header(std::uint32_t message_id = 1) {
  IkeHeader h;
  h.spi_i = IkeSpi::from_u64(0x1122334455667788);
  h.spi_r = IkeSpi::from_u64(0x99aabbccddeeff00);
  h.exchange = iana::ExchangeType::IkeAuth;
  h.set_initiator(true);
  h.message_id = MessageId{message_id};
  return h;
}

Bytes filler(std::size_t n, std::uint8_t seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i * 31);
  return b;
}

// An IKE_AUTH request the size of one with a certificate chain: about 5 KB.
std::vector<Payload> ike_auth_payloads() {
  std::vector<Payload> p;
  p.push_back(IdInitiator{iana::IdType::Fqdn, Bytes{'c', 'l', 'i', 'e', 'n', 't'}});
  p.push_back(Certificate{iana::CertEncoding::X509Signature, filler(1900, 1)});
  p.push_back(Certificate{iana::CertEncoding::X509Signature, filler(1700, 2)});
  p.push_back(CertificateRequest{iana::CertEncoding::X509Signature, filler(60, 3)});
  p.push_back(Notify::make(iana::NotifyType::InitialContact));
  p.push_back(IdResponder{iana::IdType::Fqdn, Bytes{'g', 'w'}});
  p.push_back(Authentication{iana::AuthMethod::DigitalSignature, filler(1 + 15 + 256, 4)});
  p.push_back(Configuration{iana::CfgType::Request, {{iana::CfgAttribute::InternalIp4Address, {}}}});
  p.push_back(VendorId{filler(1000, 5)});
  return p;
}

struct Fragmented {
  PayloadChain chain;
  std::vector<Bytes> datagrams;
};

Fragmented make_fragments(Direction& d, std::size_t ip_size, bool ipv6 = false,
                          std::uint32_t message_id = 1) {
  Fragmented f{encode_payload_chain(ike_auth_payloads()), {}};
  crypto::DeterministicRandom random(7);
  FragmentSizing sizing{ip_size, ipv6, true};
  auto frags =
      fragment_message(auth_header(message_id), f.chain.first_type, f.chain.bytes, sizing, d.sender, random);
  EXPECT_TRUE(frags) << (frags ? "" : frags.error());
  if (frags) f.datagrams = std::move(*frags);
  return f;
}

TEST(FragmentSizing, AccountsForIpUdpAndNonEspMarker) {
  EXPECT_EQ((FragmentSizing{1280, false, true}).ike_message_size(), 1280u - 20 - 8 - 4);
  EXPECT_EQ((FragmentSizing{1280, false, false}).ike_message_size(), 1280u - 20 - 8);
  EXPECT_EQ((FragmentSizing{1280, true, true}).ike_message_size(), 1280u - 40 - 8 - 4);
  EXPECT_EQ((FragmentSizing{576, false, true}).ike_message_size(), 544u);
  EXPECT_EQ((FragmentSizing{20, false, true}).ike_message_size(), 0u);
  EXPECT_EQ(FragmentSizing{}.ip_datagram_size, 1280u);
}

class Fragmentation : public ::testing::TestWithParam<std::tuple<const char*, std::size_t, bool>> {};

TEST_P(Fragmentation, FragmentsFitAndCarryRfc7383Headers) {
  const auto [suite, ip_size, ipv6] = GetParam();
  Direction d = direction(suite);
  const Fragmented f = make_fragments(d, ip_size, ipv6);
  const std::size_t budget = FragmentSizing{ip_size, ipv6, true}.ike_message_size();
  ASSERT_GT(f.chain.bytes.size(), 5000u);
  ASSERT_GT(f.datagrams.size(), 4u);
  EXPECT_FALSE(fits_unfragmented(f.chain.bytes.size(), FragmentSizing{ip_size, ipv6, true}, d.sender));
  for (std::size_t i = 0; i < f.datagrams.size(); ++i) {
    SCOPED_TRACE(i);
    const Bytes& dg = f.datagrams[i];
    EXPECT_LE(dg.size(), budget);
    // Every fragment but the last is filled: one more plaintext octet would not fit (§2.5.1).
    if (i + 1 < f.datagrams.size()) {
      const std::size_t piece = d.sender.max_plaintext_size(budget - kFragmentHeadersSize);
      EXPECT_EQ(dg.size(), kFragmentHeadersSize + d.sender.sealed_size(piece));
      EXPECT_GT(kFragmentHeadersSize + d.sender.sealed_size(piece + 1), budget);
    }
    auto v = decode_encrypted_message(dg);
    ASSERT_TRUE(v) << v.error().to_string();
    ASSERT_TRUE(v->fragment);
    EXPECT_EQ(v->fragment->number, i + 1);
    EXPECT_EQ(v->fragment->total, f.datagrams.size());
    EXPECT_EQ(v->first_inner, i == 0 ? PayloadType::IdInitiator : PayloadType::None);
    EXPECT_EQ(v->header, auth_header());
    // The codec re-encodes it to the same octets: the SKF framing is canonical.
    auto m = decode_message(dg);
    ASSERT_TRUE(m);
    EXPECT_EQ(encode_message(*m), dg);
  }
}

TEST_P(Fragmentation, ReassemblesInOrder) {
  const auto [suite, ip_size, ipv6] = GetParam();
  Direction d = direction(suite);
  const Fragmented f = make_fragments(d, ip_size, ipv6);
  FragmentReassembler r;
  for (std::size_t i = 0; i < f.datagrams.size(); ++i) {
    auto res = r.add(f.datagrams[i], d.receiver, kT0);
    if (i + 1 < f.datagrams.size()) {
      ASSERT_EQ(res.status, Status::Incomplete) << res.reason;
      EXPECT_EQ(r.pending(), MessageId{1});
    } else {
      ASSERT_EQ(res.status, Status::Complete) << res.reason;
      EXPECT_EQ(res.message->chain, f.chain.bytes);
      EXPECT_EQ(res.message->first_inner, PayloadType::IdInitiator);
      EXPECT_EQ(res.message->header, auth_header());
      auto payloads = decode_payload_chain(res.message->first_inner, res.message->chain);
      ASSERT_TRUE(payloads);
      EXPECT_EQ(*payloads, ike_auth_payloads());
    }
  }
  EXPECT_EQ(r.counters().kept, f.datagrams.size());
  EXPECT_EQ(r.counters().completed, 1u);
  EXPECT_FALSE(r.pending());
}

INSTANTIATE_TEST_SUITE_P(
    Rfc7383, Fragmentation,
    ::testing::Combine(::testing::Values("aes256-sha256-ecp256", "aes128gcm16-prfsha256-x25519"),
                       ::testing::Values(std::size_t{1280}, std::size_t{576}), ::testing::Bool()));

TEST(FragmentReassembler, OutOfOrderWithDuplicates) {
  Direction d = direction("aes128gcm16-prfsha256-x25519");
  const Fragmented f = make_fragments(d, 576);
  std::vector<std::size_t> order(f.datagrams.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::mt19937 shuffle_rng(42);
  std::shuffle(order.begin(), order.end(), shuffle_rng);
  FragmentReassembler r;
  std::optional<FragmentReassembler::Message> done;
  for (std::size_t k = 0; k < order.size(); ++k) {
    auto res = r.add(f.datagrams[order[k]], d.receiver, kT0);
    if (res.status == Status::Complete) done = res.message;
    if (k % 2 == 0 && k + 1 < order.size()) {
      auto dup = r.add(f.datagrams[order[k]], d.receiver, kT0);
      EXPECT_EQ(dup.status, Status::Duplicate) << dup.reason;
    }
  }
  ASSERT_TRUE(done);
  EXPECT_EQ(done->chain, f.chain.bytes);
  EXPECT_EQ(done->first_inner, PayloadType::IdInitiator);
  EXPECT_EQ(r.counters().duplicates, (order.size() - 1 + 1) / 2);
  // A late copy of a fragment of the completed message: the caller learns which one it was.
  const auto late = r.add(f.datagrams[0], d.receiver, kT0);
  EXPECT_EQ(late.status, Status::AlreadyComplete);
  EXPECT_EQ(late.fragment, (FragmentInfo{1, static_cast<std::uint16_t>(f.datagrams.size())}));
  EXPECT_EQ(late.message_id, MessageId{1});
}

TEST(FragmentReassembler, TamperedFragmentIsCountedAndAGoodCopyStillCompletes) {
  Direction d = direction("aes256-sha256-ecp256");
  const Fragmented f = make_fragments(d, 1280);
  FragmentReassembler r;
  Bytes bad = f.datagrams[2];
  bad[bad.size() / 2] ^= 0x01;  // inside the ciphertext
  Bytes bad_header = f.datagrams[1];
  bad_header[IkeHeader::kSize + 5] ^= 0x01;  // Fragment Number's low octet is covered by the ICV too
  auto res_body = r.add(bad, d.receiver, kT0);
  EXPECT_EQ(res_body.status, Status::AuthenticationFailed) << res_body.reason;
  EXPECT_EQ(r.add(bad_header, d.receiver, kT0).status, Status::AuthenticationFailed);
  EXPECT_FALSE(r.pending());  // a forged fragment never starts a reassembly
  // Everything but fragment 3 (index 2) arrives genuine.
  for (std::size_t i = 0; i < f.datagrams.size(); ++i) {
    if (i == 2) continue;
    EXPECT_EQ(r.add(f.datagrams[i], d.receiver, kT0).status, Status::Incomplete);
  }
  EXPECT_EQ(r.counters().authentication_failed, 2u);
  auto res = r.add(f.datagrams[2], d.receiver, kT0);
  ASSERT_EQ(res.status, Status::Complete) << res.reason;
  EXPECT_EQ(res.message->chain, f.chain.bytes);
}

TEST(FragmentReassembler, WrongKeysAuthenticateNothing) {
  Direction d = direction("aes256-sha256-ecp256");
  Direction other = direction("aes256gcm16-prfsha384-ecp384");
  const Fragmented f = make_fragments(d, 1280);
  FragmentReassembler r;
  for (const auto& dg : f.datagrams)
    EXPECT_EQ(r.add(dg, other.receiver, kT0).status, Status::AuthenticationFailed);
  EXPECT_EQ(r.counters().authentication_failed, f.datagrams.size());
  EXPECT_EQ(r.counters().kept, 0u);
  EXPECT_FALSE(r.pending());
}

TEST(FragmentReassembler, RefusesTooManyFragments) {
  Direction d = direction("aes256-sha256-ecp256");
  const Fragmented f = make_fragments(d, 576);  // about a dozen fragments
  FragmentReassembler r(FragmentReassembler::Limits{4, std::size_t{64} * 1024, std::chrono::seconds(30)});
  auto res = r.add(f.datagrams[0], d.receiver, kT0);
  EXPECT_EQ(res.status, Status::OverLimit);
  EXPECT_EQ(res.reason, std::to_string(f.datagrams.size()) + " fragments announced, limit 4");
  EXPECT_EQ(r.counters().over_limit, 1u);
  EXPECT_FALSE(r.pending());
}

TEST(FragmentReassembler, RefusesTooLargeMessage) {
  Direction d = direction("aes256-sha256-ecp256");
  const Fragmented f = make_fragments(d, 1280);
  FragmentReassembler r(FragmentReassembler::Limits{64, 3000, std::chrono::seconds(30)});
  Status last = Status::Incomplete;
  for (const auto& dg : f.datagrams) {
    last = r.add(dg, d.receiver, kT0).status;
    if (last != Status::Incomplete) break;
  }
  EXPECT_EQ(last, Status::OverLimit);
  EXPECT_EQ(r.counters().over_limit, 1u);
  EXPECT_FALSE(r.pending());  // what was collected is dropped
  EXPECT_EQ(r.counters().completed, 0u);
}

TEST(FragmentReassembler, HigherTotalRestartsLowerIsStale) {
  Direction d = direction("aes256-sha256-ecp256");
  const Fragmented big = make_fragments(d, 1280);
  const Fragmented small = make_fragments(d, 576);  // the same message re-fragmented smaller
  ASSERT_GT(small.datagrams.size(), big.datagrams.size());
  FragmentReassembler r;
  EXPECT_EQ(r.add(big.datagrams[0], d.receiver, kT0).status, Status::Incomplete);
  EXPECT_EQ(r.add(big.datagrams[1], d.receiver, kT0).status, Status::Incomplete);
  EXPECT_EQ(r.pending_fragments(), 2u);
  EXPECT_EQ(r.add(small.datagrams[3], d.receiver, kT0).status, Status::Incomplete);
  EXPECT_EQ(r.counters().restarted, 1u);
  EXPECT_EQ(r.pending_fragments(), 1u);
  // A fragment of the earlier, coarser split is now stale.
  EXPECT_EQ(r.add(big.datagrams[2], d.receiver, kT0).status, Status::Stale);
  std::optional<FragmentReassembler::Message> done;
  for (std::size_t i = 0; i < small.datagrams.size(); ++i) {
    if (i == 3) continue;
    auto res = r.add(small.datagrams[i], d.receiver, kT0);
    if (res.status == Status::Complete) done = res.message;
  }
  ASSERT_TRUE(done);
  EXPECT_EQ(done->chain, small.chain.bytes);
}

TEST(FragmentReassembler, KeepsOnlyTheNewestMessageId) {
  Direction d = direction("aes128gcm16-prfsha256-x25519");
  const Fragmented m1 = make_fragments(d, 1280, false, 1);
  const Fragmented m2 = make_fragments(d, 1280, false, 2);
  FragmentReassembler r;
  EXPECT_EQ(r.add(m1.datagrams[0], d.receiver, kT0).status, Status::Incomplete);
  EXPECT_EQ(r.add(m2.datagrams[0], d.receiver, kT0).status, Status::Incomplete);
  EXPECT_EQ(r.pending(), MessageId{2});
  EXPECT_EQ(r.counters().restarted, 1u);
  EXPECT_EQ(r.add(m1.datagrams[1], d.receiver, kT0).status, Status::Stale);
  Status last = Status::Incomplete;
  for (std::size_t i = 1; i < m2.datagrams.size(); ++i) last = r.add(m2.datagrams[i], d.receiver, kT0).status;
  EXPECT_EQ(last, Status::Complete);
  EXPECT_EQ(r.add(m1.datagrams[2], d.receiver, kT0).status, Status::Stale);
  EXPECT_EQ(r.add(m2.datagrams[2], d.receiver, kT0).status, Status::AlreadyComplete);
}

TEST(FragmentReassembler, TimesOut) {
  Direction d = direction("aes256-sha256-ecp256");
  const Fragmented f = make_fragments(d, 1280);
  FragmentReassembler r;  // 30 s
  EXPECT_EQ(r.add(f.datagrams[0], d.receiver, kT0).status, Status::Incomplete);
  EXPECT_EQ(r.add(f.datagrams[1], d.receiver, kT0 + seconds(10)).status, Status::Incomplete);
  r.expire(kT0 + seconds(29));
  EXPECT_EQ(r.pending_fragments(), 2u);
  r.expire(kT0 + seconds(31));
  EXPECT_FALSE(r.pending());
  EXPECT_EQ(r.counters().timed_out, 1u);
  // A retransmission after the time-out starts over and can complete.
  Status last = Status::Incomplete;
  for (const auto& dg : f.datagrams) last = r.add(dg, d.receiver, kT0 + seconds(40)).status;
  EXPECT_EQ(last, Status::Complete);
}

TEST(FragmentReassembler, RejectsNonFragmentsAndBadNumbers) {
  Direction d = direction("aes256-sha256-ecp256");
  crypto::DeterministicRandom random(3);
  const PayloadChain inner = encode_payload_chain({Notify::make(iana::NotifyType::InitialContact)});
  Bytes sk =
      encode_encrypted_prefix(auth_header(), inner.first_type, d.sender.sealed_size(inner.bytes.size()));
  append(sk, *d.sender.seal(sk, inner.bytes, random));
  FragmentReassembler r;
  EXPECT_EQ(r.add(sk, d.receiver, kT0).status, Status::Invalid);
  EXPECT_EQ(r.add(hex_bytes("0011"), d.receiver, kT0).status, Status::Invalid);
  // Fragment 3 of 2, sealed correctly: refused before any crypto.
  Bytes bad =
      encode_fragment_prefix(auth_header(), FragmentInfo{3, 2}, PayloadType::None, d.sender.sealed_size(4));
  append(bad, *d.sender.seal(bad, Bytes(4, 0), random));
  EXPECT_EQ(r.add(bad, d.receiver, kT0).status, Status::Invalid);
  EXPECT_EQ(r.counters().invalid, 3u);
}

TEST(Fragmenter, SmallMessageIsOneFragmentAndTinyDatagramIsAnError) {
  Direction d = direction("aes256-sha256-ecp256");
  crypto::DeterministicRandom random(1);
  const PayloadChain inner = encode_payload_chain({Notify::make(iana::NotifyType::InitialContact)});
  EXPECT_TRUE(fits_unfragmented(inner.bytes.size(), FragmentSizing{}, d.sender));
  auto one =
      fragment_message(auth_header(), inner.first_type, inner.bytes, FragmentSizing{}, d.sender, random);
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 1u);
  FragmentReassembler r;
  auto res = r.add((*one)[0], d.receiver, kT0);
  ASSERT_EQ(res.status, Status::Complete);
  EXPECT_EQ(res.message->chain, inner.bytes);
  auto tiny = fragment_message(auth_header(), inner.first_type, inner.bytes, FragmentSizing{90, false, true},
                               d.sender, random);
  ASSERT_FALSE(tiny);
  EXPECT_NE(tiny.error().find("90-octet datagram"), std::string::npos);
}

// No modified or truncated fragment is ever kept: every octet of an SKF datagram is covered by the
// ICV, and what is checked before it (numbers, Message ID) only ever leads to a drop.
TEST(FragmentReassembler, NoMutatedFragmentIsKept) {
  Direction d = direction("aes256-sha256-ecp256");
  const Fragmented f = make_fragments(d, 576);
  FragmentReassembler r;
  ASSERT_EQ(r.add(f.datagrams[0], d.receiver, kT0).status, Status::Incomplete);
  std::mt19937 rng(99);
  for (int i = 0; i < 3000; ++i) {
    Bytes dg = f.datagrams[1 + rng() % (f.datagrams.size() - 1)];
    if (rng() % 4 == 0) {
      dg.resize(rng() % dg.size());
    } else {
      for (int k = 0, n = 1 + static_cast<int>(rng() % 3); k < n; ++k)
        dg[rng() % dg.size()] ^= static_cast<std::uint8_t>(1 + rng() % 255);
    }
    const auto res = r.add(dg, d.receiver, kT0);
    ASSERT_NE(res.status, Status::Incomplete) << i;
    ASSERT_NE(res.status, Status::Complete) << i;
  }
  EXPECT_EQ(r.counters().kept, 1u);
  EXPECT_EQ(r.pending_fragments(), 1u);
  EXPECT_GT(r.counters().authentication_failed, 1000u);
  // The genuine rest still completes the message.
  Status last = Status::Incomplete;
  for (std::size_t i = 1; i < f.datagrams.size(); ++i) last = r.add(f.datagrams[i], d.receiver, kT0).status;
  EXPECT_EQ(last, Status::Complete);
}

// charon fragmented its IKE_AUTH request into three SKF messages (fragment_size = 200); natgate
// reassembles them with charon's logged keys, in any order.
TEST(FragmentReassembler, ReassemblesStrongswanFragments) {
  const CryptoSuite suite = suite_for("aes256-sha256-ecp256");
  for (auto order : {std::array<int, 3>{0, 1, 2}, std::array<int, 3>{2, 0, 1}}) {
    auto mp =
        MessageProtector::create(suite, SecretBytes(hex_bytes(ss::kSkEi)), SecretBytes(hex_bytes(ss::kSkAi)));
    ASSERT_TRUE(mp);
    const Bytes frames[3] = {hex_bytes(ss::kIkeAuthRequestFragment1), hex_bytes(ss::kIkeAuthRequestFragment2),
                             hex_bytes(ss::kIkeAuthRequestFragment3)};
    FragmentReassembler r;
    std::optional<FragmentReassembler::Message> done;
    for (int i : order) {
      auto res = r.add(frames[i], *mp, kT0);
      ASSERT_NE(res.status, Status::AuthenticationFailed) << res.reason;
      if (res.status == Status::Complete) done = res.message;
    }
    ASSERT_TRUE(done);
    EXPECT_EQ(done->header.exchange, iana::ExchangeType::IkeAuth);
    EXPECT_EQ(done->header.message_id, MessageId{1});
    EXPECT_EQ(done->first_inner, PayloadType::IdInitiator);
    auto payloads = decode_payload_chain(done->first_inner, done->chain);
    ASSERT_TRUE(payloads) << payloads.error().to_string();
    EXPECT_NE(find<IdInitiator>(*payloads), nullptr);
    EXPECT_NE(find<Authentication>(*payloads), nullptr);
    EXPECT_NE(find<TsInitiator>(*payloads), nullptr);
  }
}

}  // namespace
}  // namespace natgate::ike
