#include "gateway/io/tcp_transport.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <deque>

#include "natt/tcp_encap.h"
#include "natt/tcp_shim.h"
#include "natt/tcp_stream_decoder.h"
#include "sys/udp_cmsg.h"
#include "sys/udp_socket.h"

namespace natgate::gateway {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

namespace {

template <class AsioEndpoint>
Endpoint from_asio(const AsioEndpoint& e) {
  auto out = Endpoint::from_sockaddr(e.data(), static_cast<socklen_t>(e.size()));
  return out.value_or(Endpoint{});
}

asio::ip::address to_asio(const IpAddress& a) { return asio::ip::make_address(a.to_string()); }

// Shims live in 127.64.0.0/10 (natt/tcp_shim.h): every address of 127.0.0.0/8 is local on Linux,
// and an address of its own per stream keeps the data plane's (SPI, remote address) names apart.
using natt::tcp::kShimBase;
using natt::tcp::kShimCount;

// Per stream, so what a stranger's connection costs stays small: TCP reads of 16 KiB. With the
// decoder's one split frame (at most 64 KiB) an accepted stream holds under 100 KiB until it is
// authenticated and ESP fills its send queue (TcpEncapLimits::max_queued_bytes). What the shims
// receive lands in one buffer of the transport (TcpTransport::shim_buffer_, kShimReadBytes), read
// only inside the handler that drains a shim.
constexpr std::size_t kReadBytes = 16384;

// Outbound ESP is written in batches: each time the shim becomes readable, what the engine queued
// there is drained (up to this many datagrams; the shim has UDP GRO, so one datagram is one GSO
// burst of the engine, up to 64 KiB) into buffers of frames of about kShimBatchBytes, and the
// queued buffers go out with one gathered write. One TCP write per packet cost more than anything
// else in the stream path (a tcp_sendmsg and a push of one small segment each,
// docs/performance.md "TCP encapsulation vs UDP").
constexpr std::size_t kShimBatchDatagrams = 64;
constexpr std::size_t kShimBatchBytes = 65536;
// Inbound ESP goes to the engine the same way: the equal-sized ESP frames of one read as one UDP
// GSO datagram (UDP_SEGMENT; the engine's socket has GRO and takes it whole), not a sendto each.
constexpr std::size_t kGsoSegments = 64;  // the kernel's limit is 64 (older) or 128
constexpr std::size_t kGsoBytes = 65000;  // one UDP datagram's payload (65507 at most)
// Queued buffers handed to one write (the socket takes what fits; the rest follows).
constexpr std::size_t kMaxGather = 64;

}  // namespace

struct TcpTransport::Stream : std::enable_shared_from_this<Stream> {
  enum class Role : std::uint8_t { Responder, Initiator };

  Stream(TcpTransport& o, Role r, asio::io_context& io)
      : owner(&o),
        role(r),
        socket(io),
        decoder(r == Role::Responder ? natt::tcp::StreamRole::Responder : natt::tcp::StreamRole::Originator,
                o.settings_.limits.max_frame_bytes),
        shim(io),
        timer(io) {}

  TcpTransport* owner;
  Role role;
  tcp::socket socket;
  natt::tcp::StreamDecoder decoder;
  udp::socket shim;
  Endpoint shim_endpoint;
  Endpoint peer;          // responder: the TCP remote endpoint; initiator: the peer's address and port
  EndpointPair tcp_ends;  // responder: the connection's endpoints, the IKE SA's path
  EndpointPair ike_ends;  // initiator: where the IKE core last sent to this peer
  bool ike_natt = false;
  bool has_ike_ends = false;
  std::deque<Bytes> queue;
  std::size_t queued = 0;
  std::vector<asio::const_buffer> gather;  // the write in flight: the first `gathered` of queue
  std::size_t gathered = 0;
  bool writing = false;
  bool connected = false;
  bool connecting = false;
  bool validated = false;
  std::uint64_t generation = 0;  // a re-opened connection ignores the old one's completions
  asio::steady_timer timer;
  std::array<std::uint8_t, kReadBytes> rx{};
  Bytes to_engine;  // ESP of this read for the engine: to_engine_count packets of to_engine_segment bytes
  std::size_t to_engine_segment = 0;
  std::size_t to_engine_count = 0;

