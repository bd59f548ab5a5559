// gateway/io/tcp_transport on loopback (RFC 9329; issue 15): what a peer's bytes on a TCP
// connection become (IKE to the handler, ESP out of the stream's shim to the engine's socket) and
// back, the limits a stranger meets (prefix, framing, idle, stream count), and the initiator's
// move from UDP to TCP after unanswered IKE_SA_INITs or, for an established IKE SA after a MOBIKE
// move, INFORMATIONAL requests (and its CHILD SAs following, gateway/core/natt_channel_tcp.h). Plain sockets
// play the peer and the engine.
#include "gateway/io/tcp_transport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "gateway/core/natt_channel_tcp.h"
#include "natt/tcp_encap.h"
#include "sys/unique_fd.h"

namespace natgate::gateway {
namespace {

using namespace std::chrono_literals;

IpAddress loopback() { return IpAddress::v4(0x7F000001u); }

// Runs the io_context until `done` or 3 s (bounded; never a timing assertion).
bool pump(boost::asio::io_context& io, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.restart();
    io.run_for(5ms);
  }
  return true;
}

sockaddr_in to_sockaddr(const Endpoint& e) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(e.port);
  sa.sin_addr.s_addr = htonl(0x7F000001u);
  return sa;
}

Endpoint local_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len).value_or(Endpoint{});
}

sys::UniqueFd connect_to(const Endpoint& e) {
  sys::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const sockaddr_in sa = to_sockaddr(e);
  EXPECT_EQ(::connect(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa), 0);
  return fd;
}

void send_all(int fd, ByteView b) {
  ASSERT_EQ(::send(fd, b.data(), b.size(), MSG_NOSIGNAL), static_cast<ssize_t>(b.size()));
}

// What arrived on fd so far (non-blocking); eof set when the peer closed.
Bytes read_some(int fd, bool* eof = nullptr) {
  Bytes out(65536);
  const ssize_t n = ::recv(fd, out.data(), out.size(), MSG_DONTWAIT);
  if (eof) *eof = n == 0;
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

Bytes ike_message(std::uint8_t exchange = 37, std::uint8_t flags = 0x08, std::size_t size = 40) {
  Bytes m(size, 0);
  for (std::size_t i = 0; i < 8; ++i) m[i] = static_cast<std::uint8_t>(0xA0 + i);  // SPIi
  m[17] = 0x20;                                                                    // version 2.0
  m[18] = exchange;
  m[19] = flags;
  return m;
}

Bytes esp_packet() {
  Bytes p(48, 0x5A);
  p[0] = 0x01, p[1] = 0x02, p[2] = 0x03, p[3] = 0x04;  // SPI
  p[4] = 0, p[5] = 0, p[6] = 0, p[7] = 1;              // sequence number
  return p;
}

Bytes prefix() { return Bytes(natt::tcp::kStreamPrefix.begin(), natt::tcp::kStreamPrefix.end()); }

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

struct Received {
  EndpointPair ends;
  Bytes message;
  bool natt = false;
  int count = 0;
};

class TcpTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_ = sys::UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    const sockaddr_in sa = to_sockaddr(Endpoint{loopback(), 0});
    ASSERT_EQ(::bind(engine_.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa), 0);
  }

  std::unique_ptr<TcpTransport> responder(TcpEncapLimits limits = {}) {
    TcpTransportSettings s;
    s.listen = {Endpoint{loopback(), 0}};
    s.engine = local_of(engine_.get());
    s.limits = limits;
    auto t = TcpTransport::start(io_, std::move(s), [this](const EndpointPair& e, ByteView m, bool natt) {
      got_.ends = e;
      got_.message.assign(m.begin(), m.end());
      got_.natt = natt;
      ++got_.count;
    });
    EXPECT_TRUE(t) << (t ? "" : t.error());
    return t ? std::move(*t) : nullptr;
  }

  boost::asio::io_context io_;
  sys::UniqueFd engine_;
  Received got_;
};

TEST_F(TcpTransportTest, IkeFromAStreamReachesTheHandlerWithItsTcpEndpointsAndTheReplyGoesBack) {
  auto t = responder();
  ASSERT_TRUE(t);
  const Endpoint at = t->listen_endpoints().at(0);
  ASSERT_NE(at.port, 0);
  auto c = connect_to(at);
  const Bytes request = ike_message(34, 0x08);
  send_all(c.get(), concat(prefix(), natt::tcp::ike_frame(request)));
  ASSERT_TRUE(pump(io_, [&] { return got_.count == 1; }));
  EXPECT_EQ(got_.message, request);
  EXPECT_TRUE(got_.natt);
  EXPECT_EQ(got_.ends.remote, local_of(c.get()));
  EXPECT_EQ(got_.ends.local, at);
  EXPECT_TRUE(t->carries(got_.ends));
  EXPECT_EQ(t->transport_of(got_.ends.remote), "tcp");

  // The reply: over the stream, framed, without a prefix (only the originator sends it, §4).
  const Bytes reply = ike_message(34, 0x20);
  OutgoingIke out{.ends = got_.ends, .message = reply};
  auto sent = t->send_ike(out);
  ASSERT_TRUE(sent.has_value());
  EXPECT_TRUE(*sent);
  Bytes back;
  ASSERT_TRUE(pump(io_, [&] {
    Bytes more = read_some(c.get());
    back.insert(back.end(), more.begin(), more.end());
    return back.size() >= natt::tcp::ike_frame(reply).size();
  }));
  EXPECT_EQ(back, natt::tcp::ike_frame(reply));
  EXPECT_EQ(t->counters().ike_rx, 1u);
  EXPECT_EQ(t->counters().ike_tx, 1u);
}

