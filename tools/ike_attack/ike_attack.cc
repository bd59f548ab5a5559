// natgate_ike_attack: a hostile IKEv2 peer for the attack suite (tests/attack/preauth.cmake),
// built from ike/exchange's IkeSa initiators over UDP sockets, as natgate_ike_load is. Each mode
// prints its figures on lines of its own; the scripts assert on them and on the gateway's status.
//
//   natgate_ike_attack eap-fail SERVER COUNT PSK_FILE [--id-size N] [--parallel P] [--timeout S]
//       COUNT EAP-MSCHAPv2 attempts, each with an identity (IDi and EAP identity) of its own and a
//       wrong password; the gateway's PSK AUTH is checked. Prints
//       "eap-fail: COUNT attempts, F failed, E established, T timed out in MS ms".
//   natgate_ike_attack capture SERVER PSK_FILE OUT_FILE [--hold S]
//       One road warrior (id replay.ra.lab, PSK, virtual IP): establishes, sends a liveness check
//       (an empty INFORMATIONAL, RFC 7296 §2.4), writes that request as sent (hex) to OUT_FILE,
//       then keeps the SA up for S seconds answering the gateway, and finally checks with a new
//       liveness check that the SA still works from here ("still answered: yes/no").
//   natgate_ike_attack send SERVER PORT HEX_FILE [--count N] [--listen S]
//       Sends the captured request N times from here (with the non-ESP marker on 4500) and
//       counts what comes back in S seconds: "send: N sent, A answers received here".
//   natgate_ike_attack limits SERVER PSK_FILE [--children N] [--rekeys N] [--identity-sas N]
//       One authenticated road warrior (id limits.ra.lab) asks for a CHILD SA with 255 x 255
//       selectors, N more CHILD SAs and N rekeys, then opens N more IKE SAs under the same
//       identity; prints what was answered.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/iana.h"
#include "crypto/random.h"
#include "ike/codec/describe.h"
#include "ike/codec/message_codec.h"
#include "ike/exchange/ike_sa.h"
#include "ike/suite/proposal_spec.h"
#include "sys/unique_fd.h"

using namespace natgate;
using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "natgate_ike_attack: %s\n", why.c_str());
  std::exit(2);
}

// A whole decimal number from the command line, or die (atoi read "12x" as 12 and "x" as 0).
long number_arg(const char* text) {
  long value = 0;
  const char* end = text + std::strlen(text);
  const auto [stop, ec] = std::from_chars(text, end, value);
  if (ec != std::errc{} || stop != end) die(std::string("not a number: ") + text);
  return value;
}

class Socket {
 public:
  explicit Socket(const IpAddress& local)
      : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    std::memcpy(&a.sin_addr, local.bytes().data(), 4);
    if (!fd_.valid() || ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      die("bind: " + std::string(std::strerror(errno)));
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_.get(); }
  std::uint16_t port() const {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&a), &len);
    return ntohs(a.sin_port);
  }
  void send(ByteView bytes, const Endpoint& to, bool marker) const {
    Bytes wire;
    if (marker) wire.assign(4, 0);  // RFC 3948 §2.2 non-ESP marker
    wire.insert(wire.end(), bytes.begin(), bytes.end());
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(to.port);
    std::memcpy(&a.sin_addr, to.address.bytes().data(), 4);
    (void)::sendto(fd_.get(), wire.data(), wire.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  // One datagram, if any: its bytes (after the marker on a NAT-T socket) and sender.
  bool receive(Bytes& out, Endpoint& from, bool marker) const {
    std::uint8_t buf[65536];
    sockaddr_in a{};
    socklen_t len = sizeof a;
    const ssize_t n = ::recvfrom(fd_.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&a), &len);
    if (n <= 0) return false;
    std::size_t skip = 0;
    if (marker) {
      if (n < 8 || buf[0] || buf[1] || buf[2] || buf[3]) {
        out.clear();
        return true;  // a keepalive or ESP: nothing for IKE
      }
      skip = 4;
    }
    out.assign(buf + skip, buf + n);
    from = Endpoint{
        IpAddress::from_bytes(IpFamily::V4, ByteView(reinterpret_cast<const std::uint8_t*>(&a.sin_addr), 4)),
        ntohs(a.sin_port)};
    return true;
  }

 private:
  sys::UniqueFd fd_;
};