  Status open_shim(const Endpoint& address) {
    boost::system::error_code ec;
    shim.open(udp::v4(), ec);
    if (!ec) shim.bind(udp::endpoint(to_asio(address.address), 0), ec);
    if (!ec) shim.non_blocking(true, ec);
    // GRO: the engine's GSO bursts arrive whole (one receive each); without it (an old kernel)
    // every packet is its own datagram, which drain_shim handles the same way.
    if (!ec) (void)sys::enable_udp_gro(shim.native_handle());
    if (ec)
      return unexpected("TCP encapsulation shim on " + address.address.to_string() + ": " + ec.message());
    shim_endpoint = from_asio(shim.local_endpoint(ec));
    return {};
  }

  void start_read() {
    socket.async_read_some(asio::buffer(rx), [self = shared_from_this(), gen = generation](
                                                 const boost::system::error_code& ec, std::size_t n) {
      if (!self->owner || gen != self->generation) return;
      if (ec) {
        ++self->owner->counters_.closed_by_peer;
        return self->close("closed by the peer: " + ec.message());
      }
      if (self->feed(n)) self->start_read();
    });
  }

  // False when the stream was closed while reading.
  bool feed(std::size_t n) {
    ByteView in(rx.data(), n);
    const std::uint64_t gen = generation;
    auto keep = shared_from_this();
    for (;;) {
      const natt::tcp::Decoded d = decoder.next(in);
      switch (d.status) {
        case natt::tcp::DecodeStatus::NeedMore:
          flush_to_engine();
          return true;
        case natt::tcp::DecodeStatus::Dropped:
          ++owner->counters_.frames_dropped;
          continue;
        case natt::tcp::DecodeStatus::Closed:
          flush_to_engine();
          ++owner->counters_.closed_bad_framing;
          close(std::string("bad framing: ") + natt::tcp::error_name(d.error));
          return false;
        case natt::tcp::DecodeStatus::Frame:
          on_frame(d.frame);
          // The IKE core may have closed or re-opened this stream meanwhile.
          if (!owner || gen != generation) return false;
          continue;
      }
    }
  }

  void on_frame(const natt::tcp::Frame& f) {
    switch (f.kind) {
      case natt::tcp::FrameKind::Keepalive:
        ++owner->counters_.keepalives_rx;  // §6.7: dropped
        return;
      case natt::tcp::FrameKind::Esp:
        ++owner->counters_.esp_rx;
        return to_engine_add(f.payload);
      case natt::tcp::FrameKind::Ike:
        flush_to_engine();  // the ESP before it first, in stream order
        ++owner->counters_.ike_rx;
        validated = true;
        if (role == Role::Responder) {
          timer.cancel();
          if (owner->on_ike_) owner->on_ike_(tcp_ends, f.payload, true);
        } else if (has_ike_ends) {
          if (owner->on_ike_) owner->on_ike_(ike_ends, f.payload, ike_natt);
        }
        return;
    }
  }

  // Collects one ESP packet for the engine; a GSO datagram holds equal-sized segments, the last
  // one may be shorter (it ends the datagram).
  void to_engine_add(ByteView esp) {
    if (to_engine_count > 0 && (esp.size() > to_engine_segment || to_engine_count >= kGsoSegments ||
                                to_engine.size() + esp.size() > kGsoBytes))
      flush_to_engine();
    if (to_engine_count == 0) {
      to_engine_segment = esp.size();
      if (to_engine.capacity() == 0) to_engine.reserve(kGsoBytes);
    }
    to_engine.insert(to_engine.end(), esp.begin(), esp.end());
    ++to_engine_count;
    if (esp.size() < to_engine_segment) flush_to_engine();
  }

