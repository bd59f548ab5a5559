#include "esp_inbound_fuzz_world.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "crypto/aead.h"
#include "esp/crypto/esp_crypto.h"
#include "esp/engine_counters.h"
#include "esp/engine_event.h"
#include "esp/engine_settings.h"
#include "esp/event_queue.h"
#include "esp/inbound_path.h"
#include "esp/inner/tcp_coalescer.h"
#include "esp/sa/sa_table.h"
#include "esp/tun/virtio_net_hdr.h"
#include "esp/wire/fields.h"
#include "natt/udp_encap.h"

namespace natgate::esp::fuzzing {

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "esp_inbound_fuzz: %s\n", what);
  std::abort();
}

// An SA the fuzz world installs before the first input (dataplane::SaSpec is what a backend takes).
struct SeededSa {
  std::uint32_t spi;
  const char* suite;
  bool esn;
  std::uint32_t replay_window;
  std::vector<const char*> local_ts;   // inner destinations; empty: the reqid's inbound policies
  std::vector<const char*> remote_ts;  // inner sources
  std::uint32_t reqid;
  bool udp_encap;
  std::uint64_t soft_packets = 0;
  std::uint64_t hard_packets = 0;
};

// Every suite of esp/crypto/suite.cc (but the benchmark's null), ESN on and off, replay windows of
// 0 (off; with ESN the high half is still tracked), 1, typical and the largest, selectors of each family,
// none (policies decide), and several per SA, and one SA whose packet lifetime runs out after five packets.
const std::vector<SeededSa>& specs() {
  static const std::vector<SeededSa> s = {
      {0x1000, "aes128gcm16", false, 64, {"10.1.0.0/16"}, {"10.2.0.0/16"}, 1, true},
      {0x1001, "aes256gcm16", true, ReplayWindow::kMaxSize, {"fd00:1::/48"}, {"fd00:2::/48"}, 2, true},
      {0x1002, "chacha20poly1305", false, 0, {}, {}, 3, true},
      {0x1003, "aes128-sha256", false, 32, {"0.0.0.0/0"}, {"0.0.0.0/0"}, 4, true},
      {0x1004, "aes256-sha384", true, 128, {"::/0"}, {"::/0"}, 5, true},
      {0x1005, "aes192-sha512", false, 64, {"10.1.0.0/16"}, {"10.5.0.0/16"}, 6, true, 2, 5},
      {0x1006, "aes192gcm16", false, 1, {"10.1.0.0/24"}, {"10.6.0.0/16"}, 7, false},
      {0x1007,
       "chacha20poly1305",
       true,
       0,
       {"10.1.0.0/16", "fd00:1::/48"},
       {"10.7.0.0/16", "fd00:7::/48"},
       8,
       true},
  };
  return s;
}

const std::vector<Suite>& suites() {
  static const std::vector<Suite> s = [] {
    std::vector<Suite> out;
    for (const SeededSa& spec : specs()) {
      auto suite = Suite::parse(spec.suite);
      if (!suite) fail("unknown suite in the fuzz SA table");
      suite->esn = spec.esn;
      out.push_back(*suite);
    }
    return out;
  }();
  return s;
}

TrafficSelector selector(const char* subnet) { return TrafficSelector::from_subnet(*Subnet::parse(subnet)); }

Bytes key_bytes(std::uint32_t spi, std::size_t n, std::uint8_t salt) {
  Bytes k(n);
  for (std::size_t i = 0; i < n; ++i) k[i] = static_cast<std::uint8_t>(spi * 31 + i * 7 + salt);
  return k;
}

crypto::AeadAlgorithm aead_algorithm_of(const Suite& s) {
  if (s.cipher == CipherKind::ChaCha20Poly1305) return crypto::AeadAlgorithm::ChaCha20Poly1305;
  if (s.key_bits == 128) return crypto::AeadAlgorithm::AesGcm128;
  if (s.key_bits == 192) return crypto::AeadAlgorithm::AesGcm192;
  return crypto::AeadAlgorithm::AesGcm256;
}

