// TUN -> ESP: for each packet (or TCP super-packet) read from the TUN, find the outbound SA by
// policy, complete checksums, clamp the MSS, cut super-packets into segments, seal each segment
// in its batch slot and queue it for the outer socket. Oversized packets that may not be
// fragmented get an ICMP too-big back through the TUN.
//
// Run by the outbound worker only; no I/O of its own besides the sink for ICMP errors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "esp/engine_counters.h"
#include "esp/engine_event.h"
#include "esp/engine_settings.h"
#include "esp/event_queue.h"
#include "esp/inner/tcp_coalescer.h"
#include "esp/net/send_batch.h"
#include "esp/net/socket_set.h"
#include "esp/sa/idle_contexts.h"
#include "esp/sa/sa_table.h"
#include "esp/tun/virtio_net_hdr.h"

namespace natgate::esp {

class OutboundPath {
 public:
  OutboundPath(const EngineSettings& settings, EngineCounters& counters, EventQueue<EngineEvent>& events,
               const SocketSet& sockets, SendBatch& batch, TunSink& tun);

  // frame = virtio-net header + packet, as read from the TUN; if_id: which TUN (0 = the main
  // one, else a route-based connection's), whose SAs alone may seal it.
  void handle(std::uint8_t* frame, std::size_t len, const SaTable& table, Clock::time_point now,
              std::uint16_t if_id = 0);
  // The same for a packet the inbound worker relayed from another SA (esp/relay_queue.h). If the
  // table changed meanwhile and its policy has no usable SA now, it goes to the TUN, where it
  // would have gone without the relay.
  void handle_relayed(std::uint8_t* frame, std::size_t len, const SaTable& table, Clock::time_point now);
  // Sends what is queued.
  void flush();
  // As InboundPath::release_idle, for the outbound SAs this worker seals with.
  void release_idle(Clock::time_point now);

 private:
  void seal_frame(const VirtioNetHdr& h, std::uint8_t* pkt, const InnerPacket& info,
                  const SaTable::OutboundMatch& match, Clock::time_point now, std::uint16_t if_id = 0);
  // Seals the inner packet made of head_len bytes already at the slot's inner offset and
  // tail_len bytes at tail (outside the slot), and queues it.
  void seal_and_queue(SaState& sa, std::uint8_t* slot, std::size_t head_len, const std::uint8_t* tail,
                      std::size_t tail_len, std::uint8_t next_header, const Destination& dest,
                      std::int64_t now_ns);
  void too_big(const std::uint8_t* pkt, const InnerPacket& info, std::size_t mtu, Clock::time_point now);
  void acquire(const PolicyRule& policy, const InnerPacket& info, Clock::time_point now);
  void post_expiry(const SaState& sa, const OuterPath& path, SaState::Expiry e);

  const EngineSettings& settings_;
  EngineCounters& counters_;
  EventQueue<EngineEvent>& events_;
  const SocketSet& sockets_;
  SendBatch& batch_;
  TunSink& tun_;
  const OuterPath* current_path_ = nullptr;
  std::vector<std::uint8_t> icmp_buf_;
  double icmp_tokens_;
  Clock::time_point icmp_refill_;
  std::unordered_map<std::uint32_t, Clock::time_point> last_acquire_;
  IdleContexts contexts_;
};

}  // namespace natgate::esp