  // Sends what to_engine_add collected from the shim to the engine's NAT-T socket: one datagram,
  // with UDP_SEGMENT when it holds more than one packet. A full socket buffer drops them all
  // (counted), as it would drop them on UDP.
  void flush_to_engine() {
    if (to_engine_count == 0) return;
    sockaddr_storage to{};
    const socklen_t to_len = owner->settings_.engine.to_sockaddr(to);
    const int fd = shim.native_handle();
    auto send_one = [&](ByteView b, std::size_t segment) {
      iovec iov{const_cast<std::uint8_t*>(b.data()), b.size()};
      alignas(cmsghdr) std::array<std::uint8_t, sys::kSegmentSizeSpace> control{};
      msghdr h{};
      h.msg_name = &to;
      h.msg_namelen = to_len;
      h.msg_iov = &iov;
      h.msg_iovlen = 1;
      if (segment > 0) {
        h.msg_control = control.data();
        h.msg_controllen = sys::put_segment_size(reinterpret_cast<cmsghdr*>(control.data()),
                                                 static_cast<std::uint16_t>(segment));
      }
      return ::sendmsg(fd, &h, MSG_DONTWAIT) >= 0;
    };
    const ByteView all(to_engine.data(), to_engine.size());
    if (to_engine_count == 1 || !send_one(all, to_engine_segment)) {
      // One packet, or a kernel without UDP GSO (EIO/EINVAL): one datagram each.
      for (std::size_t at = 0; at < all.size(); at += to_engine_segment) {
        const std::size_t n = std::min(to_engine_segment, all.size() - at);
        if (!send_one(all.subspan(at, n), 0)) ++owner->counters_.queue_drops;
      }
    }
    to_engine.clear();
    to_engine_count = 0;
  }

  // `frames` frames (one IKE message, or a batch of ESP) that go out whole or not at all.
  bool enqueue(Bytes frames, std::uint64_t count = 1) {
    if (queued + frames.size() > owner->settings_.limits.max_queued_bytes) {
      owner->counters_.queue_drops += count;
      owner->recycle(std::move(frames));
      return false;
    }
    queued += frames.size();
    queue.push_back(std::move(frames));
    if (connected && !writing) write_next();
    return true;
  }

  // One gathered write of the queued buffers (up to kMaxGather); deque references stay valid
  // while later ones are pushed behind them.
  void write_next() {
    if (queue.empty()) return;
    writing = true;
    gathered = std::min(queue.size(), kMaxGather);
    gather.clear();
    for (std::size_t i = 0; i < gathered; ++i) gather.emplace_back(asio::buffer(queue[i]));
    asio::async_write(
        socket, gather,
        [self = shared_from_this(), gen = generation](const boost::system::error_code& ec, std::size_t) {
          if (!self->owner || gen != self->generation) return;
          self->writing = false;
          if (ec) return self->close("write: " + ec.message());
          for (std::size_t i = 0; i < self->gathered; ++i) {
            self->queued -= self->queue.front().size();
            self->owner->recycle(std::move(self->queue.front()));
            self->queue.pop_front();
          }
          self->gathered = 0;
          self->write_next();
        });
  }

  // async_wait and our own receives: the datagrams land in the transport's one buffer, which is
  // read before the handler returns (an asio receive would fill it later, from the reactor).
  void start_shim() {
    shim.async_wait(udp::socket::wait_read, [self = shared_from_this()](const boost::system::error_code& ec) {
      if (!self->owner || ec == asio::error::operation_aborted) return;
      self->shim_ready();
    });
  }

  void shim_ready() {
    const bool drained = drain_shim();
    if (!owner) return;
    if (drained) return start_shim();
    // More is queued: continue after the other handlers (the socket stays readable, so an
    // edge-triggered wait would not fire again).
    asio::post(owner->io_, [self = shared_from_this()] {
      if (self->owner) self->shim_ready();
    });
  }

