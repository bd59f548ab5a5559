#include "esp/engine.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

#include "common/capabilities.h"
#include "esp/inbound_path.h"
#include "esp/inner/tcp_coalescer.h"
#include "esp/net/recv_batch.h"
#include "esp/net/send_batch.h"
#include "esp/outbound_path.h"
#include "esp/tun/mtu.h"
#include "esp/tun/virtio_net_hdr.h"
#include "natt/udp_encap.h"
#include "sys/udp_socket.h"

namespace natgate::esp {

namespace {

constexpr int kPollTimeoutMs = 200;
constexpr auto kHousekeepingInterval = std::chrono::milliseconds(500);
constexpr std::size_t kTunFrameBytes = sizeof(VirtioNetHdr) + 65535;
constexpr std::size_t kRecvBufferBytes = 65536;
// TUN reads per poll round before the batch is flushed and the SA table re-read.
constexpr int kTunReadsPerRound = 256;
constexpr int kRecvRoundsPerSocket = 8;

// Writes finished packets to the TUN; each worker has its own, counting into its own fields.
class TunWriter final : public TunSink {
 public:
  TunWriter(int fd, std::atomic<std::uint64_t>* writes, std::atomic<std::uint64_t>* errors)
      : fd_(fd), writes_(writes), errors_(errors) {}
  void write_packet(const iovec* iov, int iovcnt) override {
    ssize_t n;
    do {
      n = ::writev(fd_, iov, iovcnt);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errors_) EngineCounters::bump(*errors_);
    } else if (writes_) {
      EngineCounters::bump(*writes_);
    }
  }

 private:
  int fd_;
  std::atomic<std::uint64_t>* writes_;
  std::atomic<std::uint64_t>* errors_;
};

std::size_t slot_size_for(std::size_t path_mtu) {
  // A whole outer datagram (without the outer IP/UDP headers the kernel adds) plus slack for
  // oversized non-DF IPv4 packets that go out to be fragmented by the outer layer.
  return (std::max<std::size_t>(path_mtu, 1500) + 256 + 63) / 64 * 64;
}

}  // namespace

Expected<std::unique_ptr<Engine>> Engine::start(const EngineConfig& config) {
  if (config.path_mtu < 576 || config.path_mtu > 65535)
    return unexpected("path MTU " + std::to_string(config.path_mtu) + " outside 576..65535");
  if (config.listen.empty())
    return unexpected(std::string("the engine needs at least one UDP listen endpoint"));
  EngineSettings settings;
  settings.tun_mtu =
      config.tun_mtu.value_or(tun_mtu_for(config.path_mtu, config.suites, config.outer_family));
  if (settings.tun_mtu < 576)
    return unexpected("TUN MTU " + std::to_string(settings.tun_mtu) + " is below 576");
  settings.mss_clamp = config.mss_clamp;
  settings.icmp_source_v4 = config.icmp_source_v4;
  settings.icmp_source_v6 = config.icmp_source_v6;
  settings.context_idle = config.context_idle;

  SocketSet sockets;
  bool v4 = false, v6 = false;
  for (const auto& ep : config.listen) {
    auto s = OuterSocket::open_udp(ep, config.socket_buffer_bytes);
    if (!s) return unexpected(s.error());
    (ep.address.is_v4() ? v4 : v6) = true;
    sockets.add(std::move(*s));
  }
  if (config.raw_esp) {
    for (IpFamily f : {IpFamily::V4, IpFamily::V6}) {
      if ((f == IpFamily::V4 && !v4) || (f == IpFamily::V6 && !v6)) continue;
      auto s = OuterSocket::open_raw_esp(f, config.socket_buffer_bytes);
      if (!s) return unexpected(s.error());
      sockets.add(std::move(*s));
    }
  }
  auto tun = TunDevice::open(config.tun_name, config.tun_offload);
  if (!tun) return unexpected(tun.error());
  settings.coalesce = tun->offload();
  if (auto s = tun->set_mtu(static_cast<unsigned>(settings.tun_mtu)); !s) return unexpected(s.error());
  if (auto s = tun->set_up(); !s) return unexpected(s.error());

  std::vector<OpenInterface> interfaces;
  for (const auto& want : config.interfaces) {
    if (want.if_id == 0) return unexpected("interface " + want.name + ": if_id 0 is the main TUN's");
    auto t = TunDevice::open(want.name, false);
    if (!t) return unexpected(t.error());
    if (auto s = t->set_mtu(static_cast<unsigned>(settings.tun_mtu)); !s) return unexpected(s.error());
    if (auto s = t->set_up(); !s) return unexpected(s.error());
    interfaces.push_back(OpenInterface{std::move(*t), want.if_id});
  }

  std::unique_ptr<Engine> e(
      new Engine(config, std::move(*tun), std::move(interfaces), std::move(sockets), settings));
  if (!e->stop_fd_.valid() || !e->events_.ok() || !e->ike_.ok() || !e->relay_.ok())
    return unexpected(std::string("eventfd: ") + std::strerror(errno));
  e->outbound_ = std::thread([p = e.get()] { p->outbound_worker(); });
  e->inbound_ = std::thread([p = e.get()] { p->inbound_worker(); });
  return e;
}

