// RFC 9329 TCP encapsulation: the encoder (natt/tcp_encap) and the stream decoder
// (natt/tcp_stream_decoder), against frames laid out by hand from §3, §3.1, §3.2, §4 and §6.7.
#include "natt/tcp_encap.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "natt/tcp_stream_decoder.h"

namespace natgate::natt::tcp {
namespace {

// A 28-byte IKEv2 header (RFC 7296 §3.1): SPIs, next payload 0, version 2.0, IKE_SA_INIT, length 28.
const std::string kIkeHeaderHex = "0102030405060708 0000000000000000 00 20 22 08 00000000 0000001c";
// A minimal ESP packet: SPI 0xc0010203, sequence 1, four bytes of "ciphertext".
const std::string kEspHex = "c0010203 00000001 aabbccdd";

// What the decoder yielded, copied out (views die at the next call).
struct Seen {
  DecodeStatus status;
  FrameKind kind;
  std::string payload_hex;
  std::uint32_t spi;
  DecodeError error;
  bool operator==(const Seen&) const = default;
};

std::vector<Seen> drain(StreamDecoder& d, ByteView chunk) {
  std::vector<Seen> out;
  for (int guard = 0; guard < 100000; ++guard) {
    const Decoded r = d.next(chunk);
    if (r.status == DecodeStatus::NeedMore) {
      EXPECT_TRUE(chunk.empty());
      return out;
    }
    out.push_back({r.status, r.frame.kind, to_hex(r.frame.payload), r.frame.spi, r.error});
    if (r.status == DecodeStatus::Closed) return out;
  }
  ADD_FAILURE() << "decoder did not stop";
  return out;
}

std::vector<Seen> feed_in_chunks(StreamDecoder& d, ByteView stream, const std::vector<std::size_t>& cuts) {
  std::vector<Seen> all;
  std::size_t at = 0;
  for (std::size_t cut : cuts) {
    auto part = drain(d, stream.subspan(at, cut - at));
    all.insert(all.end(), part.begin(), part.end());
    at = cut;
  }
  auto rest = drain(d, stream.subspan(at));
  all.insert(all.end(), rest.begin(), rest.end());
  return all;
}

Bytes prefixed(std::initializer_list<ByteView> frames) {
  Bytes s(kStreamPrefix.begin(), kStreamPrefix.end());
  for (ByteView f : frames) append(s, f);
  return s;
}

TEST(TcpEncap, StreamPrefixIsIketcpInAscii) {
  EXPECT_EQ(to_hex(kStreamPrefix), "494b45544350");  // §4
}

TEST(TcpEncap, IkeFrameIsLengthMarkerMessageByteExact) {
  const Bytes ike = hex_bytes(kIkeHeaderHex);
  // §3.1: Length = 2 + 4 + 28 = 34 = 0x0022, then four zero octets, then the message.
  EXPECT_EQ(to_hex(ike_frame(ike)),
            "0022"
            "00000000" +
                to_hex(ike));
}

TEST(TcpEncap, EspFrameIsLengthAndPacketByteExact) {
  const Bytes esp = hex_bytes(kEspHex);
  // §3.2: Length = 2 + 12 = 14, then the ESP packet unchanged.
  EXPECT_EQ(to_hex(esp_frame(esp)), "000e" + to_hex(esp));
}

TEST(TcpEncap, AppendedEspFramesFollowEachOtherByteExact) {
  const Bytes esp = hex_bytes(kEspHex);
  Bytes batch = hex_bytes("aabb");  // what a batch already holds stays
  ASSERT_TRUE(append_esp_frame(esp, batch));
  ASSERT_TRUE(append_esp_frame(esp, batch));
  EXPECT_EQ(to_hex(batch), "aabb" + ("000e" + to_hex(esp)) + ("000e" + to_hex(esp)));
  // What write_esp_frame refuses is not appended.
  EXPECT_FALSE(append_esp_frame(hex_bytes("01020304 050607"), batch));
  EXPECT_FALSE(append_esp_frame(hex_bytes("00000000 00000001"), batch));
  EXPECT_FALSE(append_esp_frame(Bytes(65535 - 1, 7), batch));
  EXPECT_EQ(batch.size(), 2u + 2 * 14u);
}

TEST(TcpEncap, KeepaliveFrameIsLengthThreeAndFf) {
  EXPECT_EQ(to_hex(kKeepaliveFrame), "0003ff");  // §6.7
}

TEST(TcpEncap, WritersRefuseWhatTheWireCannotCarry) {
  Bytes out(70000);
  EXPECT_EQ(write_ike_frame(Bytes(27, 1), out), 0u);                    // shorter than an IKE header
  EXPECT_EQ(write_esp_frame(hex_bytes("01020304 050607"), out), 0u);    // shorter than SPI + seq
  EXPECT_EQ(write_esp_frame(hex_bytes("00000000 00000001"), out), 0u);  // SPI 0 reads as a marker
  EXPECT_EQ(write_ike_frame(Bytes(65535 - 6, 1), out), 65535u);         // the largest IKE frame
  EXPECT_EQ(write_ike_frame(Bytes(65535 - 5, 1), out), 0u);             // one byte over 16 bits
  Bytes esp_max(65535 - 2, 7);
  EXPECT_EQ(write_esp_frame(esp_max, out), 65535u);
  esp_max.push_back(7);
  EXPECT_EQ(write_esp_frame(esp_max, out), 0u);
  Bytes small(33);
  EXPECT_EQ(write_ike_frame(Bytes(28, 1), small), 0u);  // needs 34
  small.resize(34);
  EXPECT_EQ(write_ike_frame(Bytes(28, 1), small), 34u);
}

TEST(TcpEncap, FrameHeaderAloneForScatterGatherSends) {
  std::array<std::uint8_t, kMaxFrameHeaderBytes> h{};
  ASSERT_EQ(write_frame_header(FrameKind::Ike, 28, h), 6u);
  EXPECT_EQ(to_hex(h), "002200000000");
  ASSERT_EQ(write_frame_header(FrameKind::Esp, 12, h), 2u);
  EXPECT_EQ(to_hex(ByteView(h).first(2)), "000e");
  EXPECT_EQ(write_frame_header(FrameKind::Esp, 12, MutableByteView(h).first(1)), 0u);
  EXPECT_EQ(frame_size(FrameKind::Keepalive, 1), 3u);
  EXPECT_EQ(frame_size(FrameKind::Keepalive, 2), 0u);
}

TEST(TcpStreamDecoder, ResponderReadsPrefixThenIkeEspKeepaliveFromOneRead) {
  const Bytes ike = hex_bytes(kIkeHeaderHex), esp = hex_bytes(kEspHex);
  const Bytes stream = prefixed({ike_frame(ike), esp_frame(esp), kKeepaliveFrame});
  StreamDecoder d(StreamRole::Responder);
  const auto seen = drain(d, stream);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0], (Seen{DecodeStatus::Frame, FrameKind::Ike, to_hex(ike), 0, DecodeError::None}));
  EXPECT_EQ(seen[1],
            (Seen{DecodeStatus::Frame, FrameKind::Esp, to_hex(esp), 0xc0010203u, DecodeError::None}));
  EXPECT_EQ(seen[2], (Seen{DecodeStatus::Frame, FrameKind::Keepalive, "", 0, DecodeError::None}));
  EXPECT_EQ(d.counters().ike, 1u);
  EXPECT_EQ(d.counters().esp, 1u);
  EXPECT_EQ(d.counters().keepalives, 1u);
  EXPECT_FALSE(d.closed());
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(TcpStreamDecoder, HandBuiltBytesDecode) {
  // Written out from §3/§3.1/§4 without the encoder.
  const Bytes stream = hex_bytes("494b45544350 0022 00000000" + kIkeHeaderHex + "000e" + kEspHex + "0003ff");
  StreamDecoder d(StreamRole::Responder);
  const auto seen = drain(d, stream);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].kind, FrameKind::Ike);
  EXPECT_EQ(seen[0].payload_hex, to_hex(hex_bytes(kIkeHeaderHex)));
  EXPECT_EQ(seen[1].kind, FrameKind::Esp);
  EXPECT_EQ(seen[2].kind, FrameKind::Keepalive);
}

