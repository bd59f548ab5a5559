#include "gateway/relay/udp_forwarder.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "esp/net/outer_socket.h"
#include "esp/net/recv_batch.h"
#include "esp/net/send_batch.h"

namespace natgate::gateway::relay {

namespace {

constexpr std::size_t kRecvMessages = 32;        // recvmmsg entries per call
constexpr std::size_t kRecvBuffer = 65536;       // one UDP GRO train fits
constexpr std::size_t kSendSlots = 1024;         // datagrams between flushes
constexpr std::size_t kSendSlot = 2048;          // an MTU-sized datagram; larger ones go alone
constexpr std::size_t kRoundsPerWake = 64;       // recvmmsg calls per socket before the others
constexpr std::size_t kSocketBuffer = 4u << 20;  // as the ESP engine's NAT-T socket
constexpr int kPollMillis = 1000;                // the idle expiry runs at least this often

}  // namespace

UdpForwarder::UdpForwarder(const RelayForwardConfig& config)
    : table_(config.max_allocations, config.idle_timeout) {}

Expected<std::unique_ptr<UdpForwarder>> UdpForwarder::start(const RelayForwardConfig& config,
                                                            const IpAddress& bind_address) {
  std::unique_ptr<UdpForwarder> f(new UdpForwarder(config));
  const auto now = Clock::now();
  for (const auto& a : config.allocations) {
    auto id = f->table_.add(a.name, {a.a.peer, a.b.peer}, true, now);
    if (!id) return unexpected(a.name + ": " + id.error());
    std::array<Port*, 2> pair{};
    for (Side side : {Side::A, Side::B}) {
      const RelayAllocationSide& cfg = side == Side::A ? a.a : a.b;
      auto socket = esp::OuterSocket::open_udp(Endpoint{bind_address, cfg.port}, kSocketBuffer);
      if (!socket)
        return unexpected(a.name + (side == Side::A ? " a" : " b") + ": port " + std::to_string(cfg.port) +
                          ": " + socket.error());
      auto port = std::make_unique<Port>();
      port->socket = std::move(*socket);
      port->allocation = *id;
      port->side = side;
      pair[index(side)] = port.get();
      f->ports_.push_back(std::move(port));
    }
    pair[0]->peer_port = pair[1];
    pair[1]->peer_port = pair[0];
  }
  f->stop_fd_ = sys::UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!f->stop_fd_.valid()) return unexpected(std::string("eventfd: ") + std::strerror(errno));
  f->thread_ = std::thread([p = f.get()] { p->run(); });
  return f;
}

