#include "tools/ike_load/worker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "crypto/key_exchange.h"
#include "crypto/key_pair_source.h"
#include "crypto/random.h"
#include "ike/codec/message_codec.h"
#include "ike/exchange/ike_sa.h"
#include "ike/suite/proposal_spec.h"
#include "sys/unique_fd.h"
#include "tools/ike_load/stats.h"

namespace natgate::ike_load {
namespace {

using Clock = std::chrono::steady_clock;  // the same clock as ike::TimePoint (ike/exchange/time.h)

// Timer slots of a client: ike::TimerKind's values, then our own NAT-T keepalive.
constexpr std::size_t kIkeTimerKinds = 4;
constexpr std::size_t kKeepaliveSlot = kIkeTimerKinds;
constexpr std::size_t kSlots = kIkeTimerKinds + 1;
constexpr int kBurstChunk = 32;  // initiations between two looks at the sockets
constexpr std::uint64_t kParentTag = ~std::uint64_t{0};

std::int64_t ns_of(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

sockaddr_in sockaddr_of(const IpAddress& a, std::uint16_t port) {
  sockaddr_in s{};
  s.sin_family = AF_INET;
  s.sin_port = htons(port);
  std::memcpy(&s.sin_addr, a.bytes().data(), 4);
  return s;
}

// The address the kernel picks for the server (what NAT-D must hash, RFC 7296 §2.23).
std::optional<IpAddress> source_for(const IpAddress& server) {
  sys::UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in a = sockaddr_of(server, 500);
  if (s.get() < 0 || ::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return std::nullopt;
  sockaddr_in me{};
  socklen_t len = sizeof me;
  ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&me), &len);
  return IpAddress::from_bytes(IpFamily::V4,
                               ByteView(reinterpret_cast<const std::uint8_t*>(&me.sin_addr), 4));
}

// A socket pair (IKE port, NAT-T port) on one local address, shared by per_socket clients. Each
// pair has ports of its own, so a NAT in between maps every pair to a port pair of its own.
struct SocketPair {
  sys::UniqueFd ike;
  sys::UniqueFd natt;
  Endpoint local;  // the IKE socket's
  std::uint16_t natt_port = 0;
  std::shared_ptr<const ike::IkeSaConfig> config;  // its natt_port is this pair's
};

struct Client {
  int index = 0;
  std::uint32_t pair = 0;
  std::unique_ptr<ike::IkeSa> sa;
  std::array<Clock::time_point, kSlots> timers{};  // time_point{}: not armed
  bool up = false;
  bool failed = false;
  bool delete_sent = false;
  bool gone = false;  // IkeSaDeleted seen
  Clock::time_point init_at{};
  Clock::time_point up_at{};
  std::string vip;
};

// Key pairs made in setup(), before the parent says go: the x25519 key generation of every
// initiation moves out of the measured burst, so the generator spends its CPU there on the
// exchanges themselves and leaves more of a shared core to the responder under test (the same
// for every responder, docs/performance.md "Scale: IKE setups"). Past kMaxPrecomputed per
// worker, and for any other group, the exchange generates its own (KeyPairSource's fallback).
class PrecomputedKeyPairs final : public crypto::KeyPairSource {
 public:
  static constexpr std::size_t kMaxPrecomputed = 20000;
  PrecomputedKeyPairs(iana::DhGroup group, std::size_t count, crypto::RandomSource& random) : group_(group) {
    pairs_.reserve(std::min(count, kMaxPrecomputed));
    for (std::size_t i = 0; i < pairs_.capacity(); ++i) {
      auto kp = crypto::DhKeyPair::generate(group, random);
      if (!kp) break;
      pairs_.push_back(std::move(*kp));
    }
  }
  std::optional<crypto::DhKeyPair> take(iana::DhGroup group) override {
    if (group != group_ || pairs_.empty()) return std::nullopt;
    crypto::DhKeyPair kp = std::move(pairs_.back());
    pairs_.pop_back();
    return kp;
  }

 private:
  iana::DhGroup group_;
  std::vector<crypto::DhKeyPair> pairs_;
};

struct TimerEntry {
  Clock::time_point at;
  std::uint32_t client;
  std::uint8_t slot;
  bool operator>(const TimerEntry& o) const { return at > o.at; }
};

class Worker {
 public:
  Worker(const Options& o, const Slice& s, int to_parent, int from_parent)
      : opt_(o), slice_(s), to_parent_(to_parent), from_parent_(from_parent) {}