  // Frames what the engine queued on the shim (up to kShimBatchDatagrams datagrams) into batches;
  // true when the shim is empty.
  bool drain_shim() {
    Bytes& buf = owner->shim_buffer_;
    Bytes batch = owner->spare_batch();
    std::uint64_t frames = 0;
    bool drained = false;
    for (std::size_t taken = 0; taken < kShimBatchDatagrams; ++taken) {
      sockaddr_storage from{};
      iovec iov{buf.data(), buf.size()};
      alignas(cmsghdr) std::array<std::uint8_t, sys::kGroSegmentSpace> control{};
      msghdr h{};
      h.msg_name = &from;
      h.msg_namelen = sizeof from;
      h.msg_iov = &iov;
      h.msg_iovlen = 1;
      h.msg_control = control.data();
      h.msg_controllen = control.size();
      const ssize_t n = ::recvmsg(shim.native_handle(), &h, MSG_DONTWAIT);
      if (n < 0) {
        drained = errno == EAGAIN || errno == EWOULDBLOCK;
        if (drained) break;
        continue;  // a pending socket error, reported once
      }
      const auto src = Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&from), h.msg_namelen);
      if ((h.msg_flags & MSG_TRUNC) != 0 || !src || src->port != owner->settings_.engine.port) continue;
      const auto total = static_cast<std::size_t>(n);
      std::size_t segment = sys::read_gro_segment_size(h);
      if (segment == 0) segment = total;
      for (std::size_t at = 0; at < total; at += segment)
        append_esp(batch, frames, ByteView(buf.data() + at, std::min(segment, total - at)));
      if (batch.size() >= kShimBatchBytes) {
        from_engine(std::move(batch), frames);
        batch = owner->spare_batch();
        frames = 0;
      }
    }
    if (frames > 0)
      from_engine(std::move(batch), frames);
    else
      owner->recycle(std::move(batch));
    return drained;
  }

  // Only the engine's ESP, sealed for this peer, is framed (§3.2): drain_shim takes datagrams from
  // the engine's port only, and a runt or an SPI of 0 is never the engine's.
  static void append_esp(Bytes& batch, std::uint64_t& frames, ByteView esp) {
    if (natt::tcp::append_esp_frame(esp, batch)) ++frames;
  }

  void from_engine(Bytes batch, std::uint64_t frames) {
    if (frames == 0) return;
    if (role == Role::Initiator && !connected && !connecting) connect();
    if (enqueue(std::move(batch), frames)) owner->counters_.esp_tx += frames;
  }

  // Initiator: a new connection to the peer; the "IKETCP" prefix goes first (§4).
  void connect() {
    boost::system::error_code ignored;
    socket.close(ignored);
    socket = tcp::socket(owner->io_);
    decoder =
        natt::tcp::StreamDecoder(natt::tcp::StreamRole::Originator, owner->settings_.limits.max_frame_bytes);
    ++generation;
    queue.clear();
    queued = 0;
    writing = false;
    gathered = 0;
    connected = false;
    connecting = true;
    queue.emplace_back(natt::tcp::kStreamPrefix.begin(), natt::tcp::kStreamPrefix.end());
    queued = queue.back().size();
    const std::uint64_t gen = generation;
    timer.expires_after(owner->settings_.limits.connect_timeout);
    timer.async_wait([self = shared_from_this(), gen](const boost::system::error_code& ec) {
      if (ec || !self->owner || gen != self->generation || !self->connecting) return;
      ++self->owner->counters_.connect_failures;
      self->close("connect timed out");
    });
    socket.async_connect(tcp::endpoint(to_asio(peer.address), peer.port),
                         [self = shared_from_this(), gen](const boost::system::error_code& ec) {
                           if (!self->owner || gen != self->generation) return;
                           self->connecting = false;
                           self->timer.cancel();
                           if (ec) {
                             ++self->owner->counters_.connect_failures;
                             return self->close("connect: " + ec.message());
                           }
                           ++self->owner->counters_.connects;
                           self->connected = true;
                           boost::system::error_code ignored2;
                           self->socket.set_option(tcp::no_delay(true), ignored2);
                           spdlog::info("TCP encapsulation: connected to {} (RFC 9329)",
                                        self->peer.to_string());
                           self->start_read();
                           self->write_next();
                         });
  }

  void close(const std::string& why) {
    if (!owner) return;
    spdlog::debug("TCP encapsulation: stream {} {}: {}", role == Role::Responder ? "from" : "to",
                  peer.to_string(), why);
    boost::system::error_code ignored;
    socket.close(ignored);
    timer.cancel();
    ++generation;
    connected = false;
    connecting = false;
    writing = false;
    gathered = 0;
    queue.clear();
    queued = 0;
    // An initiator's stream stays, shim and all, and is opened again when needed (§6, §7).
    if (role == Role::Responder) owner->stream_closed(*this);
  }

  void detach() noexcept {
    boost::system::error_code ignored;
    socket.close(ignored);
    shim.close(ignored);
    try {
      timer.cancel();
    } catch (...) {  // NOLINT(bugprone-empty-catch): cancel() throws only if the OS refuses; the stream goes
                     // anyway
    }
    owner = nullptr;
  }
};