// The peer's side of each SA: the engine's sealer and, for AEAD suites, an independent AEAD.
struct Senders {
  std::vector<std::unique_ptr<EspCrypto>> esp;
  std::vector<std::optional<crypto::Aead>> aead;

  Senders() {
    for (std::size_t i = 0; i < specs().size(); ++i) {
      const Suite& suite = suites()[i];
      const SecretBytes encr(key_bytes(specs()[i].spi, suite.encr_key_bytes(), 0));
      const SecretBytes integ(key_bytes(specs()[i].spi, suite.integ_key_bytes(), 0x55));
      auto c = EspCrypto::create(suite, encr, integ, EspCrypto::Role::Seal);
      if (!c) fail("cannot key a sender");
      esp.push_back(std::move(*c));
      std::optional<crypto::Aead> a;
      if (suite.is_aead()) {
        auto made = crypto::Aead::create(aead_algorithm_of(suite),
                                         ByteView(encr.data(), encr.size() - suite.salt_bytes()));
        if (!made) fail("cannot key an AEAD");
        a.emplace(std::move(*made));
      }
      aead.push_back(std::move(a));
    }
  }
};

Senders& senders() {
  static Senders s;
  return s;
}

// The IV of a sealed packet: the sequence number, repeated for CBC's 16 bytes (fine for a fuzzer;
// the engine itself draws CBC IVs at random).
Bytes iv_for(const Suite& suite, std::uint64_t seq) {
  Bytes iv(suite.iv_bytes());
  for (std::size_t i = 0; i < iv.size(); ++i) iv[i] = static_cast<std::uint8_t>(seq >> (8 * (7 - i % 8)));
  return iv;
}

std::uint64_t sequence_for(const Suite& suite, std::uint64_t seq) {
  return suite.esn ? seq : seq & 0xFFFFFFFFu;
}

// Keeps every buffer handed to the inbound path alive until the final flush (the coalescer holds
// pointers into them), and checks that the TUN only ever gets bytes from inside them.
class Tun final : public TunSink {
 public:
  std::vector<Bytes> buffers;
  std::uint64_t written = 0;  // inner bytes, without the virtio-net header
  std::uint64_t checksum = 0;

  void write_packet(const iovec* iov, int iovcnt) override {
    if (iovcnt < 2 || iov[0].iov_len != sizeof(VirtioNetHdr)) fail("TUN write without its virtio-net header");
    for (int i = 1; i < iovcnt; ++i) {
      const auto* p = static_cast<const std::uint8_t*>(iov[i].iov_base);
      if (!inside_a_buffer(p, iov[i].iov_len)) fail("TUN write from outside the received packets");
      for (std::size_t j = 0; j < iov[i].iov_len; ++j)
        checksum += p[j];  // reads every byte: ASan sees stale pointers
      written += iov[i].iov_len;
    }
  }

 private:
  bool inside_a_buffer(const std::uint8_t* p, std::size_t n) const {
    for (const Bytes& b : buffers)
      if (p >= b.data() && n <= b.size() && p - b.data() <= static_cast<std::ptrdiff_t>(b.size() - n))
        return true;
    return false;
  }
};

// A cursor over the fuzz input.
class Reader {
 public:
  explicit Reader(ByteView in) : in_(in) {}
  bool empty() const { return pos_ >= in_.size(); }
  std::uint8_t u8() { return pos_ < in_.size() ? in_[pos_++] : 0; }
  std::uint16_t u16() { return static_cast<std::uint16_t>(u8() << 8 | u8()); }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | u8();
    return v;
  }
  ByteView take(std::size_t n) {
    n = std::min(n, in_.size() - std::min(pos_, in_.size()));
    ByteView out = in_.subspan(std::min(pos_, in_.size()), n);
    pos_ += n;
    return out;
  }

 private:
  ByteView in_;
  std::size_t pos_ = 0;
};

