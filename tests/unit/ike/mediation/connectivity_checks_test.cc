// The connectivity checks (ike/mediation/connectivity_checks.h) between two check lists joined by
// an in-memory network, with an optional NAT in front of the initiator: pacing, the retransmission
// schedule, triggered checks, peer-reflexive learning, nomination, and what is dropped.
#include "ike/mediation/connectivity_checks.h"

#include <gtest/gtest.h>

#include <set>

#include "ike/codec/message_codec.h"

namespace natgate::ike::mediation {
namespace {

using std::chrono::milliseconds;

Endpoint ep(const char* addr, std::uint16_t port) { return Endpoint{*IpAddress::parse(addr), port}; }

SecretBytes key(std::uint8_t fill) { return SecretBytes(ByteView(Bytes(16, fill))); }

Candidate host(const char* addr, std::uint16_t port) {
  Endpoint e = ep(addr, port);
  return {MeEndpointType::Host, e, e, candidate_priority(MeEndpointType::Host, kTopLocalPreference)};
}

const Bytes kConnectId = hex_bytes("01020304");

// An endpoint-independent mapping with address-dependent filtering (RFC 4787 §4.1, §5).
struct Nat {
  Endpoint inside;
  Endpoint outside;
  std::set<IpAddress> contacted;
};

struct Delivery {
  bool to_a;
  EndpointPair path;  // as the receiver sees it
  Bytes datagram;
};

class World {
 public:
  World(std::vector<Candidate> a_local, std::vector<Candidate> a_told_b, std::vector<Candidate> b_local,
        std::optional<Nat> nat = std::nullopt)
      : a_host_(a_local.front().address), b_host_(b_local.front().address), nat_(std::move(nat)) {
    a_ = std::make_unique<ConnectivityChecks>(
        ChecklistConfig{true, kConnectId, key(0xaa), key(0xbb), a_local, b_local, {}, kMaxPairs});
    b_ = std::make_unique<ConnectivityChecks>(ChecklistConfig{
        false, kConnectId, key(0xbb), key(0xaa), b_local, std::move(a_told_b), {}, kMaxPairs});
  }

  void start() {
    route(true, a_->start(now_));
    route(false, b_->start(now_));
  }

  // Runs until A nominates or `limit` passes; deliveries take no time.
  void run(milliseconds limit) {
    TimePoint end = now_ + limit;
    for (int guard = 0; guard < 100000 && !nomination_; ++guard) {
      flush();
      if (nomination_) break;
      std::optional<TimePoint> next = earliest(a_->next_deadline(), b_->next_deadline());
      if (!next || *next > end) break;
      now_ = std::max(now_, *next);
      route(true, a_->on_timer(now_));
      route(false, b_->on_timer(now_));
    }
    flush();
  }

  ConnectivityChecks& a() { return *a_; }
  ConnectivityChecks& b() { return *b_; }
  const std::optional<Nomination>& nomination() const { return nomination_; }
  TimePoint now() const { return now_; }
  TimePoint t0() const { return t0_; }
  std::vector<TimePoint> a_send_times;
  bool drop_everything = false;

 private:
  static std::optional<TimePoint> earliest(std::optional<TimePoint> x, std::optional<TimePoint> y) {
    if (!x) return y;
    if (!y) return x;
    return std::min(*x, *y);
  }

  void route(bool from_a, ChecksOutput out) {
    if (from_a && out.finished && !nomination_) nomination_ = out.finished;
    for (SendCheck& s : out.sends) {
      if (from_a) a_send_times.push_back(now_);
      if (drop_everything) continue;
      Endpoint src = s.path.local;
      Endpoint dst = s.path.remote;
      if (from_a) {
        if (nat_ && src == nat_->inside) {
          src = nat_->outside;
          nat_->contacted.insert(dst.address);
        }
        if (dst == b_host_) queue_.push_back({false, {.local = dst, .remote = src}, std::move(s.datagram)});
      } else {
        if (nat_ && dst == nat_->outside && nat_->contacted.count(src.address)) {
          queue_.push_back({true, {.local = nat_->inside, .remote = src}, std::move(s.datagram)});
        } else if (!nat_ && dst == a_host_) {
          queue_.push_back({true, {.local = dst, .remote = src}, std::move(s.datagram)});
        }
      }
    }
  }

