#include "ike/auth/eap_tls.h"

#include <openssl/ssl.h>

#include <algorithm>

#include "crypto/openssl_handles.h"
#include "ike/auth/x509_text.h"

namespace natgate::ike {

namespace {

constexpr std::uint8_t kEapTls = 13;
// RFC 5216 §3.1 flags.
constexpr std::uint8_t kLengthIncluded = 0x80;
constexpr std::uint8_t kMoreFragments = 0x40;
constexpr std::uint8_t kStart = 0x20;
// The longest TLS message natgate collects from EAP fragments (a handshake flight with a
// certificate chain is a few KB).
constexpr std::size_t kMaxTlsMessage = std::size_t{64} * 1024;

using SslCtxPtr = std::unique_ptr<SSL_CTX, crypto::detail::OsslDeleter<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, crypto::detail::OsslDeleter<SSL_free>>;

// Accept every chain during the handshake: the decision is made afterwards by TrustStore, which
// knows the CRLs and the injected time and says why it refuses.
int accept_for_later_check(int /*preverify*/, X509_STORE_CTX* /*ctx*/) { return 1; }

// libssl queues its errors where libcrypto does: one reader for both.
std::string ssl_error(std::string_view what) { return crypto::detail::openssl_error(what); }

std::optional<X509Certificate> copy_cert(X509* c) {
  auto cert = X509Certificate::from_der(detail::to_der(c, i2d_X509));
  if (!cert) return std::nullopt;
  return std::move(*cert);
}

}  // namespace

struct EapTls::Tls {
  SslCtxPtr ctx;
  SslPtr ssl;
  BIO* rbio = nullptr;  // owned by ssl
  BIO* wbio = nullptr;  // owned by ssl
};

EapTls::EapTls(Role role, EapTlsConfig config) : role_(role), config_(std::move(config)) {}
EapTls::~EapTls() = default;

Expected<std::unique_ptr<EapTls>> EapTls::create(Role role, EapTlsConfig config) {
  if (!config.trust) return unexpected(std::string("EAP-TLS: no trust store"));
  if (config.fragment_size < 64) return unexpected(std::string("EAP-TLS: fragment size below 64 octets"));
  std::unique_ptr<EapTls> self(new EapTls(role, std::move(config)));
  auto tls = std::make_unique<Tls>();
  tls->ctx.reset(SSL_CTX_new(role == Role::Server ? TLS_server_method() : TLS_client_method()));
  if (!tls->ctx) return unexpected(ssl_error("EAP-TLS"));
  SSL_CTX* ctx = tls->ctx.get();
  // TLS 1.2 only (RFC 5216); no tickets or resumption: every run is a full handshake.
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) != 1)
    return unexpected(ssl_error("EAP-TLS: TLS 1.2"));
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  const EapTlsConfig& c = self->config_;
  if (SSL_CTX_use_certificate(ctx, c.certificate.native()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx, c.key.native()) != 1 || SSL_CTX_check_private_key(ctx) != 1)
    return unexpected(ssl_error("EAP-TLS: our certificate and key"));
  for (const auto& ca : c.chain)
    if (SSL_CTX_add1_chain_cert(ctx, ca.native()) != 1) return unexpected(ssl_error("EAP-TLS: chain"));
  // The server demands a client certificate (EAP-TLS is mutual, RFC 5216 §2.1.1).
  SSL_CTX_set_verify(
      ctx, role == Role::Server ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_PEER,
      accept_for_later_check);
  tls->ssl.reset(SSL_new(ctx));
  tls->rbio = BIO_new(BIO_s_mem());
  tls->wbio = BIO_new(BIO_s_mem());
  if (!tls->ssl || tls->rbio == nullptr || tls->wbio == nullptr) {
    BIO_free(tls->rbio);
    BIO_free(tls->wbio);
    return unexpected(ssl_error("EAP-TLS"));
  }
  SSL_set_bio(tls->ssl.get(), tls->rbio, tls->wbio);
  if (role == Role::Server)
    SSL_set_accept_state(tls->ssl.get());
  else
    SSL_set_connect_state(tls->ssl.get());
  self->tls_ = std::move(tls);
  return self;
}

Eap EapTls::packet(std::uint8_t identifier, std::uint8_t flags, ByteView data) const {
  Eap p{role_ == Role::Server ? eap::kRequest : eap::kResponse, identifier, kEapTls, Bytes(1 + data.size())};
  p.data[0] = flags;
  if (!data.empty()) std::copy(data.begin(), data.end(), p.data.begin() + 1);
  return p;
}