TEST_F(TcpTransportTest, EspCrossesTheShimToTheEngineAndBackIntoTheStream) {
  auto t = responder();
  ASSERT_TRUE(t);
  auto c = connect_to(t->listen_endpoints().at(0));
  const Bytes esp = esp_packet();
  send_all(c.get(), concat(prefix(), natt::tcp::esp_frame(esp)));
  Bytes at_engine(2048);
  sockaddr_storage from{};
  socklen_t from_len = sizeof from;
  ssize_t n = -1;
  ASSERT_TRUE(pump(io_, [&] {
    n = ::recvfrom(engine_.get(), at_engine.data(), at_engine.size(), 0, reinterpret_cast<sockaddr*>(&from),
                   &from_len);
    return n > 0;
  }));
  at_engine.resize(static_cast<std::size_t>(n));
  EXPECT_EQ(at_engine, esp);
  // The engine sees the ESP come from the shim that stands for this peer, on its own address.
  const auto shim = t->shim_for(local_of(c.get()));
  ASSERT_TRUE(shim.has_value());
  EXPECT_EQ(Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&from), from_len), shim);
  EXPECT_NE(shim->address, loopback());
  EXPECT_EQ(t->peer_of_shim(*shim), local_of(c.get()));

  // The engine's ESP for this peer, sent to the shim, comes out of the stream framed (§3.2).
  const Bytes out_esp = esp_packet();
  ASSERT_EQ(::sendto(engine_.get(), out_esp.data(), out_esp.size(), 0, reinterpret_cast<sockaddr*>(&from),
                     from_len),
            static_cast<ssize_t>(out_esp.size()));
  Bytes back;
  ASSERT_TRUE(pump(io_, [&] {
    Bytes more = read_some(c.get());
    back.insert(back.end(), more.begin(), more.end());
    return back.size() >= natt::tcp::esp_frame(out_esp).size();
  }));
  EXPECT_EQ(back, natt::tcp::esp_frame(out_esp));
  EXPECT_EQ(t->counters().esp_rx, 1u);
  EXPECT_EQ(t->counters().esp_tx, 1u);
}

// The shim drains what the engine queued in one go and writes it as batches of frames: a burst of
// ESP larger than one batch (64 datagrams) leaves the stream complete, in the engine's order, each
// packet its own frame (§3.2), and every one counted. (100 small packets: the burst must fit the
// shim's default receive buffer, it is sent before the io_context runs.)
TEST_F(TcpTransportTest, ABurstOfEspLeavesTheStreamFramedInOrderAcrossBatches) {
  auto t = responder();
  ASSERT_TRUE(t);
  auto c = connect_to(t->listen_endpoints().at(0));
  send_all(c.get(), prefix());
  ASSERT_TRUE(pump(io_, [&] { return t->shim_for(local_of(c.get())).has_value(); }));
  // The shim has an address of its own in 127.64.0.0/10 (to_sockaddr would give 127.0.0.1).
  const Endpoint shim = *t->shim_for(local_of(c.get()));
  sockaddr_in to = to_sockaddr(shim);
  to.sin_addr.s_addr = htonl(shim.address.v4_host_order());
  constexpr std::uint32_t kPackets = 100;
  Bytes expected;
  for (std::uint32_t i = 1; i <= kPackets; ++i) {
    Bytes p(400, static_cast<std::uint8_t>(i));
    p[0] = 0x01, p[1] = 0x02, p[2] = 0x03, p[3] = 0x04;  // SPI
    p[4] = 0, p[5] = 0, p[6] = static_cast<std::uint8_t>(i >> 8), p[7] = static_cast<std::uint8_t>(i);
    ASSERT_EQ(
        ::sendto(engine_.get(), p.data(), p.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to),
        static_cast<ssize_t>(p.size()));
    const Bytes f = natt::tcp::esp_frame(p);
    expected.insert(expected.end(), f.begin(), f.end());
  }
  Bytes back;
  ASSERT_TRUE(pump(io_,
                   [&] {
                     Bytes more = read_some(c.get());
                     back.insert(back.end(), more.begin(), more.end());
                     return back.size() >= expected.size();
                   }))
      << back.size() << " of " << expected.size() << " bytes, esp_tx " << t->counters().esp_tx;
  ASSERT_EQ(back.size(), expected.size());
  EXPECT_TRUE(back == expected);
  EXPECT_EQ(t->counters().esp_tx, kPackets);
  EXPECT_EQ(t->counters().queue_drops, 0u);
}

