// Outer socket -> TUN: classify what arrived on the NAT-T port (RFC 3948), find the SA by SPI,
// check the replay window, verify and decrypt, move the window, check the inner packet against
// the SA's selectors (RFC 4301 §5.2), clamp SYN MSS, and hand the packet to the coalescer for the
// TUN. IKE datagrams go to the control plane's queue. Every drop is counted.
//
// Run by the inbound worker only; packets are decrypted where they were received. With a relay
// queue, a packet an outbound policy sends into another SA of this engine goes there instead of
// to the TUN (esp/relay_queue.h, inbound_relay.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include "esp/engine_counters.h"
#include "esp/engine_event.h"
#include "esp/engine_settings.h"
#include "esp/event_queue.h"
#include "esp/inner/tcp_coalescer.h"
#include "esp/relay_queue.h"
#include "esp/sa/idle_contexts.h"
#include "esp/sa/sa_table.h"

namespace natgate::esp {

class InboundPath {
 public:
  InboundPath(const EngineSettings& settings, EngineCounters& counters, EventQueue<EngineEvent>& events,
              EventQueue<IkeDatagram>& ike, TcpCoalescer& coalescer, TunSink& tun,
              RelayQueue* relay = nullptr);

  // One UDP datagram from the NAT-T socket.
  void handle_udp(std::uint8_t* d, std::size_t len, const Endpoint& from, const Endpoint& local,
                  const SaTable& table, Clock::time_point now);
  // One ESP packet (from UDP after classification, or from the raw protocol-50 socket).
  void handle_esp(std::uint8_t* esp, std::size_t len, const Endpoint& from, const SaTable& table,
                  Clock::time_point now);
  // Route-based VPN: the decrypted packets of SAs with this if_id go to `sink` (their
  // connection's TUN), not through the coalescer or the relay. The sink outlives this path.
  void add_interface(std::uint16_t if_id, TunSink& sink) { interfaces_.emplace_back(if_id, &sink); }
  // Writes what the coalescer holds to the TUN (and wakes the outbound worker for what was
  // relayed). Must run before the receive buffers are reused.
  void flush();
  // Releases the cipher contexts of SAs idle for settings.context_idle (esp/sa/idle_contexts.h);
  // the worker calls it with its housekeeping, every half second.
  void release_idle(Clock::time_point now);

 private:
  // The SA-to-SA relay (inbound_relay.cc): true when the packet was taken (queued for the
  // outbound worker, or dropped because the queue was full); false sends it to the TUN.
  bool relay(std::uint8_t* pkt, const InnerPacket& info, const SaTable& table);
  // path_mtu: what the SA's path carries (the TCP MSS clamp).
  void to_interface(std::uint16_t if_id, std::uint8_t* pkt, const InnerPacket& info, std::size_t path_mtu);
  void post_expiry(const SaState& sa, const SaRef& ref, SaState::Expiry e);
  void note_source(const SaState& sa, const SaRef& ref, const Endpoint& from);

  const EngineSettings& settings_;
  EngineCounters& counters_;
  EventQueue<EngineEvent>& events_;
  EventQueue<IkeDatagram>& ike_;
  TcpCoalescer& coalescer_;
  TunSink& tun_;
  RelayQueue* relay_;                                             // null: relay off
  std::vector<std::pair<std::uint16_t, TunSink*>> interfaces_;    // few: searched in order
  std::unordered_map<std::uint32_t, Endpoint> reported_sources_;  // SPI -> last mapping reported
  IdleContexts contexts_;
};

}  // namespace natgate::esp
