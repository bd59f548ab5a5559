#include "ike/mediation/mediated_path.h"

namespace natgate::ike::mediation {

const char* to_string(PathKind kind) {
  switch (kind) {
    case PathKind::Checking:
      return "checking";
    case PathKind::Direct:
      return "direct";
    case PathKind::Relayed:
      return "relayed";
    case PathKind::None:
      return "none";
  }
  return "none";
}

const char* to_string(NoDirect why) {
  switch (why) {
    case NoDirect::ChecksFailed:
      return "connectivity checks failed";
    case NoDirect::NoPairs:
      return "no candidate pairs";
    case NoDirect::ConnectFailed:
      return "ME_CONNECT_FAILED";
  }
  return "no direct path";
}

MediatedPath checking(const std::string& peer) {
  return {PathKind::Checking, "ME_CONNECT to " + peer + ", connectivity checks pending", false};
}

MediatedPath direct(const std::string& pair) { return {PathKind::Direct, "candidate " + pair, false}; }

MediatedPath no_direct(NoDirect why, const std::string& detail, const std::string& relay, bool relay_up) {
  std::string reason = to_string(why);
  if (!detail.empty()) reason += " (" + detail + ")";
  if (relay.empty()) return {PathKind::None, reason + "; no relay configured (mediation.relay)", false};
  return {PathKind::Relayed, reason + "; relayed through connection " + relay, !relay_up};
}

}  // namespace natgate::ike::mediation
