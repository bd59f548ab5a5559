// natgate_ike_load: N IKEv2 road warriors at once from one host (each with its own UDP port pair,
// so a NAT in front maps each to ports of its own), each asking for a virtual IP and one CHILD
// SA, using ike/exchange's IkeSa initiators as natgated does. No data plane. Prints when the
// first initiation went out and the last CHILD SA came up; exits 0 only if all N did.
//
//   natgate_ike_load SERVER COUNT PSK_FILE [--hold SECONDS] [--timeout SECONDS]
//     identities load1.ra.lab .. loadN.ra.lab, the gateway's gw.ra.lab; after --hold seconds
//     every IKE SA is deleted (RFC 7296 §1.4.1) so the gateway releases the leases.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "crypto/random.h"
#include "ike/exchange/ike_sa.h"
#include "ike/suite/proposal_spec.h"
#include "sys/unique_fd.h"

using namespace natgate;
using Clock = std::chrono::steady_clock;

namespace {

struct Client {
  int index = 0;
  sys::UniqueFd ike;
  sys::UniqueFd natt;
  Endpoint local;
  std::uint16_t natt_port = 0;
  std::unique_ptr<ike::IkeSa> sa;
  std::map<ike::TimerKind, Clock::time_point> timers;
  bool ike_up = false;
  bool child_up = false;
  bool failed = false;
  std::string vip;
  Clock::time_point up_at{};
};

sys::UniqueFd bound_socket(const IpAddress& local) {
  sys::UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  std::memcpy(&a.sin_addr, local.bytes().data(), 4);
  if (!s.valid() || ::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::perror("bind");
    std::exit(2);
  }
  return s;
}

std::uint16_t port_of(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

// The address the kernel picks for the server (what NAT-D must hash, RFC 7296 §2.23).
IpAddress source_for(const IpAddress& server) {
  sys::UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(500);
  std::memcpy(&a.sin_addr, server.bytes().data(), 4);
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::perror("connect");
    std::exit(2);
  }
  sockaddr_in me{};
  socklen_t len = sizeof me;
  ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&me), &len);
  return IpAddress::from_bytes(IpFamily::V4, ByteView(reinterpret_cast<const std::uint8_t*>(&me.sin_addr), 4));
}

void send_datagram(const Client& c, const ike::Datagram& d) {
  Bytes wire;
  if (d.natt) wire.assign(4, 0);  // RFC 3948 §2.2 non-ESP marker
  wire.insert(wire.end(), d.bytes.begin(), d.bytes.end());
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(d.remote.port);
  std::memcpy(&to.sin_addr, d.remote.address.bytes().data(), 4);
  (void)::sendto(d.natt ? c.natt.get() : c.ike.get(), wire.data(), wire.size(), 0,
                 reinterpret_cast<sockaddr*>(&to), sizeof to);
}

