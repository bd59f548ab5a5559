// Whether this kernel has espintcp (CONFIG_INET_ESPINTCP, RFC 9329 TCP encapsulation inside
// XFRM), for the reason natgated gives when a connection asks for TCP with the kernel data plane.
// natgate's kernel data plane does not use espintcp either way (docs/design.md): the probe only
// words the refusal.
#pragma once

#include <string>

namespace natgate::gateway {

// "this kernel has espintcp" or "this kernel has no espintcp (...)", from setsockopt(TCP_ULP,
// "espintcp") on a scratch TCP socket that is closed again.
std::string probe_espintcp();

}  // namespace natgate::gateway