// ESP frames of one read go to the engine as one UDP GSO datagram (equal-sized packets, a shorter
// one ends it); the engine's socket here has no GRO, so the kernel hands it the packets one by
// one: each must arrive whole, in stream order, also around an IKE frame and a size change.
TEST_F(TcpTransportTest, EspOfOneReadReachesTheEngineAsItsPacketsInStreamOrder) {
  auto t = responder();
  ASSERT_TRUE(t);
  auto c = connect_to(t->listen_endpoints().at(0));
  std::vector<Bytes> sent;
  auto esp = [&](std::size_t size, std::uint8_t seq) {
    Bytes p(size, seq);
    p[0] = 0x01, p[1] = 0x02, p[2] = 0x03, p[3] = 0x04;  // SPI
    p[4] = 0, p[5] = 0, p[6] = 0, p[7] = seq;
    sent.push_back(p);
    return natt::tcp::esp_frame(p);
  };
  Bytes stream = prefix();
  for (std::uint8_t i = 1; i <= 70; ++i) stream = concat(stream, esp(1000, i));  // over one GSO datagram
  stream = concat(stream, esp(600, 71));                                         // shorter: ends it
  stream = concat(stream, natt::tcp::ike_frame(ike_message()));
  stream = concat(stream, esp(1000, 72));
  stream = concat(stream, esp(1200, 73));  // larger: a datagram of its own
  stream = concat(stream, esp(1200, 74));
  send_all(c.get(), stream);
  std::vector<Bytes> got;
  ASSERT_TRUE(pump(io_,
                   [&] {
                     Bytes b(4096);
                     const ssize_t n = ::recv(engine_.get(), b.data(), b.size(), MSG_DONTWAIT);
                     if (n > 0) got.emplace_back(b.begin(), b.begin() + n);
                     return got.size() >= sent.size() && got_.count == 1;
                   }))
      << got.size() << " of " << sent.size();
  EXPECT_EQ(got, sent);
  EXPECT_EQ(t->counters().esp_rx, sent.size());
  EXPECT_EQ(t->counters().queue_drops, 0u);
}

TEST_F(TcpTransportTest, AWrongPrefixClosesThatStreamAndIsCounted) {
  auto t = responder();
  ASSERT_TRUE(t);
  auto c = connect_to(t->listen_endpoints().at(0));
  Bytes bad = prefix();
  bad[5] = 'Q';
  send_all(c.get(), concat(bad, natt::tcp::ike_frame(ike_message())));
  bool eof = false;
  ASSERT_TRUE(pump(io_, [&] {
    read_some(c.get(), &eof);
    return eof;
  }));
  EXPECT_EQ(t->counters().closed_bad_framing, 1u);
  EXPECT_EQ(got_.count, 0);
  EXPECT_EQ(t->open_streams(), 0u);
  // The listener goes on: the next stream is served.
  auto c2 = connect_to(t->listen_endpoints().at(0));
  send_all(c2.get(), concat(prefix(), natt::tcp::ike_frame(ike_message())));
  ASSERT_TRUE(pump(io_, [&] { return got_.count == 1; }));
}

TEST_F(TcpTransportTest, AStreamWithoutIkeIsClosedAfterTheIdleLimit) {
  TcpEncapLimits limits;
  limits.idle_before_ike = 50ms;
  auto t = responder(limits);
  ASSERT_TRUE(t);
  auto c = connect_to(t->listen_endpoints().at(0));
  send_all(c.get(), prefix());
  bool eof = false;
  ASSERT_TRUE(pump(io_, [&] {
    read_some(c.get(), &eof);
    return eof;
  }));
  EXPECT_EQ(t->counters().closed_idle, 1u);
  EXPECT_EQ(t->open_streams(), 0u);
}

TEST_F(TcpTransportTest, StreamsBeyondTheLimitAreRefused) {
  TcpEncapLimits limits;
  limits.max_streams = 1;
  auto t = responder(limits);
  ASSERT_TRUE(t);
  auto c1 = connect_to(t->listen_endpoints().at(0));
  ASSERT_TRUE(pump(io_, [&] { return t->counters().accepted == 1; }));
  auto c2 = connect_to(t->listen_endpoints().at(0));
  ASSERT_TRUE(pump(io_, [&] { return t->counters().refused_over_limit == 1; }));
  bool eof = false;
  ASSERT_TRUE(pump(io_, [&] {
    read_some(c2.get(), &eof);
    return eof;
  }));
  EXPECT_EQ(t->open_streams(), 1u);
}

