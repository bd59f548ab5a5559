// Half-open IKE SAs under attack (RFC 7296 §2.6): sources per IPv4 address and IPv6 /64,
// refused requests counted toward cookies, valid cookies admitted at the caps, the memory cap,
// and no key generation for a request whose KE cannot complete.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "crypto/key_exchange.h"
#include "ike/codec/message.h"
#include "ike/codec/message_codec.h"
#include "ike/exchange/half_open_limiter.h"
#include "ike/suite/proposal_wire.h"
#include "sa_pair.h"

namespace natgate::ike {
namespace {

using namespace natgate::ike::testing;
using Decision = HalfOpenLimiter::Decision;
using std::chrono::seconds;

const TimePoint kT0 = TimePoint{} + seconds(10'000);

IpAddress ip(const std::string& text) { return *IpAddress::parse(text); }

AdmissionPolicy policy(std::size_t cookie_all, std::size_t cookie_source, std::size_t per_source,
                       std::size_t cap) {
  AdmissionPolicy p;
  p.cookie_threshold = cookie_all;
  p.cookie_threshold_per_source = cookie_source;
  p.half_open_per_source = per_source;
  p.half_open = cap;
  return p;
}

TEST(HalfOpenLimiterTest, CountsPerIpv4AddressAndPerIpv6Slash64) {
  HalfOpenLimiter limiter(policy(1000, 3, 5, 1000));
  std::vector<HalfOpenToken> held;
  // Three addresses of one /64 are one source; another /64 and another IPv4 address are not.
  for (const char* a : {"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2:abcd::9"}) {
    ASSERT_EQ(limiter.decide(ip(a), false, kT0), Decision::Admit) << a;
    held.push_back(limiter.admit(ip(a), false));
  }
  EXPECT_EQ(limiter.count(ip("2001:db8:1:2::77")), 3u);
  EXPECT_EQ(limiter.decide(ip("2001:db8:1:2::77"), false, kT0), Decision::RequireCookie);
  EXPECT_EQ(limiter.decide(ip("2001:db8:1:3::1"), false, kT0), Decision::Admit);
  held.push_back(limiter.admit(ip("192.0.2.1"), false));
  EXPECT_EQ(limiter.count(ip("192.0.2.1")), 1u);
  EXPECT_EQ(limiter.count(ip("192.0.2.2")), 0u) << "IPv4 is counted per address";
  // With cookies the /64 gets up to half_open_per_source, then nothing.
  held.push_back(limiter.admit(ip("2001:db8:1:2::5"), true));
  held.push_back(limiter.admit(ip("2001:db8:1:2::6"), true));
  EXPECT_EQ(limiter.decide(ip("2001:db8:1:2::7"), true, kT0), Decision::Drop);
  held.clear();
  EXPECT_EQ(limiter.total(), 0u);
  EXPECT_EQ(limiter.count(ip("2001:db8:1:2::1")), 0u);
}

TEST(HalfOpenLimiterTest, RefusalsCountTowardTheCookieDecisionAndDecay) {
  AdmissionPolicy p = policy(1000, 10, 100, 1000);
  p.refusal_half_life = seconds(10);
  HalfOpenLimiter limiter(p, 0x1234);
  const IpAddress a = ip("198.51.100.9");
  for (int i = 0; i < 9; ++i) limiter.refused(a, kT0);
  EXPECT_EQ(limiter.decide(a, false, kT0), Decision::Admit);
  limiter.refused(a, kT0);
  EXPECT_EQ(limiter.recent_refusals(a, kT0), 10u);
  EXPECT_EQ(limiter.decide(a, false, kT0), Decision::RequireCookie) << "10 refusals, no half-open SA";
  EXPECT_EQ(limiter.decide(a, true, kT0), Decision::Admit) << "a valid cookie still gets in";
  EXPECT_EQ(limiter.decide(ip("198.51.100.10"), false, kT0), Decision::Admit) << "others are not affected";
  EXPECT_EQ(limiter.recent_refusals(a, kT0 + seconds(10)), 5u);
  EXPECT_EQ(limiter.decide(a, false, kT0 + seconds(10)), Decision::Admit) << "halved after the half-life";
  EXPECT_EQ(limiter.recent_refusals(a, kT0 + seconds(400)), 0u);
  // The global count: refusals from many sources make everyone prove their address.
  HalfOpenLimiter global(policy(50, 1000, 1000, 1000), 7);
  for (int i = 0; i < 50; ++i)
    global.refused(ip("10.0." + std::to_string(i / 200) + "." + std::to_string(i % 200)), kT0);
  EXPECT_EQ(global.decide(ip("192.0.2.99"), false, kT0), Decision::RequireCookie);
}

TEST(HalfOpenLimiterTest, AValidCookieIsAdmittedWhenUnverifiedSasFillTheCap) {
  HalfOpenLimiter limiter(policy(2, 100, 100, 3));
  std::vector<HalfOpenToken> held;
  held.push_back(limiter.admit(ip("203.0.113.1"), false));
  held.push_back(limiter.admit(ip("203.0.113.2"), false));
  EXPECT_EQ(limiter.decide(ip("203.0.113.3"), false, kT0), Decision::RequireCookie);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(limiter.decide(ip("198.51.100.1"), true, kT0), Decision::Admit) << i;
    held.push_back(limiter.admit(ip("198.51.100.1"), true));
  }
  EXPECT_EQ(limiter.verified(), 3u);
  EXPECT_EQ(limiter.decide(ip("198.51.100.2"), true, kT0), Decision::Drop) << "the cookie cap is half_open";
  EXPECT_EQ(limiter.decide(ip("198.51.100.2"), false, kT0), Decision::RequireCookie)
      << "never dropped unanswered";
  held.erase(held.begin() + 2);
  EXPECT_EQ(limiter.decide(ip("198.51.100.2"), true, kT0), Decision::Admit);
}

TEST(HalfOpenLimiterTest, TheMemoryCapEvictsTheOldestFirst) {
  AdmissionPolicy p = policy(100, 100, 100, 100);
  p.half_open_memory = 1000;
  HalfOpenLimiter limiter(p);
  std::vector<int> evicted;
  std::vector<HalfOpenToken> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(limiter.admit(ip("192.0.2." + std::to_string(i + 1)), false));
    held.back().on_evict([&evicted, i] { evicted.push_back(i); });
  }
  held[0].charge(400);
  held[1].charge(400);
  EXPECT_EQ(limiter.memory(), 800u);
  EXPECT_TRUE(evicted.empty());
  held[2].charge(400);
  EXPECT_EQ(evicted, std::vector<int>{0});
  EXPECT_TRUE(held[0].evicted());
  EXPECT_EQ(limiter.memory(), 800u);
  EXPECT_EQ(limiter.evictions(), 1u);
  held[0].charge(5000);  // an evicted SA charges nothing more
  EXPECT_EQ(limiter.memory(), 800u);
  EXPECT_EQ(limiter.total(), 3u) << "an evicted SA still counts until it ends";
  held[1].charge(900);  // one SA grows: the oldest still holding memory goes, which is itself
  EXPECT_EQ(evicted, (std::vector<int>{0, 1}));
  EXPECT_EQ(limiter.memory(), 400u);
  held.clear();
  EXPECT_EQ(limiter.memory(), 0u);
  EXPECT_EQ(limiter.total(), 0u);
}

// ---- through the dispatcher -----------------------------------------------------------------

// Counts what is drawn from the random source: a key generation draws a private key.
class CountingRandom final : public crypto::RandomSource {
 public:
  void fill(MutableByteView out) override {
    drawn += out.size();
    inner_.fill(out);
  }
  std::size_t drawn = 0;