struct TcpTransport::Listener : std::enable_shared_from_this<Listener> {
  Listener(TcpTransport& o, asio::io_context& io) : owner(&o), acceptor(io) {}
  TcpTransport* owner;
  tcp::acceptor acceptor;

  void accept() {
    acceptor.async_accept([self = shared_from_this()](const boost::system::error_code& ec, tcp::socket s) {
      if (!self->owner || ec == asio::error::operation_aborted) return;
      if (!ec) {
        auto stream = std::make_shared<Stream>(*self->owner, Stream::Role::Responder, self->owner->io_);
        stream->socket = std::move(s);
        self->owner->accepted(stream);
      }
      self->accept();
    });
  }
};

TcpTransport::TcpTransport(asio::io_context& io, TcpTransportSettings settings, IkeHandler on_ike)
    : io_(io), settings_(std::move(settings)), on_ike_(std::move(on_ike)), shim_buffer_(kShimReadBytes) {}

Expected<std::unique_ptr<TcpTransport>> TcpTransport::start(asio::io_context& io,
                                                            TcpTransportSettings settings,
                                                            IkeHandler on_ike) {
  std::unique_ptr<TcpTransport> t(new TcpTransport(io, std::move(settings), std::move(on_ike)));
  for (Endpoint& e : t->settings_.listen) {
    auto l = std::make_shared<Listener>(*t, io);
    boost::system::error_code ec;
    const tcp::endpoint at(to_asio(e.address), e.port);
    l->acceptor.open(at.protocol(), ec);
    if (!ec) l->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec && e.address.family() == IpFamily::V6) l->acceptor.set_option(asio::ip::v6_only(true), ec);
    if (!ec) l->acceptor.bind(at, ec);
    if (!ec) l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return unexpected("TCP encapsulation: listen on " + e.to_string() + ": " + ec.message());
    e = from_asio(l->acceptor.local_endpoint(ec));  // port 0 (tests): the one the kernel chose
    l->accept();
    t->listeners_.push_back(std::move(l));
  }
  return t;
}

TcpTransport::~TcpTransport() {
  for (auto& l : listeners_) {
    boost::system::error_code ignored;
    l->acceptor.close(ignored);
    l->owner = nullptr;
  }
  for (auto& [peer, s] : accepted_) s->detach();
  for (auto& [peer, s] : initiated_) s->detach();
}

Bytes TcpTransport::spare_batch() {
  if (spare_batches_.empty()) {
    Bytes b;
    b.reserve(kSpareBatchBytes);
    return b;
  }
  Bytes b = std::move(spare_batches_.back());
  spare_batches_.pop_back();
  return b;
}

void TcpTransport::recycle(Bytes b) {
  if (b.capacity() < kSpareBatchBytes || spare_batches_.size() >= kSpareBatches) return;
  b.clear();
  spare_batches_.push_back(std::move(b));
}

Endpoint TcpTransport::next_shim_address() {
  const std::uint32_t n = next_shim_;
  next_shim_ = next_shim_ >= kShimCount ? 1 : next_shim_ + 1;
  return Endpoint{IpAddress::v4(kShimBase + n), 0};
}