  int run() {
    if (!setup()) return 2;
    tell("ready\n");
    std::string line;
    if (!read_line_blocking(line) || line.rfind("go ", 0) != 0) return 2;
    go_ = Clock::time_point(std::chrono::nanoseconds(std::stoll(line.substr(3))));
    phase_setup();
    report();
    phase_hold();
    phase_teardown();
    return 0;
  }

 private:
  bool setup();
  void phase_setup();
  void report();
  void phase_hold();
  void report_hold();
  void phase_teardown();

  Clock::time_point due(std::size_t j) const {
    if (opt_.rate <= 0) return go_;
    const double ordinal = static_cast<double>(j) * opt_.procs + slice_.worker;
    return go_ +
           std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(ordinal / opt_.rate));
  }
  void initiate_due(Clock::time_point now);
  void absorb(std::uint32_t ci, ike::Output&& out);
  void send(const Client& c, const ike::Datagram& d);
  void arm(std::uint32_t ci, std::size_t slot, Clock::time_point at) {
    clients_[ci].timers[slot] = at;
    timers_.push({at, ci, static_cast<std::uint8_t>(slot)});
  }
  Clock::time_point fire_timers(Clock::time_point now);
  void wait_and_receive(Clock::time_point until);
  void receive(std::uint32_t pair, bool natt);
  void tell(const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      const ssize_t n = ::write(to_parent_, s.data() + off, s.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      off += static_cast<std::size_t>(n);
    }
  }
  bool read_line_blocking(std::string& line);
  std::uint32_t random_u32() {
    std::uint32_t r = 0;
    random_.fill(MutableByteView(reinterpret_cast<std::uint8_t*>(&r), sizeof r));
    return r;
  }
  void poll_parent();

  const Options& opt_;
  const Slice slice_;
  int to_parent_, from_parent_;
  crypto::SystemRandom random_;
  std::unique_ptr<PrecomputedKeyPairs> key_pairs_;
  ike::Environment env_;
  std::vector<SocketPair> pairs_;
  std::vector<Client> clients_;
  std::unordered_map<std::uint64_t, std::uint32_t> by_spi_;  // our SPIi -> client
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timers_;
  sys::UniqueFd epoll_;
  Clock::time_point go_{};
  std::size_t next_init_ = 0;
  int up_ = 0, failed_ = 0, deleted_ = 0, delete_timeouts_ = 0;
  bool tearing_down_ = false;
  bool parent_said_delete_ = false;
  bool parent_said_report_ = false;
  std::string parent_buf_;
  std::uint64_t send_errors_ = 0;
  std::uint64_t keepalives_sent_ = 0;
  std::uint64_t hold_requests_ = 0;  // IKE messages from the gateway while holding (its DPD)
  bool holding_ = false;
};

bool Worker::setup() {
  // One descriptor per socket: let the slice use what the hard limit allows.
  rlimit nofile{};
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &nofile);
  }
  std::vector<IpAddress> sources = opt_.sources;
  if (sources.empty()) {
    auto a = source_for(opt_.server);
    if (!a) {
      std::perror("ike_load: route to the server");
      return false;
    }
    sources.push_back(*a);
  }
  env_.random = &random_;
  key_pairs_ = std::make_unique<PrecomputedKeyPairs>(iana::DhGroup::Curve25519,
                                                     static_cast<std::size_t>(slice_.count), random_);
  env_.key_pairs = key_pairs_.get();
  env_.allocate_spi = [this](const IpAddress&, const IpAddress&) -> Expected<std::uint32_t> {
    std::uint32_t spi = 0;
    while (spi < 256) random_.fill(MutableByteView(reinterpret_cast<std::uint8_t*>(&spi), 4));
    return spi;
  };
  auto ike_proposal = ike::parse_proposal(iana::ProtocolId::Ike, "aes256gcm16-prfsha256-x25519");
  auto esp_proposal = ike::parse_proposal(iana::ProtocolId::Esp, "aes256gcm16");
  if (!ike_proposal || !esp_proposal) return false;
  epoll_ = sys::UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
  if (epoll_.get() < 0) return false;
  epoll_event pev{};
  pev.events = EPOLLIN;
  pev.data.u64 = kParentTag;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, from_parent_, &pev);

  auto bound = [&](const IpAddress& local) {
    sys::UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_in a = sockaddr_of(local, 0);
    if (s.get() < 0 || ::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      std::fprintf(stderr,
                   "ike_load: socket on %s: %s (descriptors or ports run out: more --procs, --sources or a "
                   "higher --per-socket)\n",
                   local.to_string().c_str(), std::strerror(errno));
      return sys::UniqueFd();
    }
    return s;
  };
  auto port_of = [](int fd) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    return ntohs(a.sin_port);
  };
  const int npairs = (slice_.count + opt_.per_socket - 1) / opt_.per_socket;
  pairs_.reserve(static_cast<std::size_t>(npairs));
  for (int p = 0; p < npairs; ++p) {
    // Sources are shared round-robin over all workers' pairs, so every address carries a share.
    const auto& local = sources[static_cast<std::size_t>(slice_.worker + p * opt_.procs) % sources.size()];
    SocketPair sp;
    sp.ike = bound(local);
    sp.natt = bound(local);
    if (sp.ike.get() < 0 || sp.natt.get() < 0) return false;
    sp.local = Endpoint{local, port_of(sp.ike.get())};
    sp.natt_port = port_of(sp.natt.get());
    auto cfg = std::make_shared<ike::IkeSaConfig>();
    cfg->proposals = {*ike_proposal};
    cfg->natt_port = sp.natt_port;
    cfg->remote_natt_port = 4500;
    cfg->force_encap = opt_.force_encap;
    sp.config = std::move(cfg);
    for (int natt = 0; natt < 2; ++natt) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = static_cast<std::uint64_t>(p) * 2 + static_cast<std::uint64_t>(natt);
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, natt ? sp.natt.get() : sp.ike.get(), &ev);
    }
    pairs_.push_back(std::move(sp));
  }
  clients_.resize(static_cast<std::size_t>(slice_.count));
  by_spi_.reserve(clients_.size() * 2);
  ike::ChildConfig child;
  child.name = "rw";
  child.proposals = {*esp_proposal};
  child.local_ts = {TrafficSelector::from_subnet(*Subnet::parse("0.0.0.0/0"))};
  child.remote_ts = {TrafficSelector::from_subnet(*Subnet::parse("0.0.0.0/0"))};
  for (std::size_t j = 0; j < clients_.size(); ++j) {
    Client& c = clients_[j];
    c.index = slice_.first_index + static_cast<int>(j);
    c.pair = static_cast<std::uint32_t>(j / static_cast<std::size_t>(opt_.per_socket));
    const SocketPair& sp = pairs_[c.pair];
    auto peer = std::make_shared<ike::PeerConfig>();
    const std::string name = "load" + std::to_string(c.index);
    peer->name = name;
    peer->local_id = ike::Identity::fqdn(name + ".ra.lab");
    peer->remote_id = ike::Identity::fqdn("gw.ra.lab");
    peer->psk = SecretBytes(as_bytes(opt_.psk));
    peer->request_virtual_ips = {IpAddress::any(IpFamily::V4)};
    peer->children.push_back(child);
    auto sa = ike::IkeSa::create_initiator({sp.config, peer, sp.local, Endpoint{opt_.server, 500}}, env_);
    if (!sa) {
      std::fprintf(stderr, "client %d: %s\n", c.index, sa.error().c_str());
      return false;
    }
    c.sa = std::move(*sa);
    by_spi_.emplace(c.sa->spi_i().to_u64(), static_cast<std::uint32_t>(j));
  }
  return true;
}