TEST(TcpStreamDecoder, OriginatorExpectsNoPrefixFromTheResponder) {
  // §4: only the TCP originator sends "IKETCP".
  const Bytes esp = hex_bytes(kEspHex);
  StreamDecoder d(StreamRole::Originator);
  const auto seen = drain(d, esp_frame(esp));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kind, FrameKind::Esp);
  // ...so a prefix from the responder is read as a Length (0x494b = 18763) and fails.
  StreamDecoder small(StreamRole::Originator, 1500);
  const auto bad = drain(small, prefixed({esp_frame(esp)}));
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].status, DecodeStatus::Closed);
  EXPECT_EQ(bad[0].error, DecodeError::LengthAboveMaximum);
}

TEST(TcpStreamDecoder, EverySplitPointOfAMultiFrameStreamGivesTheSameFrames) {
  const Bytes ike = hex_bytes(kIkeHeaderHex), esp = hex_bytes(kEspHex);
  const Bytes big_esp = [] {
    Bytes b = hex_bytes("deadbeef 00000002");
    b.resize(1400, 0x5a);
    return b;
  }();
  const Bytes stream =
      prefixed({ike_frame(ike), kKeepaliveFrame, esp_frame(esp), esp_frame(big_esp), ike_frame(ike)});
  StreamDecoder whole(StreamRole::Responder);
  const auto expected = drain(whole, stream);
  ASSERT_EQ(expected.size(), 5u);
  for (std::size_t a = 0; a <= stream.size(); ++a) {
    StreamDecoder d(StreamRole::Responder);
    ASSERT_EQ(feed_in_chunks(d, stream, {a}), expected) << "split at " << a;
  }
  // Two cuts, around every boundary of the first three frames (prefix, IKE, keepalive, small ESP).
  for (std::size_t a = 0; a <= 60; ++a)
    for (std::size_t b = a; b <= 60; ++b) {
      StreamDecoder d(StreamRole::Responder);
      ASSERT_EQ(feed_in_chunks(d, stream, {a, b}), expected) << "splits at " << a << "," << b;
    }
  // One byte per read: the most a frame can be split.
  StreamDecoder d(StreamRole::Responder);
  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < stream.size(); ++i) every.push_back(i);
  EXPECT_EQ(feed_in_chunks(d, stream, every), expected);
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(TcpStreamDecoder, WrongPrefixClosesAtTheFirstWrongByte) {
  for (const char* s : {"IKETCQ", "GET / HTTP/1.1", "\x16\x03\x01", "iketcp"}) {
    StreamDecoder d(StreamRole::Responder);
    const auto seen = drain(d, as_bytes(s));
    ASSERT_EQ(seen.size(), 1u) << s;
    EXPECT_EQ(seen[0].status, DecodeStatus::Closed);
    EXPECT_EQ(seen[0].error, DecodeError::BadStreamPrefix);
    EXPECT_TRUE(must_close(seen[0].error));
    EXPECT_EQ(d.counters().bad_stream_prefix, 1u);
    EXPECT_STREQ(error_name(d.close_reason()), "bad-stream-prefix");
  }
  // A partial, correct prefix waits for more.
  StreamDecoder d(StreamRole::Responder);
  EXPECT_TRUE(drain(d, as_bytes("IKE")).empty());
  EXPECT_FALSE(d.closed());
  EXPECT_EQ(drain(d, as_bytes("X"))[0].error, DecodeError::BadStreamPrefix);
}

