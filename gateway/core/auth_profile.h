// A connection's authentication as ike/ takes it (ike::AuthConfig): the certificate, its chain
// and key, the CA trust store with its CRLs, and the EAP users, loaded from the files the config
// names (the loader checked them already; a file changed since is an error here).
#pragma once

#include <memory>

#include "common/expected.h"
#include "gateway/config/config.h"
#include "ike/exchange/auth_config.h"

namespace natgate::gateway::core {

// nullptr when both directions use the PSK (ike/'s default).
Expected<std::shared_ptr<const ike::AuthConfig>> build_auth_config(const Config& config,
                                                                   const ConnectionConfig& c);

}  // namespace natgate::gateway::core