 private:
  crypto::DeterministicRandom inner_{77};
};

class Responder {
 public:
  explicit Responder(DispatcherConfig config, const std::string& proposal = "aes256gcm16-prfsha256-x25519") {
    configs_.ike->proposals = {ike_proposal(proposal)};
    Environment e;
    e.random = &random;
    e.allocate_spi = [this](const IpAddress&, const IpAddress&) -> Expected<std::uint32_t> {
      return ++spis_;
    };
    dispatcher = std::make_unique<IkeDispatcher>(config, configs_, e);
  }

  // An IKE_SA_INIT as a spoofing sender makes it: it will never see the answer.
  Bytes request(std::uint64_t spi, const std::string& proposal, iana::DhGroup group, Bytes ke_value,
                std::optional<Bytes> cookie = std::nullopt) {
    Message m;
    m.header.spi_i = IkeSpi::from_u64(spi);
    m.header.set_initiator(true);
    if (cookie) m.payloads.push_back(Notify::make(iana::NotifyType::Cookie, *cookie));
    m.payloads.push_back(SecurityAssociation{{to_proposal(ike_proposal(proposal), 1, {})}});
    m.payloads.push_back(KeyExchange{group, std::move(ke_value)});
    m.payloads.push_back(Nonce{Bytes(32, static_cast<std::uint8_t>(spi))});
    return encode_message(m);
  }
  Bytes good_request(std::uint64_t spi) {
    auto ke = crypto::DhKeyPair::generate(iana::DhGroup::Curve25519, sender_random_);
    return request(spi, "aes256gcm16-prfsha256-x25519", iana::DhGroup::Curve25519,
                   Bytes(ke->public_value().begin(), ke->public_value().end()));
  }

