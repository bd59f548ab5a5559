// What a data plane reports to the control plane, whichever backend it is: SA lifetimes that
// ran out, traffic that found a policy without an SA, and a peer whose NAT mapping moved. One
// EventListener receives all three (SaBackend::set_listener).
#pragma once

#include <cstdint>

#include "common/ip_address.h"
#include "common/traffic_selector.h"

namespace natgate::dataplane {

struct ExpireEvent {
  std::uint32_t spi = 0;
  IpAddress dst;
  std::uint32_t reqid = 0;
  bool hard = false;  // soft: rekey now; hard: the SA is gone
};

// A packet matched an outbound policy that has no SA yet (`start: on-traffic`).
struct AcquireEvent {
  std::uint32_t reqid = 0;
  TrafficSelector src;
  TrafficSelector dst;
};

// Authenticated ESP-in-UDP for one of our inbound SAs came from another outer endpoint than the
// SA names: the peer's NAT mapping changed (RFC 3948, RFC 7296 §2.23). The kernel reports it as
// XFRM_MSG_MAPPING, the userspace engine after the packet passed its ICV and replay checks.
// Reported once per new endpoint; the control plane decides whether the SAs move
// (SaBackend::update_sa_endpoints).
struct MappingEvent {
  std::uint32_t spi = 0;  // the inbound SA
  IpAddress dst;          // its outer destination (our address): with spi, the SA's name
  std::uint32_t reqid = 0;
  Endpoint old_remote;  // where the SA says the peer is
  Endpoint new_remote;  // where its ESP now comes from
};

// The control plane's side of a data plane. Called on the thread that calls
// SaBackend::poll_events() (the daemon's io_context), so an implementation needs no locking.
class EventListener {
 public:
  virtual void on_expire(const ExpireEvent& event) = 0;
  virtual void on_acquire(const AcquireEvent& event) = 0;
  virtual void on_mapping(const MappingEvent& event) = 0;

 protected:
  ~EventListener() = default;  // not owned through this interface
};

}  // namespace natgate::dataplane
