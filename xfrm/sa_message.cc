#include "xfrm/sa_message.h"

#include <arpa/inet.h>
#include <linux/udp.h>
#include <linux/xfrm.h>
#include <netinet/in.h>

#include <cstring>

#include "xfrm/xfrm_algorithms.h"
#include "xfrm/xfrm_selector.h"

namespace natgate::xfrm {

namespace {

constexpr std::uint32_t kMaxReplayWindow = XFRMA_REPLAY_ESN_MAX;  // bits, the kernel's limit

TrafficSelector addresses_only(TrafficSelector ts) {
  ts.ip_protocol = 0;
  ts.start_port = 0;
  ts.end_port = 65535;
  return ts;
}

std::uint64_t limit(std::uint64_t value) { return value == 0 ? XFRM_INF : value; }

Status fill_lifetime(const dataplane::SaSpec& sa, xfrm_lifetime_cfg& lft) {
  auto over = [](std::uint64_t soft, std::uint64_t hard) { return soft != 0 && hard != 0 && soft > hard; };
  if (over(sa.soft.bytes, sa.hard.bytes) || over(sa.soft.packets, sa.hard.packets) ||
      over(sa.soft.seconds, sa.hard.seconds)) {
    return unexpected(std::string("soft lifetime exceeds the hard lifetime"));
  }
  lft.soft_byte_limit = limit(sa.soft.bytes);
  lft.hard_byte_limit = limit(sa.hard.bytes);
  lft.soft_packet_limit = limit(sa.soft.packets);
  lft.hard_packet_limit = limit(sa.hard.packets);
  // Time limits use 0 for "none" in the kernel already.
  lft.soft_add_expires_seconds = sa.soft.seconds;
  lft.hard_add_expires_seconds = sa.hard.seconds;
  return {};
}

Status put_algorithms(NetlinkMessage& msg, const KernelAlgorithms& algs, const dataplane::SaSpec& sa) {
  if (algs.aead) {
    const std::size_t key_bytes = algs.aead->key_bits / 8;
    auto* aead = static_cast<xfrm_algo_aead*>(
        msg.reserve_attribute(XFRMA_ALG_AEAD, sizeof(xfrm_algo_aead) + key_bytes));
    if (aead == nullptr) return unexpected(std::string("SA request too large"));
    std::strncpy(aead->alg_name, algs.aead->name.c_str(), sizeof(aead->alg_name) - 1);
    aead->alg_key_len = algs.aead->key_bits;
    aead->alg_icv_len = algs.aead->icv_bits;
    std::memcpy(aead->alg_key, sa.encr_key.data(), key_bytes);
    return {};
  }
  const std::size_t enc_bytes = algs.cipher->key_bits / 8;
  auto* enc = static_cast<xfrm_algo*>(msg.reserve_attribute(XFRMA_ALG_CRYPT, sizeof(xfrm_algo) + enc_bytes));
  if (enc == nullptr) return unexpected(std::string("SA request too large"));
  std::strncpy(enc->alg_name, algs.cipher->name.c_str(), sizeof(enc->alg_name) - 1);
  enc->alg_key_len = algs.cipher->key_bits;
  std::memcpy(enc->alg_key, sa.encr_key.data(), enc_bytes);

  // XFRMA_ALG_AUTH_TRUNC states the ICV length; plain XFRMA_ALG_AUTH would take the kernel's
  // default truncation, which for hmac(sha256) is the pre-RFC 4868 96 bits.
  const std::size_t auth_bytes = algs.auth->key_bits / 8;
  auto* auth = static_cast<xfrm_algo_auth*>(
      msg.reserve_attribute(XFRMA_ALG_AUTH_TRUNC, sizeof(xfrm_algo_auth) + auth_bytes));
  if (auth == nullptr) return unexpected(std::string("SA request too large"));
  std::strncpy(auth->alg_name, algs.auth->name.c_str(), sizeof(auth->alg_name) - 1);
  auth->alg_key_len = algs.auth->key_bits;
  auth->alg_trunc_len = algs.auth->trunc_bits;
  std::memcpy(auth->alg_key, sa.integ_key.data(), auth_bytes);
  return {};
}

// Replay protection (RFC 4303 §3.4.3). Outbound SAs need no window, but kernels before 6.10
// refuse an ESN state with window 0, so they get 1 (as strongSwan does). Windows over 32
// packets, and ESN, need the bitmap attribute XFRMA_REPLAY_ESN_VAL; the legacy field must then
// be 0.
Status put_replay(NetlinkMessage& msg, xfrm_usersa_info& info, const dataplane::SaSpec& sa,
                  const SaRuntimeState* carry) {
  const bool inbound = sa.direction == dataplane::Direction::In;
  const std::uint32_t window = inbound ? sa.replay_window : (sa.transform.esn ? 1 : 0);
  if (window > kMaxReplayWindow) {
    return unexpected("replay window of " + std::to_string(window) + " packets exceeds the kernel's " +
                      std::to_string(kMaxReplayWindow));
  }
  const bool bitmap = sa.transform.esn || window > 32;
  if (sa.transform.esn && window == 0) {
    return unexpected(std::string("ESN needs a replay window of at least 1 packet"));
  }
  if (sa.transform.esn) info.flags |= XFRM_STATE_ESN;

  const std::uint16_t wanted = bitmap ? XFRMA_REPLAY_ESN_VAL : XFRMA_REPLAY_VAL;
  if (carry != nullptr && carry->replay_attribute == wanted && !carry->replay.empty()) {
    if (!bitmap) info.replay_window = window;
    auto put = msg.put_attribute(wanted, carry->replay.data(), carry->replay.size());
    if (!put) return put;
    return {};
  }
  if (!bitmap) {
    info.replay_window = window;
    return {};
  }
  const std::uint32_t words = (window + 31) / 32;
  auto* esn = static_cast<xfrm_replay_state_esn*>(msg.reserve_attribute(
      XFRMA_REPLAY_ESN_VAL, sizeof(xfrm_replay_state_esn) + words * sizeof(std::uint32_t)));
  if (esn == nullptr) return unexpected(std::string("SA request too large"));
  esn->bmp_len = words;
  esn->replay_window = window;
  return {};
}

}  // namespace

Expected<NetlinkMessage> build_sa_add(const dataplane::SaSpec& sa, bool update, const SaRuntimeState* carry) {
  if (sa.direction == dataplane::Direction::Fwd)
    return unexpected(std::string("an SA is inbound or outbound, not forward"));
  if (sa.src.address.family() != sa.dst.address.family()) {
    return unexpected("SA endpoints " + sa.src.to_string() + " and " + sa.dst.to_string() +
                      " mix address families");
  }
  if (sa.spi == 0) return unexpected(std::string("SPI 0 is reserved (RFC 4303 §2.1)"));
  auto algs = kernel_algorithms(sa.transform, sa.encr_key, sa.integ_key);
  if (!algs) return unexpected(algs.error());

  auto msg = NetlinkMessage::create(update ? XFRM_MSG_UPDSA : XFRM_MSG_NEWSA);
  if (!msg) return msg;
  auto* info = msg->append_header<xfrm_usersa_info>();
  if (info == nullptr) return unexpected(std::string("SA request too large"));

  const int family = address_family(sa.dst.address.family());
  info->family = static_cast<std::uint16_t>(family);
  to_xfrm_address(sa.dst.address, info->id.daddr);
  to_xfrm_address(sa.src.address, info->saddr);
  info->id.spi = htonl(sa.spi);
  info->id.proto = IPPROTO_ESP;
  info->reqid = sa.reqid;
  info->mode = sa.mode == dataplane::Mode::Tunnel ? XFRM_MODE_TUNNEL : XFRM_MODE_TRANSPORT;
  if (auto lft = fill_lifetime(sa, info->lft); !lft) return unexpected(lft.error());

  if (sa.mode == dataplane::Mode::Tunnel) {
    // The inner packets are checked against the policies' selectors; an SA-level selector
    // would pin one inner family, so leave it open (inner IPv6 over outer IPv4 works).
    info->flags |= XFRM_STATE_AF_UNSPEC;
  } else if (!sa.local_ts.empty() && !sa.remote_ts.empty()) {
    // Transport mode: the SA carries only traffic between its own endpoints' selectors
    // (RFC 4301 §5.2 step 4). Protocol and ports stay open, so further SAs between the same
    // hosts for other ports are not shadowed.
    const TrafficSelector& from =
        sa.direction == dataplane::Direction::In ? sa.remote_ts.front() : sa.local_ts.front();
    const TrafficSelector& to =
        sa.direction == dataplane::Direction::In ? sa.local_ts.front() : sa.remote_ts.front();
    auto sel = make_selector(addresses_only(from), addresses_only(to));
    if (!sel) return unexpected("transport-mode SA selector: " + sel.error());
    info->sel = *sel;
  }

  if (auto put = put_algorithms(*msg, *algs, sa); !put) return unexpected(put.error());
  if (auto put = put_replay(*msg, *info, sa, carry); !put) return unexpected(put.error());

  if (sa.encap) {
    // RFC 3948 §2: ESP in UDP. encap_oa (NAT-OA) matters only for transport-mode checksum
    // fix-ups, which the kernel does not perform for ESP; it stays zero, as in strongSwan.
    auto* encap = static_cast<xfrm_encap_tmpl*>(msg->reserve_attribute(XFRMA_ENCAP, sizeof(xfrm_encap_tmpl)));
    if (encap == nullptr) return unexpected(std::string("SA request too large"));
    encap->encap_type = UDP_ENCAP_ESPINUDP;
    encap->encap_sport = htons(sa.encap->src_port);
    encap->encap_dport = htons(sa.encap->dst_port);
  }
  if (sa.mark != 0) {
    xfrm_mark mark{sa.mark, 0xffffffff};
    if (auto put = msg->put_attribute(XFRMA_MARK, &mark, sizeof(mark)); !put) return unexpected(put.error());
  }
  if (carry != nullptr) {
    xfrm_lifetime_cur cur{};
    cur.bytes = carry->lifetime.bytes;
    cur.packets = carry->lifetime.packets;
    cur.add_time = carry->lifetime.add_time;
    cur.use_time = carry->lifetime.use_time;
    if (auto put = msg->put_attribute(XFRMA_LTIME_VAL, &cur, sizeof(cur)); !put)
      return unexpected(put.error());
  }
  return msg;
}

Expected<NetlinkMessage> build_sa_id(std::uint16_t type, std::uint32_t spi, const IpAddress& dst,
                                     std::uint32_t mark) {
  auto msg = NetlinkMessage::create(type);
  if (!msg) return msg;
  auto* id = msg->append_header<xfrm_usersa_id>();
  if (id == nullptr) return unexpected(std::string("SA id request too large"));
  to_xfrm_address(dst, id->daddr);
  id->spi = htonl(spi);
  id->family = static_cast<std::uint16_t>(address_family(dst.family()));
  id->proto = IPPROTO_ESP;
  if (mark != 0) {
    xfrm_mark m{mark, 0xffffffff};
    if (auto put = msg->put_attribute(XFRMA_MARK, &m, sizeof(m)); !put) return unexpected(put.error());
  }
  return msg;
}

Expected<NetlinkMessage> build_alloc_spi(const IpAddress& src, const IpAddress& dst, std::uint32_t reqid,
                                         std::uint32_t min, std::uint32_t max) {
  if (src.family() != dst.family()) {
    return unexpected("SPI allocation for " + src.to_string() + " -> " + dst.to_string() +
                      " mixes address families");
  }
  if (min == 0 || min > max) return unexpected(std::string("empty SPI range"));
  auto msg = NetlinkMessage::create(XFRM_MSG_ALLOCSPI);
  if (!msg) return msg;
  auto* spi = msg->append_header<xfrm_userspi_info>();
  if (spi == nullptr) return unexpected(std::string("ALLOCSPI request too large"));
  spi->info.family = static_cast<std::uint16_t>(address_family(dst.family()));
  to_xfrm_address(dst, spi->info.id.daddr);
  to_xfrm_address(src, spi->info.saddr);
  spi->info.id.proto = IPPROTO_ESP;
  spi->info.mode = XFRM_MODE_TUNNEL;
  spi->info.reqid = reqid;
  spi->min = min;  // host order, unlike the SPI in xfrm_id
  spi->max = max;
  return msg;
}

}  // namespace natgate::xfrm
