#include "esp/inbound_path.h"

#include <sys/uio.h>

#include <algorithm>

#include "esp/inner/mss_clamp.h"
#include "esp/tun/virtio_net_hdr.h"
#include "esp/wire/fields.h"
#include "natt/udp_encap.h"

namespace natgate::esp {

InboundPath::InboundPath(const EngineSettings& settings, EngineCounters& counters,
                         EventQueue<EngineEvent>& events, EventQueue<IkeDatagram>& ike,
                         TcpCoalescer& coalescer, TunSink& tun, RelayQueue* relay)
    : settings_(settings),
      counters_(counters),
      events_(events),
      ike_(ike),
      coalescer_(coalescer),
      tun_(tun),
      relay_(relay),
      contexts_(settings.context_idle) {}

void InboundPath::handle_udp(std::uint8_t* d, std::size_t len, const Endpoint& from, const Endpoint& local,
                             const SaTable& table, Clock::time_point now) {
  EngineCounters::bump(counters_.udp_datagrams);
  const natt::Classified c = natt::classify(ByteView(d, len));
  switch (c.kind) {
    case natt::DatagramKind::Keepalive:
      EngineCounters::bump(counters_.keepalives_rx);
      return;
    case natt::DatagramKind::TooShort:
      EngineCounters::bump(counters_.too_short);
      return;
    case natt::DatagramKind::Ike:
      // Rare and for the control plane: copying it here is fine.
      if (ike_.push(IkeDatagram{{.local = local, .remote = from}, Bytes(c.payload.begin(), c.payload.end())},
                    c.payload.size()))
        EngineCounters::bump(counters_.ike_rx);
      else
        EngineCounters::bump(counters_.ike_queue_drops);
      return;
    case natt::DatagramKind::Esp:
      handle_esp(d, len, from, table, now);
      return;
  }
}

void InboundPath::handle_esp(std::uint8_t* esp, std::size_t len, const Endpoint& from, const SaTable& table,
                             Clock::time_point now) {
  if (len < kEspHeaderBytes) {
    EngineCounters::bump(counters_.too_short);
    return;
  }
  const SaRef* ref = table.inbound(wire::be32(esp));
  if (!ref) {
    EngineCounters::bump(counters_.in_unknown_spi);
    return;
  }
  SaState& sa = *ref->sa;
  if (sa.hard_expired()) {
    EngineCounters::bump(counters_.in_sa_expired);
    return;
  }
  auto& st = sa.stats();
  // RFC 4303 §3.4.3: the replay check comes first, as it is cheap, and again only the window
  // update waits for the ICV.
  const auto check = sa.replay().check(wire::be32(esp + 4));
  if (check.verdict != ReplayWindow::Verdict::Fresh) {
    SaState::bump(st.replay_drops);
    EngineCounters::bump(counters_.in_replay);
    return;
  }
  // Contexts on the first packet after install or idling (esp/sa/idle_contexts.h); the replay
  // check above keeps replayed packets from keying up a released SA.
  if (!sa.crypto().keyed()) {
    if (!contexts_.key_up(ref->sa, now)) {
      EngineCounters::bump(counters_.in_auth_failed);
      return;
    }
    EngineCounters::bump(counters_.contexts_keyed_in);
  }
  auto opened = sa.crypto().open(esp, len, check.seq);
  if (!opened) {
    if (opened.error() == EspCrypto::OpenError::Authentication) {
      SaState::bump(st.auth_failures);
      EngineCounters::bump(counters_.in_auth_failed);
    } else {
      EngineCounters::bump(counters_.in_malformed);
    }
    return;
  }
  sa.replay().accept(check.seq);

  if (opened->next_header == kNextHeaderNoNext) {
    EngineCounters::bump(counters_.in_dummy);
    return;
  }
  std::uint8_t* inner = esp + opened->inner_offset;
  auto info = parse_inner(inner, opened->inner_len);
  const bool version_ok = info && ((opened->next_header == kNextHeaderIpv4 && info->family == IpFamily::V4) ||
                                   (opened->next_header == kNextHeaderIpv6 && info->family == IpFamily::V6));
  if (!version_ok) {
    EngineCounters::bump(counters_.in_bad_inner);
    return;
  }
  if (!table.inbound_admits(sa, *info)) {
    SaState::bump(st.selector_drops);
    EngineCounters::bump(counters_.in_selector_drops);
    return;
  }
  if (ref->path.udp_encap && from != ref->path.remote) note_source(sa, *ref, from);
  SaState::bump(st.bytes, info->total_len);
  SaState::bump(st.packets);
  st.last_use_ns.store(now.time_since_epoch().count(), std::memory_order_relaxed);
  EngineCounters::bump(counters_.in_packets);
  EngineCounters::bump(counters_.in_bytes, info->total_len);
  if (auto e = sa.check_volume(); e != SaState::Expiry::None) post_expiry(sa, *ref, e);
  // The SA's own path may carry less than the TUN MTU (an SA on an RFC 9329 stream, esp/tun/mtu.h):
  // the MSS a host here is told to send with is what the reverse path carries.
  const std::size_t path_mtu = std::min(ref->max_inner, settings_.tun_mtu);
  if (sa.if_id() != 0) {
    to_interface(sa.if_id(), inner, *info, path_mtu);
    return;
  }
  if (relay_ && relay(inner, *info, table)) return;

  if (settings_.mss_clamp && info->protocol == kProtoTcp &&
      clamp_mss(inner, *info, mss_for_mtu(path_mtu, info->family), false))
    EngineCounters::bump(counters_.mss_clamped_in);
  if (coalescer_.full()) flush();
  coalescer_.add(inner, *info);
}

void InboundPath::to_interface(std::uint16_t if_id, std::uint8_t* pkt, const InnerPacket& info,
                               std::size_t path_mtu) {
  TunSink* sink = nullptr;
  for (const auto& [id, s] : interfaces_)
    if (id == if_id) sink = s;
  if (sink == nullptr) {
    EngineCounters::bump(counters_.iface_no_tun);
    return;
  }
  if (settings_.mss_clamp && info.protocol == kProtoTcp &&
      clamp_mss(pkt, info, mss_for_mtu(path_mtu, info.family), false))
    EngineCounters::bump(counters_.mss_clamped_in);
  // One packet per write, with an empty virtio-net header: these TUNs have no offload.
  VirtioNetHdr none{};
  iovec iov[2] = {{&none, sizeof none}, {pkt, info.total_len}};
  sink->write_packet(iov, 2);
}

void InboundPath::flush() {
  coalescer_.flush(tun_);
  if (relay_) relay_->wake();
}

void InboundPath::release_idle(Clock::time_point now) {
  const auto swept = contexts_.sweep(now);
  if (swept.released + swept.gone != 0)
    EngineCounters::bump(counters_.contexts_released_in, swept.released + swept.gone);
}

void InboundPath::note_source(const SaState& sa, const SaRef& ref, const Endpoint& from) {
  // Only authenticated packets get here, so a forged source cannot move anything; and each new
  // endpoint is reported once until the control plane updates the SA's path.
  auto [it, fresh] = reported_sources_.try_emplace(sa.spi().value, from);
  if (!fresh) {
    if (it->second == from) return;
    it->second = from;
  }
  EngineEvent ev;
  ev.kind = EngineEvent::Kind::Mapping;
  ev.spi = sa.spi();
  ev.direction = sa.direction();
  ev.remote = ref.path.remote.address;
  ev.dst = ref.path.local.address;
  ev.reqid = sa.reqid();
  ev.new_remote = from;
  events_.push(ev);
}

void InboundPath::post_expiry(const SaState& sa, const SaRef& ref, SaState::Expiry e) {
  EngineEvent ev;
  ev.kind = e == SaState::Expiry::Hard ? EngineEvent::Kind::HardExpire : EngineEvent::Kind::SoftExpire;
  ev.spi = sa.spi();
  ev.direction = sa.direction();
  ev.remote = ref.path.remote.address;
  ev.dst = ref.path.local.address;
  ev.reqid = sa.reqid();
  events_.push(ev);
}

}  // namespace natgate::esp
