#include "gateway/core/natt_channel_tcp.h"

#include "ike/codec/message_codec.h"

namespace natgate::gateway::core {

// ---- IKE -----------------------------------------------------------------------------------

// The IKE core asks send_over_stream first (IkeCore::send); what comes here is UDP's.
Status TcpNattChannel::send_ike(const EndpointPair& ends, ByteView ike_message) {
  return udp_->send_ike(ends, ike_message);
}

Status TcpNattChannel::send_keepalive(const EndpointPair& ends) {
  // §6.7: TCP keeps its own mapping alive; natgate sends no keepalives over a stream.
  if (transport_.carries(ends))
    return unexpected(std::string("not sent: the peer is on a TCP stream (RFC 9329 §6.7)"));
  return udp_->send_keepalive(ends);
}

std::optional<Status> TcpNattChannel::send_over_stream(const EndpointPair& ends, ByteView ike_message,
                                                       bool natt) {
  OutgoingIke out;
  out.ends = ends;
  out.message = ike_message;
  out.natt = natt;
  if (auto h = ike::decode_header(ike_message)) {
    out.from_original_initiator = h->initiator();
    out.ike_sa_init_request =
        h->exchange == iana::ExchangeType::IkeSaInit && !h->response() && h->message_id.value == 0;
    out.informational_request = h->exchange == iana::ExchangeType::Informational && !h->response();
    out.message_id = h->message_id.value;
    out.spi_i = h->spi_i.bytes;
  }
  return transport_.send_ike(out);
}

// ---- CHILD SAs -------------------------------------------------------------------------------

namespace {

// The engine's side of a stream: ESP in UDP between its NAT-T socket on 127.0.0.1 and the shim.
EndpointPair engine_ends(const Endpoint& shim, std::uint16_t engine_port) {
  return {.local = Endpoint{IpAddress::v4(0x7F000001u), engine_port}, .remote = shim};
}

IpAddress dst_of(dataplane::Direction d, const EndpointPair& ends) {
  return d == dataplane::Direction::In ? ends.local.address : ends.remote.address;
}

}  // namespace

std::optional<EndpointPair> TcpSaBackend::over_stream(const EndpointPair& ends) const {
  auto shim = transport_.shim_for(ends.remote);
  if (!shim) return std::nullopt;
  return engine_ends(*shim, transport_.engine_port());
}

void TcpSaBackend::rename(std::uint32_t spi, const IpAddress& outer, Entry e) {
  outer_names_[{spi, e.inner_dst}] = outer;
  names_[{spi, outer}] = e;
}

void TcpSaBackend::forget(std::uint32_t spi, const IpAddress& outer) {
  auto it = names_.find({spi, outer});
  if (it == names_.end()) return;
  outer_names_.erase({spi, it->second.inner_dst});
  names_.erase(it);
}

IpAddress TcpSaBackend::inner_dst(std::uint32_t spi, const IpAddress& dst) const {
  auto it = names_.find({spi, dst});
  return it == names_.end() ? dst : it->second.inner_dst;
}

IpAddress TcpSaBackend::outer_dst(std::uint32_t spi, const IpAddress& inner) const {
  auto it = outer_names_.find({spi, inner});
  return it == outer_names_.end() ? inner : it->second;
}

Status TcpSaBackend::add_sa(const dataplane::SaSpec& sa) {
  const EndpointPair ends = dataplane::outer_ends(sa);
  auto stream = over_stream(ends);
  if (!stream) {
    if (Status s = inner_->add_sa(sa); !s) return s;
    rename(sa.spi, sa.dst.address, {sa.direction, sa.dst.address, ends.remote.address});
    return {};
  }
  dataplane::SaSpec copy = sa;
  dataplane::set_outer_ends(copy, *stream, true);
  if (Status s = inner_->add_sa(copy); !s) return s;
  rename(sa.spi, sa.dst.address, {sa.direction, copy.dst.address, ends.remote.address});
  return {};
}

Status TcpSaBackend::update_sa_endpoints(std::uint32_t spi, const IpAddress& old_dst,
                                         const EndpointPair& ends, bool udp_encap) {
  auto it = names_.find({spi, old_dst});
  if (it == names_.end()) return inner_->update_sa_endpoints(spi, old_dst, ends, udp_encap);
  const Entry old = it->second;
  auto stream = over_stream(ends);
  const EndpointPair inner_ends = stream ? *stream : ends;
  if (Status s = inner_->update_sa_endpoints(spi, old.inner_dst, inner_ends, stream ? true : udp_encap); !s)
    return s;
  forget(spi, old_dst);
  rename(spi, dst_of(old.direction, ends),
         {old.direction, dst_of(old.direction, inner_ends), ends.remote.address});
  return {};
}

TcpSaBackend::TcpSaBackend(std::unique_ptr<dataplane::SaBackend> inner, TcpTransport& transport)
    : inner_(std::move(inner)), transport_(transport) {
  transport_.set_moved_handler([this](const IpAddress& peer) { peer_moved_to_tcp(peer); });
  transport_.set_shim_in_use([this](const Endpoint& shim) { return shim_in_use(shim.address); });
}

TcpSaBackend::~TcpSaBackend() {
  transport_.set_moved_handler(nullptr);
  transport_.set_shim_in_use(nullptr);
}

bool TcpSaBackend::shim_in_use(const IpAddress& shim) const {
  // Outbound SAs name the shim as their engine destination; inbound ones name the engine's
  // 127.0.0.1 for every stream, and go with their outbound partner (one CHILD SA, RFC 7296 §2.17).
  for (const auto& [name, e] : names_)
    if (e.direction == dataplane::Direction::Out && e.inner_dst == shim) return true;
  return false;
}

void TcpSaBackend::peer_moved_to_tcp(const IpAddress& peer) {
  // The IKE core still names these SAs by the peer's UDP endpoint (and keeps doing so: to it the
  // peer is a NAT-T endpoint); only the engine's outer ends move to the new stream's shim, as
  // add_sa does for an SA installed while the peer is already on TCP.
  const auto shim = transport_.shim_for(Endpoint{peer, 0});
  if (!shim) return;
  const EndpointPair inner_ends = engine_ends(*shim, transport_.engine_port());
  std::vector<std::pair<Name, Entry>> moving;
  for (const auto& [name, e] : names_)
    if (e.peer == peer && e.inner_dst != dst_of(e.direction, inner_ends)) moving.emplace_back(name, e);
  for (const auto& [name, e] : moving) {
    if (Status s = inner_->update_sa_endpoints(name.first, e.inner_dst, inner_ends, true); !s) continue;
    forget(name.first, name.second);
    rename(name.first, name.second, {e.direction, dst_of(e.direction, inner_ends), peer});
  }
}

Status TcpSaBackend::delete_sa(std::uint32_t spi, const IpAddress& dst) {
  Status s = inner_->delete_sa(spi, inner_dst(spi, dst));
  forget(spi, dst);
  transport_.sa_removed();  // a stream kept for old SAs closes with the last of them
  return s;
}

void TcpSaBackend::set_listener(dataplane::EventListener* listener) {
  listener_ = listener;
  inner_->set_listener(listener ? this : nullptr);
}

void TcpSaBackend::on_expire(const dataplane::ExpireEvent& e) {
  if (!listener_) return;
  dataplane::ExpireEvent out = e;
  out.dst = outer_dst(e.spi, e.dst);
  if (e.hard) {
    forget(e.spi, out.dst);
    transport_.sa_removed();
  }
  listener_->on_expire(out);
}

void TcpSaBackend::on_acquire(const dataplane::AcquireEvent& e) {
  if (listener_) listener_->on_acquire(e);
}

void TcpSaBackend::on_mapping(const dataplane::MappingEvent& m) {
  if (!listener_) return;
  dataplane::MappingEvent out = m;
  out.dst = outer_dst(m.spi, m.dst);
  // ESP of an SA came over another stream (the originator re-opened it, §6.8): the peer is that
  // stream's TCP endpoint, and IKE still addressed to the old stream goes over the new one.
  transport_.note_reopened(m.old_remote, m.new_remote);
  if (auto peer = transport_.peer_of_shim(m.new_remote)) out.new_remote = *peer;
  if (auto peer = transport_.peer_of_shim(m.old_remote)) out.old_remote = *peer;
  if (out.new_remote == out.old_remote) return;
  listener_->on_mapping(out);
}

}  // namespace natgate::gateway::core
