// EAP-TLS (RFC 5216) over TLS 1.2, server and peer, sans-I/O: TLS runs in OpenSSL over memory BIOs
// and its records travel in EAP Type 13 packets, fragmented to `fragment_size` with the L/M/S flags
// of RFC 5216 §3.1 and acknowledged with empty packets (§2.1.5). The peer's certificate chain is
// checked after the handshake with natgate's TrustStore (CRLs, injected time, clear messages), and
// the method succeeds only then. MSK = TLS-PRF(master_secret, "client EAP encryption",
// client.random | server.random)[0..63] (§2.3), i.e. the RFC 5705 exporter without context.
//
//   server                          peer
//   Request/TLS Start (S)     ->
//                             <-    Response: ClientHello
//   Request: ServerHello..Done ->   (fragments, each acknowledged by an empty Response)
//                             <-    Response: Certificate, ClientKeyExchange, CertificateVerify, Finished
//   Request: CCS, Finished    ->
//                             <-    Response: empty (ack)
//   EAP-Success               ->    both hold the MSK
//
// The peer also answers EAP-Identity and Naks other methods, proposing EAP-TLS. TLS 1.3 (RFC 9190)
// is not offered. OpenSSL draws the TLS randoms itself (not from a RandomSource).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/secret_bytes.h"
#include "ike/auth/eap_packets.h"
#include "ike/auth/private_key.h"
#include "ike/auth/trust_store.h"
#include "ike/auth/x509_certificate.h"
#include "ike/codec/payloads.h"

namespace natgate::ike {

struct EapTlsConfig {
  X509Certificate certificate;                // ours
  std::vector<X509Certificate> chain;         // intermediates sent after it
  PrivateKey key;                             // for `certificate`
  std::shared_ptr<const TrustStore> trust;    // verifies the other side's chain
  std::chrono::system_clock::time_point now;  // the time certificates are checked at
  std::size_t fragment_size = 1024;           // TLS octets per EAP packet (strongSwan's default)
  std::string identity;                       // peer only: the EAP-Identity answer
};

class EapTls {
 public:
  enum class Role { Server, Peer };
  enum class State { Idle, Handshake, WaitAck, Succeeded, Failed };

  static Expected<std::unique_ptr<EapTls>> create(Role role, EapTlsConfig config);
  ~EapTls();
  EapTls(const EapTls&) = delete;
  EapTls& operator=(const EapTls&) = delete;

  // Server only: the EAP-TLS Start request.
  Eap start();
  // Server: feed each EAP Response. Peer: feed each EAP Request, EAP-Success or EAP-Failure.
  eap::Step process(const Eap& packet);

  State state() const { return state_; }
  bool done() const { return state_ == State::Succeeded || state_ == State::Failed; }
  const SecretBytes& msk() const { return state_ == State::Succeeded ? msk_ : empty_; }
  // The other side's verified end-entity certificate (after success), to match against its IKE ID.
  const std::optional<X509Certificate>& peer_certificate() const { return peer_certificate_; }
  const std::string& failure_reason() const { return failure_reason_; }

 private:
  struct Tls;
  EapTls(Role role, EapTlsConfig config);

  eap::Step process_server(const Eap& response);
  eap::Step process_peer(const Eap& request);
  // Feeds a complete incoming TLS message to OpenSSL; false on a TLS failure.
  bool run_tls(const Bytes& message);
  Status verify_peer_and_derive();
  Eap packet(std::uint8_t identifier, std::uint8_t flags, ByteView data) const;
  Eap next_fragment(std::uint8_t identifier);
  Eap ack(std::uint8_t identifier) const { return packet(identifier, 0, {}); }
  eap::Step send(Eap p);
  eap::Step fail(std::string reason, std::optional<Eap> reply = std::nullopt);

  Role role_;
  EapTlsConfig config_;
  std::unique_ptr<Tls> tls_;
  State state_ = State::Idle;
  std::uint8_t identifier_ = 0;  // server: last request's; peer: last answered
  std::optional<Eap> last_sent_;
  Bytes out_;  // TLS octets waiting to go out
  std::size_t out_sent_ = 0;
  Bytes in_;  // a fragmented incoming TLS message being collected
  std::optional<std::size_t> in_expected_;
  bool handshake_done_ = false;
  SecretBytes msk_;
  SecretBytes empty_;
  std::optional<X509Certificate> peer_certificate_;
  std::string failure_reason_;
};

}  // namespace natgate::ike
