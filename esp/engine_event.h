// What the data plane tells the control plane: SA expiry, acquires, and IKE datagrams that
// arrived on the shared NAT-T socket.
#pragma once

#include <cstdint>

#include "common/bytes.h"
#include "common/endpoint_pair.h"
#include "common/ip_address.h"
#include "common/traffic_selector.h"
#include "dataplane/sa_backend.h"
#include "esp/wire/types.h"

namespace natgate::esp {

struct EngineEvent {
  // Mapping: an authenticated ESP-in-UDP packet of an inbound SA came from another outer
  // endpoint than the SA's path names (a NAT rebinding; the kernel's XFRM_MSG_MAPPING). Reported
  // once per new endpoint; the control plane decides whether to move the SAs.
  enum class Kind : std::uint8_t { SoftExpire, HardExpire, Acquire, Mapping };
  Kind kind = Kind::SoftExpire;
  Spi spi;                                                     // expiry
  dataplane::Direction direction = dataplane::Direction::Out;  // expiry
  IpAddress remote;                                            // expiry: the SA's peer (outer)
  IpAddress dst;                                               // expiry: the SA's outer destination
  std::uint32_t reqid = 0;
  TrafficSelector src;  // acquire: the packet that found no SA
  TrafficSelector dst_ts;
  Endpoint new_remote;  // mapping
};

struct IkeDatagram {
  EndpointPair ends;  // local: where it arrived (address from IP_PKTINFO, the socket's port)
  Bytes message;      // non-ESP marker stripped
};

}  // namespace natgate::esp