void Worker::send(const Client& c, const ike::Datagram& d) {
  thread_local Bytes wire;
  wire.clear();
  if (d.natt) wire.assign(4, 0);  // RFC 3948 §2.2 non-ESP marker
  wire.insert(wire.end(), d.bytes.begin(), d.bytes.end());
  sockaddr_in to = sockaddr_of(d.remote.address, d.remote.port);
  const SocketPair& sp = pairs_[c.pair];
  if (::sendto(d.natt ? sp.natt.get() : sp.ike.get(), wire.data(), wire.size(), 0,
               reinterpret_cast<sockaddr*>(&to), sizeof to) < 0)
    ++send_errors_;  // a full socket buffer: the retransmission timer sends it again
}

void Worker::absorb(std::uint32_t ci, ike::Output&& out) {
  Client& c = clients_[ci];
  const auto now = Clock::now();
  for (const auto& d : out.datagrams) send(c, d);
  for (const auto& t : out.timers) {
    const auto slot = static_cast<std::size_t>(t.kind);
    if (slot >= kIkeTimerKinds) continue;
    if (t.deadline)
      arm(ci, slot, *t.deadline);
    else
      c.timers[slot] = {};
  }
  for (const auto& e : out.events) {
    if (const auto* v = std::get_if<ike::VirtualIpsAssigned>(&e); v && !v->attributes.addresses.empty())
      c.vip = v->attributes.addresses.front().to_string();
    if (std::get_if<ike::ChildSaEstablished>(&e) && !c.up && !c.failed) {
      c.up = true;
      c.up_at = now;
      ++up_;
      // The first keepalive at a random point of the interval: a burst of setups would otherwise
      // send all of its keepalives in the same second, every interval.
      if (opt_.keepalive_s > 0)
        arm(ci, kKeepaliveSlot,
            now + std::chrono::milliseconds(1 + random_u32() %
                                                    (static_cast<std::uint32_t>(opt_.keepalive_s) * 1000)));
    }
    if (const auto* d = std::get_if<ike::IkeSaDeleted>(&e)) {
      c.gone = true;
      if (!d->was_established && !c.up && !c.failed) {
        c.failed = true;
        ++failed_;
      }
      if (c.delete_sent) {
        // LocalRequest: the gateway answered our Delete; Timeout: it never did (§1.4.1, §2.4).
        if (d->reason == ike::DeleteReason::LocalRequest)
          ++deleted_;
        else
          ++delete_timeouts_;
      }
    }
  }
}