  void flush() {
    for (int guard = 0; guard < 10000 && !queue_.empty(); ++guard) {
      Delivery d = std::move(queue_.front());
      queue_.erase(queue_.begin());
      auto m = decode_message(d.datagram);
      ASSERT_TRUE(m);
      auto check = parse_check(*m);
      ASSERT_TRUE(check);
      ConnectivityChecks& to = d.to_a ? *a_ : *b_;
      route(d.to_a, to.on_check(*check, d.path, now_));
    }
  }

  TimePoint t0_{std::chrono::seconds(1000)};
  TimePoint now_ = t0_;
  Endpoint a_host_;
  Endpoint b_host_;
  std::optional<Nat> nat_;
  std::unique_ptr<ConnectivityChecks> a_;
  std::unique_ptr<ConnectivityChecks> b_;
  std::vector<Delivery> queue_;
  std::optional<Nomination> nomination_;
};

TEST(RetransmissionTimeout, StrongSwanSchedule) {
  CheckTiming t;
  std::vector<long> got;
  for (std::uint32_t n = 1; n <= 14; ++n)
    got.push_back(static_cast<long>(retransmission_timeout(t, n).count()));
  // 25 ms twice, then 25 * 1.8^(n-2), truncated.
  EXPECT_EQ(got,
            (std::vector<long>{25, 25, 45, 81, 145, 262, 472, 850, 1530, 2754, 4958, 8926, 16067, 28920}));
}

TEST(ConnectivityChecks, UnansweredCheckIsSentFourteenTimesThenTheListFails) {
  World w({host("10.0.0.1", 4500)}, {host("10.0.0.1", 4500)}, {host("10.0.0.2", 4500)});
  w.drop_everything = true;
  w.start();
  w.run(milliseconds(120'000));
  // A's sends at the cumulative RTOs; B's own check runs in parallel but is not counted here.
  std::vector<long> offsets;
  for (TimePoint t : w.a_send_times)
    offsets.push_back(static_cast<long>(std::chrono::duration_cast<milliseconds>(t - w.t0()).count()));
  EXPECT_EQ(offsets,
            (std::vector<long>{0, 25, 50, 95, 176, 321, 583, 1055, 1905, 3435, 6189, 11147, 20073, 36140}));
  ASSERT_TRUE(w.nomination());
  EXPECT_FALSE(w.nomination()->pair);
  EXPECT_EQ(w.nomination()->reason, "all 1 pairs failed");
  EXPECT_EQ(std::chrono::duration_cast<milliseconds>(w.now() - w.t0()).count(), 65060);
  EXPECT_EQ(w.a().counters().checks_sent, 1u);
  EXPECT_EQ(w.a().counters().retransmissions, 13u);
  EXPECT_EQ(w.a().state(), ChecklistState::Failed);
  EXPECT_FALSE(w.a().next_deadline());
}

TEST(ConnectivityChecks, DirectPathSucceedsAndTheInitiatorNominatesAtOnceWhenNoPairIsLeft) {
  World w({host("10.0.0.1", 4500)}, {host("10.0.0.1", 4500)}, {host("10.0.0.2", 4500)});
  w.start();
  w.run(milliseconds(10'000));
  ASSERT_TRUE(w.nomination());
  ASSERT_TRUE(w.nomination()->pair);
  EXPECT_EQ(w.nomination()->pair->path, (EndpointPair{ep("10.0.0.1", 4500), ep("10.0.0.2", 4500)}));
  EXPECT_EQ(w.nomination()->reason, "pair 1 10.0.0.1:4500 - 10.0.0.2:4500 succeeded");
  EXPECT_EQ(w.a().state(), ChecklistState::Succeeded);
  EXPECT_EQ(w.b().state(), ChecklistState::Succeeded);
  // Both sides answered each other's check: nothing was retransmitted.
  EXPECT_EQ(w.a().counters().retransmissions, 0u);
  EXPECT_EQ(w.b().counters().responses_sent, 1u);
  // Nothing pending once A has decided; the check list no longer answers.
  EXPECT_FALSE(w.a().next_deadline());
}

TEST(ConnectivityChecks, InitiatorWaitsOneSecondForBetterPairsAfterTheFirstSuccess) {
  // A's second address is not reachable from B: its pair stays in progress, so A nominates pair 1
  // one second after the first success could no longer be overtaken by a waiting pair.
  Candidate second = host("10.0.1.1", 4500);
  second.priority -= 1;
  World w({host("10.0.0.1", 4500), second}, {host("10.0.0.1", 4500), second}, {host("10.0.0.2", 4500)});
  w.start();
  w.run(milliseconds(120'000));
  ASSERT_TRUE(w.nomination());
  ASSERT_TRUE(w.nomination()->pair);
  EXPECT_EQ(w.nomination()->pair->path.local, ep("10.0.0.1", 4500));
  // Pair 2's first check left at 25 ms; from then on nothing was waiting and pair 1 had succeeded.
  EXPECT_EQ(std::chrono::duration_cast<milliseconds>(w.now() - w.t0()).count(), 1025);
}

TEST(ConnectivityChecks, InitiatorBehindNatIsReachedThroughTheHoleItsOwnCheckPunched) {
  Nat nat{ep("192.168.1.2", 4500), ep("203.0.113.1", 40000), {}};
  Candidate a_host = host("192.168.1.2", 4500);
  Candidate a_srflx{MeEndpointType::ServerReflexive, ep("203.0.113.1", 40000), ep("192.168.1.2", 4500),
                    candidate_priority(MeEndpointType::ServerReflexive, kTopLocalPreference)};
  World w({a_host, a_srflx}, {a_host, a_srflx}, {host("198.51.100.7", 4500)}, nat);
  w.start();
  w.run(milliseconds(120'000));
  ASSERT_TRUE(w.nomination());
  ASSERT_TRUE(w.nomination()->pair);
  EXPECT_EQ(w.nomination()->pair->path, (EndpointPair{ep("192.168.1.2", 4500), ep("198.51.100.7", 4500)}));
  // A's request reached B from the reflexive address (which opened the NAT for B's response);
  // B's own check to A's private address went nowhere.
  for (const PairStatus& p : w.b().pairs()) {
    if (p.pair.path.remote == ep("192.168.1.2", 4500)) {
      EXPECT_EQ(p.state, PairState::InProgress);
    }
    if (p.pair.path.remote == ep("203.0.113.1", 40000)) {
      EXPECT_EQ(p.state, PairState::Waiting);  // its triggered check had not left yet
    }
  }
  EXPECT_EQ(w.b().counters().responses_sent, 1u);
}

TEST(ConnectivityChecks, UnannouncedSourceBecomesAPeerReflexiveCandidate) {
  // A does not tell B about its reflexive address: B learns it from A's first check.
  Nat nat{ep("192.168.1.2", 4500), ep("203.0.113.1", 40000), {}};
  World w({host("192.168.1.2", 4500)}, {host("192.168.1.2", 4500)}, {host("198.51.100.7", 4500)}, nat);
  w.start();
  w.run(milliseconds(120'000));
  ASSERT_TRUE(w.nomination());
  ASSERT_TRUE(w.nomination()->pair);
  bool learnt = false;
  for (const Candidate& c : w.b().remote_candidates())
    learnt |= c.type == MeEndpointType::PeerReflexive && c.address == ep("203.0.113.1", 40000) &&
              c.priority == candidate_priority(MeEndpointType::PeerReflexive, kTopLocalPreference);
  EXPECT_TRUE(learnt);
  // And A learns the mapping B saw as a local peer-reflexive candidate.
  bool mapped = false;
  for (const Candidate& c : w.a().local_candidates())
    mapped |= c.type == MeEndpointType::PeerReflexive && c.address == ep("203.0.113.1", 40000) &&
              c.base == ep("192.168.1.2", 4500);
  EXPECT_TRUE(mapped);
}

TEST(ConnectivityChecks, PacingIsOneNewCheckPerIntervalInPriorityOrder) {
  std::vector<Candidate> a_local;
  for (const char* addr : {"10.0.0.1", "10.0.1.1", "10.0.2.1"}) a_local.push_back(host(addr, 4500));
  a_local[1].priority -= 1;
  a_local[2].priority -= 2;
  ConnectivityChecks a(
      ChecklistConfig{true, kConnectId, key(1), key(2), a_local, {host("10.9.9.9", 4500)}, {}, 64});
  TimePoint t0{std::chrono::seconds(5)};
  auto first = a.start(t0);
  ASSERT_EQ(first.sends.size(), 1u);
  EXPECT_EQ(first.sends[0].path.local, ep("10.0.0.1", 4500));
  ASSERT_EQ(a.next_deadline(), t0 + milliseconds(25));
  auto second = a.on_timer(t0 + milliseconds(25));
  // Pair 1's first retransmission and pair 2's first check leave together.
  ASSERT_EQ(second.sends.size(), 2u);
  EXPECT_EQ(second.sends[0].path.local, ep("10.0.0.1", 4500));
  EXPECT_EQ(second.sends[1].path.local, ep("10.0.1.1", 4500));
  auto third = a.on_timer(t0 + milliseconds(50));
  EXPECT_EQ(third.sends.back().path.local, ep("10.0.2.1", 4500));
  EXPECT_EQ(a.counters().checks_sent, 3u);
}

TEST(ConnectivityChecks, ARequestTriggersACheckAheadOfWaitingPairs) {
  std::vector<Candidate> b_local = {host("10.0.0.2", 4500), host("10.0.5.2", 4500)};
  b_local[1].priority -= 1;
  ConnectivityChecks b(
      ChecklistConfig{false, kConnectId, key(2), key(1), b_local, {host("10.0.0.1", 4500)}, {}, 64});
  TimePoint t0{std::chrono::seconds(5)};
  b.start(t0);  // pair 1 (10.0.0.2) in progress, pair 2 (10.0.5.2) waiting
  // A request from an address B did not know arrives on 10.0.5.2.
  MeEndpoint prflx{0x0080ffff, MeEndpointType::PeerReflexive, std::nullopt};
  auto check = parse_check(build_check(true, 9, kConnectId, prflx, key(1)));
  ASSERT_TRUE(check);
  EndpointPair path{ep("10.0.5.2", 4500), ep("172.16.0.1", 4500)};
  auto out = b.on_check(*check, path, t0 + milliseconds(5));
  ASSERT_EQ(out.sends.size(), 1u);  // the response, at once
  auto response = parse_check(*decode_message(out.sends[0].datagram));
  ASSERT_TRUE(response);
  EXPECT_FALSE(response->request);
  EXPECT_EQ(response->message_id, 9u);
  EXPECT_EQ(response->endpoint.address, ep("172.16.0.1", 4500));
  EXPECT_EQ(response->endpoint.priority, 0x0080ffffu);
  // The next paced check goes to the triggered pair, not to waiting pair 2.
  auto next = b.on_timer(t0 + milliseconds(25));
  ASSERT_FALSE(next.sends.empty());
  EXPECT_EQ(next.sends.back().path, path);
}

TEST(ConnectivityChecks, ForgedOrForeignChecksAreCountedAndIgnored) {
  ConnectivityChecks b(ChecklistConfig{
      false, kConnectId, key(2), key(1), {host("10.0.0.2", 4500)}, {host("10.0.0.1", 4500)}, {}, 64});
  TimePoint t0{std::chrono::seconds(5)};
  b.start(t0);
  MeEndpoint prflx{0x0080ffff, MeEndpointType::PeerReflexive, std::nullopt};
  EndpointPair path{ep("10.0.0.2", 4500), ep("10.0.0.1", 4500)};
  auto forged = parse_check(build_check(true, 1, kConnectId, prflx, key(3)));  // wrong key
  EXPECT_TRUE(b.on_check(*forged, path, t0).sends.empty());
  auto foreign = parse_check(build_check(true, 1, hex_bytes("09090909"), prflx, key(1)));
  EXPECT_TRUE(b.on_check(*foreign, path, t0).sends.empty());
  EXPECT_EQ(b.counters().bad_auth, 2u);
  // A response for a pair B never had.
  auto stray = parse_check(build_check(false, 77, kConnectId, prflx, key(1)));
  EXPECT_TRUE(b.on_check(*stray, path, t0).sends.empty());
  EXPECT_EQ(b.counters().unknown_pair, 1u);
}

TEST(ConnectivityChecks, RequestsFromManySourcesCannotGrowTheListPastItsLimit) {
  ConnectivityChecks b(ChecklistConfig{
      false, kConnectId, key(2), key(1), {host("10.0.0.2", 4500)}, {host("10.0.0.1", 4500)}, {}, 8});
  TimePoint t0{std::chrono::seconds(5)};
  b.start(t0);
  MeEndpoint prflx{0x0080ffff, MeEndpointType::PeerReflexive, std::nullopt};
  auto check = parse_check(build_check(true, 1, kConnectId, prflx, key(1)));
  for (std::uint16_t port = 1000; port < 1100; ++port)
    b.on_check(*check, {ep("10.0.0.2", 4500), ep("10.0.0.1", port)}, t0);
  EXPECT_EQ(b.pairs().size(), 8u);
  EXPECT_EQ(b.counters().pair_limit, 93u);  // 100 sources, 1 pair to start with, 7 new ones admitted
  EXPECT_LE(b.remote_candidates().size(), kMaxCandidates);
}

TEST(ConnectivityChecks, ResponderStopsWhenTheMediatedSaArrives) {
  ConnectivityChecks b(ChecklistConfig{
      false, kConnectId, key(2), key(1), {host("10.0.0.2", 4500)}, {host("10.0.0.1", 4500)}, {}, 64});
  TimePoint t0{std::chrono::seconds(5)};
  EXPECT_EQ(b.start(t0).sends.size(), 1u);
  ASSERT_TRUE(b.next_deadline());
  b.stop();
  EXPECT_FALSE(b.next_deadline());
  EXPECT_TRUE(b.on_timer(t0 + milliseconds(100)).sends.empty());
  MeEndpoint prflx{0x0080ffff, MeEndpointType::PeerReflexive, std::nullopt};
  auto check = parse_check(build_check(true, 1, kConnectId, prflx, key(1)));
  EXPECT_TRUE(b.on_check(*check, {ep("10.0.0.2", 4500), ep("10.0.0.1", 4500)}, t0).sends.empty());
  EXPECT_EQ(b.counters().after_finish, 1u);
}

TEST(ConnectivityChecks, NoCommonFamilyFailsAtOnce) {
  ConnectivityChecks a(ChecklistConfig{
      true, kConnectId, key(1), key(2), {host("10.0.0.1", 4500)}, {host("2001:db8::1", 4500)}, {}, 64});
  auto out = a.start(TimePoint{});
  ASSERT_TRUE(out.finished);
  EXPECT_FALSE(out.finished->pair);
  EXPECT_EQ(out.finished->reason, "no candidate pairs (no address family in common)");
  EXPECT_TRUE(out.sends.empty());
}

}  // namespace
}  // namespace natgate::ike::mediation