TEST_F(TcpTransportTest, AutoMovesToTcpAfterUnansweredIkeSaInitRetransmitsAndAnswersComeBack) {
  auto gw = responder();
  ASSERT_TRUE(gw);
  Received at_client;
  TcpTransportSettings s;
  s.engine = local_of(engine_.get());
  s.peers[loopback()] = {TcpEncapMode::Auto, gw->listen_endpoints().at(0).port, 1};
  auto client = TcpTransport::start(io_, std::move(s), [&](const EndpointPair& e, ByteView m, bool natt) {
    at_client.ends = e;
    at_client.message.assign(m.begin(), m.end());
    at_client.natt = natt;
    ++at_client.count;
  });
  ASSERT_TRUE(client);
  const Bytes init = ike_message(34, 0x08);
  const EndpointPair udp_ends{.local = Endpoint{loopback(), 500}, .remote = Endpoint{loopback(), 500}};
  OutgoingIke out{.ends = udp_ends,
                  .message = init,
                  .natt = false,
                  .from_original_initiator = true,
                  .ike_sa_init_request = true,
                  .spi_i = {1, 2, 3, 4, 5, 6, 7, 8}};
  // The first send and one retransmit go over UDP (the IKE core sends them)...
  EXPECT_FALSE((*client)->send_ike(out).has_value());
  EXPECT_FALSE((*client)->send_ike(out).has_value());
  // ...the next over TCP.
  auto third = (*client)->send_ike(out);
  ASSERT_TRUE(third.has_value());
  EXPECT_TRUE(*third);
  EXPECT_EQ((*client)->counters().switched_to_tcp, 1u);
  ASSERT_TRUE(pump(io_, [&] { return got_.count == 1; }));
  EXPECT_EQ(got_.message, init);

  // The gateway's answer reaches the client's IKE core on the path it sent on.
  const Bytes answer = ike_message(34, 0x20);
  ASSERT_TRUE(gw->send_ike(OutgoingIke{.ends = got_.ends, .message = answer}).value_or(Status{}));
  ASSERT_TRUE(pump(io_, [&] { return at_client.count == 1; }));
  EXPECT_EQ(at_client.message, answer);
  EXPECT_EQ(at_client.ends, udp_ends);
  EXPECT_FALSE(at_client.natt);
  // The peer's IKE now always takes the stream, and its SAs the shim.
  OutgoingIke later = out;
  later.ike_sa_init_request = false;
  EXPECT_TRUE((*client)->send_ike(later).has_value());
  EXPECT_TRUE((*client)->shim_for(Endpoint{loopback(), 4500}).has_value());
}

TEST_F(TcpTransportTest, AlwaysSendsTheFirstIkeSaInitOverTcpAndRetriesAFailedConnect) {
  // A port nobody listens on first: the connect fails and is counted, the next send tries again.
  sys::UniqueFd probe(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const sockaddr_in any = to_sockaddr(Endpoint{loopback(), 0});
  ASSERT_EQ(::bind(probe.get(), reinterpret_cast<const sockaddr*>(&any), sizeof any), 0);
  const std::uint16_t closed_port = local_of(probe.get()).port;  // bound, not listening: refused
  TcpTransportSettings s;
  s.engine = local_of(engine_.get());
  s.peers[loopback()] = {TcpEncapMode::Always, closed_port, 1};
  auto t = TcpTransport::start(io_, std::move(s), nullptr);
  ASSERT_TRUE(t);
  const Bytes init = ike_message(34, 0x08);
  OutgoingIke out{.ends = {.local = Endpoint{loopback(), 500}, .remote = Endpoint{loopback(), 500}},
                  .message = init,
                  .from_original_initiator = true,
                  .ike_sa_init_request = true};
  auto first = (*t)->send_ike(out);
  ASSERT_TRUE(first.has_value());  // never UDP with tcp: always
  ASSERT_TRUE(pump(io_, [&] { return (*t)->counters().connect_failures == 1; }));
  EXPECT_EQ((*t)->open_streams(), 0u);
  EXPECT_TRUE((*t)->send_ike(out).has_value());
  ASSERT_TRUE(pump(io_, [&] { return (*t)->counters().connect_failures == 2; }));
  EXPECT_EQ((*t)->counters().switched_to_tcp, 0u);  // not a fallback: TCP from the start
}

TEST_F(TcpTransportTest, NeverAndResponderMessagesStayOnUdp) {
  TcpTransportSettings s;
  s.engine = local_of(engine_.get());
  s.peers[loopback()] = {TcpEncapMode::Never, 443, 0};
  auto t = TcpTransport::start(io_, std::move(s), nullptr);
  ASSERT_TRUE(t);
  const Bytes init = ike_message(34, 0x08);
  OutgoingIke out{.ends = {.local = Endpoint{loopback(), 500}, .remote = Endpoint{loopback(), 500}},
                  .message = init,
                  .from_original_initiator = true,
                  .ike_sa_init_request = true};
  for (int i = 0; i < 4; ++i) EXPECT_FALSE((*t)->send_ike(out).has_value());
  EXPECT_EQ((*t)->counters().switched_to_tcp, 0u);
  EXPECT_FALSE((*t)->shim_for(out.ends.remote).has_value());
}

}  // namespace
}  // namespace natgate::gateway

