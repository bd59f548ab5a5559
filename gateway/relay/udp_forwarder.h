// The forwarding relay's data path (daemon.relay_forward; docs/design.md, "Mediation: forwarding
// relay"): one UDP socket per allocation side, read and written on a thread of its own, never on
// the IKE event loop. Datagrams pass unchanged between the two sides of an allocation
// (AllocationTable decides where each goes); the relay neither decrypts nor encrypts.
//
// Why hand-written rather than asio async reads: speed. Relayed traffic is the whole tunnel's
// traffic; the forwarder reads many datagrams per system call (recvmmsg, with UDP GRO trains of
// same-sized datagrams coalesced by the kernel) and writes them with sendmmsg and UDP GSO
// (esp/net/recv_batch.h, esp/net/send_batch.h, the ESP engine's own batching), so a 1400-byte
// datagram costs a memcpy and a table lookup, not a wake-up and two system calls.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/expected.h"
#include "common/ip_address.h"
#include "gateway/config/config.h"
#include "gateway/relay/allocation_table.h"
#include "sys/unique_fd.h"

namespace natgate::esp {
class OuterSocket;
}

namespace natgate::gateway::relay {

class UdpForwarder {
 public:
  // Opens a socket on `bind_address`:port for both sides of every configured allocation and
  // starts the thread.
  static Expected<std::unique_ptr<UdpForwarder>> start(const RelayForwardConfig& config,
                                                       const IpAddress& bind_address);
  ~UdpForwarder();  // stops and joins the thread
  UdpForwarder(const UdpForwarder&) = delete;
  UdpForwarder& operator=(const UdpForwarder&) = delete;

  // relay_fwd_* totals and relay_alloc_NAME_{a,b}_* per allocation side, for `natgate status
  // --json` (.daemon.counters) and the metrics.
  std::map<std::string, std::uint64_t> counters() const;

 private:
  struct Port {
    std::unique_ptr<esp::OuterSocket> socket;
    std::uint32_t allocation = 0;
    Side side = Side::A;
    Port* peer_port = nullptr;  // the other side's socket of the same allocation
  };

  UdpForwarder(const RelayForwardConfig& config);
  void run();
  void drain(Port& port);

  mutable std::mutex mutex_;  // guards table_ and the totals (taken once per received batch)
  AllocationTable table_;
  std::vector<std::unique_ptr<Port>> ports_;
  sys::UniqueFd stop_fd_;  // eventfd: the destructor wakes the thread
  std::atomic<bool> stop_{false};
  std::uint64_t send_errors_ = 0;
  std::uint64_t datagrams_sent_ = 0;
  std::uint64_t send_messages_ = 0;  // sendmmsg entries (a GSO train is one)
  std::uint64_t recv_messages_ = 0;  // recvmmsg entries (a GRO train is one)
  std::thread thread_;
};

}  // namespace natgate::gateway::relay
