// Can this kernel run natgate's data plane? `dataplane: auto` asks this once at start-up and
// logs the answer with its reason (docs/design.md, "Rules every layer keeps").
#pragma once

#include <string>

namespace natgate::xfrm {

struct EspSupport {
  bool available = false;
  std::string reason;  // why, in words for the log
};

// Adds and at once deletes a throwaway outbound ESP SA (AES-GCM, ESP-in-UDP 4500->4500,
// 127.0.0.1 -> 127.0.0.1) in the current network namespace. Its SPI, 0xff, is in the range
// IANA reserves (RFC 4303 §2.1), so it cannot collide with an SA anyone negotiated. On failure
// the reason quotes the kernel, e.g. "kernel has no ESP: Requested AEAD algorithm not found".
EspSupport probe_kernel_esp();

}  // namespace natgate::xfrm
