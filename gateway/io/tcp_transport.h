// RFC 9329 TCP encapsulation on natgated's io_context: the listening sockets (responder), the
// connections natgated opens (initiator), and the bridge between each stream and the userspace
// ESP engine. The stream format is natt/tcp_encap.h and natt/tcp_stream_decoder.h; this file
// owns the sockets, the limits and which stream a message belongs to.
//
// How ESP crosses without the engine knowing about TCP: every stream has a "shim", a UDP socket
// on its own loopback address (127.64.0.0/10). A CHILD SA whose peer uses the stream is installed
// with the shim as its outer remote endpoint (gateway/core/natt_channel_tcp.h rewrites it), so
// the engine seals ESP-in-UDP to the shim; the shim frames each packet into the stream (§3.2).
// ESP frames from the stream go out of the shim to the engine's NAT-T socket, which opens them as
// it opens any ESP-in-UDP from that SA's remote endpoint. IKE frames (§3.1) go to the IKE core.
//
// One stream per IKE SA (§6): a responder stream is named by its TCP remote endpoint, which the
// IKE SA takes as its peer's endpoint; an initiator stream is named by the peer's address, and the
// IKE SAs natgated starts with that peer (rekeyed ones included) use it. An initiator's stream
// that is reset is opened again on the next IKE message or ESP packet, with the SAs kept (§6,
// §7); its shim outlives the connection, so the installed SAs need no change.
//
// Back to UDP (tcp: auto, issue 15): the move to TCP holds for the IKE SAs that made it or
// followed it (rekeys, MOBIKE updates: their messages keep the stream). An IKE_SA_INIT for a
// fresh IKE SA (a full re-establishment) tries UDP again and moves to TCP only after the same
// count of unanswered retransmits. The old stream then serves the old IKE SA's SAs alone and is
// closed once none of them is installed (TcpSaBackend reports removals, sa_removed()).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/endpoint_pair.h"
#include "common/expected.h"
#include "common/ip_address.h"
#include "gateway/config/config.h"

namespace boost::asio {
class io_context;
}

