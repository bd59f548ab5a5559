// Admission of new IKE SAs at the responder (RFC 7296 §2.6): cookies, half-open limits, and the
// case they are tuned for, many road warriors behind one carrier-grade NAT address.
#include <gtest/gtest.h>

#include <map>

#include "crypto/key_exchange.h"
#include "ike/codec/message.h"
#include "ike/codec/message_codec.h"
#include "ike/exchange/cookie_jar.h"
#include "ike/exchange/half_open_limiter.h"
#include "ike/suite/proposal_wire.h"
#include "sa_pair.h"

namespace natgate::ike {
namespace {

using namespace natgate::ike::testing;
using std::chrono::seconds;

TEST(CookieJarTest, VerifiesItsOwnCookiesAndNothingElse) {
  crypto::DeterministicRandom random(7);
  CookieJar jar(random, seconds(120));
  const TimePoint t0 = TimePoint{} + seconds(1000);
  const Bytes ni(32, 0x42);
  const IpAddress ip = *IpAddress::parse("198.51.100.7");
  const IkeSpi spi = IkeSpi::from_u64(0xabc);
  Bytes cookie = jar.make(ni, ip, spi, t0);
  EXPECT_EQ(cookie.size(), CookieJar::kSize);
  EXPECT_TRUE(jar.verify(cookie, ni, ip, spi, t0 + seconds(5)));
  // Bound to the nonce, the address and the SPI.
  EXPECT_FALSE(jar.verify(cookie, Bytes(32, 0x43), ip, spi, t0));
  EXPECT_FALSE(jar.verify(cookie, ni, *IpAddress::parse("198.51.100.8"), spi, t0));
  EXPECT_FALSE(jar.verify(cookie, ni, ip, IkeSpi::from_u64(0xabd), t0));
  Bytes tampered = cookie;
  tampered.back() ^= 1;
  EXPECT_FALSE(jar.verify(tampered, ni, ip, spi, t0));
  EXPECT_FALSE(jar.verify(Bytes(cookie.begin(), cookie.end() - 1), ni, ip, spi, t0));
}

TEST(CookieJarTest, SurvivesOneRotationButNotTwo) {
  crypto::DeterministicRandom random(8);
  CookieJar jar(random, seconds(120));
  const TimePoint t0 = TimePoint{} + seconds(1000);
  const Bytes ni(16, 1);
  const IpAddress ip = *IpAddress::parse("192.0.2.1");
  Bytes cookie = jar.make(ni, ip, IkeSpi::from_u64(1), t0);
  EXPECT_TRUE(jar.verify(cookie, ni, ip, IkeSpi::from_u64(1), t0 + seconds(130)));
  EXPECT_FALSE(jar.verify(cookie, ni, ip, IkeSpi::from_u64(1), t0 + seconds(260)));
}

TEST(HalfOpenLimiterTest, CountsPerAddressAndReleasesWithTheToken) {
  AdmissionPolicy policy;
  policy.cookie_threshold = 4;
  policy.cookie_threshold_per_source = 2;
  policy.half_open_per_source = 3;
  policy.half_open = 10;
  HalfOpenLimiter limiter(policy);
  const TimePoint now = TimePoint{} + seconds(100);
  const IpAddress a = *IpAddress::parse("192.0.2.1"), b = *IpAddress::parse("192.0.2.2");
  EXPECT_EQ(limiter.decide(a, false, now), HalfOpenLimiter::Decision::Admit);
  auto t1 = limiter.admit(a, false);
  auto t2 = limiter.admit(a, false);
  EXPECT_EQ(limiter.count(a), 2u);
  EXPECT_EQ(limiter.decide(a, false, now), HalfOpenLimiter::Decision::RequireCookie);
  EXPECT_EQ(limiter.decide(a, true, now), HalfOpenLimiter::Decision::Admit);
  EXPECT_EQ(limiter.decide(b, false, now), HalfOpenLimiter::Decision::Admit);
  auto t3 = limiter.admit(a, true);
  EXPECT_EQ(limiter.decide(a, true, now), HalfOpenLimiter::Decision::Drop) << "per-source block threshold";
  auto t4 = limiter.admit(b, false);
  EXPECT_EQ(limiter.decide(b, false, now), HalfOpenLimiter::Decision::RequireCookie)
      << "global cookie threshold";
  t1.release();
  { HalfOpenToken moved = std::move(t2); }
  EXPECT_EQ(limiter.count(a), 1u);
  EXPECT_EQ(limiter.total(), 2u);
  EXPECT_FALSE(t2.held());  // NOLINT(bugprone-use-after-move): a moved-from token must hold nothing
}

// Many initiators, one responder side: SAs routed by SPI as the daemon would.
class Crowd {
 public:
  explicit Crowd(DispatcherConfig config) : dispatcher_(config, configs_, env()) {
    configs_.ike->proposals = {ike_proposal("aes256gcm16-prfsha256-x25519")};
    auto peer = std::make_shared<PeerConfig>();
    peer->name = "rw";
    peer->local_id = Identity::fqdn("sun.lab");
    peer->psk = secret("road warrior secret");  // any identity with this PSK
    peer->children.push_back(ChildConfig{
        "rw", {esp_proposal("aes256gcm16")}, {ts("10.2.0.0/24")}, {ts("0.0.0.0/0")}, ChildMode::Tunnel});
    configs_.peers.push_back(peer);
    ike_i_->proposals = configs_.ike->proposals;
  }