// The address the kernel picks for the server (what NAT-D must hash, RFC 7296 §2.23).
IpAddress source_for(const IpAddress& server) {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(500);
  std::memcpy(&a.sin_addr, server.bytes().data(), 4);
  if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("no route to the server");
  sockaddr_in me{};
  socklen_t len = sizeof me;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&me), &len);
  ::close(s);
  return IpAddress::from_bytes(IpFamily::V4,
                               ByteView(reinterpret_cast<const std::uint8_t*>(&me.sin_addr), 4));
}

std::string read_line(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  std::getline(f, line);
  if (line.empty()) die("nothing in " + path);
  return line;
}

std::string hex(ByteView b) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (auto c : b) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

Bytes unhex(const std::string& text) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoi(text.substr(i, 2), nullptr, 16)));
  return out;
}

ike::ProposalSpec proposal(iana::ProtocolId p, const char* text) {
  auto spec = ike::parse_proposal(p, text);
  if (!spec) die(std::string("bad proposal ") + text);
  return *spec;
}

TrafficSelector any4() { return TrafficSelector::from_subnet(*Subnet::parse("0.0.0.0/0")); }

// One initiator IkeSa on a socket pair (500-side and NAT-T side), driven by a poll loop.
class Peer {
 public:
  Peer(const IpAddress& local, const IpAddress& server, crypto::RandomSource& random)
      : ike_(local), natt_(local), local_(local), server_(server), random_(random) {}

  std::function<void(const ike::Event&)> on_event;

  void start(std::shared_ptr<const ike::PeerConfig> peer) {
    auto cfg = std::make_shared<ike::IkeSaConfig>();
    cfg->proposals = {proposal(iana::ProtocolId::Ike, "aes256gcm16-prfsha256-x25519")};
    cfg->natt_port = natt_.port();
    cfg->remote_natt_port = 4500;
    ike::Environment env;
    env.random = &random_;
    env.allocate_spi = [this](const IpAddress&, const IpAddress&) -> Expected<std::uint32_t> {
      std::uint32_t spi = 0;
      while (spi < 256) random_.fill(MutableByteView(reinterpret_cast<std::uint8_t*>(&spi), 4));
      return spi;
    };
    auto sa = ike::IkeSa::create_initiator(
        {cfg, std::move(peer), Endpoint{local_, ike_.port()}, Endpoint{server_, 500}}, env);
    if (!sa) die(sa.error());
    sa_ = std::move(*sa);
    timers_.clear();
    absorb(sa_->initiate(now()));
  }
  ike::IkeSa* sa() { return sa_.get(); }
  bool ended() const { return !sa_ || sa_->state() == ike::SaState::Deleted; }

  template <typename F>
  void call(F&& f) {
    if (sa_) absorb(f(*sa_, now()));
  }

  // Due timers, then what the sockets hold.
  void service() {
    const auto t = Clock::now();
    for (auto it = timers_.begin(); it != timers_.end();) {
      if (it->second <= t && sa_) {
        const auto kind = it->first;
        it = timers_.erase(it);
        absorb(sa_->on_timer(kind, now()));
      } else {
        ++it;
      }
    }
    for (bool natt : {false, true}) {
      const Socket& s = natt ? natt_ : ike_;
      Bytes bytes;
      Endpoint from;
      for (int k = 0; k < 64 && s.receive(bytes, from, natt); ++k) {
        if (bytes.empty() || !sa_) continue;
        Endpoint here{local_, s.port()};
        absorb(sa_->handle(ike::ReceivedDatagram{bytes, here, from, natt}, now()));
      }
    }
  }
  void add_fds(std::vector<pollfd>& fds) const {
    fds.push_back({ike_.fd(), POLLIN, 0});
    fds.push_back({natt_.fd(), POLLIN, 0});
  }
  std::vector<Bytes> sent_requests;  // every IKE request datagram sent, as on the wire (no marker)

 private:
  static ike::TimePoint now() {
    static const auto t0 = Clock::now();
    return ike::TimePoint{} + std::chrono::duration_cast<ike::Duration>(Clock::now() - t0);
  }
  void absorb(ike::Output&& out) {
    const auto t = Clock::now();
    const auto n = now();
    for (const auto& d : out.datagrams) {
      (d.natt ? natt_ : ike_).send(d.bytes, d.remote, d.natt);
      auto h = ike::decode_header(d.bytes);
      if (h && !h->response()) sent_requests.push_back(d.bytes);
    }
    for (const auto& tm : out.timers) {
      if (tm.deadline)
        timers_[tm.kind] = t + std::chrono::duration_cast<Clock::duration>(*tm.deadline - n);
      else
        timers_.erase(tm.kind);
    }
    for (const auto& e : out.events)
      if (on_event) on_event(e);
  }