std::uint64_t outcomes(const EngineCounters::Snapshot& c) {
  return c.keepalives_rx + c.too_short + c.ike_rx + c.ike_queue_drops + c.in_unknown_spi + c.in_sa_expired +
         c.in_replay + c.in_auth_failed + c.in_malformed + c.in_dummy + c.in_bad_inner + c.in_selector_drops +
         c.in_packets;
}

std::uint64_t dropped_early(const EngineCounters::Snapshot& c) {
  return c.keepalives_rx + c.too_short + c.ike_rx + c.ike_queue_drops + c.in_unknown_spi + c.in_sa_expired +
         c.in_replay;
}

}  // namespace

struct EspWorld::State {
  EngineSettings settings;
  EngineCounters counters;
  EventQueue<EngineEvent> events{8};
  EventQueue<IkeDatagram> ike{4};
  TcpCoalescer coalescer{4};  // small, so the path flushes a full coalescer mid-input
  Tun tun;
  InboundPath path{settings, counters, events, ike, coalescer, tun};
  SaRegistry registry;

  State() {
    for (std::size_t i = 0; i < specs().size(); ++i) {
      const SeededSa& spec = specs()[i];
      const Suite& suite = suites()[i];
      SaConfig c;
      c.spi = Spi(spec.spi);
      c.direction = dataplane::Direction::In;
      c.reqid = spec.reqid;
      c.suite = suite;
      c.encr_keymat = SecretBytes(key_bytes(spec.spi, suite.encr_key_bytes(), 0));
      c.integ_key = SecretBytes(key_bytes(spec.spi, suite.integ_key_bytes(), 0x55));
      c.path = OuterPath{local(), peer(), spec.udp_encap};
      c.replay_window = spec.replay_window;
      c.soft.packets = spec.soft_packets;
      c.hard.packets = spec.hard_packets;
      for (const char* t : spec.local_ts) c.local_ts.push_back(selector(t));
      for (const char* t : spec.remote_ts) c.remote_ts.push_back(selector(t));
      if (!registry.add_sa(c, 1500)) fail("cannot install a fuzz SA");
    }
    // SA 0x1002 carries no selectors: these inbound policies of its reqid decide.
    for (auto [src, dst] : {std::pair{"10.3.0.0/16", "10.1.0.0/16"}, std::pair{"fd00:3::/48", "fd00:1::/48"}})
      if (!registry.add_policy(PolicyRule{selector(src), selector(dst), dataplane::Direction::In, 3, 0}))
        fail("cannot install a fuzz policy");
  }
};

void RecordWriter::length_and(ByteView data) {
  if (data.size() > 0xFFFF) fail("a record longer than its 16-bit length");
  out_.push_back(static_cast<std::uint8_t>(data.size() >> 8));
  out_.push_back(static_cast<std::uint8_t>(data.size()));
  append(out_, data);
}

void RecordWriter::udp(ByteView datagram, bool moved) {
  out_.push_back(static_cast<std::uint8_t>(kUdp | (moved ? kFromMovedPeer : 0)));
  length_and(datagram);
}

void RecordWriter::raw(ByteView esp) {
  out_.push_back(kRawEsp);
  length_and(esp);
}

void RecordWriter::seal(std::size_t sa, std::uint64_t seq, std::uint8_t next_header, ByteView inner, bool raw,
                        bool moved) {
  out_.push_back(
      static_cast<std::uint8_t>(kSeal | (sa << 2) | (raw ? kSealRaw : 0) | (moved ? kFromMovedPeer : 0)));
  for (int i = 7; i >= 0; --i) out_.push_back(static_cast<std::uint8_t>(seq >> (8 * i)));
  out_.push_back(next_header);
  length_and(inner);
}

void RecordWriter::plaintext(std::size_t sa, std::uint64_t seq, ByteView text) {
  out_.push_back(static_cast<std::uint8_t>(kPlaintext | (sa << 2)));
  for (int i = 7; i >= 0; --i) out_.push_back(static_cast<std::uint8_t>(seq >> (8 * i)));
  length_and(text);
}

