#include "xfrm/kernel_backend.h"

#include <linux/xfrm.h>

#include <cerrno>
#include <cstdio>
#include <ctime>

#include "xfrm/policy_message.h"
#include "xfrm/sa_message.h"

namespace natgate::xfrm {

namespace {

// Events handled per poll_events() call, so one call cannot starve the daemon's other work.
constexpr std::size_t kMaxEventDatagramsPerPoll = 256;

std::string spi_text(std::uint32_t spi) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08x", spi);
  return buf;
}

std::string sa_text(std::uint32_t spi, const IpAddress& dst) {
  return "SPI " + spi_text(spi) + " to " + dst.to_string();
}

const char* direction_text(dataplane::Direction d) {
  switch (d) {
    case dataplane::Direction::In:
      return "in";
    case dataplane::Direction::Out:
      return "out";
    case dataplane::Direction::Fwd:
      return "fwd";
  }
  return "?";
}

std::string policy_text(const dataplane::PolicySpec& p) {
  return p.src.to_string() + " -> " + p.dst.to_string() + " dir " + direction_text(p.direction);
}

}  // namespace

struct KernelBackend::OpenToken {};

KernelBackend::KernelBackend(const OpenToken&, XfrmSocket requests, XfrmSocket events)
    : requests_(std::move(requests)), events_(std::move(events)) {}

KernelBackend::~KernelBackend() = default;

Expected<std::unique_ptr<KernelBackend>> KernelBackend::open() {
  auto requests = XfrmSocket::open_requests();
  if (!requests) return unexpected(requests.error());
  auto events = XfrmSocket::open_events({XFRMNLGRP_ACQUIRE, XFRMNLGRP_EXPIRE, XFRMNLGRP_MAPPING});
  if (!events) return unexpected(events.error());
  return std::make_unique<KernelBackend>(OpenToken{}, std::move(*requests), std::move(*events));
}

Expected<std::uint32_t> KernelBackend::allocate_spi(const AddressPair& ends, std::uint32_t reqid) {
  const IpAddress& src = ends.remote;  // an inbound SA: from the peer to us
  const IpAddress& dst = ends.local;
  auto msg = build_alloc_spi(src, dst, reqid);
  if (!msg) return unexpected(msg.error());
  std::optional<std::uint32_t> spi;
  std::string bad_reply;
  auto done = requests_.transact(*msg, "XFRM_MSG_ALLOCSPI for " + dst.to_string(), [&](const nlmsghdr& hdr) {
    if (hdr.nlmsg_type != XFRM_MSG_NEWSA) return;
    auto sa = parse_sa(hdr);
    if (sa) {
      spi = sa->spi;
    } else {
      bad_reply = sa.error();
    }
  });
  if (!done) return unexpected(done.error().message);
  if (!spi) return unexpected("XFRM_MSG_ALLOCSPI: no SPI in the kernel's answer " + bad_reply);
  larval_[{*spi, dst}] = src;
  return *spi;
}

Expected<void, KernelError> KernelBackend::install_sa(const dataplane::SaSpec& sa, bool update,
                                                      const SaRuntimeState* carry, const char* what) {
  const std::string name = std::string(what) + " " + sa_text(sa.spi, sa.dst.address);
  auto msg = build_sa_add(sa, update, carry);
  if (!msg) return unexpected(KernelError{EINVAL, name + ": " + msg.error(), msg.error()});
  return requests_.transact(*msg, name);
}

Status KernelBackend::add_sa(const dataplane::SaSpec& sa) {
  // XFRMA_IF_ID and the xfrm interface are not implemented here yet: an SA that should have
  // been bound to one must not carry traffic unbound (configs/README.md, "interface").
  if (sa.if_id != 0)
    return unexpected(std::string("route-based SAs (interface:) need the userspace data plane"));
  const SaKey key{sa.spi, sa.dst.address};
  if (sas_.count(key) != 0) {
    return unexpected(sa_text(sa.spi, sa.dst.address) +
                      " is installed already (update_sa_endpoints moves it)");
  }
  const bool larval = larval_.count(key) != 0;
  if (larval && sa.mark == 0) {
    // The SPI came from ALLOCSPI, so the kernel holds it as a larval SA: NEWSA would collide
    // with it (EEXIST), UPDSA replaces it.
    auto updated = install_sa(sa, true, nullptr, "XFRM_MSG_UPDSA");
    if (updated) {
      larval_.erase(key);
      sas_.emplace(key, sa);
      return {};
    }
    // The larval SA may have timed out (xfrm_acq_expires); then the SPI is free for NEWSA.
    if (updated.error().error != ESRCH) return unexpected(updated.error().message);
  } else if (larval) {
    // A larval SA has mark 0/0, which matches every mark, so it must go before a marked SA
    // with its SPI can be added.
    (void)delete_kernel_sa(sa.spi, sa.dst.address, 0);
  }
  auto added = install_sa(sa, false, nullptr, "XFRM_MSG_NEWSA");
  if (!added) return unexpected(added.error().message);
  larval_.erase(key);
  sas_.emplace(key, sa);
  return {};
}

