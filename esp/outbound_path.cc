#include "esp/outbound_path.h"

#include <algorithm>
#include <cstring>

#include "esp/inner/checksum.h"
#include "esp/inner/icmp_too_big.h"
#include "esp/inner/mss_clamp.h"
#include "esp/inner/tcp_segmenter.h"
#include "esp/tun/virtio_net_hdr.h"

namespace natgate::esp {

namespace {

constexpr auto kAcquireInterval = std::chrono::seconds(1);

bool is_syn(const std::uint8_t* pkt, const InnerPacket& info) {
  return info.protocol == kProtoTcp && !info.later_fragment && info.l4_offset + 14 <= info.total_len &&
         (pkt[info.l4_offset + 13] & 0x02) != 0;
}

TrafficSelector host_selector(const InnerPacket& info, bool src) {
  TrafficSelector ts;
  ts.start = ts.end = src ? info.source() : info.destination();
  ts.ip_protocol = info.protocol;
  if (info.has_ports && (info.protocol == kProtoTcp || info.protocol == kProtoUdp)) {
    ts.start_port = ts.end_port = src ? info.src_port : info.dst_port;
  }
  return ts;
}

}  // namespace

OutboundPath::OutboundPath(const EngineSettings& settings, EngineCounters& counters,
                           EventQueue<EngineEvent>& events, const SocketSet& sockets, SendBatch& batch,
                           TunSink& tun)
    : settings_(settings),
      counters_(counters),
      events_(events),
      sockets_(sockets),
      batch_(batch),
      tun_(tun),
      icmp_buf_(1280 + 64),
      icmp_tokens_(settings.icmp_per_second),
      icmp_refill_(Clock::now()),
      contexts_(settings.context_idle) {}

void OutboundPath::handle(std::uint8_t* frame, std::size_t len, const SaTable& table, Clock::time_point now,
                          std::uint16_t if_id) {
  EngineCounters::bump(counters_.tun_reads);
  VirtioNetHdr h;
  if (len < sizeof h) {
    EngineCounters::bump(counters_.out_malformed);
    return;
  }
  std::memcpy(&h, frame, sizeof h);
  std::uint8_t* pkt = frame + sizeof h;
  auto info = parse_inner(pkt, len - sizeof h);
  if (!info) {
    EngineCounters::bump(counters_.out_malformed);
    return;
  }
  seal_frame(h, pkt, *info, table.outbound(*info), now, if_id);
}

void OutboundPath::handle_relayed(std::uint8_t* frame, std::size_t len, const SaTable& table,
                                  Clock::time_point now) {
  // The inbound worker parsed and checked the packet and wrote the (empty) header.
  auto info = parse_inner(frame + sizeof(VirtioNetHdr), len - sizeof(VirtioNetHdr));
  if (!info) return;
  const auto match = table.outbound(*info);
  if (!match.sa || match.sa->sa->hard_expired()) {
    // Its TTL was lowered once already and the kernel lowers it again: one hop too many, only
    // for packets caught between the two workers by an SA's removal.
    iovec iov{frame, len};
    tun_.write_packet(&iov, 1);
    EngineCounters::bump(counters_.relay_late_to_tun);
    return;
  }
  seal_frame(VirtioNetHdr{}, frame + sizeof(VirtioNetHdr), *info, match, now);
}

void OutboundPath::seal_frame(const VirtioNetHdr& h, std::uint8_t* pkt, const InnerPacket& parsed,
                              const SaTable::OutboundMatch& match, Clock::time_point now,
                              std::uint16_t if_id) {
  const InnerPacket* info = &parsed;
  if (!match.policy) {
    EngineCounters::bump(counters_.out_no_policy);
    return;
  }
  if (!match.sa) {
    EngineCounters::bump(counters_.out_no_sa);
    acquire(*match.policy, *info, now);
    return;
  }
  SaState& sa = *match.sa->sa;
  // Route-based VPN: the route decides. A packet the host routed into another TUN than the SA's
  // is not this SA's traffic, whatever its selectors say (XFRM's if_id check, in the engine).
  if (sa.if_id() != if_id) {
    EngineCounters::bump(counters_.out_wrong_interface);
    return;
  }
  if (sa.hard_expired()) {
    EngineCounters::bump(counters_.out_sa_expired);
    return;
  }
  // Contexts on the first packet after install or idling (esp/sa/idle_contexts.h).
  if (!sa.crypto().keyed()) {
    if (!contexts_.key_up(match.sa->sa, now)) {
      EngineCounters::bump(counters_.out_send_errors);
      return;
    }
    EngineCounters::bump(counters_.contexts_keyed_out);
  }
  const Destination dest = sockets_.destination_for(match.sa->path);
  if (!dest.socket) {
    EngineCounters::bump(counters_.out_send_errors);
    return;
  }
  current_path_ = &match.sa->path;
  const std::int64_t now_ns = now.time_since_epoch().count();
  const std::uint8_t next_header = info->family == IpFamily::V4 ? kNextHeaderIpv4 : kNextHeaderIpv6;
  const std::size_t head = sa.crypto().header_bytes();
  const std::size_t max_inner = std::min(match.sa->max_inner, batch_.slot_size() - head - 64);
  const std::uint8_t gso = h.gso_type & static_cast<std::uint8_t>(~kVnetGsoEcn);

  if (gso == kVnetGsoTcpV4 || gso == kVnetGsoTcpV6) {
    EngineCounters::bump(counters_.tun_super_packets);
    TcpSegmenter seg;
    if (!seg.init(pkt, *info, h)) {
      EngineCounters::bump(counters_.out_malformed);
      return;
    }
    if (seg.segment_len(0) > max_inner) {
      // The kernel sized segments for the TUN MTU, but this SA's path carries less.
      too_big(pkt, *info, max_inner, now);
      return;
    }
    for (std::size_t i = 0; i < seg.count(); ++i) {
      if (batch_.full()) flush();
      std::uint8_t* slot = batch_.slot();
      // Copied whole, then sealed in place: encrypting the payload straight from the super-packet
      // (EspCrypto::seal_gather with the headers in place) measured no faster, as the two extra
      // cipher updates it needs cost what the saved 1.4 KB copy saves (docs/performance.md).
      const std::size_t n = seg.write(i, slot + head);
      seal_and_queue(sa, slot, n, nullptr, 0, next_header, dest, now_ns);
      if (sa.hard_expired()) break;
    }
    return;
  }
  if (gso != kVnetGsoNone) {  // UDP fragmentation offload is never enabled on the TUN
    EngineCounters::bump(counters_.out_malformed);
    return;
  }
  const bool partial = (h.flags & kVnetFlagNeedsCsum) != 0;
  if (settings_.mss_clamp && is_syn(pkt, *info)) {
    const std::uint16_t mss = mss_for_mtu(std::min(max_inner, settings_.tun_mtu), info->family);
    if (clamp_mss(pkt, *info, mss, partial)) EngineCounters::bump(counters_.mss_clamped_out);
  }
  // Pitfall 3 of the notes: offload hands out CHECKSUM_PARTIAL packets even when not GSO; a
  // standard peer would forward them with a wrong checksum, so finish it before sealing.
  if (partial && !complete_partial_checksum(pkt, info->total_len, h.csum_start, h.csum_offset)) {
    EngineCounters::bump(counters_.out_malformed);
    return;
  }
  if (info->total_len > max_inner) {
    const bool may_fragment_outer = info->family == IpFamily::V4 && !info->dont_fragment;
    if (!may_fragment_outer || sa.crypto().sealed_bytes(info->total_len) > batch_.slot_size()) {
      too_big(pkt, *info, max_inner, now);
      return;
    }
    // IPv4 without DF: send the larger ESP packet and let the outer IP layer fragment it.
  }
  if (batch_.full()) flush();
  // Copied and encrypted in one pass from the TUN read buffer into the slot.
  seal_and_queue(sa, batch_.slot(), 0, pkt, info->total_len, next_header, dest, now_ns);
}

void OutboundPath::seal_and_queue(SaState& sa, std::uint8_t* slot, std::size_t head_len,
                                  const std::uint8_t* tail, std::size_t tail_len, std::uint8_t next_header,
                                  const Destination& dest, std::int64_t now_ns) {
  const std::size_t inner_len = head_len + tail_len;
  auto seq = sa.next_sequence();
  if (!seq) {
    EngineCounters::bump(counters_.out_sa_expired);
    post_expiry(sa, *current_path_, sa.check_volume());
    return;
  }
  const std::size_t n = sa.crypto().seal_gather(slot, head_len, tail, tail_len, batch_.slot_size(),
                                                next_header, sa.spi(), *seq);
  if (n == 0) {
    EngineCounters::bump(counters_.out_send_errors);
    return;
  }
  batch_.commit(n, dest);
  auto& st = sa.stats();
  SaState::bump(st.bytes, inner_len);
  SaState::bump(st.packets);
  st.last_use_ns.store(now_ns, std::memory_order_relaxed);
  EngineCounters::bump(counters_.out_packets);
  EngineCounters::bump(counters_.out_bytes, inner_len);
  if (auto e = sa.check_volume(); e != SaState::Expiry::None) post_expiry(sa, *current_path_, e);
}

void OutboundPath::release_idle(Clock::time_point now) {
  const auto swept = contexts_.sweep(now);
  if (swept.released + swept.gone != 0)
    EngineCounters::bump(counters_.contexts_released_out, swept.released + swept.gone);
}

void OutboundPath::flush() {
  if (batch_.size() == 0) return;
  const auto r = batch_.flush();
  EngineCounters::bump(counters_.out_messages, r.messages);
  if (r.errors) EngineCounters::bump(counters_.out_send_errors, r.errors);
}

void OutboundPath::post_expiry(const SaState& sa, const OuterPath& path, SaState::Expiry e) {
  if (e == SaState::Expiry::None) return;
  EngineEvent ev;
  ev.kind = e == SaState::Expiry::Hard ? EngineEvent::Kind::HardExpire : EngineEvent::Kind::SoftExpire;
  ev.spi = sa.spi();
  ev.direction = sa.direction();
  ev.remote = path.remote.address;
  ev.dst = path.remote.address;
  ev.reqid = sa.reqid();
  events_.push(ev);
}

void OutboundPath::too_big(const std::uint8_t* pkt, const InnerPacket& info, std::size_t mtu,
                           Clock::time_point now) {
  EngineCounters::bump(counters_.out_too_big);
  if (!may_send_icmp_error_about(pkt, info)) return;
  // Token bucket: at most icmp_per_second errors, refilled continuously.
  const double elapsed = std::chrono::duration<double>(now - icmp_refill_).count();
  icmp_refill_ = now;
  icmp_tokens_ =
      std::min<double>(settings_.icmp_per_second, icmp_tokens_ + elapsed * settings_.icmp_per_second);
  if (icmp_tokens_ < 1) return;
  icmp_tokens_ -= 1;
  std::size_t n = 0;
  if (info.family == IpFamily::V4) {
    const IpAddress src = settings_.icmp_source_v4.value_or(info.destination());
    n = build_frag_needed_v4(pkt, info, static_cast<std::uint16_t>(std::min<std::size_t>(mtu, 0xFFFF)),
                             src.bytes().data(), icmp_buf_.data(), icmp_buf_.size());
  } else {
    // IPv6 links carry at least 1280 bytes (RFC 8200 §5); a smaller MTU is not reported.
    const IpAddress src = settings_.icmp_source_v6.value_or(info.destination());
    n = build_packet_too_big_v6(pkt, info, static_cast<std::uint32_t>(std::max<std::size_t>(mtu, 1280)),
                                src.bytes().data(), icmp_buf_.data(), icmp_buf_.size());
  }
  if (n == 0) return;
  VirtioNetHdr vh;
  iovec iov[2] = {{&vh, sizeof vh}, {icmp_buf_.data(), n}};
  tun_.write_packet(iov, 2);
  EngineCounters::bump(counters_.icmp_sent);
}

void OutboundPath::acquire(const PolicyRule& policy, const InnerPacket& info, Clock::time_point now) {
  auto [it, fresh] = last_acquire_.try_emplace(policy.reqid, now);
  if (!fresh) {
    if (now - it->second < kAcquireInterval) return;
    it->second = now;
  }
  EngineEvent ev;
  ev.kind = EngineEvent::Kind::Acquire;
  ev.reqid = policy.reqid;
  ev.src = host_selector(info, true);
  ev.dst_ts = host_selector(info, false);
  events_.push(ev);
}

}  // namespace natgate::esp