Clock::time_point Worker::fire_timers(Clock::time_point now) {
  while (!timers_.empty() && timers_.top().at <= now) {
    const TimerEntry e = timers_.top();
    timers_.pop();
    Client& c = clients_[e.client];
    if (c.timers[e.slot] != e.at) continue;  // re-armed or cancelled since
    c.timers[e.slot] = {};
    if (e.slot == kKeepaliveSlot) {
      // RFC 3948 §2.3: one 0xFF octet to the peer's NAT-T port keeps our NAT mapping alive.
      if (c.gone || tearing_down_) continue;
      if (c.sa->natt()) {
        static const std::uint8_t ka = 0xff;
        sockaddr_in to = sockaddr_of(c.sa->remote().address, c.sa->remote().port);
        if (::sendto(pairs_[c.pair].natt.get(), &ka, 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) == 1)
          ++keepalives_sent_;
      }
      arm(e.client, kKeepaliveSlot, now + std::chrono::seconds(opt_.keepalive_s));
      continue;
    }
    absorb(e.client, c.sa->on_timer(static_cast<ike::TimerKind>(e.slot), now));
  }
  return timers_.empty() ? Clock::time_point::max() : timers_.top().at;
}

void Worker::initiate_due(Clock::time_point now) {
  for (int k = 0; k < kBurstChunk && next_init_ < clients_.size(); ++k) {
    if (due(next_init_) > now) return;
    Client& c = clients_[next_init_];
    c.init_at = Clock::now();
    absorb(static_cast<std::uint32_t>(next_init_), c.sa->initiate(c.init_at));
    ++next_init_;
  }
}

void Worker::receive(std::uint32_t pair, bool natt) {
  static thread_local std::array<std::uint8_t, 65536> buf;
  const int fd = natt ? pairs_[pair].natt.get() : pairs_[pair].ike.get();
  for (int k = 0; k < 64; ++k) {
    sockaddr_in from{};
    socklen_t len = sizeof from;
    const ssize_t n = ::recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n <= 0) return;
    ByteView bytes(buf.data(), static_cast<std::size_t>(n));
    if (natt) {
      // Only IKE behind the marker matters here (no ESP is ever sent; keepalives are ignored).
      if (n < 8 || buf[0] || buf[1] || buf[2] || buf[3]) continue;
      bytes = ByteView(buf.data() + 4, static_cast<std::size_t>(n) - 4);
    }
    // Several clients share a socket: the SPIi (ours) names the client (RFC 7296 §2.6).
    auto header = ike::decode_header(bytes);
    if (!header) continue;
    auto it = by_spi_.find(header->spi_i.to_u64());
    if (it == by_spi_.end()) continue;
    Client& c = clients_[it->second];
    if (c.pair != pair) continue;
    Endpoint remote{IpAddress::from_bytes(IpFamily::V4,
                                          ByteView(reinterpret_cast<const std::uint8_t*>(&from.sin_addr), 4)),
                    ntohs(from.sin_port)};
    Endpoint here{pairs_[pair].local.address, natt ? pairs_[pair].natt_port : pairs_[pair].local.port};
    if (holding_) ++hold_requests_;
    absorb(it->second, c.sa->handle(ike::ReceivedDatagram{bytes, here, remote, natt}, Clock::now()));
  }
}

void Worker::wait_and_receive(Clock::time_point until) {
  const auto now = Clock::now();
  int wait_ms = 0;
  if (until > now) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count() + 1;
    wait_ms = static_cast<int>(std::min<long long>(ms, 100));
  }
  std::array<epoll_event, 256> events{};
  const int n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), wait_ms);
  for (int i = 0; i < n; ++i) {
    const std::uint64_t tag = events[static_cast<std::size_t>(i)].data.u64;
    if (tag == kParentTag) {
      poll_parent();
      continue;
    }
    receive(static_cast<std::uint32_t>(tag / 2), tag % 2 == 1);
  }
}