Expected<KernelSa> KernelBackend::read_sa(std::uint32_t spi, const IpAddress& dst) {
  auto it = sas_.find({spi, dst});
  const std::uint32_t mark = it != sas_.end() ? it->second.mark : 0;
  auto msg = build_sa_id(XFRM_MSG_GETSA, spi, dst, mark);
  if (!msg) return unexpected(msg.error());
  std::optional<Expected<KernelSa>> found;
  auto done = requests_.transact(*msg, "XFRM_MSG_GETSA " + sa_text(spi, dst), [&](const nlmsghdr& hdr) {
    if (hdr.nlmsg_type == XFRM_MSG_NEWSA) found.emplace(parse_sa(hdr));
  });
  if (!done) return unexpected(done.error().message);
  if (!found) return unexpected("XFRM_MSG_GETSA " + sa_text(spi, dst) + ": the kernel sent no SA");
  if (!*found) return unexpected(found->error());
  return std::move(found->value());
}

Expected<dataplane::SaCounters> KernelBackend::query_sa(std::uint32_t spi, const IpAddress& dst) {
  auto sa = read_sa(spi, dst);
  if (!sa) return unexpected(sa.error());
  dataplane::SaCounters counters;
  counters.bytes = sa->runtime.lifetime.bytes;
  counters.packets = sa->runtime.lifetime.packets;
  counters.replay_drops = std::uint64_t{sa->out_of_window} + sa->replayed;
  counters.auth_failures = sa->integrity_failed;
  // The kernel counts selector mismatches only per namespace (XfrmInStateMismatch in
  // /proc/net/xfrm_stat), not per SA.
  counters.selector_drops = 0;
  const std::uint64_t since =
      sa->runtime.lifetime.use_time != 0 ? sa->runtime.lifetime.use_time : sa->runtime.lifetime.add_time;
  const auto now = static_cast<std::uint64_t>(std::time(nullptr));
  counters.seconds_since_use = now > since ? now - since : 0;
  return counters;
}

Expected<void, KernelError> KernelBackend::delete_kernel_sa(std::uint32_t spi, const IpAddress& dst,
                                                            std::uint32_t mark) {
  auto msg = build_sa_id(XFRM_MSG_DELSA, spi, dst, mark);
  if (!msg) return unexpected(KernelError{EINVAL, msg.error(), msg.error()});
  return requests_.transact(*msg, "XFRM_MSG_DELSA " + sa_text(spi, dst));
}

Status KernelBackend::delete_sa(std::uint32_t spi, const IpAddress& dst) {
  const SaKey key{spi, dst};
  auto it = sas_.find(key);
  const bool is_larval = larval_.count(key) != 0;
  if (it == sas_.end() && !is_larval) {
    return unexpected(sa_text(spi, dst) + " was not installed by this backend");
  }
  const std::uint32_t mark = it != sas_.end() ? it->second.mark : 0;
  auto done = delete_kernel_sa(spi, dst, mark);
  // ESRCH: the kernel removed it already (hard expire); either way it is gone.
  if (!done && done.error().error != ESRCH) return unexpected(done.error().message);
  sas_.erase(key);
  larval_.erase(key);
  mapping_reported_.erase(key);
  return {};
}

Status KernelBackend::recreate_sa(const dataplane::SaSpec& old_sa, const dataplane::SaSpec& new_sa) {
  auto current = read_sa(old_sa.spi, old_sa.dst.address);
  if (!current) return unexpected("cannot read the SA before moving it: " + current.error());
  const SaRuntimeState carry = current->runtime;
  auto deleted = delete_kernel_sa(old_sa.spi, old_sa.dst.address, old_sa.mark);
  if (!deleted) return unexpected(deleted.error().message);
  auto added = install_sa(new_sa, false, &carry, "XFRM_MSG_NEWSA");
  if (added) return {};
  // Put the old SA back so traffic keeps flowing on the old path.
  auto restored = install_sa(old_sa, false, &carry, "XFRM_MSG_NEWSA");
  return unexpected(added.error().message + (restored
                                                 ? " (the SA was restored at its old endpoints)"
                                                 : "; restoring it failed too: " + restored.error().message));
}

Status KernelBackend::update_sa_endpoints(std::uint32_t spi, const IpAddress& old_dst,
                                          const EndpointPair& ends, bool udp_encap) {
  auto it = sas_.find({spi, old_dst});
  if (it == sas_.end()) return unexpected(sa_text(spi, old_dst) + " was not installed by this backend");
  dataplane::SaSpec moved = it->second;
  dataplane::set_outer_ends(moved, ends, udp_encap);

  const bool same_addresses = moved.dst.address == old_dst && moved.src.address == it->second.src.address;
  if (same_addresses && moved.encap && it->second.encap) {
    auto updated = install_sa(moved, true, nullptr, "XFRM_MSG_UPDSA");
    if (!updated) return unexpected(updated.error().message);
    it->second = std::move(moved);
    return {};
  }
  auto recreated = recreate_sa(it->second, moved);
  if (!recreated) return recreated;
  mapping_reported_.erase(it->first);
  sas_.erase(it);
  const IpAddress new_dst = moved.dst.address;
  sas_.emplace(SaKey{spi, new_dst}, std::move(moved));
  return {};
}