TEST(TcpStreamDecoder, LengthsBelowThreeCloseTheStream) {
  for (const char* frame : {"0000", "0001", "0002"}) {
    StreamDecoder d(StreamRole::Originator);
    const auto seen = drain(d, hex_bytes(std::string(frame) + "ffffffff"));
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].status, DecodeStatus::Closed);
    EXPECT_EQ(seen[0].error, DecodeError::LengthBelowMinimum);
    EXPECT_EQ(d.counters().length_below_minimum, 1u);
  }
}

TEST(TcpStreamDecoder, LengthAboveTheConfiguredMaximumClosesWithoutBuffering) {
  StreamDecoder d(StreamRole::Originator, 1500);
  EXPECT_EQ(d.max_frame_bytes(), 1500u);
  Bytes ok = esp_frame(Bytes(1498, 0x11));
  ASSERT_EQ(ok.size(), 1500u);
  auto seen = drain(d, ok);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kind, FrameKind::Esp);
  // Length 1501 announced, only the two Length bytes sent: closed at once, nothing held.
  seen = drain(d, hex_bytes("05dd"));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].error, DecodeError::LengthAboveMaximum);
  EXPECT_EQ(d.counters().length_above_maximum, 1u);
  EXPECT_EQ(d.buffered(), 0u);
  // The Length's bytes split over two reads are checked the same way.
  StreamDecoder e(StreamRole::Originator, 1500);
  EXPECT_TRUE(drain(e, hex_bytes("05")).empty());
  EXPECT_EQ(drain(e, hex_bytes("dd"))[0].error, DecodeError::LengthAboveMaximum);
}