Clock::time_point to_clock(ike::TimePoint t, ike::TimePoint now_ike, Clock::time_point now) {
  return now + std::chrono::duration_cast<Clock::duration>(t - now_ike);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s SERVER COUNT PSK_FILE [--hold S] [--timeout S]\n", argv[0]);
    return 2;
  }
  auto server = IpAddress::parse(argv[1]);
  const int count = std::atoi(argv[2]);
  std::ifstream pf(argv[3]);
  std::string psk;
  std::getline(pf, psk);
  int hold_s = 0, timeout_s = 50;
  for (int i = 4; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--hold") hold_s = std::atoi(argv[i + 1]);
    if (std::string(argv[i]) == "--timeout") timeout_s = std::atoi(argv[i + 1]);
  }
  if (!server || !server->is_v4() || count <= 0 || count > 1000 || psk.empty()) {
    std::fprintf(stderr, "bad arguments\n");
    return 2;
  }
  const IpAddress local = source_for(*server);
  crypto::SystemRandom random;
  ike::Environment env;
  env.random = &random;
  env.allocate_spi = [&random](const IpAddress&, const IpAddress&) -> Expected<std::uint32_t> {
    std::uint32_t spi = 0;
    while (spi < 256) random.fill(MutableByteView(reinterpret_cast<std::uint8_t*>(&spi), 4));
    return spi;
  };
  auto ike_proposal = ike::parse_proposal(iana::ProtocolId::Ike, "aes256gcm16-prfsha256-x25519");
  auto esp_proposal = ike::parse_proposal(iana::ProtocolId::Esp, "aes256gcm16");
  if (!ike_proposal || !esp_proposal) return 2;

  std::vector<Client> clients(static_cast<std::size_t>(count));
  const auto now0 = Clock::now();
  const ike::TimePoint ike0{};
  auto ike_now = [&] { return ike0 + std::chrono::duration_cast<ike::Duration>(Clock::now() - now0); };

  int up = 0, failed = 0;
  Clock::time_point last_up{};
  auto absorb = [&](Client& c, ike::Output&& out) {
    const auto now = Clock::now();
    const auto inow = ike_now();
    for (const auto& d : out.datagrams) send_datagram(c, d);
    for (const auto& t : out.timers) {
      if (t.deadline)
        c.timers[t.kind] = to_clock(*t.deadline, inow, now);
      else
        c.timers.erase(t.kind);
    }
    for (const auto& e : out.events) {
      if (std::get_if<ike::IkeSaEstablished>(&e)) c.ike_up = true;
      if (const auto* v = std::get_if<ike::VirtualIpsAssigned>(&e); v && !v->attributes.addresses.empty())
        c.vip = v->attributes.addresses.front().to_string();
      if (std::get_if<ike::ChildSaEstablished>(&e) && !c.child_up) {
        c.child_up = true;
        c.up_at = now;
        last_up = now;
        ++up;
      }
      if (const auto* d = std::get_if<ike::IkeSaDeleted>(&e); d && !d->was_established && !c.failed) {
        c.failed = true;
        ++failed;
      }
    }
  };

  // Every client's sockets first, then all initiations at once (a burst, as after a CGNAT's
  // uplink comes back).
  for (int i = 0; i < count; ++i) {
    Client& c = clients[static_cast<std::size_t>(i)];
    c.index = i + 1;
    c.ike = bound_socket(local);
    c.natt = bound_socket(local);
    c.local = Endpoint{local, port_of(c.ike.get())};
    auto ike_cfg = std::make_shared<ike::IkeSaConfig>();
    ike_cfg->proposals = {*ike_proposal};
    ike_cfg->natt_port = port_of(c.natt.get());
    ike_cfg->remote_natt_port = 4500;
    auto peer = std::make_shared<ike::PeerConfig>();
    peer->name = "load" + std::to_string(c.index);
    peer->local_id = ike::Identity::fqdn("load" + std::to_string(c.index) + ".ra.lab");
    peer->remote_id = ike::Identity::fqdn("gw.ra.lab");
    peer->psk = SecretBytes(as_bytes(psk));
    peer->request_virtual_ips = {IpAddress::any(IpFamily::V4)};
    ike::ChildConfig child;
    child.name = "rw";
    child.proposals = {*esp_proposal};
    child.local_ts = {TrafficSelector::from_subnet(*Subnet::parse("0.0.0.0/0"))};
    child.remote_ts = {TrafficSelector::from_subnet(*Subnet::parse("0.0.0.0/0"))};
    peer->children.push_back(std::move(child));
    auto sa = ike::IkeSa::create_initiator({ike_cfg, peer, c.local, Endpoint{*server, 500}}, env);
    if (!sa) {
      std::fprintf(stderr, "client %d: %s\n", c.index, sa.error().c_str());
      return 2;
    }
    c.sa = std::move(*sa);
  }
  const auto start = Clock::now();
  for (auto& c : clients) absorb(c, c.sa->initiate(ike_now()));

  std::vector<pollfd> fds;
  for (const auto& c : clients) {
    fds.push_back({c.ike.get(), POLLIN, 0});
    fds.push_back({c.natt.get(), POLLIN, 0});
  }
  bool printed = false;
  Clock::time_point delete_at{};
  bool deleting = false;
  const auto deadline = start + std::chrono::seconds(timeout_s);
  std::uint8_t buf[65536];
  for (int rounds = 0; rounds < 1000000; ++rounds) {
    const auto now = Clock::now();
    if (now >= deadline) break;
    if (!printed && up + failed == count) {
      printed = true;
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(last_up - start).count();
      std::printf("established %d/%d IKE+CHILD SAs from one address in %lld ms (first IKE_SA_INIT to last CHILD SA)%s\n",
                  up, count, static_cast<long long>(ms), failed ? ", some failed" : "");
      // Each client's own setup time (its IKE_SA_INIT to its CHILD SA): median and max.
      std::vector<long long> setup_ms;
      for (const auto& c : clients)
        if (c.child_up)
          setup_ms.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(c.up_at - start).count());
      std::sort(setup_ms.begin(), setup_ms.end());
      if (!setup_ms.empty())
        std::printf("setup ms median %lld max %lld\n", setup_ms[setup_ms.size() / 2], setup_ms.back());
      for (const auto& c : clients)
        std::printf("client %d load%d.ra.lab %s %s\n", c.index, c.index, c.child_up ? "up" : "failed", c.vip.c_str());
      std::fflush(stdout);
      delete_at = now + std::chrono::seconds(hold_s);
    }
    if (printed && !deleting && now >= delete_at) {
      deleting = true;
      for (auto& c : clients) absorb(c, c.sa->delete_ike_sa(ike_now()));
    }
    if (deleting) {
      bool all_gone = true;
      for (const auto& c : clients) all_gone = all_gone && c.sa->state() == ike::SaState::Deleted;
      if (all_gone) break;
    }
    // Timers due.
    Clock::time_point next = deadline;
    for (auto& c : clients) {
      for (auto it = c.timers.begin(); it != c.timers.end();) {
        if (it->second <= now) {
          const auto kind = it->first;
          it = c.timers.erase(it);
          absorb(c, c.sa->on_timer(kind, ike_now()));
        } else {
          next = std::min(next, it->second);
          ++it;
        }
      }
    }
    if (printed && !deleting) next = std::min(next, delete_at);
    const int wait_ms = static_cast<int>(
        std::max<long long>(0, std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()).count()) + 1);
    if (::poll(fds.data(), fds.size(), std::min(wait_ms, 100)) <= 0) continue;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (!(fds[i].revents & POLLIN)) continue;
      Client& c = clients[i / 2];
      const bool natt = i % 2 == 1;
      for (int k = 0; k < 16; ++k) {
        sockaddr_in from{};
        socklen_t len = sizeof from;
        const ssize_t n = ::recvfrom(fds[i].fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n <= 0) break;
        ByteView bytes(buf, static_cast<std::size_t>(n));
        if (natt) {
          // Only IKE behind the marker matters here (no ESP is ever sent or expected).
          if (n < 8 || buf[0] || buf[1] || buf[2] || buf[3]) continue;
          bytes = ByteView(buf + 4, static_cast<std::size_t>(n) - 4);
        }
        Endpoint remote{IpAddress::from_bytes(IpFamily::V4, ByteView(reinterpret_cast<const std::uint8_t*>(&from.sin_addr), 4)),
                        ntohs(from.sin_port)};
        Endpoint here{local, natt ? port_of(c.natt.get()) : c.local.port};
        absorb(c, c.sa->handle(ike::ReceivedDatagram{bytes, here, remote, natt}, ike_now()));
      }
    }
  }
  if (!printed) {
    std::printf("established %d/%d IKE+CHILD SAs, %d failed, before the %d s timeout\n", up, count, failed, timeout_s);
    return 1;
  }
  return up == count ? 0 : 1;
}