// The next piece of `out_`: the first carries L and the total length, all but the last carry M.
Eap EapTls::next_fragment(std::uint8_t identifier) {
  const std::size_t left = out_.size() - out_sent_;
  const std::size_t n = std::min(left, config_.fragment_size);
  std::uint8_t flags = 0;
  Bytes data;
  if (out_sent_ == 0 && n < left) {
    flags |= kLengthIncluded;
    const auto total = static_cast<std::uint32_t>(out_.size());
    for (int shift : {24, 16, 8, 0}) data.push_back(static_cast<std::uint8_t>(total >> shift));
  }
  if (n < left) flags |= kMoreFragments;
  data.insert(data.end(), out_.begin() + static_cast<std::ptrdiff_t>(out_sent_),
              out_.begin() + static_cast<std::ptrdiff_t>(out_sent_ + n));
  out_sent_ += n;
  if (out_sent_ == out_.size()) {
    out_.clear();
    out_sent_ = 0;
  }
  return packet(identifier, flags, data);
}

eap::Step EapTls::send(Eap p) {
  last_sent_ = p;
  return {std::move(p), {}};
}

eap::Step EapTls::fail(std::string reason, std::optional<Eap> reply) {
  state_ = State::Failed;
  failure_reason_ = reason;
  msk_.wipe();
  return {std::move(reply), std::move(reason)};
}

bool EapTls::run_tls(const Bytes& message) {
  SSL* ssl = tls_->ssl.get();
  if (!message.empty() && BIO_write(tls_->rbio, message.data(), static_cast<int>(message.size())) !=
                              static_cast<int>(message.size()))
    return false;
  bool ok = true;
  if (!handshake_done_) {
    const int rc = SSL_do_handshake(ssl);
    if (rc == 1) {
      handshake_done_ = true;
    } else {
      const int err = SSL_get_error(ssl, rc);
      if (err != SSL_ERROR_WANT_READ) {
        ok = false;
        failure_reason_ = ssl_error("EAP-TLS handshake failed");
      }
    }
  }
  // Whatever TLS produced (the next flight, or an alert) goes out.
  char buf[4096];
  int n = 0;
  while ((n = BIO_read(tls_->wbio, buf, sizeof buf)) > 0) out_.insert(out_.end(), buf, buf + n);
  return ok;
}

Status EapTls::verify_peer_and_derive() {
  SSL* ssl = tls_->ssl.get();
  X509* leaf = SSL_get0_peer_certificate(ssl);
  if (leaf == nullptr) return unexpected(std::string("EAP-TLS: the other side sent no certificate"));
  auto ee = copy_cert(leaf);
  if (!ee) return unexpected(std::string("EAP-TLS: unreadable peer certificate"));
  std::vector<X509Certificate> intermediates;
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl)) {
    for (int i = 0; i < sk_X509_num(chain); ++i) {
      auto c = copy_cert(sk_X509_value(chain, i));
      if (c && !(*c == *ee)) intermediates.push_back(std::move(*c));
    }
  }
  auto path = config_.trust->verify(*ee, intermediates, config_.now);
  if (!path) return unexpected("EAP-TLS: " + path.error());
  // RFC 5216 §2.3: Key_Material = TLS-PRF-128(master_secret, "client EAP encryption", client.random ||
  // server.random); MSK = Key_Material(0, 63). The RFC 5705 exporter without context is that PRF.
  static constexpr char kLabel[] = "client EAP encryption";
  SecretBytes material(128);
  if (SSL_export_keying_material(ssl, material.data(), material.size(), kLabel, sizeof kLabel - 1, nullptr, 0,
                                 0) != 1)
    return unexpected(ssl_error("EAP-TLS: key export"));
  msk_ = material.slice(0, 64);
  peer_certificate_ = std::move(*ee);
  return {};
}

Eap EapTls::start() {
  state_ = State::Handshake;
  identifier_ = static_cast<std::uint8_t>(identifier_ + 1);
  Eap p = packet(identifier_, kStart, {});
  last_sent_ = p;
  return p;
}

eap::Step EapTls::process(const Eap& packet) {
  if (done()) return {std::nullopt, "EAP-TLS already finished"};
  return role_ == Role::Server ? process_server(packet) : process_peer(packet);
}

