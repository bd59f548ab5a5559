#include "xfrm/xfrm_parse.h"

#include <arpa/inet.h>
#include <linux/udp.h>
#include <linux/xfrm.h>

#include <cstddef>
#include <cstring>
#include <functional>

#include "xfrm/xfrm_selector.h"

namespace natgate::xfrm {

namespace {

// The fixed struct after nlmsghdr, copied out once the message is known to be long enough.
template <typename T>
Expected<T> fixed_part(const nlmsghdr& hdr, const char* what) {
  if (hdr.nlmsg_len < NLMSG_LENGTH(sizeof(T))) {
    return unexpected(std::string(what) + ": message of " + std::to_string(hdr.nlmsg_len) +
                      " bytes is shorter than " + std::to_string(NLMSG_LENGTH(sizeof(T))));
  }
  T value;
  std::memcpy(&value, NLMSG_DATA(&hdr), sizeof(T));
  return value;
}

// Calls on_attribute(type, payload) for each attribute after the fixed part; a malformed
// attribute ends the walk with an error.
Status for_each_attribute(const nlmsghdr& hdr, std::size_t fixed, const char* what,
                          const std::function<void(std::uint16_t, ByteView)>& on_attribute) {
  const auto* base = reinterpret_cast<const std::uint8_t*>(&hdr);
  std::size_t offset = NLMSG_HDRLEN + NLMSG_ALIGN(fixed);
  const std::size_t end = hdr.nlmsg_len;
  while (offset + NLA_HDRLEN <= end) {
    nlattr attr;
    std::memcpy(&attr, base + offset, sizeof(attr));
    if (attr.nla_len < NLA_HDRLEN || offset + attr.nla_len > end) {
      return unexpected(std::string(what) + ": attribute at offset " + std::to_string(offset) +
                        " overruns the message");
    }
    on_attribute(attr.nla_type & NLA_TYPE_MASK,
                 ByteView(base + offset + NLA_HDRLEN, attr.nla_len - NLA_HDRLEN));
    offset += NLA_ALIGN(attr.nla_len);
  }
  return {};
}

template <typename T>
std::optional<T> attribute_as(ByteView payload) {
  if (payload.size() < sizeof(T)) return std::nullopt;
  T value;
  std::memcpy(&value, payload.data(), sizeof(T));
  return value;
}

bool known_family(int family) { return family == AF_INET || family == AF_INET6; }

}  // namespace

Expected<KernelSa> parse_sa(const nlmsghdr& hdr) {
  auto info = fixed_part<xfrm_usersa_info>(hdr, "XFRM SA");
  if (!info) return unexpected(info.error());
  if (!known_family(info->family)) {
    return unexpected("XFRM SA: unknown address family " + std::to_string(info->family));
  }
  KernelSa sa;
  sa.spi = ntohl(info->id.spi);
  sa.dst = from_xfrm_address(info->id.daddr, info->family);
  sa.src = from_xfrm_address(info->saddr, info->family);
  sa.reqid = info->reqid;
  sa.mode = info->mode;
  sa.state_flags = info->flags;
  sa.replay_window = info->replay_window;
  sa.out_of_window = info->stats.replay_window;
  sa.replayed = info->stats.replay;
  sa.integrity_failed = info->stats.integrity_failed;
  sa.runtime.lifetime = {info->curlft.bytes, info->curlft.packets, info->curlft.add_time,
                         info->curlft.use_time};

  std::string bad;
  auto walked =
      for_each_attribute(hdr, sizeof(xfrm_usersa_info), "XFRM SA", [&](std::uint16_t type, ByteView p) {
        switch (type) {
          case XFRMA_ENCAP:
            if (auto encap = attribute_as<xfrm_encap_tmpl>(p)) {
              sa.encap = dataplane::UdpEncap{ntohs(encap->encap_sport), ntohs(encap->encap_dport)};
            } else {
              bad = "short XFRMA_ENCAP";
            }
            break;
          case XFRMA_MARK:
            if (auto mark = attribute_as<xfrm_mark>(p)) sa.mark = mark->v;
            break;
          case XFRMA_REPLAY_VAL:
          case XFRMA_REPLAY_ESN_VAL:
            sa.runtime.replay_attribute = type;
            sa.runtime.replay.assign(p.begin(), p.end());
            if (type == XFRMA_REPLAY_ESN_VAL && p.size() >= offsetof(xfrm_replay_state_esn, bmp)) {
              // The struct ends in a flexible bitmap; only its fixed head is read here.
              std::memcpy(&sa.replay_window, p.data() + offsetof(xfrm_replay_state_esn, replay_window),
                          sizeof(sa.replay_window));
            }
            break;
          default:
            break;
        }
      });
  if (!walked) return unexpected(walked.error());
  if (!bad.empty()) return unexpected("XFRM SA: " + bad);
  return sa;
}

Expected<dataplane::ExpireEvent> parse_expire(const nlmsghdr& hdr) {
  auto expire = fixed_part<xfrm_user_expire>(hdr, "XFRM expire");
  if (!expire) return unexpected(expire.error());
  if (!known_family(expire->state.family)) {
    return unexpected("XFRM expire: unknown address family " + std::to_string(expire->state.family));
  }
  dataplane::ExpireEvent event;
  event.spi = ntohl(expire->state.id.spi);
  event.dst = from_xfrm_address(expire->state.id.daddr, expire->state.family);
  event.reqid = expire->state.reqid;
  event.hard = expire->hard != 0;
  return event;
}

Expected<dataplane::AcquireEvent> parse_acquire(const nlmsghdr& hdr) {
  auto acquire = fixed_part<xfrm_user_acquire>(hdr, "XFRM acquire");
  if (!acquire) return unexpected(acquire.error());
  if (!known_family(acquire->sel.family)) {
    return unexpected("XFRM acquire: unknown selector family " + std::to_string(acquire->sel.family));
  }
  dataplane::AcquireEvent event;
  event.src = selector_source(acquire->sel);
  event.dst = selector_destination(acquire->sel);
  bool have_reqid = false;
  auto walked =
      for_each_attribute(hdr, sizeof(xfrm_user_acquire), "XFRM acquire", [&](std::uint16_t type, ByteView p) {
        if (type != XFRMA_TMPL || have_reqid) return;
        // The policy's templates; the first names the SA bundle that is missing.
        if (auto tmpl = attribute_as<xfrm_user_tmpl>(p)) {
          event.reqid = tmpl->reqid;
          have_reqid = true;
        }
      });
  if (!walked) return unexpected(walked.error());
  if (!have_reqid)
    return unexpected(std::string("XFRM acquire: no template (XFRMA_TMPL) to take the reqid from"));
  return event;
}

Expected<dataplane::MappingEvent> parse_mapping(const nlmsghdr& hdr) {
  auto mapping = fixed_part<xfrm_user_mapping>(hdr, "XFRM mapping");
  if (!mapping) return unexpected(mapping.error());
  if (!known_family(mapping->id.family)) {
    return unexpected("XFRM mapping: unknown address family " + std::to_string(mapping->id.family));
  }
  if (mapping->id.proto != IPPROTO_ESP) {
    return unexpected("XFRM mapping: protocol " + std::to_string(mapping->id.proto) + " is not ESP");
  }
  dataplane::MappingEvent event;
  event.spi = ntohl(mapping->id.spi);
  event.dst = from_xfrm_address(mapping->id.daddr, mapping->id.family);
  event.reqid = mapping->reqid;
  event.old_remote =
      Endpoint{from_xfrm_address(mapping->old_saddr, mapping->id.family), ntohs(mapping->old_sport)};
  event.new_remote =
      Endpoint{from_xfrm_address(mapping->new_saddr, mapping->id.family), ntohs(mapping->new_sport)};
  return event;
}

}  // namespace natgate::xfrm