namespace natgate::gateway {
namespace {

// A MOBIKE move into a network that drops UDP (issue 15): the established IKE SA's INFORMATIONAL
// request (UPDATE_SA_ADDRESSES, RFC 4555 §3.5) goes unanswered; after the same retransmit count
// as an IKE_SA_INIT the peer moves to TCP, the moved handler runs with the stream's shim already
// there (so the CHILD SAs can follow), and status can say why.
TEST_F(TcpTransportTest, AutoMovesAnEstablishedIkeSaToTcpWhenItsInformationalGoesUnanswered) {
  auto gw = responder();
  ASSERT_TRUE(gw);
  TcpTransportSettings s;
  s.engine = local_of(engine_.get());
  s.peers[loopback()] = {TcpEncapMode::Auto, gw->listen_endpoints().at(0).port, 1};
  auto client = TcpTransport::start(io_, std::move(s), nullptr);
  ASSERT_TRUE(client);
  std::vector<IpAddress> moved;
  bool shim_at_move = false;
  (*client)->set_moved_handler([&](const IpAddress& peer) {
    moved.push_back(peer);
    shim_at_move = (*client)->shim_for(Endpoint{peer, 4500}).has_value();
  });
  const Bytes update = ike_message(37, 0x08);
  const EndpointPair udp_ends{.local = Endpoint{loopback(), 4500}, .remote = Endpoint{loopback(), 4500}};
  OutgoingIke out{.ends = udp_ends,
                  .message = update,
                  .natt = true,
                  .from_original_initiator = true,
                  .informational_request = true,
                  .message_id = 5,
                  .spi_i = {1, 2, 3, 4, 5, 6, 7, 8}};
  OutgoingIke other = out;
  other.message_id = 6;  // another request is counted on its own
  EXPECT_FALSE((*client)->send_ike(out).has_value());
  EXPECT_FALSE((*client)->send_ike(other).has_value());
  EXPECT_FALSE((*client)->send_ike(out).has_value());
  EXPECT_TRUE(moved.empty());
  EXPECT_EQ((*client)->tcp_reason(udp_ends.remote), "");
  // The second retransmit of request 5: over TCP, and the SAs are told.
  auto third = (*client)->send_ike(out);
  ASSERT_TRUE(third.has_value());
  EXPECT_TRUE(*third);
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0], loopback());
  EXPECT_TRUE(shim_at_move);
  EXPECT_EQ((*client)->counters().switched_to_tcp, 1u);
  ASSERT_TRUE(pump(io_, [&] { return got_.count == 1; }));
  EXPECT_EQ(got_.message, update);
  EXPECT_EQ((*client)->transport_of(udp_ends.remote), "tcp");
  EXPECT_NE((*client)->tcp_reason(udp_ends.remote).find("INFORMATIONAL"), std::string::npos)
      << (*client)->tcp_reason(udp_ends.remote);
  // Request 6 now takes the stream too, without a second move.
  EXPECT_TRUE((*client)->send_ike(other).has_value());
  EXPECT_EQ(moved.size(), 1u);
}

// The originator re-opens its stream after a reset (§6, §7): once an SA's authenticated ESP came
// over the new stream (the data plane's mapping event, note_reopened), IKE the IKE core still
// addresses to the closed stream (a retransmitted liveness check, a Delete) goes over the new
// one instead of failing; before that it fails as before (no leak onto UDP).
TEST_F(TcpTransportTest, IkeForAClosedStreamFollowsTheStreamThePeerReopened) {
  auto gw = responder();
  ASSERT_TRUE(gw);
  const Endpoint at = gw->listen_endpoints().at(0);
  auto first = connect_to(at);
  send_all(first.get(), concat(prefix(), natt::tcp::ike_frame(ike_message(34, 0x08))));
  ASSERT_TRUE(pump(io_, [&] { return got_.count == 1; }));
  const EndpointPair old_ends = got_.ends;
  const auto old_shim = gw->shim_for(old_ends.remote);
  ASSERT_TRUE(old_shim);
  first = sys::UniqueFd();  // the reset
  ASSERT_TRUE(pump(io_, [&] { return gw->counters().closed_by_peer == 1; }));
  const Bytes request = ike_message(37, 0x00);
  OutgoingIke out{.ends = old_ends, .message = request};
  auto failed = gw->send_ike(out);
  ASSERT_TRUE(failed.has_value());
  EXPECT_FALSE(*failed);
  EXPECT_EQ(gw->peer_of_shim(*old_shim), old_ends.remote);  // still named after the close

  auto second = connect_to(at);
  send_all(second.get(), concat(prefix(), natt::tcp::esp_frame(esp_packet())));
  ASSERT_TRUE(pump(io_, [&] { return gw->counters().esp_rx == 1; }));
  const auto new_shim = gw->shim_for(local_of(second.get()));
  ASSERT_TRUE(new_shim);
  gw->note_reopened(*old_shim, *new_shim);
  auto sent = gw->send_ike(out);
  ASSERT_TRUE(sent.has_value());
  EXPECT_TRUE(*sent);
  Bytes back;
  ASSERT_TRUE(pump(io_, [&] {
    Bytes more = read_some(second.get());
    back.insert(back.end(), more.begin(), more.end());
    return back.size() >= natt::tcp::ike_frame(request).size();
  }));
  EXPECT_EQ(back, natt::tcp::ike_frame(request));
}