UdpForwarder::~UdpForwarder() {
  stop_.store(true);
  if (stop_fd_.valid()) {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(stop_fd_.get(), &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
}

void UdpForwarder::run() {
  std::vector<pollfd> fds;
  for (const auto& p : ports_) fds.push_back({p->socket->fd(), POLLIN, 0});
  fds.push_back({stop_fd_.get(), POLLIN, 0});
  esp::RecvBatch recv(kRecvMessages, kRecvBuffer);
  esp::SendBatch send(kSendSlots, kSendSlot);
  auto next_expiry = Clock::now() + std::chrono::seconds(1);
  while (!stop_.load(std::memory_order_relaxed)) {
    const int n = ::poll(fds.data(), fds.size(), kPollMillis);
    if (n < 0 && errno != EINTR) break;
    if (fds.back().revents & POLLIN) break;
    for (std::size_t i = 0; n > 0 && i < ports_.size(); ++i) {
      if (fds[i].revents & POLLIN) {
        Port& port = *ports_[i];
        for (std::size_t round = 0; round < kRoundsPerWake; ++round) {
          const int got = recv.receive(port.socket->fd());
          if (got <= 0) break;
          std::lock_guard lock(mutex_);
          const auto now = Clock::now();
          recv_messages_ += static_cast<std::uint64_t>(got);
          for (int m = 0; m < got; ++m) {
            const auto k = static_cast<std::size_t>(m);
            const std::uint8_t* data = recv.data(k);
            const std::size_t len = recv.length(k);
            const Endpoint from = recv.from(k);
            // UDP GRO hands one train of same-sized datagrams (the last may be shorter).
            const std::size_t seg =
                recv.segment_size(k) ? recv.segment_size(k) : std::max<std::size_t>(len, 1);
            for (std::size_t off = 0; off < len; off += seg) {
              const std::size_t dlen = std::min(seg, len - off);
              const bool keepalive = dlen == 1 && data[off] == 0xFF;  // RFC 3948 §2.3
              const Verdict v = table_.on_datagram(port.allocation, port.side, from, dlen, keepalive, now);
              if (v.kind != Verdict::Kind::Forward) continue;
              const esp::Destination dest =
                  esp::Destination::make(port.peer_port->socket.get(), v.to, IpAddress{});
              if (dlen > send.slot_size()) {
                // An unfragmented big IKE message (certificates): rare, sent on its own.
                if (::sendto(dest.socket->fd(), data + off, dlen, 0,
                             reinterpret_cast<const sockaddr*>(&dest.peer), dest.peer_len) < 0)
                  ++send_errors_;
                else
                  ++datagrams_sent_;
                continue;
              }
              if (send.full()) {
                const auto r = send.flush();
                datagrams_sent_ += r.datagrams;
                send_messages_ += r.messages;
                send_errors_ += r.errors;
              }
              std::memcpy(send.slot(), data + off, dlen);
              send.commit(dlen, dest);
            }
          }
          if (send.size() > 0) {
            const auto r = send.flush();
            datagrams_sent_ += r.datagrams;
            send_messages_ += r.messages;
            send_errors_ += r.errors;
          }
          if (static_cast<std::size_t>(got) < recv.capacity()) break;
        }
      }
    }
    if (const auto now = Clock::now(); now >= next_expiry) {
      std::lock_guard lock(mutex_);
      table_.expire(now);  // configured allocations are permanent: only learned sides expire
      next_expiry = now + std::chrono::seconds(1);
    }
  }
}

std::map<std::string, std::uint64_t> UdpForwarder::counters() const {
  std::lock_guard lock(mutex_);
  std::map<std::string, std::uint64_t> out;
  std::uint64_t packets = 0, bytes = 0, strangers = 0, no_peer = 0, permissions = 0;
  for (const auto& [id, a] : table_.all()) {
    for (Side side : {Side::A, Side::B}) {
      const SideCounters& c = a.counters[index(side)];
      const std::string prefix = "relay_alloc_" + a.name + (side == Side::A ? "_a_" : "_b_");
      out[prefix + "packets"] = c.packets;
      out[prefix + "bytes"] = c.bytes;
      out[prefix + "strangers_dropped"] = c.strangers;
      out[prefix + "no_peer_dropped"] = c.no_peer;
      out[prefix + "permissions"] = c.permissions;
      out[prefix + "learned"] = a.learned[index(side)] ? 1 : 0;
      packets += c.packets;
      bytes += c.bytes;
      strangers += c.strangers;
      no_peer += c.no_peer;
      permissions += c.permissions;
    }
  }
  out["relay_fwd_allocations"] = table_.size();
  out["relay_fwd_packets"] = packets;
  out["relay_fwd_bytes"] = bytes;
  out["relay_fwd_strangers_dropped"] = strangers;
  out["relay_fwd_no_peer_dropped"] = no_peer;
  out["relay_fwd_permissions"] = permissions;
  out["relay_fwd_idle_expired"] = table_.expired_sides();
  out["relay_fwd_datagrams_sent"] = datagrams_sent_;
  out["relay_fwd_send_messages"] = send_messages_;
  out["relay_fwd_recv_messages"] = recv_messages_;
  out["relay_fwd_send_errors"] = send_errors_;
  return out;
}

}  // namespace natgate::gateway::relay
