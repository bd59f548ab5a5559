// Engine-wide counters. Each field has one writer (the outbound worker, the inbound worker, or
// the control thread for IKE sends), so the packet path increments with a plain load and store.
// Readers (status, the static tool's SIGUSR1) take a snapshot at any time.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace natgate::esp {

// X(name, description)
#define NATGATE_ESP_COUNTERS(X)                                                                     \
  X(tun_reads, "TUN reads (one packet or super-packet each)")                                       \
  X(tun_super_packets, "TCP super-packets read from the TUN")                                       \
  X(out_packets, "inner packets sealed and sent")                                                   \
  X(out_bytes, "inner bytes sealed")                                                                \
  X(out_messages, "send messages (a GSO train counts once)")                                        \
  X(out_send_errors, "datagrams the kernel refused to send")                                        \
  X(out_no_policy, "TUN packets no outbound policy covers")                                         \
  X(out_no_sa, "TUN packets whose policy has no SA yet (acquire raised)")                           \
  X(out_malformed, "TUN packets that are not valid IP")                                             \
  X(out_sa_expired, "TUN packets for a hard-expired or exhausted SA")                               \
  X(out_too_big, "oversized DF/IPv6 packets answered with ICMP")                                    \
  X(mss_clamped_out, "SYNs from the TUN with the MSS lowered")                                      \
  X(out_wrong_interface, "TUN packets whose SA belongs to another interface (route-based VPN)")     \
  X(udp_datagrams, "UDP datagrams received on the NAT-T port")                                      \
  X(raw_esp_datagrams, "IP protocol 50 packets received")                                           \
  X(too_short, "datagrams too short for their kind (dropped)")                                      \
  X(keepalives_rx, "NAT-keepalives received (RFC 3948 §2.3)")                                       \
  X(ike_rx, "IKE messages queued for the control plane")                                            \
  X(ike_queue_drops, "IKE messages dropped: queue full")                                            \
  X(in_packets, "ESP packets decrypted and delivered")                                              \
  X(in_bytes, "inner bytes delivered")                                                              \
  X(in_unknown_spi, "ESP packets with an unknown SPI")                                              \
  X(in_replay, "ESP packets rejected by the replay window")                                         \
  X(in_auth_failed, "ESP packets whose ICV did not verify")                                         \
  X(in_malformed, "ESP packets malformed or wrongly padded")                                        \
  X(in_bad_inner, "decrypted packets that are not the IP version announced")                        \
  X(in_dummy, "dummy packets (next header 59) discarded")                                           \
  X(in_selector_drops, "decrypted packets outside the SA's selectors (RFC 4301 §5.2)")              \
  X(in_sa_expired, "ESP packets for a hard-expired SA")                                             \
  X(mss_clamped_in, "SYNs from the tunnel with the MSS lowered")                                    \
  X(tun_writes, "writes to the TUN (a coalesced super-packet counts once)")                         \
  X(tun_write_errors, "TUN writes that failed")                                                     \
  X(iface_writes, "packets written to a route-based connection's interface TUN")                    \
  X(iface_no_tun, "decrypted packets of an SA whose interface TUN is not open (dropped)")           \
  X(icmp_sent, "ICMP too-big errors written to the TUN")                                            \
  X(ike_tx, "IKE messages sent from the NAT-T socket")                                              \
  X(keepalives_tx, "NAT-keepalives sent")                                                           \
  X(relay_forwarded, "packets relayed from one SA into another in the engine (no TUN)")             \
  X(relay_bytes, "inner bytes relayed from one SA into another")                                    \
  X(relay_to_tun_fallback, "packets an outbound policy covers sent to the TUN instead")             \
  X(relay_ttl_to_tun, "relay candidates with TTL/Hop Limit <= 1, left to the kernel")               \
  X(relay_queue_drops, "relayed packets dropped: the hand-off ring was full")                       \
  X(relay_late_to_tun, "relayed packets whose SA was gone when sealed, written to the TUN")         \
  X(contexts_keyed_in, "inbound SA cipher contexts built (first packet, or after idle)")            \
  X(contexts_released_in, "inbound SA cipher contexts released idle (or found gone with their SA)") \
  X(contexts_keyed_out, "outbound SA cipher contexts built (first packet, or after idle)")          \
  X(contexts_released_out, "outbound SA cipher contexts released idle (or found gone with their SA)")

struct EngineCounters {
// `name` is a member name in these X-macros: parentheses around it would not compile.
#define NATGATE_ESP_FIELD(name, desc) \
  std::atomic<std::uint64_t> name{0};  // NOLINT(bugprone-macro-parentheses)
  NATGATE_ESP_COUNTERS(NATGATE_ESP_FIELD)
#undef NATGATE_ESP_FIELD

  // Single-writer increment (see above).
  static void bump(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  struct Snapshot {
#define NATGATE_ESP_FIELD(name, desc) std::uint64_t name = 0;
    NATGATE_ESP_COUNTERS(NATGATE_ESP_FIELD)
#undef NATGATE_ESP_FIELD
    // SA cipher contexts the workers hold (EspCrypto::Keying::Lazy, esp/sa/idle_contexts.h); the
    // context of an SA removed while keyed counts until the worker's next idle sweep finds it gone.
    std::uint64_t contexts_live() const {
      return contexts_keyed_in + contexts_keyed_out - contexts_released_in - contexts_released_out;
    }
    // (name, value) in declaration order, then contexts_live, for printing.
    std::vector<std::pair<std::string, std::uint64_t>> items() const {
      return {
#define NATGATE_ESP_FIELD(name, desc) {#name, name},
          NATGATE_ESP_COUNTERS(NATGATE_ESP_FIELD)
#undef NATGATE_ESP_FIELD
              {"contexts_live", contexts_live()},
      };
    }
  };
  Snapshot snapshot() const {
    Snapshot s;
#define NATGATE_ESP_FIELD(name, desc) \
  s.name = name.load(std::memory_order_relaxed);  // NOLINT(bugprone-macro-parentheses): a member name
    NATGATE_ESP_COUNTERS(NATGATE_ESP_FIELD)
#undef NATGATE_ESP_FIELD
    return s;
  }
};

}  // namespace natgate::esp