void TcpTransport::accepted(const std::shared_ptr<Stream>& s) {
  boost::system::error_code ec;
  s->tcp_ends = {.local = from_asio(s->socket.local_endpoint(ec)),
                 .remote = from_asio(s->socket.remote_endpoint(ec))};
  s->peer = s->tcp_ends.remote;
  if (ec) return;
  if (accepted_.size() >= settings_.limits.max_streams) {
    ++counters_.refused_over_limit;
    spdlog::debug("TCP encapsulation: refused {}: {} streams open", s->peer.to_string(), accepted_.size());
    return;  // the socket closes with s
  }
  if (Status st = s->open_shim(next_shim_address()); !st) {
    spdlog::warn("{}", st.error());
    return;
  }
  ++counters_.accepted;
  s->connected = true;
  closed_peers_.erase(s->peer);
  accepted_[s->peer] = s;
  shims_[s->shim_endpoint] = s->peer;
  // §4: a stream that never brings IKE (or authenticated ESP) holds nothing for long.
  s->timer.expires_after(settings_.limits.idle_before_ike);
  s->timer.async_wait([w = std::weak_ptr<Stream>(s)](const boost::system::error_code& e) {
    auto self = w.lock();
    if (e || !self || !self->owner || self->validated) return;
    ++self->owner->counters_.closed_idle;
    self->close("no IKE message in time");
  });
  s->start_read();
  s->start_shim();
}

void TcpTransport::stream_closed(Stream& s) {
  auto keep = s.shared_from_this();
  shims_.erase(s.shim_endpoint);
  // IKE for this peer's SAs fails until the originator opens a new stream (§6.2), instead of
  // leaking onto UDP.
  if (closed_peers_.size() >= settings_.limits.max_streams * 4) {
    closed_peers_.clear();
    closed_shims_.clear();
    reopened_.clear();
  }
  closed_peers_.insert(s.peer);
  closed_shims_[s.shim_endpoint] = s.peer;
  accepted_.erase(s.peer);
  s.detach();
}

std::shared_ptr<TcpTransport::Stream> TcpTransport::initiator_stream(const IpAddress& peer,
                                                                     const TcpPeerPolicy& policy) {
  if (auto it = initiated_.find(peer); it != initiated_.end()) {
    if (!it->second->connected && !it->second->connecting) it->second->connect();
    return it->second;
  }
  auto s = std::make_shared<Stream>(*this, Stream::Role::Initiator, io_);
  s->peer = Endpoint{peer, policy.port};
  if (Status st = s->open_shim(next_shim_address()); !st) {
    spdlog::warn("{}", st.error());
    return nullptr;
  }
  initiated_[peer] = s;
  shims_[s->shim_endpoint] = s->peer;
  s->start_shim();
  s->connect();
  return s;
}

