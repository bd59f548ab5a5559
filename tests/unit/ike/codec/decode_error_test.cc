// Every way untrusted bytes can be wrong yields a typed error at the right offset, never a crash.
#include <gtest/gtest.h>

#include <random>

#include "ike/codec/describe.h"
#include "ike/codec/encrypted_message.h"
#include "ike/codec/message_codec.h"
#include "sample_messages.h"

namespace natgate::ike {
namespace {

using Kind = DecodeError::Kind;

void put_u16(Bytes& b, std::size_t at, std::size_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v);
}
void put_u32(Bytes& b, std::size_t at, std::size_t v) {
  put_u16(b, at, v >> 16);
  put_u16(b, at + 2, v & 0xffff);
}
void fix_ike_length(Bytes& b) { put_u32(b, 24, b.size()); }

// A message of one payload: header + generic header + body; the IKE length is right.
Bytes single_payload(PayloadType type, const Bytes& body, std::uint8_t flags = 0) {
  Bytes b = encode_message(Message{});
  b[16] = static_cast<std::uint8_t>(type);
  b.push_back(0);
  b.push_back(flags);
  b.push_back(0);
  b.push_back(0);
  put_u16(b, 30, 4 + body.size());
  append(b, body);
  fix_ike_length(b);
  return b;
}

DecodeError error_of(ByteView wire) {
  auto m = decode_message(wire);
  EXPECT_FALSE(m) << "decoded unexpectedly: " << describe(*m);
  return m ? DecodeError{} : m.error();
}

void expect_error(ByteView wire, Kind kind, std::size_t offset, PayloadType where) {
  DecodeError e = error_of(wire);
  EXPECT_EQ(e.kind, kind) << e.to_string();
  EXPECT_EQ(e.offset, offset) << e.to_string();
  EXPECT_EQ(e.where, where) << e.to_string();
  EXPECT_FALSE(e.what.empty());
}

// Offsets in encode_message(ike_sa_init_request()): SA at 28, proposal 1 at 32, its first transform at 40.
constexpr std::size_t kSa = 28, kProposal1 = 32, kTransform1 = 40;

TEST(DecodeError, TooLargeMessage) {
  Bytes big(kMaxMessageSize + 1, 0);
  expect_error(big, Kind::TooLarge, 0, PayloadType::None);
}

TEST(DecodeError, TruncatedHeader) {
  Bytes wire = encode_message(testing::ike_sa_init_request());
  expect_error(ByteView(wire).first(27), Kind::Truncated, 0, PayloadType::None);
  expect_error(ByteView(), Kind::Truncated, 0, PayloadType::None);
}

TEST(DecodeError, BadMajorVersion) {
  Bytes wire = encode_message(testing::ike_sa_init_request());
  wire[17] = 0x10;  // IKEv1
  expect_error(wire, Kind::BadVersion, 17, PayloadType::None);
  EXPECT_EQ(notify_for(error_of(wire)).type, iana::NotifyType::InvalidMajorVersion);
  wire[17] = 0x30;
  expect_error(wire, Kind::BadVersion, 17, PayloadType::None);
  wire[17] = 0x21;  // minor version is not checked (RFC 7296 §3.1: ignore it)
  EXPECT_TRUE(decode_message(wire));
}

TEST(DecodeError, IkeLengthDisagreesWithDatagram) {
  Bytes wire = encode_message(testing::ike_sa_init_request());
  put_u32(wire, 24, wire.size() + 1);
  expect_error(wire, Kind::BadLength, 24, PayloadType::None);
  put_u32(wire, 24, wire.size());
  wire.push_back(0);  // a byte beyond what the header claims
  expect_error(wire, Kind::BadLength, 24, PayloadType::None);
}

TEST(DecodeError, PayloadLengthBelowHeaderSize) {
  Bytes wire = encode_message(testing::ike_sa_init_request());
  put_u16(wire, kSa + 2, 3);
  expect_error(wire, Kind::BadLength, kSa, PayloadType::SecurityAssociation);
  EXPECT_EQ(notify_for(error_of(wire)), Notify::make(iana::NotifyType::InvalidSyntax));
}

TEST(DecodeError, PayloadLengthRunsPastMessage) {
  Bytes wire = encode_message(testing::ike_sa_init_request());
  put_u16(wire, kSa + 2, wire.size());
  expect_error(wire, Kind::BadLength, kSa, PayloadType::SecurityAssociation);
}

TEST(DecodeError, PayloadHeaderTruncated) {
  Bytes wire = encode_message(Message{});
  wire[16] = 40;  // claims a Nonce follows
  wire.push_back(0);
  wire.push_back(0);
  fix_ike_length(wire);
  expect_error(wire, Kind::Truncated, 28, PayloadType::Nonce);
}

TEST(DecodeError, TrailingOctetsAfterLastPayload) {
  Bytes wire = encode_message(testing::ike_sa_init_request());
  std::size_t end = wire.size();
  append(wire, Bytes{0, 0, 0, 4});
  fix_ike_length(wire);
  expect_error(wire, Kind::TrailingData, end, PayloadType::VendorId);
}

TEST(DecodeError, OctetsAfterEncryptedPayload) {
  // RFC 7296 §3.14: SK is last; anything after it is not part of the chain.
  Bytes wire = encode_message(testing::ike_auth_request_encrypted());
  std::size_t end = wire.size();
  append(wire, Bytes{1, 2, 3, 4, 5, 6, 7, 8});
  fix_ike_length(wire);
  // The SK length still ends where it did, so the extra octets trail it.
  expect_error(wire, Kind::TrailingData, end, PayloadType::Encrypted);
}

TEST(DecodeError, ProposalAnnouncesMoreTransformsThanItHolds) {
  Bytes wire = encode_message(testing::ike_sa_init_request());
  wire[kProposal1 + 7] = 5;  // 4 transforms present
  expect_error(wire, Kind::Malformed, kProposal1, PayloadType::SecurityAssociation);
}

TEST(DecodeError, ProposalAnnouncesFewerTransformsThanItHolds) {
  Bytes wire = encode_message(testing::ike_sa_init_request());
  wire[kProposal1 + 7] = 3;
  // After three transforms (12 + 8 + 8 octets) the fourth is left over.
  expect_error(wire, Kind::Malformed, kTransform1 + 28, PayloadType::SecurityAssociation);
}

TEST(DecodeError, ProposalLengthRunsPastSa) {
  Bytes wire = encode_message(testing::ike_sa_init_request());
  put_u16(wire, kProposal1 + 2, 0x400);
  expect_error(wire, Kind::BadLength, kProposal1, PayloadType::SecurityAssociation);
  put_u16(wire, kProposal1 + 2, 7);
  expect_error(wire, Kind::BadLength, kProposal1, PayloadType::SecurityAssociation);
}

TEST(DecodeError, LastSubstructureMarkerDisagrees) {
  Bytes wire = encode_message(testing::ike_sa_init_request());
  Bytes w1 = wire;
  w1[kProposal1] = 0;  // proposal 1 claims to be last, proposal 2 follows
  expect_error(w1, Kind::Malformed, kProposal1, PayloadType::SecurityAssociation);
  Bytes w2 = wire;
  w2[kTransform1] = 0;  // transform 1 claims to be last inside a proposal of 4
  expect_error(w2, Kind::Malformed, kTransform1, PayloadType::SecurityAssociation);
  Bytes w3 = wire;
  w3[kTransform1] = 7;
  expect_error(w3, Kind::Malformed, kTransform1, PayloadType::SecurityAssociation);
}

TEST(DecodeError, TransformAttributeRunsPastTransform) {
  Bytes wire = encode_message(testing::ike_sa_init_request());
  // Turn the TV Key Length (0x800e 0x0100) into a TLV with a 256-octet value.
  wire[kTransform1 + 8] = 0x00;
  expect_error(wire, Kind::BadLength, kTransform1 + 8, PayloadType::SecurityAssociation);
}

TEST(DecodeError, TrafficSelectorLengthDisagreesWithType) {
  Bytes body = hex_bytes(
      "01000000"
      "07"
      "00"
      "0028"
      "0000ffff"
      "0a000000"
      "0a0000ff");  // type 7 with length 40
  body.resize(4 + 40, 0);
  Bytes wire = single_payload(PayloadType::TsInitiator, body);
  expect_error(wire, Kind::BadLength, 36, PayloadType::TsInitiator);
  // And the right length decodes.
  Bytes ok = single_payload(PayloadType::TsInitiator, hex_bytes("01000000"
                                                                "07"
                                                                "06"
                                                                "0010"
                                                                "0016"
                                                                "0016"
                                                                "0a000000"
                                                                "0a0000ff"));
  auto m = decode_message(ok);
  ASSERT_TRUE(m) << m.error().to_string();
  const auto* ts = find<TsInitiator>(*m);
  ASSERT_EQ(ts->selectors.size(), 1u);
  EXPECT_EQ(ts->selectors[0].to_string(), "10.0.0.0/24[6/22]");
}

TEST(DecodeError, TrafficSelectorCountDisagrees) {
  Bytes two = hex_bytes(
      "02000000"
      "07"
      "00"
      "0010"
      "0000ffff"
      "0a000000"
      "0a0000ff");
  expect_error(single_payload(PayloadType::TsResponder, two), Kind::Malformed, 32, PayloadType::TsResponder);
  Bytes zero = hex_bytes(
      "00000000"
      "07"
      "00"
      "0010"
      "0000ffff"
      "0a000000"
      "0a0000ff");
  expect_error(single_payload(PayloadType::TsResponder, zero), Kind::Malformed, 36, PayloadType::TsResponder);
  Bytes unknown_type = hex_bytes(
      "01000000"
      "0a"
      "00"
      "0010"
      "0000ffff"
      "0a000000"
      "0a0000ff");
  expect_error(single_payload(PayloadType::TsResponder, unknown_type), Kind::Malformed, 36,
               PayloadType::TsResponder);
  Bytes cut = hex_bytes(
      "01000000"
      "08"
      "00"
      "0028"
      "0000ffff"
      "20010db8");
  expect_error(single_payload(PayloadType::TsResponder, cut), Kind::Truncated, 40, PayloadType::TsResponder);
}

TEST(DecodeError, DeleteSpiCountDisagrees) {
  // ESP, SPI size 4, 2 SPIs announced, one present.
  expect_error(single_payload(PayloadType::Delete, hex_bytes("03"
                                                             "04"
                                                             "0002"
                                                             "01020304")),
               Kind::Malformed, 32, PayloadType::Delete);
  expect_error(single_payload(PayloadType::Delete, hex_bytes("01"
                                                             "00"
                                                             "0003")),
               Kind::Malformed, 32, PayloadType::Delete);
  expect_error(single_payload(PayloadType::Delete, hex_bytes("03")), Kind::Truncated, 32,
               PayloadType::Delete);
}

TEST(DecodeError, FixedFieldsTruncated) {
  expect_error(single_payload(PayloadType::KeyExchange, hex_bytes("0013")), Kind::Truncated, 32,
               PayloadType::KeyExchange);
  expect_error(single_payload(PayloadType::IdInitiator, hex_bytes("02")), Kind::Truncated, 32,
               PayloadType::IdInitiator);
  expect_error(single_payload(PayloadType::Authentication, {}), Kind::Truncated, 32,
               PayloadType::Authentication);
  expect_error(single_payload(PayloadType::Certificate, {}), Kind::Truncated, 32, PayloadType::Certificate);
  // Notify: SPI size 4 but only 2 octets follow.
  expect_error(single_payload(PayloadType::Notify, hex_bytes("03044004"
                                                             "abcd")),
               Kind::Truncated, 36, PayloadType::Notify);
  expect_error(single_payload(PayloadType::Configuration, hex_bytes("01")), Kind::Truncated, 32,
               PayloadType::Configuration);
  expect_error(single_payload(PayloadType::EncryptedFragment, hex_bytes("0001")), Kind::Truncated, 32,
               PayloadType::EncryptedFragment);
}

TEST(DecodeError, ConfigurationAttributeRunsPastPayload) {
  expect_error(single_payload(PayloadType::Configuration, hex_bytes("01000000"
                                                                    "0001"
                                                                    "0008"
                                                                    "0a000001")),
               Kind::BadLength, 36, PayloadType::Configuration);
}

TEST(DecodeError, EapLengthDisagreesWithPayload) {
  expect_error(single_payload(PayloadType::Eap, hex_bytes("02"
                                                          "07"
                                                          "000a"
                                                          "01"
                                                          "6d6f6f6e")),
               Kind::BadLength, 32, PayloadType::Eap);
  // Request without its Type octet.
  expect_error(single_payload(PayloadType::Eap, hex_bytes("01"
                                                          "07"
                                                          "0004")),
               Kind::Truncated, 36, PayloadType::Eap);
  auto ok = decode_message(single_payload(PayloadType::Eap, hex_bytes("02"
                                                                      "07"
                                                                      "0008"
                                                                      "01"
                                                                      "6d6f6f")));
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ(*find<Eap>(*ok), (Eap{2, 7, 1, Bytes{'m', 'o', 'o'}}));
}

TEST(DecodeError, FragmentNumberOutOfRange) {
  // RFC 7383 §2.5: Fragment Number is 1..Total Fragments.
  expect_error(single_payload(PayloadType::EncryptedFragment, hex_bytes("0000"
                                                                        "0002"
                                                                        "00")),
               Kind::Malformed, 32, PayloadType::EncryptedFragment);
  expect_error(single_payload(PayloadType::EncryptedFragment, hex_bytes("0003"
                                                                        "0002"
                                                                        "00")),
               Kind::Malformed, 32, PayloadType::EncryptedFragment);
}

TEST(DecodeError, UnsupportedCriticalPayloadNamesItsType) {
  // RFC 7296 §2.5: an unknown payload with the critical bit rejects the whole message, and the
  // UNSUPPORTED_CRITICAL_PAYLOAD notify carries the payload type.
  Message m = testing::ike_sa_init_request();
  m.payloads.insert(m.payloads.begin() + 1, UnknownPayload{99, true, Bytes{1, 2, 3}});
  Bytes wire = encode_message(m);
  std::size_t at = kSa + encode_payload_chain({m.payloads[0]}).bytes.size();
  expect_error(wire, Kind::UnsupportedCriticalPayload, at, static_cast<PayloadType>(99));
  EXPECT_EQ(static_cast<std::uint8_t>(error_of(wire).where), 99);
  EXPECT_EQ(notify_for(error_of(wire)), Notify::make(iana::NotifyType::UnsupportedCriticalPayload, {99}));
  // The same payload without the critical bit is skipped.
  wire[at + 1] = 0;
  EXPECT_TRUE(decode_message(wire));
}

TEST(DecodeError, TruncatedAtEveryLength) {
  for (const Message& m : testing::all_samples()) {
    Bytes wire = encode_message(m);
    for (std::size_t n = 0; n < wire.size(); ++n) {
      Bytes cut(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(n));
      auto plain = decode_message(cut);
      ASSERT_FALSE(plain) << "prefix of " << n;
      // With the IKE length patched to match, the cut is found inside the payloads.
      if (n < IkeHeader::kSize) continue;
      fix_ike_length(cut);
      auto patched = decode_message(cut);
      ASSERT_FALSE(patched) << describe(m) << " cut at " << n;
      EXPECT_LE(patched.error().offset, n) << patched.error().to_string();
      EXPECT_GE(patched.error().offset, IkeHeader::kSize) << patched.error().to_string();
    }
  }
}

TEST(DecodeError, ToStringNamesKindOffsetAndPayload) {
  Bytes wire = encode_message(testing::ike_sa_init_request());
  put_u16(wire, kSa + 2, 3);
  EXPECT_EQ(error_of(wire).to_string(), "BadLength at offset 28 in SA: payload length 3 < 4");
  wire[17] = 0x10;
  EXPECT_EQ(error_of(wire).to_string(),
            "BadVersion at offset 17 in IKE header: IKE major version 1 is not 2");
}

// Bounded random inputs: garbage behind a plausible header, and single-octet mutations of valid
// messages. Whatever decodes must survive a round trip; nothing may crash (ASan/UBSan builds check).
TEST(DecodeError, RandomInputsNeverCrash) {
  std::mt19937 rng(7296);
  auto check = [](ByteView wire) {
    auto m = decode_message(wire);
    if (!m) {
      EXPECT_LE(m.error().offset, wire.size());
      return;
    }
    Bytes again = encode_message(*m);
    EXPECT_EQ(again.size(), wire.size());
    auto back = decode_message(again);
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(*back, *m);
    (void)decode_encrypted_message(wire);
  };
  for (int i = 0; i < 3000; ++i) {
    Bytes wire(std::uniform_int_distribution<std::size_t>(0, 300)(rng));
    for (auto& b : wire) b = static_cast<std::uint8_t>(rng());
    check(wire);
    if (wire.size() >= IkeHeader::kSize) {
      wire[16] = static_cast<std::uint8_t>(33 + rng() % 21);
      wire[17] = 0x20;
      fix_ike_length(wire);
      check(wire);
    }
  }
  for (const Message& m : testing::all_samples()) {
    Bytes wire = encode_message(m);
    for (int i = 0; i < 2000; ++i) {
      Bytes mutated = wire;
      std::size_t at = IkeHeader::kSize + rng() % (wire.size() - IkeHeader::kSize);
      mutated[at] = static_cast<std::uint8_t>(rng());
      check(mutated);
    }
  }
}

}  // namespace
}  // namespace natgate::ike
