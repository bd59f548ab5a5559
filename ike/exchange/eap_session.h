// One EAP conversation inside IKE_AUTH (RFC 7296 §2.16), whichever method the AuthConfig names:
// the IKE_AUTH task feeds it the EAP payloads it receives and sends back what it answers, and
// asks at the end for the MSK that keys both AUTH payloads. Server = the IKE responder
// (authenticator), client = the IKE initiator (peer).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/expected.h"
#include "common/secret_bytes.h"
#include "crypto/random.h"
#include "ike/auth/eap_packets.h"
#include "ike/auth/x509_certificate.h"
#include "ike/codec/payloads.h"
#include "ike/exchange/auth_config.h"
#include "ike/exchange/identity.h"

namespace natgate::ike {

class EapSession {
 public:
  virtual ~EapSession() = default;

  // For a responder whose peer must use `config.remote`; for an initiator using `config.local`.
  // The server authenticates only EAP names that bind `peer_id`, the IDi (eap_identity.h); an
  // EAP-TLS certificate is matched against the IDi by IkeAuth once the method succeeded.
  static Expected<std::unique_ptr<EapSession>> server(const AuthConfig& config, crypto::RandomSource& random,
                                                      const Identity& peer_id);
  static Expected<std::unique_ptr<EapSession>> client(const AuthConfig& config, crypto::RandomSource& random);

  // Server only: the first EAP request.
  virtual Eap start() = 0;
  virtual eap::Step process(const Eap& packet) = 0;
  virtual bool done() const = 0;
  virtual const SecretBytes& msk() const = 0;
  virtual const std::string& failure_reason() const = 0;
  // EAP-TLS: the other side's verified certificate, to match against its IKE identity.
  virtual std::optional<X509Certificate> peer_certificate() const { return std::nullopt; }
  // Server: the name the peer authenticated as ("" when the method has none).
  virtual std::string user() const { return {}; }

  bool succeeded() const { return done() && !msk().empty(); }
  bool failed() const { return done() && msk().empty(); }
};

}  // namespace natgate::ike
