#include "ike/exchange/config.h"

#include <cmath>

namespace natgate::ike {

Duration RetransmitPolicy::timeout(unsigned attempt) const {
  // Computed in double so that a large attempt number saturates instead of overflowing.
  double ms =
      static_cast<double>(initial_timeout.count()) * std::pow(multiplier, static_cast<double>(attempt));
  double cap = static_cast<double>(max_timeout.count());
  if (!(ms < cap)) ms = cap;  // also catches inf/NaN
  if (ms < 1) ms = 1;
  return Duration(static_cast<Duration::rep>(ms));
}

const char* to_string(ChildMode mode) { return mode == ChildMode::Transport ? "transport" : "tunnel"; }

}  // namespace natgate::ike