  Socket ike_;
  Socket natt_;
  IpAddress local_;
  IpAddress server_;
  crypto::RandomSource& random_;
  std::unique_ptr<ike::IkeSa> sa_;
  std::map<ike::TimerKind, Clock::time_point> timers_;
};

// Polls the peers until `done` or the deadline; false on timeout.
bool run(const std::vector<Peer*>& peers, const std::function<bool()>& done, Clock::time_point deadline) {
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::vector<pollfd> fds;
    for (auto* p : peers) p->add_fds(fds);
    ::poll(fds.data(), fds.size(), 20);
    for (auto* p : peers) p->service();
  }
  return true;
}

std::shared_ptr<ike::PeerConfig> road_warrior(const std::string& id, const std::string& psk) {
  auto peer = std::make_shared<ike::PeerConfig>();
  peer->name = id;
  peer->local_id = ike::Identity::fqdn(id);
  peer->remote_id = ike::Identity::fqdn("gw.ra.lab");
  peer->psk = SecretBytes(as_bytes(psk));
  peer->send_initial_contact = false;
  peer->request_virtual_ips = {IpAddress::any(IpFamily::V4)};
  ike::ChildConfig child;
  child.name = "rw";
  child.proposals = {proposal(iana::ProtocolId::Esp, "aes256gcm16")};
  child.local_ts = {any4()};
  child.remote_ts = {any4()};
  peer->children.push_back(child);
  return peer;
}

std::string option(int argc, char** argv, int from, const char* name, const std::string& fallback) {
  for (int i = from; i + 1 < argc; ++i)
    if (std::string(argv[i]) == name) return argv[i + 1];
  return fallback;
}

std::string random_label(crypto::RandomSource& random, std::size_t size) {
  static const char* alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  Bytes raw(size);
  random.fill(raw);
  std::string out;
  for (auto b : raw) out.push_back(alphabet[b % 36]);
  return out;
}

// ---- eap-fail ----

int eap_fail(int argc, char** argv) {
  if (argc < 5) die("eap-fail SERVER COUNT PSK_FILE [--id-size N] [--parallel P] [--timeout S]");
  auto server = IpAddress::parse(argv[2]);
  const auto count = static_cast<int>(number_arg(argv[3]));
  const std::string psk = read_line(argv[4]);
  const auto id_size = static_cast<std::size_t>(std::stoul(option(argc, argv, 5, "--id-size", "200")));
  const int parallel = std::stoi(option(argc, argv, 5, "--parallel", "32"));
  const int timeout_s = std::stoi(option(argc, argv, 5, "--timeout", "50"));
  if (!server || !server->is_v4() || count <= 0 || parallel <= 0 || id_size < 8) die("bad arguments");
  const IpAddress local = source_for(*server);
  crypto::SystemRandom random;

  int started = 0, failed = 0, established = 0, timed_out = 0;
  std::vector<std::unique_ptr<Peer>> peers;
  peers.reserve(static_cast<std::size_t>(std::min(parallel, count)));
  for (int i = 0; i < std::min(parallel, count); ++i)
    peers.push_back(std::make_unique<Peer>(local, *server, random));
  auto next_attempt = [&](Peer& p) {
    const std::string user = random_label(random, 12);
    auto peer = std::make_shared<ike::PeerConfig>();
    peer->name = "eap-fail";
    peer->local_id = ike::Identity::fqdn(random_label(random, id_size) + ".ra.lab");
    peer->remote_id = ike::Identity::fqdn("gw.ra.lab");
    peer->psk = SecretBytes(as_bytes(psk));
    peer->send_initial_contact = false;
    peer->request_virtual_ips = {IpAddress::any(IpFamily::V4)};
    auto auth = std::make_shared<ike::AuthConfig>();
    auth->local = ike::AuthKind::EapMschapv2;
    auth->remote = ike::AuthKind::Psk;
    auth->eap_identity = user;
    auth->eap_password = SecretBytes(as_bytes(random_label(random, 16)));
    peer->auth = auth;
    ike::ChildConfig child;
    child.name = "rw";
    child.proposals = {proposal(iana::ProtocolId::Esp, "aes256gcm16")};
    child.local_ts = {any4()};
    child.remote_ts = {any4()};
    peer->children.push_back(child);
    ++started;
    p.start(peer);
  };
  for (auto& p : peers) {
    Peer* raw = p.get();
    raw->on_event = [&](const ike::Event& e) {
      if (std::holds_alternative<ike::IkeSaEstablished>(e)) ++established;
      if (const auto* d = std::get_if<ike::IkeSaDeleted>(&e); d && !d->was_established) {
        if (d->reason == ike::DeleteReason::Timeout)
          ++timed_out;
        else
          ++failed;
      }
    };
    next_attempt(*raw);
  }
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::seconds(timeout_s);
  std::vector<Peer*> all;
  all.reserve(peers.size());
  for (auto& p : peers) all.push_back(p.get());
  const bool finished = run(
      all,
      [&] {
        bool idle = true;
        for (auto* p : all) {
          if (p->ended() && started < count) next_attempt(*p);
          idle = idle && p->ended();
        }
        return idle && started >= count;
      },
      deadline);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  std::printf(
      "eap-fail: %d attempts, %d failed, %d established, %d timed out in %lld ms (identities of %zu octets, "
      "%d at a time)%s\n",
      started, failed, established, timed_out, static_cast<long long>(ms), id_size + 7, parallel,
      finished ? "" : " (deadline reached)");
  return finished && established == 0 ? 0 : 1;
}