Engine::Engine(const EngineConfig& config, TunDevice tun, std::vector<OpenInterface> interfaces,
               SocketSet sockets, EngineSettings settings)
    : config_(config),
      tun_(std::move(tun)),
      interfaces_(std::move(interfaces)),
      sockets_(std::move(sockets)),
      settings_(settings),
      path_mtu_(config.path_mtu),
      events_(4096),
      ike_(config.ike_queue_limit, config.ike_queue_bytes),
      relay_(config.relay ? config.relay_slots : 1, slot_size_for(config.path_mtu)),
      stop_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

Engine::~Engine() { stop(); }

void Engine::stop() {
  if (stopping_.exchange(true)) {
    if (outbound_.joinable()) outbound_.join();
    if (inbound_.joinable()) inbound_.join();
    return;
  }
  const std::uint64_t one = 1;
  (void)!::write(stop_fd_.get(), &one, sizeof one);
  if (outbound_.joinable()) outbound_.join();
  if (inbound_.joinable()) inbound_.join();
}

std::vector<Endpoint> Engine::udp_endpoints() const {
  std::vector<Endpoint> out;
  for (const auto& s : sockets_.all())
    if (s->kind() == OuterSocket::Kind::Udp) out.push_back(s->local());
  return out;
}

void Engine::outbound_worker() {
  pthread_setname_np(pthread_self(), "natgate-esp-out");
  // Capabilities are per thread: the workers only use descriptors opened before them.
  drop_all_thread_capabilities();
  std::vector<std::uint8_t> frame(kTunFrameBytes);
  SendBatch batch(config_.send_slots, slot_size_for(path_mtu_));
  TunWriter icmp_writer(tun_.fd(), nullptr, nullptr);
  OutboundPath path(settings_, counters_, events_, sockets_, batch, icmp_writer);
  TableReader reader(registry_);
  // The main TUN, stop, relay, then the route-based connections' TUNs (none: the loop is as it
  // was without them).
  std::vector<pollfd> fds = {{tun_.fd(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}, {relay_.fd(), POLLIN, 0}};
  for (const auto& i : interfaces_) fds.push_back({i.tun.fd(), POLLIN, 0});
  Clock::time_point last_housekeeping = Clock::now();
  while (!stopping_.load(std::memory_order_relaxed)) {
    const int ready = ::poll(fds.data(), fds.size(), kPollTimeoutMs);
    if (ready < 0 && errno != EINTR) break;
    if (fds[1].revents) break;
    const SaTable& table = reader.refresh();
    Clock::time_point now = Clock::now();
    if (fds[2].revents & POLLIN)
      relay_.drain([&](std::uint8_t* p, std::size_t n) { path.handle_relayed(p, n, table, now); });
    for (int i = 0; i < kTunReadsPerRound; ++i) {
      const ssize_t n = ::read(tun_.fd(), frame.data(), frame.size());
      if (n <= 0) break;
      path.handle(frame.data(), static_cast<std::size_t>(n), table, now);
      if ((i & 31) == 31) now = Clock::now();
    }
    for (std::size_t k = 0; k < interfaces_.size(); ++k) {
      if (!(fds[3 + k].revents & POLLIN)) continue;
      const OpenInterface& iface = interfaces_[k];
      for (int i = 0; i < kTunReadsPerRound; ++i) {
        const ssize_t n = ::read(iface.tun.fd(), frame.data(), frame.size());
        if (n <= 0) break;
        path.handle(frame.data(), static_cast<std::size_t>(n), table, now, iface.if_id);
      }
    }
    path.flush();
    if (now - last_housekeeping >= kHousekeepingInterval) {
      path.release_idle(now);
      last_housekeeping = now;
    }
  }
}

void Engine::inbound_worker() {
  pthread_setname_np(pthread_self(), "natgate-esp-in");
  drop_all_thread_capabilities();
  RecvBatch batch(config_.recv_messages, kRecvBufferBytes);
  TcpCoalescer coalescer(config_.recv_messages * 64 + 64, settings_.coalesce);
  TunWriter writer(tun_.fd(), &counters_.tun_writes, &counters_.tun_write_errors);
  InboundPath path(settings_, counters_, events_, ike_, coalescer, writer, config_.relay ? &relay_ : nullptr);
  std::vector<TunWriter> iface_writers;
  iface_writers.reserve(interfaces_.size());
  for (const auto& i : interfaces_)
    iface_writers.emplace_back(i.tun.fd(), &counters_.iface_writes, &counters_.tun_write_errors);
  for (std::size_t k = 0; k < interfaces_.size(); ++k)
    path.add_interface(interfaces_[k].if_id, iface_writers[k]);
  TableReader reader(registry_);
  std::vector<pollfd> fds;
  std::vector<OuterSocket*> owners;
  for (const auto& s : sockets_.all()) {
    fds.push_back({s->fd(), POLLIN, 0});
    owners.push_back(s.get());
  }
  fds.push_back({stop_fd_.get(), POLLIN, 0});
  Clock::time_point last_housekeeping = Clock::now();
  while (!stopping_.load(std::memory_order_relaxed)) {
    const int ready = ::poll(fds.data(), fds.size(), kPollTimeoutMs);
    if (ready < 0 && errno != EINTR) break;
    if (fds.back().revents) break;
    const SaTable& table = reader.refresh();
    const Clock::time_point now = Clock::now();
    for (std::size_t s = 0; s < owners.size(); ++s) {
      if (!(fds[s].revents & POLLIN)) continue;
      OuterSocket& sock = *owners[s];
      for (int round = 0; round < kRecvRoundsPerSocket; ++round) {
        const int n = batch.receive(sock.fd());
        if (n <= 0) break;
        for (int m = 0; m < n; ++m) {
          const std::size_t i = static_cast<std::size_t>(m);
          std::uint8_t* data = batch.data(i);
          std::size_t len = batch.length(i);
          const Endpoint from = batch.from(i);
          if (sock.kind() == OuterSocket::Kind::RawEsp) {
            EngineCounters::bump(counters_.raw_esp_datagrams);
            if (sock.family() == IpFamily::V4) {
              // Raw IPv4 sockets deliver the IP header too.
              if (len < 20 || std::size_t{data[0] & 0x0Fu} * 4 > len) continue;
              const std::size_t ihl = std::size_t{data[0] & 0x0Fu} * 4;
              data += ihl;
              len -= ihl;
            }
            path.handle_esp(data, len, from, table, now);
            continue;
          }
          Endpoint local = sock.local();
          IpAddress dst;
          if (batch.local_address(i, dst)) local.address = dst;
          // With GRO one message holds a train of datagrams of segment_size bytes (the last may
          // be shorter).
          const std::size_t seg = batch.segment_size(i);
          const std::size_t step = seg == 0 ? len : seg;
          for (std::size_t off = 0; off < len; off += step)
            path.handle_udp(data + off, std::min(step, len - off), from, local, table, now);
        }
        path.flush();
        if (static_cast<std::size_t>(n) < batch.capacity()) break;
      }
    }
    if (now - last_housekeeping >= kHousekeepingInterval) {
      housekeeping(table, now);
      path.release_idle(now);
      last_housekeeping = now;
    }
  }
}

void Engine::housekeeping(const SaTable& table, Clock::time_point now) {
  // Only the SAs whose seconds lifetime is due: a pass over all of them took ~3 ms per 20,000
  // SAs every 500 ms on this worker, stalling its packets for that long (tools/bench/dataplane
  // --peers; docs/performance.md). The registry published each SA before scheduling it, so
  // this snapshot, refreshed in the same round, holds every due SA that is still installed.
  for (const SaRegistry::Due& due : registry_.take_due(now)) {
    const SaRef* found = SaRegistry::find_due(table, due);
    if (!found) continue;  // removed meanwhile, or a superseded outbound SA
    const SaRef& ref = *found;
    const auto e = ref.sa->check_time(now);
    if (e == SaState::Expiry::None) continue;
    EngineEvent ev;
    ev.kind = e == SaState::Expiry::Hard ? EngineEvent::Kind::HardExpire : EngineEvent::Kind::SoftExpire;
    ev.spi = ref.sa->spi();
    ev.direction = ref.sa->direction();
    ev.remote = ref.path.remote.address;
    ev.dst =
        ref.sa->direction() == dataplane::Direction::Out ? ref.path.remote.address : ref.path.local.address;
    ev.reqid = ref.sa->reqid();
    events_.push(ev);
  }
}

std::size_t Engine::drain_ike(const IkeHandler& handler) {
  return ike_.drain([&](const IkeDatagram& d) { handler(d.ends, d.message); });
}

std::size_t Engine::drain_events(const std::function<void(const EngineEvent&)>& handler) {
  return events_.drain([&](const EngineEvent& e) { handler(e); });
}

Status Engine::send_udp(const Endpoint& from_local, const Endpoint& to, ByteView payload) {
  const IpFamily family = to.address.family();
  const IpAddress local = from_local.address.family() == family ? from_local.address : IpAddress::any(family);
  OuterSocket* s = sockets_.udp_for(local, family);
  if (!s) return unexpected("no NAT-T socket for " + to.to_string());
  if (from_local.port != 0 && from_local.port != s->local().port)
    return unexpected("the NAT-T socket is bound to port " + std::to_string(s->local().port) + ", not " +
                      std::to_string(from_local.port));
  // A socket bound to the wildcard address sends from the address the caller names.
  const IpAddress source = s->local().address.is_unspecified() ? local : IpAddress::any(family);
  if (int err = sys::send_datagram(s->fd(), payload, to, source, 0))
    return unexpected("send to " + to.to_string() + ": " + std::strerror(err));
  return {};
}

Status Engine::send_ike(const EndpointPair& ends, ByteView ike_message) {
  const Bytes datagram = natt::ike_datagram(ike_message);
  auto s = send_udp(ends.local, ends.remote, datagram);
  if (s) counters_.ike_tx.fetch_add(1, std::memory_order_relaxed);
  return s;
}

Status Engine::send_keepalive(const EndpointPair& ends) {
  auto s = send_udp(ends.local, ends.remote, natt::kKeepaliveDatagram);
  if (s) counters_.keepalives_tx.fetch_add(1, std::memory_order_relaxed);
  return s;
}

}  // namespace natgate::esp