  IkeDispatcher::Result send(const Bytes& bytes, const std::string& from) {
    return dispatcher->handle_initial({bytes, endpoint("192.0.2.2", 500), endpoint(from, 500), false}, now);
  }
  static const Notify* notify_in(const IkeDispatcher::Result& r, iana::NotifyType type) {
    if (r.output.datagrams.size() != 1) return nullptr;
    auto m = decode_message(r.output.datagrams[0].bytes);
    return m ? find_notify(m->payloads, type) : nullptr;
  }

  CountingRandom random;
  std::unique_ptr<IkeDispatcher> dispatcher;
  TimePoint now = kT0;

 private:
  FixedConfigs configs_;
  std::uint32_t spis_ = 0x1000;
  crypto::DeterministicRandom sender_random_{55};
};

TEST(HalfOpenDispatch, RefusedRequestsFromOneAddressTriggerCookies) {
  Responder r(DispatcherConfig{});
  // 2,000 requests offering only a group we do not take: each is refused and keeps no SA.
  std::size_t refused = 0, cookies = 0;
  for (std::uint64_t i = 0; i < 2000; ++i) {
    auto result =
        r.send(r.request(0x100 + i, "aes128-sha256-modp2048", iana::DhGroup::Modp2048, Bytes(256, 7)),
               "198.51.100.50");
    ASSERT_EQ(result.sa, nullptr);
    refused += Responder::notify_in(result, iana::NotifyType::NoProposalChosen) != nullptr;
    cookies += Responder::notify_in(result, iana::NotifyType::Cookie) != nullptr;
  }
  const auto& c = r.dispatcher->counters();
  std::printf(
      "2000 refused-type requests from one address: %zu refused, %zu cookies, %llu log lines, %llu "
      "unlogged\n",
      refused, cookies, static_cast<unsigned long long>(c.refused - c.refusals_unlogged),
      static_cast<unsigned long long>(c.refusals_unlogged));
  EXPECT_EQ(refused, AdmissionPolicy{}.cookie_threshold_per_source)
      << "refusals count toward the per-source threshold";
  EXPECT_EQ(cookies, 2000 - refused);
  EXPECT_EQ(c.refused - c.refusals_unlogged, DispatcherConfig{}.refusal_log_burst)
      << "refusal log lines are rate-limited";
  // A legitimate request from another address is not affected.
  EXPECT_NE(r.send(r.good_request(0x9999), "198.51.100.51").sa, nullptr);
  // After the flood decays, the address is answered without a cookie again.
  r.now += std::chrono::minutes(2);
  EXPECT_NE(r.send(r.good_request(0x999a), "198.51.100.50").sa, nullptr);
}

TEST(HalfOpenDispatch, ABadKeyExchangeValueCostsNoKeyGeneration) {
  struct Case {
    const char* proposal;
    iana::DhGroup group;
    Bytes value;
  };
  const Case cases[] = {
      {"aes256gcm16-prfsha256-x25519", iana::DhGroup::Curve25519, Bytes(31, 9)},      // wrong length
      {"aes256gcm16-prfsha256-ecp256", iana::DhGroup::Ecp256, Bytes(64, 1)},          // not on the curve
      {"aes256gcm16-prfsha256-modp2048", iana::DhGroup::Modp2048, Bytes(256, 0xff)},  // y >= p-1
  };
  for (const auto& tc : cases) {
    Responder r(DispatcherConfig{}, tc.proposal);
    const std::size_t before = r.random.drawn;
    auto result = r.send(r.request(0x42, tc.proposal, tc.group, tc.value), "198.51.100.60");
    EXPECT_EQ(result.sa, nullptr) << tc.proposal;
    EXPECT_NE(Responder::notify_in(result, iana::NotifyType::InvalidSyntax), nullptr) << tc.proposal;
    // Only our SPI (8 bytes) was drawn: no private key, no nonce.
    EXPECT_EQ(r.random.drawn - before, 8u) << tc.proposal;
  }
  // The same with a good value does generate a key (so the count above would have seen it).
  Responder r(DispatcherConfig{});
  const std::size_t before = r.random.drawn;
  EXPECT_NE(r.send(r.good_request(0x43), "198.51.100.61").sa, nullptr);
  EXPECT_GE(r.random.drawn - before, 8u + 32u + 32u);
}

TEST(HalfOpenDispatch, AValidCookieIsAdmittedAtTheHalfOpenCap) {
  SaPair pair;
  pair.dispatcher_config.admission.cookie_threshold = 20;
  pair.dispatcher_config.admission.half_open = 20;
  pair.start();
  // A spoofed flood fills the unverified half-open SAs up to both thresholds …
  Responder sender(DispatcherConfig{});
  std::vector<std::unique_ptr<IkeSa>> held;
  for (int i = 0; i < 100; ++i) {
    Bytes bytes = sender.good_request(0x7000 + static_cast<std::uint64_t>(i));
    auto result = pair.dispatcher->handle_initial(
        {bytes, pair.responder_addr, endpoint("203.0.113." + std::to_string(i + 1), 500), false}, pair.now);
    if (result.sa) held.push_back(std::move(result.sa));
  }
  EXPECT_EQ(pair.dispatcher->half_open().total(), 20u);
  // … and a client that returns the cookie still gets in (the old limiter dropped it here).
  pair.run();
  EXPECT_TRUE(pair.both_established());
  EXPECT_EQ(pair.dispatcher->counters().overloaded, 0u);
}

TEST(HalfOpenDispatch, TheMemoryCapEvictsTheOldestHalfOpenSaWhichThenEnds) {
  DispatcherConfig config;
  config.admission.half_open_memory = 2000;
  Responder r(config);
  std::vector<std::unique_ptr<IkeSa>> held;
  std::vector<Bytes> requests;
  for (int i = 0; i < 20; ++i) {
    requests.push_back(r.good_request(0x8000 + static_cast<std::uint64_t>(i)));
    auto result = r.send(requests.back(), "203.0.113." + std::to_string(i + 1));
    ASSERT_NE(result.sa, nullptr);
    held.push_back(std::move(result.sa));
  }
  const auto& h = r.dispatcher->half_open();
  std::printf("20 half-open SAs, cap 2000 bytes: %zu bytes held, %llu evicted\n", h.memory(),
              static_cast<unsigned long long>(h.evictions()));
  EXPECT_LE(h.memory(), 2000u);
  EXPECT_GT(h.memory(), 0u);
  EXPECT_GE(h.evictions(), 10u);
  // The newest is kept, the oldest was evicted and ends on its next datagram.
  EXPECT_EQ(held.back()->state(), SaState::Connecting);
  auto out = held.front()->handle(
      {requests.front(), endpoint("192.0.2.2", 500), endpoint("203.0.113.1", 500), false}, r.now);
  EXPECT_EQ(held.front()->state(), SaState::Deleted);
  EXPECT_TRUE(out.datagrams.empty()) << "an evicted SA answers nothing";
  EXPECT_FALSE(held.front()->holds_half_open());
}

// IKE_AUTH fragments a half-open SA collects (RFC 7383 §2.6) count toward half_open_memory.
TEST(HalfOpenDispatch, FragmentsOfAHalfOpenSaCountTowardTheMemoryCap) {
  auto fragmented_pair = [](std::size_t memory_cap) {
    auto pair = std::make_unique<SaPair>();
    pair->ike_i->fragment_size = 200;
    pair->configs_r.ike->fragment_size = 200;
    pair->dispatcher_config.admission.half_open_memory = memory_cap;
    SaPair* p = pair.get();
    pair->deliver_if = [p](const WireRecord&) { return p->wire.size() < 2; };  // IKE_SA_INIT only
    pair->start_and_run();
    return pair;
  };
  auto pair = fragmented_pair(AdmissionPolicy{}.half_open_memory);
  ASSERT_GE(pair->wire.size(), 4u) << "IKE_AUTH went out in several fragments";
  ASSERT_NE(pair->responder, nullptr);
  const std::size_t after_init = pair->dispatcher->half_open().memory();
  pair->deliver_to_responder(pair->wire[2].datagram);
  const std::size_t after_fragment = pair->dispatcher->half_open().memory();
  std::printf("half-open SA: %zu bytes after IKE_SA_INIT, %zu with one IKE_AUTH fragment\n", after_init,
              after_fragment);
  EXPECT_GT(after_init, 0u);
  EXPECT_GT(after_fragment, after_init + 50);
  EXPECT_EQ(pair->responder->state(), SaState::Connecting);

  // The same with a cap just above the IKE_SA_INIT state: the fragment evicts the SA.
  auto capped = fragmented_pair(after_init + 16);
  ASSERT_NE(capped->responder, nullptr);
  capped->deliver_to_responder(capped->wire[2].datagram);
  EXPECT_EQ(capped->dispatcher->half_open().evictions(), 1u);
  EXPECT_EQ(capped->dispatcher->half_open().memory(), 0u);
  capped->deliver_to_responder(capped->wire[3].datagram);
  EXPECT_EQ(capped->responder->state(), SaState::Deleted) << "an evicted SA ends on its next datagram";
  EXPECT_FALSE(capped->responder->holds_half_open());
}

}  // namespace
}  // namespace natgate::ike