std::optional<Status> TcpTransport::send_ike(const OutgoingIke& out) {
  auto frame = [&]() -> Expected<Bytes> {
    Bytes f = natt::tcp::ike_frame(out.message);
    if (f.empty()) return unexpected(std::string("IKE message does not fit a TCP frame"));
    return f;
  };
  auto put = [&](Stream& s) -> Status {
    auto f = frame();
    if (!f) return unexpected(f.error());
    if (!s.enqueue(std::move(*f))) return unexpected("TCP stream to " + s.peer.to_string() + " is full");
    ++counters_.ike_tx;
    return {};
  };
  if (auto it = accepted_.find(out.ends.remote); it != accepted_.end()) return put(*it->second);
  if (closed_peers_.count(out.ends.remote)) {
    // The peer re-opened its stream (note_reopened): the IKE SA's messages follow it there. A few
    // hops at most (a stream reset again before the IKE core moved the IKE SA).
    Endpoint at = out.ends.remote;
    for (int hop = 0; hop < 4; ++hop) {
      auto r = reopened_.find(at);
      if (r == reopened_.end()) break;
      if (auto it = accepted_.find(r->second); it != accepted_.end()) return put(*it->second);
      at = r->second;
    }
    return Status(unexpected("the TCP stream from " + out.ends.remote.to_string() + " is closed"));
  }
  const IpAddress& addr = out.ends.remote.address;
  if (!out.from_original_initiator) {
    // An IKE SA the peer started or rekeyed (RFC 7296 §2.18: the side that rekeys is the new IKE
    // SA's original initiator). If we hold an open stream to that peer, its messages reach us over
    // it and ours go back the same way: the stream belongs to the peers, not to one IKE SA (RFC
    // 9329 §6), and UDP may still be dropped. Without this, the first request we sent after the
    // gateway rekeyed the IKE SA went over UDP and was lost.
    if (!on_tcp(addr)) return std::nullopt;
    auto p = settings_.peers.find(addr);
    if (p == settings_.peers.end() || p->second.mode == TcpEncapMode::Never) return std::nullopt;
    auto s = initiator_stream(addr, p->second);
    if (!s) return Status(unexpected("no TCP stream to " + addr.to_string()));
    return put(*s);
  }
  auto p = settings_.peers.find(addr);
  if (p == settings_.peers.end() || p->second.mode == TcpEncapMode::Never) return std::nullopt;
  const bool sa_on_stream = ike_sa_on_stream(addr, out.spi_i);
  // tcp: auto, back to UDP: an IKE_SA_INIT whose SPIi never went over the stream starts a fresh
  // IKE SA (a full re-establishment; rekeys and MOBIKE updates are not IKE_SA_INITs). UDP may
  // work again (the client left the network that dropped it, the firewall changed), so it goes
  // over UDP and moves to TCP only after the same count of unanswered retransmits below. The old
  // IKE SA's messages keep the stream (sa_on_stream), which closes once no SA uses it.
  if (p->second.mode == TcpEncapMode::Auto && out.ike_sa_init_request && !sa_on_stream &&
      moved_to_tcp_.count(addr)) {
    moved_to_tcp_.erase(addr);
    back_to_udp_[addr] = "tcp: auto, back on UDP for a new IKE SA (an earlier one had moved to TCP)";
    ++counters_.back_to_udp;
    spdlog::info("a new IKE SA with {}: trying UDP again before TCP port {} (RFC 9329)", addr.to_string(),
                 p->second.port);
    if (initiated_.count(addr)) {
      retiring_.insert(addr);
      retire_if_unused(addr);
    }
  }
  bool use_tcp = p->second.mode == TcpEncapMode::Always || moved_to_tcp_.count(addr) != 0 || sa_on_stream;
  // tcp: auto also watches INFORMATIONAL requests of an established IKE SA: after a MOBIKE move
  // (RFC 4555 §3.5) into a network that drops UDP, the UPDATE_SA_ADDRESSES (or the liveness check
  // that follows) goes unanswered like an IKE_SA_INIT would, and the same count moves the peer to
  // TCP; the retransmit then travels over the new stream and the IKE SA is kept (RFC 9329 §6
  // lets either transport carry an IKE SA's messages).
  if (!use_tcp && (out.ike_sa_init_request || out.informational_request)) {
    if (request_sends_.size() >= 4096) request_sends_.clear();
    const auto key = std::make_pair(out.spi_i, out.message_id);
    const std::uint32_t sends = ++request_sends_[key];
    // This send is retransmit number sends - 1: the ones before it went unanswered.
    if (sends > p->second.after_retransmits + 1) {
      request_sends_.erase(key);
      const char* what =
          out.ike_sa_init_request ? "IKE_SA_INIT" : "INFORMATIONAL (MOBIKE update or liveness check)";
      moved_to_tcp_[addr] = std::string("tcp: auto, ") + what + " request unanswered over UDP (" +
                            std::to_string(sends - 1) + " sends)";
      // A stream kept for old SAs serves the new ones again.
      retiring_.erase(addr);
      back_to_udp_.erase(addr);
      ++counters_.switched_to_tcp;
      spdlog::info("no answer over UDP from {} after {} {} retransmits: moving to TCP port {} (RFC 9329)",
                   addr.to_string(), sends - 2, what, p->second.port);
      use_tcp = true;
      if (!out.ike_sa_init_request && on_moved_) {
        // The stream (and its shim) must exist before the CHILD SAs are pointed at it.
        if (!initiator_stream(addr, p->second))
          return Status(unexpected("no TCP stream to " + addr.to_string()));
        on_moved_(addr);
      }
    }
  }
  if (!use_tcp) return std::nullopt;
  auto s = initiator_stream(addr, p->second);
  if (!s) return Status(unexpected("no TCP stream to " + addr.to_string()));
  auto& sas = stream_ike_sas_[addr];
  if (sas.size() >= 1024) sas.clear();  // bounded; an IKE SA forgotten here is counted again
  sas.insert(out.spi_i);
  s->ike_ends = out.ends;
  s->ike_natt = out.natt;
  s->has_ike_ends = true;
  return put(*s);
}