// A responder's stream is named as the peer's doing, not a fallback.
TEST_F(TcpTransportTest, StatusReasonOfAnAcceptedStreamAndOfUdp) {
  auto gw = responder();
  ASSERT_TRUE(gw);
  auto c = connect_to(gw->listen_endpoints().at(0));
  ASSERT_TRUE(pump(io_, [&] { return gw->counters().accepted == 1; }));
  const Endpoint peer = local_of(c.get());
  EXPECT_EQ(gw->tcp_reason(peer), "the peer connected over TCP (RFC 9329)");
  EXPECT_EQ(gw->tcp_reason(Endpoint{IpAddress::v4(0xC0000201u), 4500}), "");
}

}  // namespace
}  // namespace natgate::gateway

namespace natgate::gateway::core {
namespace {

// What the engine is told: SAs as added, and every endpoint update.
class EngineRecorder final : public dataplane::SaBackend {
 public:
  struct Update {
    std::uint32_t spi;
    IpAddress old_dst;
    EndpointPair ends;
    bool udp_encap;
  };
  std::vector<dataplane::SaSpec> added;
  std::vector<Update> updates;

  std::string name() const override { return "engine"; }
  Expected<std::uint32_t> allocate_spi(const AddressPair&, std::uint32_t) override { return 0x1000u; }
  Status add_sa(const dataplane::SaSpec& sa) override {
    added.push_back(sa);
    return {};
  }
  Status update_sa_endpoints(std::uint32_t spi, const IpAddress& old_dst, const EndpointPair& ends,
                             bool udp_encap) override {
    updates.push_back({spi, old_dst, ends, udp_encap});
    return {};
  }
  Expected<dataplane::SaCounters> query_sa(std::uint32_t, const IpAddress&) override {
    return dataplane::SaCounters{};
  }
  Status delete_sa(std::uint32_t, const IpAddress&) override { return {}; }
  Status add_policy(const dataplane::PolicySpec&) override { return {}; }
  Status replace_policy(const dataplane::PolicySpec&) override { return {}; }
  Status delete_policy(const dataplane::PolicySpec&) override { return {}; }
  void set_listener(dataplane::EventListener*) override {}
  int event_fd() const override { return -1; }
  void poll_events() override {}
  void flush() override {}
};

dataplane::SaSpec sa_to(std::uint32_t spi, dataplane::Direction d, const EndpointPair& ends) {
  dataplane::SaSpec sa;
  sa.spi = spi;
  sa.direction = d;
  dataplane::set_outer_ends(sa, ends, true);
  return sa;
}

// The CHILD SAs of an IKE SA that tcp: auto moves to TCP mid-life (a MOBIKE move into a network
// without UDP) follow to the stream's shim, in both directions; SAs of other peers stay.
TEST_F(TcpTransportTest, InstalledSasFollowAPeerMovedToTcp) {
  auto gw = responder();
  ASSERT_TRUE(gw);
  TcpTransportSettings s;
  s.engine = local_of(engine_.get());
  s.peers[loopback()] = {TcpEncapMode::Auto, gw->listen_endpoints().at(0).port, 0};
  auto client = TcpTransport::start(io_, std::move(s), nullptr);
  ASSERT_TRUE(client);
  auto engine = std::make_unique<EngineRecorder>();
  EngineRecorder& rec = *engine;
  TcpSaBackend backend(std::move(engine), **client);

  const Endpoint me{IpAddress::v4(0xC0A8020Bu), 4500};  // 192.168.2.11, behind NAT B
  const EndpointPair to_gw{.local = me, .remote = Endpoint{loopback(), 4500}};
  const EndpointPair to_other{.local = me, .remote = Endpoint{IpAddress::v4(0xC6336402u), 4500}};
  ASSERT_TRUE(backend.add_sa(sa_to(0x11, dataplane::Direction::Out, to_gw)));
  ASSERT_TRUE(backend.add_sa(sa_to(0x22, dataplane::Direction::In, to_gw)));
  ASSERT_TRUE(backend.add_sa(sa_to(0x33, dataplane::Direction::Out, to_other)));
  ASSERT_EQ(rec.added.size(), 3u);
  EXPECT_EQ(rec.added[0].dst.address, loopback());  // over UDP to the gateway, as installed

  const Bytes update = ike_message(37, 0x08);
  OutgoingIke out{.ends = to_gw,
                  .message = update,
                  .natt = true,
                  .from_original_initiator = true,
                  .informational_request = true,
                  .message_id = 2,
                  .spi_i = {9, 9, 9, 9, 9, 9, 9, 9}};
  EXPECT_FALSE((*client)->send_ike(out).has_value());  // tcp_after_retransmits: 0
  ASSERT_TRUE((*client)->send_ike(out).has_value());
  const auto shim = (*client)->shim_for(to_gw.remote);
  ASSERT_TRUE(shim);
  ASSERT_EQ(rec.updates.size(), 2u);  // 0x11 and 0x22, not the other peer's 0x33
  for (const auto& u : rec.updates) {
    EXPECT_TRUE(u.spi == 0x11 || u.spi == 0x22) << u.spi;
    EXPECT_EQ(u.ends.remote, *shim);
    EXPECT_EQ(u.ends.local.address, loopback());
    EXPECT_TRUE(u.udp_encap);
    EXPECT_EQ(u.old_dst, u.spi == 0x11 ? loopback() : me.address);
  }
  // The IKE core still names the SAs as before; the backend finds them under those names.
  ASSERT_TRUE(backend.update_sa_endpoints(0x11, loopback(), to_gw, true));
  ASSERT_EQ(rec.updates.size(), 3u);
  EXPECT_EQ(rec.updates.back().old_dst, shim->address);
  EXPECT_EQ(rec.updates.back().ends.remote, *shim);
}

// tcp: auto, back to UDP on the next full re-establishment (issue 15): after an IKE SA moved to
// TCP, an IKE_SA_INIT for a fresh IKE SA tries UDP again and moves to TCP only after the same
// count of unanswered retransmits; the old IKE SA keeps the stream for its own messages; new
// CHILD SAs go over UDP; the stream closes once its last outbound SA is gone.
TEST_F(TcpTransportTest, AutoTriesUdpAgainForAFreshIkeSaAndClosesTheOldStreamWithItsLastSa) {
  auto gw = responder();
  ASSERT_TRUE(gw);
  TcpTransportSettings s;
  s.engine = local_of(engine_.get());
  s.peers[loopback()] = {TcpEncapMode::Auto, gw->listen_endpoints().at(0).port, 0};
  auto client = TcpTransport::start(io_, std::move(s), nullptr);
  ASSERT_TRUE(client);
  auto engine = std::make_unique<EngineRecorder>();
  EngineRecorder& rec = *engine;
  TcpSaBackend backend(std::move(engine), **client);
  const EndpointPair to_gw{.local = Endpoint{loopback(), 4500}, .remote = Endpoint{loopback(), 4500}};
  const Bytes init = ike_message(34, 0x08);
  const Bytes info = ike_message(37, 0x08);
  auto init_of = [&](std::uint8_t spi) {
    return OutgoingIke{.ends = to_gw,
                       .message = init,
                       .from_original_initiator = true,
                       .ike_sa_init_request = true,
                       .spi_i = {spi, 0, 0, 0, 0, 0, 0, 1}};
  };
  OutgoingIke old_info{.ends = to_gw,
                       .message = info,
                       .natt = true,
                       .from_original_initiator = true,
                       .informational_request = true,
                       .message_id = 3,
                       .spi_i = {0xA, 0, 0, 0, 0, 0, 0, 1}};

  // IKE SA A: UDP unanswered once (tcp_after_retransmits: 0), then TCP.
  EXPECT_FALSE((*client)->send_ike(init_of(0xA)).has_value());
  ASSERT_TRUE((*client)->send_ike(init_of(0xA)).has_value());
  ASSERT_TRUE(pump(io_, [&] { return got_.count == 1 && (*client)->open_streams() == 1; }));
  const auto shim = (*client)->shim_for(to_gw.remote);
  ASSERT_TRUE(shim);
  ASSERT_TRUE(backend.add_sa(sa_to(0x11, dataplane::Direction::Out, to_gw)));
  ASSERT_TRUE(backend.add_sa(sa_to(0x22, dataplane::Direction::In, to_gw)));
  EXPECT_EQ(rec.added.at(0).dst.address, shim->address);

  // IKE SA B (a full re-establishment): UDP first; status says why.
  EXPECT_FALSE((*client)->send_ike(init_of(0xB)).has_value());
  EXPECT_EQ((*client)->counters().back_to_udp, 1u);
  EXPECT_FALSE((*client)->shim_for(to_gw.remote).has_value());
  EXPECT_EQ((*client)->transport_of(to_gw.remote), "udp");
  EXPECT_EQ((*client)->tcp_reason(to_gw.remote), "");
  EXPECT_NE((*client)->udp_reason(to_gw.remote).find("back on UDP"), std::string::npos)
      << (*client)->udp_reason(to_gw.remote);
  EXPECT_FALSE((*client)->carries(to_gw));  // NAT-keepalives again for the UDP IKE SA
  // A's own requests keep the stream; B's CHILD SAs are installed towards the peer over UDP.
  ASSERT_TRUE((*client)->send_ike(old_info).has_value());
  ASSERT_TRUE(pump(io_, [&] { return got_.count == 2; }));
  EXPECT_EQ(got_.message, info);
  ASSERT_TRUE(backend.add_sa(sa_to(0x33, dataplane::Direction::Out, to_gw)));
  EXPECT_EQ(rec.added.back().dst.address, loopback());

  // A's inbound SA goes: its outbound one still sends to the shim, the stream stays.
  ASSERT_TRUE(backend.delete_sa(0x22, loopback()));
  EXPECT_EQ((*client)->counters().streams_retired, 0u);
  EXPECT_EQ((*client)->open_streams(), 1u);
  // The last one goes: the stream closes (the gateway sees the connection end).
  ASSERT_TRUE(backend.delete_sa(0x11, loopback()));
  EXPECT_EQ((*client)->counters().streams_retired, 1u);
  EXPECT_EQ((*client)->open_streams(), 0u);
  ASSERT_TRUE(pump(io_, [&] { return gw->counters().closed_by_peer == 1; }));

  // B's IKE_SA_INIT still unanswered over UDP: after the configured count it moves to a new stream.
  ASSERT_TRUE((*client)->send_ike(init_of(0xB)).has_value());
  EXPECT_EQ((*client)->counters().switched_to_tcp, 2u);
  ASSERT_TRUE(pump(io_, [&] { return got_.count == 3 && gw->counters().accepted == 2; }));
  EXPECT_NE((*client)->tcp_reason(to_gw.remote).find("IKE_SA_INIT"), std::string::npos);
  EXPECT_EQ((*client)->udp_reason(to_gw.remote), "");
}

// tcp: always never goes back to UDP: a fresh IKE SA starts on the stream too.
TEST_F(TcpTransportTest, AlwaysKeepsAFreshIkeSaOnTcp) {
  auto gw = responder();
  ASSERT_TRUE(gw);
  TcpTransportSettings s;
  s.engine = local_of(engine_.get());
  s.peers[loopback()] = {TcpEncapMode::Always, gw->listen_endpoints().at(0).port, 1};
  auto client = TcpTransport::start(io_, std::move(s), nullptr);
  ASSERT_TRUE(client);
  const Bytes init = ike_message(34, 0x08);
  const EndpointPair to_gw{.local = Endpoint{loopback(), 500}, .remote = Endpoint{loopback(), 500}};
  for (std::uint8_t spi : {std::uint8_t{1}, std::uint8_t{2}}) {
    OutgoingIke out{.ends = to_gw,
                    .message = init,
                    .from_original_initiator = true,
                    .ike_sa_init_request = true,
                    .spi_i = {spi, 0, 0, 0, 0, 0, 0, 0}};
    ASSERT_TRUE((*client)->send_ike(out).has_value());
  }
  ASSERT_TRUE(pump(io_, [&] { return got_.count == 2; }));
  EXPECT_EQ((*client)->counters().back_to_udp, 0u);
  EXPECT_EQ(gw->counters().accepted, 1u);  // one stream for both
  EXPECT_EQ((*client)->udp_reason(to_gw.remote), "");
  EXPECT_EQ((*client)->tcp_reason(to_gw.remote), "tcp: always");
}

// After the gateway rekeys the IKE SA it is the new SA's original initiator (RFC 7296 §2.18):
// the client's own requests then carry no I flag, and must still take the open stream (UDP may be
// dropped); a peer without a stream stays on UDP.
TEST_F(TcpTransportTest, RequestsOfAnIkeSaThePeerRekeyedTakeTheOpenStream) {
  auto gw = responder();
  ASSERT_TRUE(gw);
  TcpTransportSettings s;
  s.engine = local_of(engine_.get());
  s.peers[loopback()] = {TcpEncapMode::Auto, gw->listen_endpoints().at(0).port, 0};
  auto client = TcpTransport::start(io_, std::move(s), nullptr);
  ASSERT_TRUE(client);
  const EndpointPair to_gw{.local = Endpoint{loopback(), 500}, .remote = Endpoint{loopback(), 500}};
  const Bytes request = ike_message(37, 0x00);  // no I flag: we are not the original initiator
  const Bytes init_message = ike_message(34, 0x08);
  OutgoingIke as_responder{.ends = to_gw, .message = request, .from_original_initiator = false};
  EXPECT_FALSE((*client)->send_ike(as_responder).has_value());  // no stream yet: UDP
  // tcp: auto after 0 retransmits: the IKE_SA_INIT goes over UDP, its first retransmit moves the
  // peer to TCP.
  OutgoingIke init{.ends = to_gw,
                   .message = init_message,
                   .from_original_initiator = true,
                   .ike_sa_init_request = true,
                   .spi_i = {1, 0, 0, 0, 0, 0, 0, 0}};
  EXPECT_FALSE((*client)->send_ike(init).has_value());
  ASSERT_TRUE((*client)->send_ike(init).has_value());
  ASSERT_TRUE(pump(io_, [&] { return got_.count == 1; }));
  auto sent = (*client)->send_ike(as_responder);
  ASSERT_TRUE(sent.has_value());
  EXPECT_TRUE(*sent) << sent->error();
  ASSERT_TRUE(pump(io_, [&] { return got_.count == 2; }));
  EXPECT_EQ(got_.message, request);
  EXPECT_EQ(gw->counters().accepted, 1u);  // the same stream
}

}  // namespace
}  // namespace natgate::gateway::core