namespace natgate::gateway {

struct TcpEncapLimits {
  // Accepted streams at once; one past it is closed at accept (counted).
  std::size_t max_streams = 1024;
  // Bytes queued for sending on one stream; a frame that does not fit is dropped (counted), as a
  // full UDP send buffer drops a datagram (IKE retransmits, the inner TCP resends).
  std::size_t max_queued_bytes = std::size_t{1} << 20;
  // An accepted stream that brought no IKE message (and no authenticated ESP) by then is closed.
  std::chrono::milliseconds idle_before_ike{10'000};
  // An initiator's connect that takes longer is abandoned; the next message tries again.
  std::chrono::milliseconds connect_timeout{5'000};
  // The largest frame accepted from a peer (natt/tcp_stream_decoder.h).
  std::size_t max_frame_bytes = 65535;
};

// What natgated does for IKE SAs it starts with one peer (from connections.NAME.natt).
struct TcpPeerPolicy {
  TcpEncapMode mode = TcpEncapMode::Never;
  std::uint16_t port = 4500;
  std::uint32_t after_retransmits = 1;
};

struct TcpTransportSettings {
  std::vector<Endpoint> listen;              // responder: one listening socket per entry
  std::map<IpAddress, TcpPeerPolicy> peers;  // initiator: by the peer's address
  Endpoint engine;                           // the engine's IPv4 NAT-T socket (where shims send ESP)
  TcpEncapLimits limits;
};

// An IKE message as the IKE core sends it, with what decides its transport.
struct OutgoingIke {
  EndpointPair ends;
  ByteView message;
  bool natt = false;                     // the IKE core meant the NAT-T port (marker on UDP)
  bool from_original_initiator = false;  // the I flag (RFC 7296 §3.1): an IKE SA we started
  bool ike_sa_init_request = false;
  // An INFORMATIONAL request (a MOBIKE UPDATE_SA_ADDRESSES or a liveness check, RFC 4555 §3.5,
  // RFC 7296 §2.4): with tcp: auto, unanswered as long as an IKE_SA_INIT, it moves the peer to TCP.
  bool informational_request = false;
  std::uint32_t message_id = 0;
  std::array<std::uint8_t, 8> spi_i{};
};

class TcpTransport {
 public:
  // An IKE message from a stream: ends as the IKE core names the path (for a responder stream
  // its TCP endpoints; for an initiator stream the endpoints the IKE core last sent on).
  using IkeHandler = std::function<void(const EndpointPair& ends, ByteView message, bool natt)>;

  struct Counters {
    std::uint64_t accepted = 0;
    std::uint64_t refused_over_limit = 0;
    std::uint64_t connects = 0;
    std::uint64_t connect_failures = 0;
    std::uint64_t closed_idle = 0;
    std::uint64_t closed_bad_framing = 0;  // bad prefix or Length: the stream is closed
    std::uint64_t closed_by_peer = 0;
    std::uint64_t frames_dropped = 0;  // too short for their kind; the stream goes on
    std::uint64_t ike_rx = 0;
    std::uint64_t ike_tx = 0;
    std::uint64_t esp_rx = 0;
    std::uint64_t esp_tx = 0;
    std::uint64_t keepalives_rx = 0;
    std::uint64_t queue_drops = 0;
    std::uint64_t switched_to_tcp = 0;  // tcp: auto moved a peer from UDP to TCP
    std::uint64_t back_to_udp = 0;      // tcp: auto tried UDP again for a fresh IKE SA
    std::uint64_t streams_retired = 0;  // initiator streams closed: back on UDP, no SA used them
  };

  static Expected<std::unique_ptr<TcpTransport>> start(boost::asio::io_context& io,
                                                       TcpTransportSettings settings, IkeHandler on_ike);
  ~TcpTransport();
  TcpTransport(const TcpTransport&) = delete;
  TcpTransport& operator=(const TcpTransport&) = delete;

  // Sends the message over the stream its IKE SA uses, opening one (tcp: always, or auto after
  // enough unanswered IKE_SA_INITs). nullopt: the message is not the streams' (it goes over UDP).
  std::optional<Status> send_ike(const OutgoingIke& out);
  // True when IKE to `ends` travels over a stream (no NAT-keepalives there, §6.7).
  bool carries(const EndpointPair& ends) const;

  // The shim that stands for the peer at `remote` (a stream's remote endpoint, or a peer whose
  // IKE SAs natgated started over TCP); nullopt when that peer uses UDP.
  std::optional<Endpoint> shim_for(const Endpoint& remote) const;
  // The peer a shim stands for (for the data plane's events); nullopt for any other endpoint.
  // A closed responder stream's shim still names its peer.
  std::optional<Endpoint> peer_of_shim(const Endpoint& shim);
  // The data plane saw an SA's authenticated ESP arrive over the stream of `new_shim` while the
  // SA was installed towards `old_shim`: when that was a closed responder stream, the peer
  // re-opened it (§6, §7), and IKE the IKE core still sends to the old stream (a request it is
  // retransmitting, a Delete) goes over the new one.
  void note_reopened(const Endpoint& old_shim, const Endpoint& new_shim);
  std::uint16_t engine_port() const { return settings_.engine.port; }
  // Where the listeners are bound (the port the kernel chose for a configured 0).
  const std::vector<Endpoint>& listen_endpoints() const { return settings_.listen; }

  const Counters& counters() const { return counters_; }
  std::size_t open_streams() const;
  // "tcp" or "udp" for status: the transport IKE to `remote` uses.
  std::string transport_of(const Endpoint& remote) const;
  // Why IKE to `remote` uses TCP (for status), or "" when it does not.
  std::string tcp_reason(const Endpoint& remote) const;
  // Why IKE to `remote` uses UDP although tcp: auto could move it (for status), or "" when the
  // peer is on TCP or has no tcp: auto policy.
  std::string udp_reason(const Endpoint& remote) const;

  // Whether an installed SA still sends to `shim` (set by TcpSaBackend, which knows the SAs).
  using ShimInUse = std::function<bool(const Endpoint& shim)>;
  void set_shim_in_use(ShimInUse f) { shim_in_use_ = std::move(f); }
  // An SA was removed: closes the initiator streams that only old SAs kept (back on UDP) once
  // no installed SA uses them.
  void sa_removed();

  // Called when tcp: auto moves a peer's address from UDP to TCP in the middle of an IKE SA (a
  // MOBIKE move into a network without UDP), so the CHILD SAs installed towards it follow to the
  // stream's shim. One listener; nullptr removes it.
  using MovedHandler = std::function<void(const IpAddress& peer)>;
  void set_moved_handler(MovedHandler h) { on_moved_ = std::move(h); }

  struct Stream;
  struct Listener;

 private:
  TcpTransport(boost::asio::io_context& io, TcpTransportSettings settings, IkeHandler on_ike);
  friend struct Stream;
  friend struct Listener;
  void accepted(const std::shared_ptr<Stream>& s);
  void stream_closed(Stream& s);
  std::shared_ptr<Stream> initiator_stream(const IpAddress& peer, const TcpPeerPolicy& policy);
  Endpoint next_shim_address();
  // Initiator: new IKE SAs and CHILD SAs towards `peer` use its stream (tcp: always, or moved by
  // tcp: auto and not yet back on UDP).
  bool on_tcp(const IpAddress& peer) const;
  // Whether the IKE SA with this SPIi has sent over the stream to `peer` (it keeps the stream).
  bool ike_sa_on_stream(const IpAddress& peer, const std::array<std::uint8_t, 8>& spi_i) const;
  // Closes `peer`'s stream if it is retiring and no installed SA uses its shim.
  void retire_if_unused(const IpAddress& peer);

  boost::asio::io_context& io_;
  TcpTransportSettings settings_;
  IkeHandler on_ike_;
  std::vector<std::shared_ptr<Listener>> listeners_;
  std::map<Endpoint, std::shared_ptr<Stream>> accepted_;    // by the peer's TCP endpoint
  std::map<IpAddress, std::shared_ptr<Stream>> initiated_;  // by the peer's address
  std::map<Endpoint, Endpoint> shims_;                      // shim -> peer
  // tcp: auto — sends of the IKE_SA_INIT or INFORMATIONAL request with this SPIi and Message ID
  // (retransmits = sends - 1).
  std::map<std::pair<std::array<std::uint8_t, 8>, std::uint32_t>, std::uint32_t> request_sends_;
  std::map<IpAddress, std::string> moved_to_tcp_;  // -> why, for status
  // The IKE SAs (by SPIi) that sent over each initiator stream: they stay on it (§6).
  std::map<IpAddress, std::set<std::array<std::uint8_t, 8>>> stream_ike_sas_;
  std::set<IpAddress> retiring_;                  // initiator streams kept only for old SAs
  std::map<IpAddress, std::string> back_to_udp_;  // -> why, for status
  MovedHandler on_moved_;
  ShimInUse shim_in_use_;
  std::set<Endpoint> closed_peers_;            // responder streams that closed, bounded
  std::map<Endpoint, Endpoint> closed_shims_;  // a closed responder stream's shim -> its peer, bounded
  std::map<Endpoint, Endpoint> reopened_;  // a closed responder stream's peer -> the stream that took over
  std::uint32_t next_shim_ = 1;
  Counters counters_;
  // What a shim receives (one GRO datagram at most), read inside the handler that drains it:
  // one buffer for all streams, since every stream runs on the one io_context thread.
  static constexpr std::size_t kShimReadBytes = 65536;
  Bytes shim_buffer_;
  // Batch buffers of outbound ESP frames, reused once written: a fresh 128 KiB buffer per batch
  // cost more in page faults and zeroing than the framing itself (docs/performance.md). A batch
  // holds under 64 KiB plus one GRO datagram's frames (64 KiB and a 2-byte Length per packet).
  static constexpr std::size_t kSpareBatchBytes = 2 * kShimReadBytes + 4096;
  static constexpr std::size_t kSpareBatches = 16;
  std::vector<Bytes> spare_batches_;
  Bytes spare_batch();
  void recycle(Bytes b);
};

}  // namespace natgate::gateway