Status KernelBackend::add_policy(const dataplane::PolicySpec& policy) {
  if (policy.if_id != 0)
    return unexpected(std::string("route-based policies (interface:) need the userspace data plane"));
  auto it = policies_.find(policy_key(policy));
  if (it != policies_.end() && it->second.reqid != policy.reqid)
    return unexpected("policy " + policy_text(policy) + " is held by reqid " +
                      std::to_string(it->second.reqid) + " (only replace_policy hands it over)");
  return install_policy(policy, it != policies_.end());
}

Status KernelBackend::replace_policy(const dataplane::PolicySpec& policy) {
  if (policies_.count(policy_key(policy)) == 0)
    return unexpected("policy " + policy_text(policy) + " was not installed by this backend");
  return install_policy(policy, true);
}

Status KernelBackend::install_policy(const dataplane::PolicySpec& policy, bool replace) {
  const PolicyKey key = policy_key(policy);
  auto msg = build_policy_add(policy, replace);
  if (!msg) return unexpected(msg.error());
  const char* what = replace ? "XFRM_MSG_UPDPOLICY " : "XFRM_MSG_NEWPOLICY ";
  auto done = requests_.transact(*msg, what + policy_text(policy));
  if (!done) {
    if (done.error().error == EEXIST) {
      return unexpected(done.error().message +
                        "; a policy for this selector and direction exists that natgate did not install");
    }
    return unexpected(done.error().message);
  }
  policies_[key] = policy;
  return {};
}

Status KernelBackend::delete_policy(const dataplane::PolicySpec& policy) {
  auto it = policies_.find(policy_key(policy));
  if (it == policies_.end())
    return unexpected("policy " + policy_text(policy) + " was not installed by this backend");
  auto msg = build_policy_delete(policy);
  if (!msg) return unexpected(msg.error());
  auto done = requests_.transact(*msg, "XFRM_MSG_DELPOLICY " + policy_text(policy));
  // ENOENT: someone else removed it; it is gone either way.
  if (!done && done.error().error != ENOENT) return unexpected(done.error().message);
  policies_.erase(it);
  return {};
}

void KernelBackend::poll_events() {
  events_.drain([this](const nlmsghdr& hdr) { handle_event(hdr); }, kMaxEventDatagramsPerPoll);
}

void KernelBackend::handle_event(const nlmsghdr& hdr) {
  if (hdr.nlmsg_type == XFRM_MSG_EXPIRE) {
    auto event = parse_expire(hdr);
    if (!event) return;
    const SaKey key{event->spi, event->dst};
    if (larval_.count(key) != 0) {
      // An allocated SPI that was never used timed out: nothing to rekey.
      if (event->hard) larval_.erase(key);
      return;
    }
    if (sas_.count(key) == 0) return;  // not ours
    // RFC 7296 §2.8: a soft expire starts a rekey; after a hard one the kernel has deleted it.
    if (event->hard) {
      sas_.erase(key);
      mapping_reported_.erase(key);
    }
    if (listener_) listener_->on_expire(*event);
    return;
  }
  if (hdr.nlmsg_type == XFRM_MSG_MAPPING) {
    auto event = parse_mapping(hdr);
    if (!event) return;
    const SaKey key{event->spi, event->dst};
    auto it = sas_.find(key);
    if (it == sas_.end() || !it->second.encap) return;  // not ours, or not ESP in UDP
    // Already there (the kernel reported packets that were queued before the move), or
    // already reported and not yet moved: one report per new endpoint.
    if (it->second.src == event->new_remote) return;
    auto [reported, fresh] = mapping_reported_.try_emplace(key, event->new_remote);
    if (!fresh && reported->second == event->new_remote) return;
    reported->second = event->new_remote;
    if (listener_) listener_->on_mapping(*event);
    return;
  }
  if (hdr.nlmsg_type == XFRM_MSG_ACQUIRE) {
    auto event = parse_acquire(hdr);
    if (!event) return;
    bool ours = false;
    for (const auto& [key, policy] : policies_) {
      if (policy.direction == dataplane::Direction::Out && policy.reqid == event->reqid) ours = true;
    }
    if (ours && listener_) listener_->on_acquire(*event);
  }
}

void KernelBackend::flush() {
  // Policies first: with an SA gone but its policy still there, traffic would raise acquires
  // for a tunnel that is being torn down.
  for (const auto& [key, policy] : policies_) {
    if (auto msg = build_policy_delete(policy)) (void)requests_.transact(*msg, "XFRM_MSG_DELPOLICY");
  }
  policies_.clear();
  for (const auto& [key, sa] : sas_) (void)delete_kernel_sa(sa.spi, sa.dst.address, sa.mark);
  sas_.clear();
  mapping_reported_.clear();
  for (const auto& [key, src] : larval_) (void)delete_kernel_sa(std::get<0>(key), std::get<1>(key), 0);
  larval_.clear();
}

}  // namespace natgate::xfrm
