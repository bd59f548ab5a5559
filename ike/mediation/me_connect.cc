#include "ike/mediation/me_connect.h"

#include "ike/mediation/candidates.h"

namespace natgate::ike::mediation {
namespace {

void add_endpoints(std::vector<Payload>& out, const std::vector<MeEndpoint>& endpoints) {
  for (const MeEndpoint& e : endpoints)
    out.push_back(Notify::make(me_notify::kEndpoint, encode_me_endpoint(e)));
}

Bytes key_bytes(const SecretBytes& key) { return Bytes(key.view().begin(), key.view().end()); }

}  // namespace

MeConnect make_connect_request(crypto::RandomSource& random, IdPeer target,
                               std::vector<MeEndpoint> endpoints) {
  MeConnect m;
  m.peer = std::move(target);
  m.connect_id = random.bytes(kConnectIdSize);
  m.connect_key = SecretBytes(kConnectKeySize);
  random.fill(m.connect_key.mutable_view());
  m.endpoints = std::move(endpoints);
  m.callback = true;
  return m;
}

MeConnect make_connect_response(crypto::RandomSource& random, const MeConnect& request,
                                std::vector<MeEndpoint> endpoints) {
  MeConnect m;
  m.peer = request.peer;
  m.connect_id = request.connect_id;
  m.connect_key = SecretBytes(kConnectKeySize);
  random.fill(m.connect_key.mutable_view());
  m.endpoints = std::move(endpoints);
  m.response = true;
  return m;
}

MeConnect make_callback(IdPeer now_online) {
  MeConnect m;
  m.peer = std::move(now_online);
  m.callback = true;
  return m;
}

std::vector<Payload> payloads_from_peer(const MeConnect& m) {
  std::vector<Payload> out{m.peer, Notify::make(me_notify::kConnectId, m.connect_id),
                           Notify::make(me_notify::kConnectKey, key_bytes(m.connect_key))};
  out.push_back(Notify::make(m.response ? me_notify::kResponse : me_notify::kCallback));
  add_endpoints(out, m.endpoints);
  return out;
}

std::vector<Payload> payloads_from_server(const MeConnect& m) {
  std::vector<Payload> out{m.peer};
  if (m.callback) {
    out.push_back(Notify::make(me_notify::kCallback));
    return out;
  }
  if (m.response) out.push_back(Notify::make(me_notify::kResponse));
  out.push_back(Notify::make(me_notify::kConnectId, m.connect_id));
  out.push_back(Notify::make(me_notify::kConnectKey, key_bytes(m.connect_key)));
  add_endpoints(out, m.endpoints);
  return out;
}

const char* to_string(MeConnectError error) {
  switch (error) {
    case MeConnectError::MissingIdPeer:
      return "ID_PEER missing";
    case MeConnectError::MissingConnectId:
      return "ME_CONNECTID missing";
    case MeConnectError::MissingConnectKey:
      return "ME_CONNECTKEY missing";
    case MeConnectError::NoEndpoints:
      return "no valid ME_ENDPOINT";
    case MeConnectError::BadNotifyLength:
      return "ME notify of a bad length";
  }
  return "?";
}

Expected<MeConnect, MeConnectError> parse_me_connect(const std::vector<Payload>& payloads, Reader reader,
                                                     MeConnectCounters& counters) {
  MeConnect m;
  bool have_peer = false;
  for (const Payload& p : payloads) {
    if (const auto* id = std::get_if<IdPeer>(&p)) {
      if (!have_peer) m.peer = *id;
      have_peer = true;
      continue;
    }
    const auto* n = std::get_if<Notify>(&p);
    if (!n || !is_mediation_notify(n->type)) continue;
    if (!mediation_notify_length_ok(n->type, n->data.size()))
      return unexpected(MeConnectError::BadNotifyLength);
    if (n->type == me_notify::kCallback) {
      m.callback = true;
    } else if (n->type == me_notify::kResponse) {
      m.response = true;
    } else if (n->type == me_notify::kConnectId) {
      m.connect_id = n->data;  // a repeat replaces the earlier one, as in strongSwan
    } else if (n->type == me_notify::kConnectKey) {
      m.connect_key = SecretBytes(ByteView(n->data));
    } else if (n->type == me_notify::kEndpoint) {
      auto e = decode_me_endpoint(n->data);
      if (!e || !e->address) {
        ++counters.bad_endpoints;
      } else if (m.endpoints.size() >= kMaxCandidates) {
        ++counters.extra_endpoints;
      } else {
        m.endpoints.push_back(*e);
      }
    }
  }
  if (!have_peer) return unexpected(MeConnectError::MissingIdPeer);
  if (reader == Reader::Peer && m.callback) return m;
  if (m.connect_id.empty()) return unexpected(MeConnectError::MissingConnectId);
  if (m.connect_key.empty()) return unexpected(MeConnectError::MissingConnectKey);
  if (m.endpoints.empty()) return unexpected(MeConnectError::NoEndpoints);
  return m;
}

}  // namespace natgate::ike::mediation