EspWorld::EspWorld() : s_(std::make_unique<State>()) {}
EspWorld::~EspWorld() = default;

std::size_t EspWorld::sa_count() { return specs().size(); }
Spi EspWorld::spi(std::size_t sa) { return Spi(specs().at(sa).spi); }
const Suite& EspWorld::suite(std::size_t sa) { return suites().at(sa); }

const Endpoint& EspWorld::peer() {
  static const Endpoint e{*IpAddress::parse("192.0.2.1"), 4500};
  return e;
}
const Endpoint& EspWorld::moved_peer() {
  static const Endpoint e{*IpAddress::parse("198.51.100.7"), 31000};
  return e;
}
const Endpoint& EspWorld::local() {
  static const Endpoint e{*IpAddress::parse("192.0.2.2"), 4500};
  return e;
}

Bytes EspWorld::seal(std::size_t sa, std::uint64_t seq, std::uint8_t next_header, ByteView inner) {
  EspCrypto& c = *senders().esp.at(sa);
  const std::uint64_t full = sequence_for(suite(sa), seq);
  Bytes buf(c.sealed_bytes(inner.size()));
  if (!inner.empty()) std::memcpy(buf.data() + c.header_bytes(), inner.data(), inner.size());
  const Bytes iv = iv_for(suite(sa), full);
  if (c.seal_with_iv(buf.data(), inner.size(), buf.size(), next_header, spi(sa), SequenceNumber(full), iv) !=
      buf.size())
    fail("the engine could not seal a packet");
  return buf;
}

std::optional<Bytes> EspWorld::seal_plaintext(std::size_t sa, std::uint64_t seq, ByteView text) {
  auto& aead = senders().aead.at(sa);
  if (!aead || text.size() < 2) return std::nullopt;
  const Suite& s = suite(sa);
  const std::uint64_t full = sequence_for(s, seq);
  // RFC 4303 §2, RFC 4106 §3-§5: SPI | seq | IV (8) | ciphertext | ICV; nonce = salt | IV;
  // AAD = SPI | seq, or SPI | seq high | seq low with ESN.
  Bytes out(kEspHeaderBytes + 8 + text.size() + crypto::Aead::kTagSize);
  wire::put_be32(out.data(), spi(sa).value);
  wire::put_be32(out.data() + 4, static_cast<std::uint32_t>(full));
  const Bytes iv = iv_for(s, full);
  std::memcpy(out.data() + kEspHeaderBytes, iv.data(), 8);
  const Bytes keymat = key_bytes(spi(sa).value, s.encr_key_bytes(), 0);
  Bytes nonce(keymat.end() - 4, keymat.end());
  append(nonce, iv);
  Bytes aad(out.begin(), out.begin() + 4);
  if (s.esn) {
    const std::array<std::uint8_t, 4> high = {
        static_cast<std::uint8_t>(full >> 56), static_cast<std::uint8_t>(full >> 48),
        static_cast<std::uint8_t>(full >> 40), static_cast<std::uint8_t>(full >> 32)};
    aad.insert(aad.end(), high.begin(), high.end());
  }
  aad.insert(aad.end(), out.begin() + 4, out.begin() + 8);
  if (!aead->seal(nonce, aad, text, MutableByteView(out.data() + kEspHeaderBytes + 8, text.size() + 16)))
    fail("crypto::Aead could not seal");
  return out;
}