// ---- capture / send ----

int capture(int argc, char** argv) {
  if (argc < 5) die("capture SERVER PSK_FILE OUT_FILE [--hold S]");
  auto server = IpAddress::parse(argv[2]);
  if (!server || !server->is_v4()) die("bad server");
  const std::string psk = read_line(argv[3]);
  const int hold_s = std::stoi(option(argc, argv, 5, "--hold", "10"));
  crypto::SystemRandom random;
  Peer peer(source_for(*server), *server, random);
  bool up = false;
  unsigned informational_answers = 0;
  peer.on_event = [&](const ike::Event& e) {
    if (std::holds_alternative<ike::ChildSaEstablished>(e)) up = true;
  };
  peer.start(road_warrior("replay.ra.lab", psk));
  if (!run(
          {&peer}, [&] { return up; }, Clock::now() + std::chrono::seconds(15)))
    die("the road warrior did not come up");
  // The request to capture: a liveness check, answered normally.
  const auto answered_before = peer.sa()->counters().datagrams_received;
  peer.call([](ike::IkeSa& sa, ike::TimePoint now) { return sa.check_liveness(now); });
  if (peer.sent_requests.empty()) die("no liveness check was sent");
  const Bytes captured = peer.sent_requests.back();
  run(
      {&peer}, [&] { return peer.sa()->counters().datagrams_received > answered_before; },
      Clock::now() + std::chrono::seconds(5));
  informational_answers = static_cast<unsigned>(peer.sa()->counters().datagrams_received - answered_before);
  {
    std::ofstream out(argv[4]);
    out << hex(captured) << "\n";
  }
  std::printf("capture: up as replay.ra.lab from %s, liveness check of %zu octets captured (answered: %s)\n",
              peer.sa()->local().to_string().c_str(), captured.size(), informational_answers ? "yes" : "no");
  std::fflush(stdout);
  run(
      {&peer}, [] { return false; }, Clock::now() + std::chrono::seconds(hold_s));
  // Still ours? A new liveness check from here must be answered.
  const auto before = peer.sa()->counters().datagrams_received;
  peer.call([](ike::IkeSa& sa, ike::TimePoint now) { return sa.check_liveness(now); });
  const bool answered = run(
      {&peer}, [&] { return peer.sa()->counters().datagrams_received > before; },
      Clock::now() + std::chrono::seconds(5));
  std::printf("capture: still answered here after the hold: %s; IKE SA %s\n", answered ? "yes" : "no",
              ike::to_string(peer.sa()->state()));
  std::fflush(stdout);
  peer.call([](ike::IkeSa& sa, ike::TimePoint now) { return sa.delete_ike_sa(now); });
  run(
      {&peer}, [&] { return peer.ended(); }, Clock::now() + std::chrono::seconds(3));
  return answered ? 0 : 1;
}

