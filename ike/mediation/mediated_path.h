// Which path a mediated connection's traffic takes, and why (issue 14; docs/design.md,
// "Mediation: relay fallback"). Sans-I/O: the endpoint reports what happened to the mediation
// attempt (the checks' nomination, the server's refusal), and this decides the path, the reason
// `natgate status` shows, and whether the configured relay connection is to be brought up.
//
//  - checking: our ME_CONNECT is out or the connectivity checks run.
//  - direct: the checks nominated a candidate pair; the mediated IKE SA uses it.
//  - relayed: no direct path (checks failed, no pairs, ME_CONNECT_FAILED) and the connection
//    names a relay (`mediation.relay`): that connection, to the mediation server or a hub that
//    forwards SA to SA in its engine, carries the peer's subnets.
//  - none: no direct path and no relay configured; nothing carries the traffic.
// The fallback is never silent: every move is a reason string in the log and the status.
#pragma once

#include <cstdint>
#include <string>

namespace natgate::ike::mediation {

enum class PathKind : std::uint8_t { Checking, Direct, Relayed, None };
const char* to_string(PathKind kind);

// Why a mediation attempt found no direct path.
enum class NoDirect : std::uint8_t {
  ChecksFailed,   // every candidate pair failed (or timed out)
  NoPairs,        // no candidate pair could be formed
  ConnectFailed,  // the server answered ME_CONNECT_FAILED: the peer is not registered
};
const char* to_string(NoDirect why);

struct MediatedPath {
  PathKind kind = PathKind::Checking;
  std::string reason;        // for people: the winning pair, or why none won and what carries it
  bool start_relay = false;  // the relay connection is to be initiated now
  friend bool operator==(const MediatedPath&, const MediatedPath&) = default;
};

// Our ME_CONNECT is out to `peer` (its checks follow).
MediatedPath checking(const std::string& peer);
// The checks nominated a pair; `pair` describes it ("pair 1 10.0.0.2:4500 - 198.51.100.7:4500 ...").
MediatedPath direct(const std::string& pair);
// No direct path: `detail` is what the checks or the server said; `relay` the relay connection
// (empty: none configured); `relay_up` whether it already has an IKE SA (then it is not started
// again).
MediatedPath no_direct(NoDirect why, const std::string& detail, const std::string& relay, bool relay_up);

}  // namespace natgate::ike::mediation