void EspWorld::run(ByteView input) {
  State& s = *s_;
  const std::shared_ptr<const SaTable> snapshot = s.registry.snapshot();
  const SaTable& table = *snapshot;
  const auto now = Clock::now();
  Reader in(input);
  s.tun.buffers.reserve(kMaxRecords);
  for (std::size_t n = 0; n < kMaxRecords && !in.empty(); ++n) {
    const std::uint8_t op = in.u8();
    const Endpoint& from = (op & kFromMovedPeer) ? moved_peer() : peer();
    const std::size_t sa = (op >> 2) % sa_count();
    bool raw = false;
    std::optional<Bytes> datagram;
    switch (op & 3) {
      case kUdp: {
        const std::size_t len = in.u16();
        const ByteView body = in.take(len);
        datagram = Bytes(body.begin(), body.end());
        break;
      }
      case kRawEsp: {
        const std::size_t len = in.u16();
        const ByteView body = in.take(len);
        datagram = Bytes(body.begin(), body.end());
        raw = true;
        break;
      }
      case kSeal: {
        const std::uint64_t seq = in.u64();
        const std::uint8_t next_header = in.u8();
        const std::size_t len = in.u16();
        datagram = seal(sa, seq, next_header, in.take(len));
        raw = (op & kSealRaw) != 0;
        break;
      }
      case kPlaintext: {
        const std::uint64_t seq = in.u64();
        const std::size_t len = in.u16();
        datagram = seal_plaintext(sa, seq, in.take(len));
        break;
      }
    }
    if (!datagram) continue;
    const Bytes original = *datagram;
    s.tun.buffers.push_back(std::move(*datagram));
    Bytes& d = s.tun.buffers.back();

    const EngineCounters::Snapshot before = s.counters.snapshot();
    if (raw)
      s.path.handle_esp(d.data(), d.size(), from, table, now);
    else
      s.path.handle_udp(d.data(), d.size(), from, local(), table, now);
    const EngineCounters::Snapshot after = s.counters.snapshot();

    if (outcomes(after) - outcomes(before) != 1) fail("a datagram was not counted exactly once");
    // Sealed here with the SA's own keys: the ICV must verify, unless ESN made the receiver
    // guess another high half (RFC 4303 Appendix A2).
    const bool sealed_here = (op & 3) == kSeal || (op & 3) == kPlaintext;
    if (sealed_here && !suite(sa).esn && after.in_auth_failed != before.in_auth_failed)
      fail("a packet sealed with the SA's keys failed authentication");
    if ((op & 3) == kSeal && !suite(sa).esn && after.in_malformed != before.in_malformed)
      fail("a packet sealed by the engine was called malformed");
    if (after.ike_rx != before.ike_rx) {
      std::size_t got = 0;
      s.ike.drain([&](const IkeDatagram& g) {
        ++got;
        if (original.size() < natt::kNonEspMarkerBytes ||
            !std::equal(g.message.begin(), g.message.end(), original.begin() + natt::kNonEspMarkerBytes,
                        original.end()))
          fail("the control plane got other bytes than the datagram after its marker");
        if (g.ends.remote != from || g.ends.local != local())
          fail("the control plane got the wrong endpoints");
      });
      if (got != 1) fail("one IKE datagram counted, another number queued");
    }
    // Dropped before decryption (demux, SPI, lifetime, replay): the buffer is left as it came.
    if (dropped_early(after) != dropped_early(before) && d != original)
      fail("a packet dropped before decryption was changed in its buffer");
  }
  s.path.flush();
  if (s.tun.written > s.counters.in_bytes.load()) fail("the TUN got more bytes than were delivered");
  std::size_t events = s.events.drain([](const EngineEvent&) {});
  // ESP_INBOUND_FUZZ_VERBOSE=1: what an input did, to check that seeds reach what they aim at.
  static const bool verbose = std::getenv("ESP_INBOUND_FUZZ_VERBOSE") != nullptr;
  if (verbose) {
    for (const auto& [name, value] : s.counters.snapshot().items())
      if (value) std::fprintf(stderr, "%s=%llu ", name.c_str(), static_cast<unsigned long long>(value));
    std::fprintf(stderr, "events=%zu tun_bytes=%llu\n", events,
                 static_cast<unsigned long long>(s.tun.written));
  }
}

}  // namespace natgate::esp::fuzzing
