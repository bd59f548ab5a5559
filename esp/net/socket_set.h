// The engine's outer sockets (UDP NAT-T per listen address, raw ESP per family) and the choice
// of which one carries an SA's packets.
#pragma once

#include <memory>
#include <vector>

#include "esp/net/outer_socket.h"
#include "esp/net/send_batch.h"
#include "esp/sa/sa_state.h"

namespace natgate::esp {

class SocketSet {
 public:
  void add(std::unique_ptr<OuterSocket> s) { sockets_.push_back(std::move(s)); }
  const std::vector<std::unique_ptr<OuterSocket>>& all() const { return sockets_; }

  // UDP socket for sending from `local` (its address may be unspecified) to a peer of `family`:
  // one bound to exactly that address, else one bound to the wildcard of the family, else (only
  // when no source is asked for) any socket of the family.
  OuterSocket* udp_for(const IpAddress& local, IpFamily family) const;
  OuterSocket* raw_for(IpFamily family) const;
  // Socket and addresses for an SA's path; socket null when none fits.
  Destination destination_for(const OuterPath& path) const;

 private:
  std::vector<std::unique_ptr<OuterSocket>> sockets_;
};

}  // namespace natgate::esp