TEST(TcpStreamDecoder, MaximumIsClampedToWhatFitsSixteenBitsAndOneIkeHeader) {
  EXPECT_EQ(StreamDecoder(StreamRole::Originator, 1000000).max_frame_bytes(), 65535u);
  EXPECT_EQ(StreamDecoder(StreamRole::Originator, 0).max_frame_bytes(), 34u);
}

TEST(TcpStreamDecoder, ClosedStaysClosedAndConsumesNothing) {
  StreamDecoder d(StreamRole::Originator);
  ASSERT_EQ(drain(d, hex_bytes("0001"))[0].error, DecodeError::LengthBelowMinimum);
  const Bytes more = esp_frame(hex_bytes(kEspHex));
  ByteView in = more;
  const Decoded r = d.next(in);
  EXPECT_EQ(r.status, DecodeStatus::Closed);
  EXPECT_EQ(r.error, DecodeError::LengthBelowMinimum);
  EXPECT_EQ(in.size(), more.size());
  EXPECT_EQ(d.counters().esp, 0u);
}

TEST(TcpStreamDecoder, ShortBodiesAreDroppedAndTheStreamGoesOn) {
  const Bytes esp = hex_bytes(kEspHex);
  struct Case {
    std::string frame;
    DecodeError error;
  };
  const std::vector<Case> cases = {
      {"0003 00", DecodeError::PayloadTooShort},                           // one byte, not 0xFF
      {"0004 ffff", DecodeError::PayloadTooShort},                         // two bytes
      {"0005 000000", DecodeError::PayloadTooShort},                       // three bytes
      {"0006 00000000", DecodeError::IkeTooShort},                         // marker alone
      {"0021 00000000" + std::string(54, '0'), DecodeError::IkeTooShort},  // marker + 27 bytes
      {"0006 c0010203", DecodeError::EspTooShort},                         // SPI alone
      {"0009 c0010203 000000", DecodeError::EspTooShort},                  // SPI + 3 bytes
  };
  for (const Case& c : cases) {
    const Bytes frame = hex_bytes(c.frame);
    StreamDecoder d(StreamRole::Originator);
    const Bytes stream = [&] {
      Bytes s = frame;
      append(s, esp_frame(esp));
      return s;
    }();
    const auto seen = drain(d, stream);
    ASSERT_EQ(seen.size(), 2u) << c.frame;
    EXPECT_EQ(seen[0].status, DecodeStatus::Dropped) << c.frame;
    EXPECT_EQ(seen[0].error, c.error) << c.frame;
    EXPECT_FALSE(must_close(c.error));
    EXPECT_EQ(d.counters().of(c.error), 1u) << c.frame;
    EXPECT_EQ(seen[1].kind, FrameKind::Esp) << c.frame;  // the next frame still decodes
    EXPECT_FALSE(d.closed());
  }
}

