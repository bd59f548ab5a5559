// The kernel data plane: CHILD SAs and policies programmed into Linux XFRM over netlink
// (docs/design.md, "Rules every layer keeps"). Everything goes to the network namespace that is current when
// open() runs. The backend remembers what it installed, so flush() removes exactly that, and
// events (expire, acquire) are reported only for its own SAs and policies.
//
// Not thread-safe: the daemon drives it from its io_context thread, as it does poll_events().
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "dataplane/sa_backend.h"
#include "xfrm/xfrm_parse.h"
#include "xfrm/xfrm_socket.h"

namespace natgate::xfrm {

class KernelBackend final : public dataplane::SaBackend {
  struct OpenToken;  // private: only open() can name it, so only open() constructs a backend

 public:
  // Opens the request socket and the event socket (XFRMNLGRP_ACQUIRE, _EXPIRE and _MAPPING).
  static Expected<std::unique_ptr<KernelBackend>> open();
  KernelBackend(const OpenToken&, XfrmSocket requests, XfrmSocket events);
  ~KernelBackend() override;  // leaves installed state alone: call flush() to remove it

  std::string name() const override { return "kernel"; }

  // XFRM_MSG_ALLOCSPI. The kernel holds the SPI as a larval SA (for net.core.xfrm_acq_expires,
  // 30 s by default) until add_sa() installs the inbound SA onto it.
  Expected<std::uint32_t> allocate_spi(const AddressPair& ends, std::uint32_t reqid) override;
  Status add_sa(const dataplane::SaSpec& sa) override;
  // Port-only changes (the usual NAT rebinding) go through XFRM_MSG_UPDSA, which keeps the
  // SA's counters, sequence numbers and replay window in place. A changed address, or
  // encapsulation switched on or off, cannot be updated in place (the destination is part of
  // the SA's identity, and UPDSA neither moves the source nor adds/removes XFRMA_ENCAP), so
  // the SA is read back, deleted and re-added with its replay state and counters carried over
  // (as strongSwan does). XFRM_MSG_MIGRATE is not used: it moves a policy together with its
  // SAs, which does not fit this per-SA call, and it needs CONFIG_XFRM_MIGRATE.
  // Policies whose templates name the old addresses are the caller's to replace.
  Status update_sa_endpoints(std::uint32_t spi, const IpAddress& old_dst, const EndpointPair& ends,
                             bool udp_encap) override;
  Expected<dataplane::SaCounters> query_sa(std::uint32_t spi, const IpAddress& dst) override;
  Status delete_sa(std::uint32_t spi, const IpAddress& dst) override;

  // XFRM_MSG_NEWPOLICY; the same policy again (same reqid) is updated in place, one held for
  // another reqid is refused.
  Status add_policy(const dataplane::PolicySpec& policy) override;
  // XFRM_MSG_UPDPOLICY: the kernel swaps the policy in one step (xfrm_policy_insert replaces
  // the entry with the same selector and mark in the list), so no packet finds none.
  Status replace_policy(const dataplane::PolicySpec& policy) override;
  Status delete_policy(const dataplane::PolicySpec& policy) override;

  // Expires and acquires for our own SAs and policies; mappings (XFRM_MSG_MAPPING: ESP in UDP
  // for one of our inbound SAs from a new outer endpoint, RFC 3948 / RFC 7296 §2.23) once per
  // new endpoint, though the kernel repeats the event for every such packet until the SA is
  // moved (update_sa_endpoints).
  void set_listener(dataplane::EventListener* listener) override { listener_ = listener; }
  int event_fd() const override { return events_.fd(); }
  void poll_events() override;

  void flush() override;

  // The SA as the kernel reports it now (encapsulation ports, replay state, raw counters):
  // for tests and `natgate status`, beyond what SaCounters carries.
  Expected<KernelSa> read_sa(std::uint32_t spi, const IpAddress& dst);
  // How many SAs (larval included) and policies this backend currently owns.
  std::size_t owned_sa_count() const { return sas_.size() + larval_.size(); }
  std::size_t owned_policy_count() const { return policies_.size(); }

 private:
  using SaKey = std::tuple<std::uint32_t, IpAddress>;  // (spi, dst)
  using PolicyKey = std::tuple<TrafficSelector, TrafficSelector, dataplane::Direction>;

  static PolicyKey policy_key(const dataplane::PolicySpec& p) { return {p.src, p.dst, p.direction}; }
  Expected<void, KernelError> install_sa(const dataplane::SaSpec& sa, bool update,
                                         const SaRuntimeState* carry, const char* what);
  Status recreate_sa(const dataplane::SaSpec& old_sa, const dataplane::SaSpec& new_sa);
  Status install_policy(const dataplane::PolicySpec& policy, bool replace);
  Expected<void, KernelError> delete_kernel_sa(std::uint32_t spi, const IpAddress& dst, std::uint32_t mark);
  void handle_event(const nlmsghdr& hdr);

  XfrmSocket requests_;
  XfrmSocket events_;
  std::map<SaKey, dataplane::SaSpec> sas_;  // installed SAs, keys included (UPDSA needs them)
  std::map<SaKey, IpAddress> larval_;       // allocated SPIs not yet installed -> their src
  std::map<PolicyKey, dataplane::PolicySpec> policies_;
  dataplane::EventListener* listener_ = nullptr;
  std::map<SaKey, Endpoint> mapping_reported_;  // last new endpoint reported per inbound SA
};

}  // namespace natgate::xfrm