bool TcpTransport::on_tcp(const IpAddress& peer) const {
  return initiated_.count(peer) != 0 && retiring_.count(peer) == 0;
}

bool TcpTransport::ike_sa_on_stream(const IpAddress& peer, const std::array<std::uint8_t, 8>& spi_i) const {
  auto it = stream_ike_sas_.find(peer);
  return it != stream_ike_sas_.end() && it->second.count(spi_i) != 0;
}

void TcpTransport::retire_if_unused(const IpAddress& peer) {
  if (!retiring_.count(peer)) return;
  auto it = initiated_.find(peer);
  if (it != initiated_.end()) {
    if (shim_in_use_ && shim_in_use_(it->second->shim_endpoint)) return;
    spdlog::info("TCP encapsulation: closing the stream to {}: back on UDP and no SA uses it",
                 it->second->peer.to_string());
    shims_.erase(it->second->shim_endpoint);
    it->second->detach();
    initiated_.erase(it);
    ++counters_.streams_retired;
  }
  retiring_.erase(peer);
  stream_ike_sas_.erase(peer);
}

void TcpTransport::sa_removed() {
  const std::set<IpAddress> retiring = retiring_;
  for (const auto& peer : retiring) retire_if_unused(peer);
}

bool TcpTransport::carries(const EndpointPair& ends) const {
  if (accepted_.count(ends.remote) || closed_peers_.count(ends.remote)) return true;
  return on_tcp(ends.remote.address);
}

std::optional<Endpoint> TcpTransport::shim_for(const Endpoint& remote) const {
  if (auto it = accepted_.find(remote); it != accepted_.end()) return it->second->shim_endpoint;
  if (!on_tcp(remote.address)) return std::nullopt;
  return initiated_.find(remote.address)->second->shim_endpoint;
}

void TcpTransport::note_reopened(const Endpoint& old_shim, const Endpoint& new_shim) {
  auto old_peer = closed_shims_.find(old_shim);
  auto new_peer = shims_.find(new_shim);
  if (old_peer == closed_shims_.end() || new_peer == shims_.end()) return;
  if (!accepted_.count(new_peer->second)) return;  // only a responder's streams are re-opened to it
  reopened_[old_peer->second] = new_peer->second;
}

std::optional<Endpoint> TcpTransport::peer_of_shim(const Endpoint& shim) {
  auto it = shims_.find(shim);
  if (it == shims_.end()) {
    if (auto c = closed_shims_.find(shim); c != closed_shims_.end()) return c->second;
    return std::nullopt;
  }
  // Authenticated ESP came over this stream (the data plane reports only such): it is in use.
  if (auto a = accepted_.find(it->second); a != accepted_.end() && !a->second->validated) {
    a->second->validated = true;
    a->second->timer.cancel();
  }
  return it->second;
}

std::size_t TcpTransport::open_streams() const {
  std::size_t n = accepted_.size();
  for (const auto& [peer, s] : initiated_) n += s->connected ? 1 : 0;
  return n;
}

std::string TcpTransport::transport_of(const Endpoint& remote) const {
  return shim_for(remote) ? "tcp" : "udp";
}

std::string TcpTransport::tcp_reason(const Endpoint& remote) const {
  if (accepted_.count(remote)) return "the peer connected over TCP (RFC 9329)";
  if (!on_tcp(remote.address)) return "";
  if (auto m = moved_to_tcp_.find(remote.address); m != moved_to_tcp_.end()) return m->second;
  return "tcp: always";
}

std::string TcpTransport::udp_reason(const Endpoint& remote) const {
  if (accepted_.count(remote) || on_tcp(remote.address)) return "";
  auto p = settings_.peers.find(remote.address);
  if (p == settings_.peers.end() || p->second.mode != TcpEncapMode::Auto) return "";
  if (auto b = back_to_udp_.find(remote.address); b != back_to_udp_.end()) return b->second;
  return "tcp: auto, UDP first (TCP after " + std::to_string(p->second.after_retransmits) +
         " unanswered retransmits)";
}

}  // namespace natgate::gateway