eap::Step EapTls::process_server(const Eap& response) {
  if (response.code != eap::kResponse) return {std::nullopt, "not an EAP Response"};
  if (!last_sent_ || response.identifier != last_sent_->identifier)
    return {std::nullopt, "EAP Identifier does not answer the last request"};
  if (response.type == eap::kNak)
    return fail("the peer refused EAP-TLS (Nak)", eap::failure(response.identifier));
  if (response.type != kEapTls || response.data.empty())
    return fail("expected an EAP-TLS response", eap::failure(response.identifier));
  const std::uint8_t next = static_cast<std::uint8_t>(response.identifier + 1);
  identifier_ = next;
  const std::uint8_t flags = response.data[0];
  const bool is_ack = flags == 0 && response.data.size() == 1;

  if (is_ack) {
    if (!out_.empty()) return send(next_fragment(next));  // the peer took a fragment: send the next
    if (!handshake_done_)
      return fail("EAP-TLS: unexpected acknowledgement", eap::failure(response.identifier));
    if (auto st = verify_peer_and_derive(); !st) return fail(st.error(), eap::failure(response.identifier));
    state_ = State::Succeeded;
    return {eap::success(response.identifier), {}};
  }
  // TLS data from the peer, possibly one fragment of it.
  std::size_t pos = 1;
  if (flags & kLengthIncluded) {
    if (response.data.size() < 5)
      return fail("EAP-TLS: TLS Message Length truncated", eap::failure(response.identifier));
    const std::size_t total = (std::size_t{response.data[1]} << 24) | (std::size_t{response.data[2]} << 16) |
                              (std::size_t{response.data[3]} << 8) | response.data[4];
    if (total > kMaxTlsMessage)
      return fail("EAP-TLS: TLS message too long", eap::failure(response.identifier));
    if (in_.empty()) in_expected_ = total;
    pos = 5;
  }
  in_.insert(in_.end(), response.data.begin() + static_cast<std::ptrdiff_t>(pos), response.data.end());
  if (in_.size() > kMaxTlsMessage || (in_expected_ && in_.size() > *in_expected_))
    return fail("EAP-TLS: fragments exceed the announced length", eap::failure(response.identifier));
  if (flags & kMoreFragments) return send(ack(next));
  Bytes message = std::move(in_);
  in_.clear();
  in_expected_.reset();
  if (!run_tls(message)) {
    // RFC 5216 §2.1.3 lets the server send its TLS alert first; natgate ends the method at once with
    // EAP-Failure, which the peer treats the same way and which leaves no state to wait in.
    out_.clear();
    return fail(failure_reason_, eap::failure(response.identifier));
  }
  if (out_.empty()) return fail("EAP-TLS: TLS produced nothing to send", eap::failure(response.identifier));
  return send(next_fragment(next));
}

eap::Step EapTls::process_peer(const Eap& request) {
  if (request.code == eap::kSuccess) {
    if (!handshake_done_ || state_ != State::WaitAck)
      return fail("EAP-Success before the TLS handshake finished");
    state_ = State::Succeeded;
    return {};
  }
  if (request.code == eap::kFailure)
    return fail(failure_reason_.empty() ? "the server sent EAP-Failure" : failure_reason_);
  if (request.code != eap::kRequest) return {std::nullopt, "not an EAP Request"};
  if (last_sent_ && request.identifier == last_sent_->identifier) return {last_sent_, "repeated request"};
  if (request.type == eap::kIdentity)
    return send(eap::identity_response(request.identifier, config_.identity));
  if (request.type != kEapTls) return send(eap::nak(request.identifier, kEapTls));
  if (request.data.empty()) return fail("EAP-TLS: no flags");
  const std::uint8_t flags = request.data[0];
  if (flags & kStart) {
    if (state_ != State::Idle) return {std::nullopt, "a second EAP-TLS Start"};
    state_ = State::Handshake;
    if (!run_tls({})) return fail(failure_reason_);
    return send(next_fragment(request.identifier));
  }
  if (state_ == State::Idle) return fail("EAP-TLS: data before Start");
  const bool is_ack = flags == 0 && request.data.size() == 1;
  if (is_ack) {
    if (out_.empty()) return fail("EAP-TLS: unexpected acknowledgement");
    return send(next_fragment(request.identifier));
  }
  std::size_t pos = 1;
  if (flags & kLengthIncluded) {
    if (request.data.size() < 5) return fail("EAP-TLS: TLS Message Length truncated");
    const std::size_t total = (std::size_t{request.data[1]} << 24) | (std::size_t{request.data[2]} << 16) |
                              (std::size_t{request.data[3]} << 8) | request.data[4];
    if (total > kMaxTlsMessage) return fail("EAP-TLS: TLS message too long");
    if (in_.empty()) in_expected_ = total;
    pos = 5;
  }
  in_.insert(in_.end(), request.data.begin() + static_cast<std::ptrdiff_t>(pos), request.data.end());
  if (in_.size() > kMaxTlsMessage || (in_expected_ && in_.size() > *in_expected_))
    return fail("EAP-TLS: fragments exceed the announced length");
  if (flags & kMoreFragments) return send(ack(request.identifier));
  Bytes message = std::move(in_);
  in_.clear();
  in_expected_.reset();
  const bool ok = run_tls(message);
  if (!ok) {
    const std::string reason = failure_reason_;
    if (!out_.empty()) return fail(reason, next_fragment(request.identifier));  // our alert
    return fail(reason);
  }
  if (handshake_done_ && out_.empty()) {
    // The server's Finished arrived: check its chain before acknowledging (RFC 5216 §2.1.1: the
    // peer's empty response lets the server send EAP-Success).
    if (auto st = verify_peer_and_derive(); !st) return fail(st.error());
    state_ = State::WaitAck;
    return send(ack(request.identifier));
  }
  if (out_.empty()) return fail("EAP-TLS: TLS produced nothing to send");
  return send(next_fragment(request.identifier));
}

}  // namespace natgate::ike
