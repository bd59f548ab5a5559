// The inbound worker's half of the SA-to-SA relay (issue 14; docs/design.md, "Data plane"): a
// packet that SA A delivered and A's inbound selectors admitted (checked before this is called,
// RFC 4301 §5.2) is relayed when the outbound policy lookup the TUN path would make for it
// (RFC 4301 §5.1, the same SaTable::outbound) names an SA B of this engine. Everything that the
// relay does not forward exactly as the kernel and the TUN path would goes to the TUN as before,
// so the kernel decides: no SA yet (the TUN path raises the acquire), a hard-expired SA,
// fragments (the kernel may reassemble them for its forward chain), packets too big for B's path
// (the TUN path answers with ICMP too-big or lets the outer layer fragment), and TTL/Hop Limit
// <= 1 (the kernel answers ICMP Time Exceeded, RFC 1812 §5.3.1, RFC 4443 §3.3).
#include <cstring>

#include "esp/inbound_path.h"
#include "esp/inner/hop_limit.h"
#include "esp/tun/virtio_net_hdr.h"

namespace natgate::esp {

bool InboundPath::relay(std::uint8_t* pkt, const InnerPacket& info, const SaTable& table) {
  const auto match = table.outbound(info);
  if (!match.policy) return false;  // not for a tunnel: the host or its LAN, through the TUN
  const SaRef* out = match.sa;
  // A route-based connection's SA takes only what the host routes into its interface: to the TUN.
  if (out && out->sa->if_id() != 0) return false;
  if (!out || out->sa->hard_expired() || info.is_fragment || info.total_len > out->max_inner ||
      sizeof(VirtioNetHdr) + info.total_len > relay_->slot_bytes()) {
    EngineCounters::bump(counters_.relay_to_tun_fallback);
    return false;
  }
  if (hop_limit(pkt, info.family) <= 1) {
    EngineCounters::bump(counters_.relay_ttl_to_tun);
    return false;
  }
  std::uint8_t* slot = relay_->reserve();
  if (!slot) {
    EngineCounters::bump(counters_.relay_queue_drops);
    return true;
  }
  decrement_hop_limit(pkt, info.family);
  // The outbound worker takes the slot as it takes a TUN read: a virtio-net header (none of its
  // offloads) and the packet.
  const VirtioNetHdr none{};
  std::memcpy(slot, &none, sizeof none);
  std::memcpy(slot + sizeof none, pkt, info.total_len);
  relay_->commit(sizeof none + info.total_len);
  EngineCounters::bump(counters_.relay_forwarded);
  EngineCounters::bump(counters_.relay_bytes, info.total_len);
  return true;
}

}  // namespace natgate::esp