bool Worker::read_line_blocking(std::string& line) {
  char ch = 0;
  line.clear();
  while (true) {
    const ssize_t n = ::read(from_parent_, &ch, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    if (ch == '\n') return true;
    line.push_back(ch);
  }
}

void Worker::poll_parent() {
  char buf[256];
  const ssize_t n = ::read(from_parent_, buf, sizeof buf);
  if (n <= 0) {
    parent_said_delete_ = true;  // the parent is gone: end orderly
    return;
  }
  parent_buf_.append(buf, static_cast<std::size_t>(n));
  if (parent_buf_.find("delete\n") != std::string::npos) parent_said_delete_ = true;
  if (auto at = parent_buf_.find("report\n"); at != std::string::npos) {
    parent_said_report_ = true;
    parent_buf_.erase(at, 7);
  }
}

void Worker::phase_setup() {
  const auto deadline = go_ + std::chrono::seconds(opt_.timeout_s);
  for (std::uint64_t rounds = 0; rounds < 100000000; ++rounds) {
    auto now = Clock::now();
    if (up_ + failed_ == static_cast<int>(clients_.size()) || now >= deadline) return;
    initiate_due(now);
    now = Clock::now();
    Clock::time_point next = std::min(deadline, fire_timers(now));
    if (next_init_ < clients_.size()) next = std::min(next, due(next_init_));
    wait_and_receive(next);
  }
}

void Worker::report() {
  std::string out;
  for (const auto& c : clients_) {
    ClientResult r;
    r.index = c.index;
    r.up = c.up;
    r.refused = c.failed;
    r.init_ns = c.init_at == Clock::time_point{} ? 0 : ns_of(c.init_at);
    r.up_ns = c.up ? ns_of(c.up_at) : 0;
    r.vip = c.vip;
    out += encode(r);
    if (out.size() > 60000) {
      tell(out);
      out.clear();
    }
  }
  out += "settled\n";
  tell(out);
}

void Worker::phase_hold() {
  // Keepalives go out and the gateway's liveness checks (INFORMATIONAL, RFC 7296 §2.4) are
  // answered by the SAs until the parent says the hold is over.
  const auto deadline = Clock::now() + std::chrono::hours(24 * 2);
  holding_ = true;
  while (!parent_said_delete_ && Clock::now() < deadline) {
    wait_and_receive(fire_timers(Clock::now()));
    if (parent_said_report_) {
      parent_said_report_ = false;
      report_hold();
    }
  }
  holding_ = false;
}

void Worker::report_hold() {
  // "held LOST REQUESTS KEEPALIVES": SAs that were up and are gone or no longer established now
  // (the gateway deleted them, or its DPD gave up on them).
  int lost = 0;
  for (const auto& c : clients_)
    if (c.up && (c.gone || c.sa->state() != ike::SaState::Established)) ++lost;
  char line[128];
  std::snprintf(line, sizeof line, "held %d %llu %llu\n", lost,
                static_cast<unsigned long long>(hold_requests_),
                static_cast<unsigned long long>(keepalives_sent_));
  tell(line);
}

void Worker::phase_teardown() {
  tearing_down_ = true;
  const auto start = Clock::now();
  int sent = 0;
  for (std::size_t j = 0; j < clients_.size(); ++j) {
    Client& c = clients_[j];
    if (c.gone || c.sa->state() != ike::SaState::Established) continue;
    c.delete_sent = true;
    ++sent;
    absorb(static_cast<std::uint32_t>(j), c.sa->delete_ike_sa(Clock::now()));
    if (j % kBurstChunk == 0) wait_and_receive(Clock::now());
  }
  // Retransmissions of unanswered Deletes run out well within the bound (RFC 7296 §2.4).
  const auto deadline = start + std::chrono::seconds(std::max(15, opt_.timeout_s));
  while (deleted_ + delete_timeouts_ < sent && Clock::now() < deadline)
    wait_and_receive(std::min(deadline, fire_timers(Clock::now())));
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  char line[128];
  std::snprintf(line, sizeof line, "teardown %d %d %lld %llu\n", deleted_, sent, static_cast<long long>(ms),
                static_cast<unsigned long long>(send_errors_));
  tell(line);
}

}  // namespace

int run_worker(const Options& options, const Slice& slice, int to_parent, int from_parent) {
  Worker w(options, slice, to_parent, from_parent);
  return w.run();
}

}  // namespace natgate::ike_load