  // Starts one road warrior at public_ip:port, behind which it is 10.0.0.x:500.
  void add_client(const std::string& public_ip, std::uint16_t port) {
    auto peer = std::make_shared<PeerConfig>();
    peer->name = "rw";
    peer->local_id = Identity::email("user" + std::to_string(clients_.size()) + "@lab");
    peer->psk = secret("road warrior secret");
    peer->children.push_back(ChildConfig{
        "rw", {esp_proposal("aes256gcm16")}, {ts("10.9.0.0/24")}, {ts("10.2.0.0/24")}, ChildMode::Tunnel});
    Environment e = env();
    auto sa = IkeSa::create_initiator({ike_i_, peer, endpoint("10.0.0.2", 500), responder_}, e);
    Client c{std::move(*sa), endpoint(public_ip, port)};
    auto out = c.sa->initiate(now);
    clients_.push_back(std::move(c));
    absorb_client(clients_.size() - 1, std::move(out));
  }

  void run() {
    for (int round = 0; round < 100 && (!to_responder_.empty() || !to_clients_.empty()); ++round) {
      auto batch = std::move(to_responder_);
      to_responder_.clear();
      for (auto& [from, bytes] : batch) deliver_to_responder(from, bytes);
      auto replies = std::move(to_clients_);
      to_clients_.clear();
      for (auto& [index, bytes] : replies) {
        Client& c = clients_[index];
        ReceivedDatagram in{bytes, c.sa->local(), responder_, false};
        absorb_client(index, c.sa->handle(in, now));
      }
    }
  }

  std::size_t established() const {
    std::size_t n = 0;
    for (const auto& c : clients_) n += c.sa->state() == SaState::Established;
    return n;
  }
  IkeDispatcher& dispatcher() { return dispatcher_; }
  std::size_t responders() const { return by_spi_.size(); }
  TimePoint now = TimePoint{} + seconds(5000);

 private:
  struct Client {
    std::unique_ptr<IkeSa> sa;
    Endpoint public_endpoint;
  };
  Environment env() {
    Environment e;
    e.random = &random_;
    e.allocate_spi = [this](const IpAddress&, const IpAddress&) -> Expected<std::uint32_t> {
      return ++spis_;
    };
    return e;
  }
  void absorb_client(std::size_t index, Output&& out) {
    for (auto& d : out.datagrams) to_responder_.emplace_back(index, std::move(d.bytes));
  }
  void deliver_to_responder(std::size_t index, const Bytes& bytes) {
    const Endpoint from = clients_[index].public_endpoint;
    ReceivedDatagram in{bytes, responder_, from, false};
    auto header = decode_header(bytes);
    if (!header) return;
    Output out;
    auto spi = IkeDispatcher::local_spi(*header);
    if (spi && by_spi_.count(*spi)) {
      out = by_spi_[*spi]->handle(in, now);
    } else if (!spi) {
      auto result = dispatcher_.handle_initial(in, now);
      if (result.sa) by_spi_[result.sa->spi_r()] = std::move(result.sa);
      out = std::move(result.output);
    }
    for (auto& d : out.datagrams) to_clients_.emplace_back(index, std::move(d.bytes));
  }

