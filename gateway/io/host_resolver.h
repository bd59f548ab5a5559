// remote.address by name (configs/README.md): the A and AAAA records of a DNS name through the
// system resolver (getaddrinfo, so /etc/hosts and resolv.conf apply), in the order it gives them.
// Called on every initiation of such a connection; it blocks for as long as the resolver takes
// (its own timeouts, resolv.conf `timeout`/`attempts`), which the event loop accepts for the
// rare (re)initiation.
#pragma once

#include <string>
#include <vector>

#include "common/expected.h"
#include "common/ip_address.h"

namespace natgate::gateway {

// An address stands for itself; a name gives its addresses (each once), or why not
// ("Name or service not known").
Expected<std::vector<IpAddress>> resolve_host(const std::string& host);

}  // namespace natgate::gateway