TEST(TcpStreamDecoder, RoundTripsOfEverySizeKeepTheBytes) {
  std::mt19937 rng(9329);
  Bytes stream(kStreamPrefix.begin(), kStreamPrefix.end());
  std::vector<Bytes> sent;
  std::vector<FrameKind> kinds;
  for (std::size_t n : {28u, 29u, 100u, 1280u, 9000u, 65529u}) {
    Bytes ike(n);
    for (auto& b : ike) b = static_cast<std::uint8_t>(rng());
    append(stream, ike_frame(ike));
    sent.push_back(ike);
    kinds.push_back(FrameKind::Ike);
  }
  for (std::size_t n : {8u, 9u, 1400u, 65533u}) {
    Bytes esp(n);
    for (auto& b : esp) b = static_cast<std::uint8_t>(rng());
    esp[0] = 0x80;  // never a zero SPI
    append(stream, esp_frame(esp));
    sent.push_back(esp);
    kinds.push_back(FrameKind::Esp);
  }
  StreamDecoder d(StreamRole::Responder);
  const auto seen = drain(d, stream);
  ASSERT_EQ(seen.size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(seen[i].kind, kinds[i]) << i;
    EXPECT_EQ(seen[i].payload_hex, to_hex(sent[i])) << i;
  }
}

// Property: any chunking of a random valid stream gives the frames of the unsplit stream, and the
// decoder never holds more than one frame.
TEST(TcpStreamDecoder, RandomChunkingPropertySeeded) {
  std::mt19937 rng(20221101);  // RFC 9329's publication month, fixed so failures reproduce
  for (int round = 0; round < 200; ++round) {
    Bytes stream(kStreamPrefix.begin(), kStreamPrefix.end());
    std::size_t largest_body = 0;
    const int frames = 1 + static_cast<int>(rng() % 12);
    for (int f = 0; f < frames; ++f) {
      switch (rng() % 3) {
        case 0: {
          Bytes ike(28 + rng() % 3000);
          for (auto& b : ike) b = static_cast<std::uint8_t>(rng());
          append(stream, ike_frame(ike));
          largest_body = std::max(largest_body, ike.size() + 4);
          break;
        }
        case 1: {
          Bytes esp(8 + rng() % 3000);
          for (auto& b : esp) b = static_cast<std::uint8_t>(rng());
          esp[3] |= 1;
          append(stream, esp_frame(esp));
          largest_body = std::max(largest_body, esp.size());
          break;
        }
        default:
          append(stream, kKeepaliveFrame);
      }
    }
    StreamDecoder whole(StreamRole::Responder);
    const auto expected = drain(whole, stream);
    ASSERT_EQ(expected.size(), static_cast<std::size_t>(frames));

    StreamDecoder d(StreamRole::Responder);
    std::vector<Seen> got;
    std::size_t at = 0;
    while (at < stream.size()) {
      const std::size_t n = std::min<std::size_t>(stream.size() - at, 1 + rng() % 700);
      auto part = drain(d, ByteView(stream).subspan(at, n));
      got.insert(got.end(), part.begin(), part.end());
      EXPECT_LE(d.buffered(), largest_body);
      at += n;
    }
    ASSERT_EQ(got, expected) << "round " << round;
  }
}

TEST(TcpStreamDecoder, GarbageNeverCrashesAndEndsClosedOrWaiting) {
  std::mt19937 rng(7);
  for (int round = 0; round < 500; ++round) {
    Bytes junk(rng() % 400);
    for (auto& b : junk) b = static_cast<std::uint8_t>(rng());
    StreamDecoder d(round % 2 ? StreamRole::Originator : StreamRole::Responder, 1 + rng() % 70000);
    const auto seen = drain(d, junk);
    for (std::size_t i = 0; i + 1 < seen.size(); ++i) EXPECT_NE(seen[i].status, DecodeStatus::Closed);
    EXPECT_LE(d.buffered(), d.max_frame_bytes());
    if (d.closed()) {
      EXPECT_TRUE(must_close(d.close_reason()));
    }
  }
}

TEST(TcpStreamDecoder, ErrorNamesAreDistinct) {
  std::vector<std::string> names;
  for (DecodeError e : {DecodeError::None, DecodeError::BadStreamPrefix, DecodeError::LengthBelowMinimum,
                        DecodeError::LengthAboveMaximum, DecodeError::PayloadTooShort,
                        DecodeError::IkeTooShort, DecodeError::EspTooShort})
    names.emplace_back(error_name(e));
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::unique(names.begin(), names.end()), names.end());
}

}  // namespace
}  // namespace natgate::natt::tcp