  FixedConfigs configs_;
  std::shared_ptr<IkeSaConfig> ike_i_ = std::make_shared<IkeSaConfig>();
  crypto::DeterministicRandom random_{99};
  std::uint32_t spis_ = 0x1000;
  IkeDispatcher dispatcher_;
  Endpoint responder_ = endpoint("192.0.2.2", 500);
  std::vector<Client> clients_;
  std::map<IkeSpi, std::unique_ptr<IkeSa>> by_spi_;
  std::vector<std::pair<std::size_t, Bytes>> to_responder_;
  std::vector<std::pair<std::size_t, Bytes>> to_clients_;
};

TEST(Admission, HundredRoadWarriorsBehindOneNatAddressGetInAtOnce) {
  Crowd crowd(DispatcherConfig{});
  for (int i = 0; i < 100; ++i) crowd.add_client("198.51.100.7", static_cast<std::uint16_t>(20000 + i));
  crowd.run();
  EXPECT_EQ(crowd.established(), 100u);
  EXPECT_EQ(crowd.dispatcher().counters().cookies_sent, 0u) << "no cookie round trip with the default policy";
  EXPECT_EQ(crowd.dispatcher().counters().created, 100u);
  EXPECT_EQ(crowd.dispatcher().half_open().total(), 0u);
}

TEST(Admission, AFloodIsHeldAtTheCookieThresholdAndARealClientStillGetsIn) {
  DispatcherConfig config;
  config.admission.cookie_threshold = 50;
  Crowd crowd(config);
  // Spoofed IKE_SA_INITs: the senders never see our answers, so nothing completes.
  crypto::DeterministicRandom spoof(5);
  std::vector<std::unique_ptr<IkeSa>> held;
  IkeSaConfig flood_cfg;
  flood_cfg.proposals = {ike_proposal("aes256gcm16-prfsha256-x25519")};
  for (int i = 0; i < 200; ++i) {
    Message m;
    m.header.spi_i = IkeSpi::from_u64(0x5000 + static_cast<std::uint64_t>(i));
    m.header.set_initiator(true);
    auto ke = crypto::DhKeyPair::generate(iana::DhGroup::Curve25519, spoof);
    m.payloads.push_back(SecurityAssociation{{to_proposal(flood_cfg.proposals[0], 1, {})}});
    m.payloads.push_back(
        KeyExchange{iana::DhGroup::Curve25519, Bytes(ke->public_value().begin(), ke->public_value().end())});
    m.payloads.push_back(Nonce{spoof.bytes(32)});
    Bytes bytes = encode_message(m);
    Endpoint from = endpoint("203.0.113." + std::to_string(i % 250 + 1), 500);
    auto result =
        crowd.dispatcher().handle_initial({bytes, endpoint("192.0.2.2", 500), from, false}, crowd.now);
    // Kept alive by the test, as the daemon's table would.
    if (result.sa) held.push_back(std::move(result.sa));
  }
  EXPECT_EQ(crowd.dispatcher().half_open().total(), 50u);
  EXPECT_EQ(crowd.dispatcher().counters().cookies_sent, 150u);

  crowd.add_client("198.51.100.7", 20000);
  crowd.run();
  EXPECT_EQ(crowd.established(), 1u) << "a client that can receive answers echoes the cookie";
  EXPECT_EQ(crowd.dispatcher().counters().cookies_sent, 151u);
}

}  // namespace
}  // namespace natgate::ike
