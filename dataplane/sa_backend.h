// The one interface through which gateway/ programs CHILD SAs and policies.
// Implemented by the kernel backend (netlink XFRM) and by the userspace ESP engine;
// the daemon cannot tell them apart (docs/design.md, "Data plane"). The shape follows
// strongSwan's kernel_ipsec_t: SPI allocation, SA add/update/query/delete, policies.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/endpoint_pair.h"
#include "common/expected.h"
#include "common/ip_address.h"
#include "dataplane/events.h"
#include "dataplane/policy_spec.h"
#include "dataplane/sa_spec.h"

namespace natgate::dataplane {

class SaBackend {
 public:
  virtual ~SaBackend() = default;

  // "kernel" or "userspace", for logs and `natgate status`.
  virtual std::string name() const = 0;

  // Reserves the SPI of an inbound SA from ends.remote to ends.local, unique among this
  // backend's SAs for ends.local.
  virtual Expected<std::uint32_t> allocate_spi(const AddressPair& ends, std::uint32_t reqid) = 0;
  virtual Status add_sa(const SaSpec& sa) = 0;
  // The peer's NAT mapping changed (RFC 7296 §2.23): move the SA (spi, old_dst) to new outer
  // endpoints, with ESP in UDP between their ports or plain ESP. The backend takes source and
  // destination from the SA's direction (dataplane::set_outer_ends).
  virtual Status update_sa_endpoints(std::uint32_t spi, const IpAddress& old_dst, const EndpointPair& ends,
                                     bool udp_encap) = 0;
  virtual Expected<SaCounters> query_sa(std::uint32_t spi, const IpAddress& dst) = 0;
  virtual Status delete_sa(std::uint32_t spi, const IpAddress& dst) = 0;

  // A policy is named by its selectors and direction (as XFRM names it without mark/if_id).
  // add_policy refuses a name this backend holds for another reqid: a policy never changes
  // hands by accident (one connection's peer taking over another's traffic).
  virtual Status add_policy(const PolicySpec& policy) = 0;
  // Hands an installed policy over in place (new reqid, template or priority): traffic finds
  // the old policy or the new one, never none (an identity's successor SA taking over).
  virtual Status replace_policy(const PolicySpec& policy) = 0;
  virtual Status delete_policy(const PolicySpec& policy) = 0;

  // The one listener for this backend's events (expire, acquire, mapping: dataplane/events.h),
  // called from poll_events() on the thread that calls it (the daemon's io_context), so it
  // needs no locking. Not owned: it outlives the backend, or is replaced by nullptr first.
  virtual void set_listener(EventListener* listener) = 0;
  // A file descriptor that becomes readable when events are pending (-1 if none), and the
  // call that drains them.
  virtual int event_fd() const = 0;
  virtual void poll_events() = 0;

  // Removes everything this backend installed (shutdown); touches nothing else.
  virtual void flush() = 0;
};

}  // namespace natgate::dataplane
