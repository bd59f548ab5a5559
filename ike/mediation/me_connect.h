// The ME_CONNECT exchange's content (draft-brunner-ikev2-mediation-00, ME_CONNECT exchange; payload
// order and the checks on it as strongSwan 5.9.8 applies them). ME_CONNECT runs inside the
// mediation IKE SA, so these payloads travel encrypted; the exchange layer does the SK part.
//
//   peer -> server   IDp(target)    N(ME_CONNECTID) N(ME_CONNECTKEY) N(ME_CALLBACK)|N(ME_RESPONSE)
//   N(ME_ENDPOINT)+ server -> peer   IDp(requester) N(ME_CALLBACK) | [N(ME_RESPONSE)] N(ME_CONNECTID)
//   N(ME_CONNECTKEY) N(ME_ENDPOINT)+ responses        empty, or N(ME_CONNECT_FAILED) (target not online), or
//   N(INVALID_SYNTAX)
//
// The initiator draws a 4-octet CONNECTID; both peers draw their own 16-octet CONNECTKEY, and the
// responder echoes the initiator's CONNECTID with ME_RESPONSE. A server-sent ME_CALLBACK carries
// only IDp: "the peer you asked for is online now, ask again".
#pragma once

#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "common/expected.h"
#include "common/secret_bytes.h"
#include "crypto/random.h"
#include "ike/codec/mediation_payloads.h"
#include "ike/codec/payloads.h"

namespace natgate::ike::mediation {

struct MeConnect {
  IdPeer peer;  // the target (peer -> server) or the requester (server -> peer)
  Bytes connect_id;
  SecretBytes connect_key;  // authenticates that side's connectivity checks
  std::vector<MeEndpoint> endpoints;
  bool response = false;  // ME_RESPONSE: the answer to a forwarded ME_CONNECT
  bool callback = false;  // ME_CALLBACK
};

// A fresh request (connect ID and key drawn from `random`) or the responder's answer to `request`
// (same connect ID, its own key). Peers always ask for a callback, as strongSwan does.
MeConnect make_connect_request(crypto::RandomSource& random, IdPeer target,
                               std::vector<MeEndpoint> endpoints);
MeConnect make_connect_response(crypto::RandomSource& random, const MeConnect& request,
                                std::vector<MeEndpoint> endpoints);
// What the server sends a waiting requester when the peer it asked for registers.
MeConnect make_callback(IdPeer now_online);

std::vector<Payload> payloads_from_peer(const MeConnect& m);
std::vector<Payload> payloads_from_server(const MeConnect& m);

enum class MeConnectError : std::uint8_t {
  MissingIdPeer,
  MissingConnectId,
  MissingConnectKey,
  NoEndpoints,
  BadNotifyLength,  // an ME notify with a length strongSwan rejects: the whole message is invalid
};
const char* to_string(MeConnectError error);

struct MeConnectCounters {
  std::uint64_t bad_endpoints = 0;  // ME_ENDPOINT notifies that did not decode (skipped, as strongSwan does)
  std::uint64_t extra_endpoints = 0;  // beyond kMaxCandidates (skipped)
};

// Who reads it: the server insists on every field (strongSwan answers INVALID_SYNTAX); a peer
// accepts a bare callback (IDp and ME_CALLBACK).
enum class Reader : std::uint8_t { Server, Peer };
Expected<MeConnect, MeConnectError> parse_me_connect(const std::vector<Payload>& payloads, Reader reader,
                                                     MeConnectCounters& counters);

}  // namespace natgate::ike::mediation