int send_captured(int argc, char** argv) {
  if (argc < 5) die("send SERVER PORT HEX_FILE [--count N] [--listen S]");
  auto server = IpAddress::parse(argv[2]);
  const auto port = static_cast<std::uint16_t>(number_arg(argv[3]));
  const Bytes bytes = unhex(read_line(argv[4]));
  const int count = std::stoi(option(argc, argv, 5, "--count", "3"));
  const int listen_s = std::stoi(option(argc, argv, 5, "--listen", "2"));
  if (!server || bytes.empty()) die("bad arguments");
  Socket s(source_for(*server));
  const bool marker = port != 500;
  for (int i = 0; i < count; ++i) s.send(bytes, Endpoint{*server, port}, marker);
  int answers = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(listen_s);
  while (Clock::now() < deadline) {
    pollfd p{s.fd(), POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    Bytes in;
    Endpoint from;
    while (s.receive(in, from, marker)) ++answers;
  }
  std::printf("send: %d sent from %s:%u, %d answers received here\n", count,
              source_for(*server).to_string().c_str(), s.port(), answers);
  return 0;
}

// ---- limits ----

int limits(int argc, char** argv) {
  if (argc < 4) die("limits SERVER PSK_FILE [--children N] [--rekeys N]");
  auto server = IpAddress::parse(argv[2]);
  if (!server || !server->is_v4()) die("bad server");
  const std::string psk = read_line(argv[3]);
  const int children = std::stoi(option(argc, argv, 4, "--children", "200"));
  const int rekeys = std::stoi(option(argc, argv, 4, "--rekeys", "40"));
  const int identity_sas = std::stoi(option(argc, argv, 4, "--identity-sas", "9"));
  crypto::SystemRandom random;
  Peer peer(source_for(*server), *server, random);
  auto config = road_warrior("limits.ra.lab", psk);
  IpAddress vip;
  unsigned child_up = 0;
  std::map<std::string, unsigned> refused;  // by notify
  bool ike_gone = false;
  peer.on_event = [&](const ike::Event& e) {
    if (const auto* v = std::get_if<ike::VirtualIpsAssigned>(&e); v && !v->attributes.addresses.empty())
      vip = v->attributes.addresses.front();
    if (std::holds_alternative<ike::ChildSaEstablished>(e)) ++child_up;
    if (const auto* f = std::get_if<ike::ChildSaFailed>(&e)) ++refused[ike::notify_name(f->notify)];
    if (std::holds_alternative<ike::IkeSaDeleted>(e)) ike_gone = true;
  };
  peer.start(config);
  if (!run(
          {&peer}, [&] { return child_up == 1; }, Clock::now() + std::chrono::seconds(15)))
    die("the road warrior did not come up");
  std::printf("limits: up as limits.ra.lab, virtual IP %s\n", vip.to_string().c_str());

  // 255 x 255 selectors: our virtual IP on 255 UDP ports, 255 hosts of the gateway's LAN, all of
  // which the gateway could narrow to (so only the count can refuse them).
  ike::ChildConfig wide;
  wide.name = "wide";
  wide.proposals = config->children[0].proposals;
  for (int i = 1; i <= 255; ++i) {
    wide.local_ts.push_back(TrafficSelector{vip, vip, 17, static_cast<std::uint16_t>(1000 + i),
                                            static_cast<std::uint16_t>(1000 + i)});
    const IpAddress host = IpAddress::v4((10u << 24) | (2u << 16) | static_cast<std::uint32_t>(i));
    wide.remote_ts.push_back(TrafficSelector{host, host, 0, 0, 65535});
  }
  ike::ChildConfig extra = config->children[0];
  extra.name = "extra";
  config->children.push_back(wide);
  config->children.push_back(extra);

  auto settle = [&](unsigned expected_events) {
    run(
        {&peer},
        [&] {
          unsigned n = child_up;
          for (const auto& [k, v] : refused) n += v;
          return n >= expected_events || ike_gone;
        },
        Clock::now() + std::chrono::seconds(20));
  };
  auto events = [&] {
    unsigned n = child_up;
    for (const auto& [k, v] : refused) n += v;
    return n;
  };
  unsigned before = events();
  peer.call([](ike::IkeSa& sa, ike::TimePoint now) { return sa.create_child_sa("wide", now); });
  settle(before + 1);
  std::printf("limits: CHILD SA with 255 x 255 selectors: %s\n",
              child_up > 1
                  ? "established"
                  : (refused.empty() ? "no answer" : ("refused with " + refused.begin()->first).c_str()));

  const unsigned up_before = child_up;
  const auto refused_before = refused;
  before = events();
  for (int i = 0; i < children; ++i)
    peer.call([](ike::IkeSa& sa, ike::TimePoint now) { return sa.create_child_sa("extra", now); });
  settle(before + static_cast<unsigned>(children));
  std::string why;
  for (const auto& [k, v] : refused) {
    auto it = refused_before.find(k);
    const unsigned n = v - (it == refused_before.end() ? 0 : it->second);
    if (n) why += " " + std::to_string(n) + " " + k;
  }
  std::printf("limits: %d CREATE_CHILD_SA: %u established, refused:%s; the IKE SA holds %zu CHILD SAs\n",
              children, child_up - up_before, why.empty() ? " none" : why.c_str(),
              peer.sa()->children().size());

  const auto refused_mid = refused;
  const unsigned rekeyed_before = child_up;
  for (int i = 0; i < rekeys; ++i) {
    // The newest pair: never one whose Delete (after an earlier rekey) is still under way.
    const std::uint32_t spi = peer.sa()->children().back().inbound_spi;
    const unsigned n = events();
    peer.call([spi](ike::IkeSa& sa, ike::TimePoint now) { return sa.rekey_child_sa(spi, now); });
    settle(n + 1);
  }
  std::string rekey_refusals;
  for (const auto& [k, v] : refused) {
    auto it = refused_mid.find(k);
    const unsigned n = v - (it == refused_mid.end() ? 0 : it->second);
    if (n) rekey_refusals += " " + std::to_string(n) + " " + k;
  }
  std::printf("limits: %d CHILD SA rekeys in a row: %u done, refused:%s\n", rekeys, child_up - rekeyed_before,
              rekey_refusals.empty() ? " none" : rekey_refusals.c_str());
  std::printf("limits: IKE SA %s\n", ike_gone ? "deleted" : ike::to_string(peer.sa()->state()));
  std::fflush(stdout);

  // More IKE SAs of the same identity, one after the other (no INITIAL_CONTACT): the gateway
  // keeps daemon.limits.ike_sas_per_identity of them and deletes the oldest.
  std::vector<std::unique_ptr<Peer>> more;
  unsigned more_up = 0, deleted_by_gateway = 0;
  auto count_deletes = [&](const ike::Event& e) {
    if (std::holds_alternative<ike::IkeSaEstablished>(e)) ++more_up;
    if (const auto* d = std::get_if<ike::IkeSaDeleted>(&e); d && d->reason == ike::DeleteReason::PeerDeleted)
      ++deleted_by_gateway;
  };
  peer.on_event = count_deletes;
  std::vector<Peer*> all{&peer};
  for (int i = 0; i < identity_sas; ++i) {
    more.push_back(std::make_unique<Peer>(source_for(*server), *server, random));
    more.back()->on_event = count_deletes;
    more.back()->start(road_warrior("limits.ra.lab", psk));
    all.push_back(more.back().get());
    const unsigned want = static_cast<unsigned>(i + 1);
    run(
        all, [&] { return more_up >= want; }, Clock::now() + std::chrono::seconds(10));
  }
  run(
      all, [] { return false; }, Clock::now() + std::chrono::milliseconds(500));  // the last Deletes
  unsigned alive = 0;
  for (auto* p : all) alive += p->ended() ? 0 : 1;
  std::printf("limits: %d IKE SAs of limits.ra.lab: %u established, %u deleted by the gateway, %u remain\n",
              identity_sas + 1, more_up + 1, deleted_by_gateway, alive);
  std::fflush(stdout);
  for (auto* p : all) p->call([](ike::IkeSa& sa, ike::TimePoint now) { return sa.delete_ike_sa(now); });
  run(
      all, [&] { return std::all_of(all.begin(), all.end(), [](Peer* p) { return p->ended(); }); },
      Clock::now() + std::chrono::seconds(3));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) die("usage: natgate_ike_attack eap-fail|capture|send|limits ...");
  const std::string mode = argv[1];
  if (mode == "eap-fail") return eap_fail(argc, argv);
  if (mode == "capture") return capture(argc, argv);
  if (mode == "send") return send_captured(argc, argv);
  if (mode == "limits") return limits(argc, argv);
  die("unknown mode " + mode);
}
