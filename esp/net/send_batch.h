// Outbound ESP datagrams collected between flushes, sent with one sendmmsg per socket. Runs of
// same-sized datagrams to the same destination go out as one UDP GSO message (UDP_SEGMENT): the
// kernel builds the UDP/IP headers for the whole train at once. Slots are allocated once; a
// packet is written into its slot in place (inner packet, then sealed around it).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "common/ip_address.h"
#include "esp/net/outer_socket.h"

namespace natgate::esp {

// Where one datagram goes: socket, peer, and (optionally) the local source address.
struct Destination {
  OuterSocket* socket = nullptr;
  sockaddr_storage peer{};
  socklen_t peer_len = 0;
  bool has_source = false;
  IpAddress source;

  static Destination make(OuterSocket* socket, const Endpoint& peer, const IpAddress& source);
  bool same_as(const Destination& o) const;
};

class SendBatch {
 public:
  SendBatch(std::size_t slots, std::size_t slot_size);

  std::size_t slot_size() const { return slot_size_; }
  std::size_t size() const { return used_; }
  bool full() const { return used_ == lens_.size(); }
  // The next free slot (slot_size() bytes). Valid until commit() or flush().
  std::uint8_t* slot() { return storage_.data() + used_ * slot_size_; }
  void commit(std::size_t len, const Destination& dest);

  ByteView datagram(std::size_t i) const { return {storage_.data() + i * slot_size_, lens_[i]}; }
  const Destination& destination(std::size_t i) const { return dests_[i]; }

  struct Result {
    std::uint64_t datagrams = 0;  // handed to the kernel
    std::uint64_t messages = 0;   // sendmmsg entries (a GSO train is one)
    std::uint64_t errors = 0;     // datagrams the kernel refused
  };
  // Sends everything and empties the batch.
  Result flush();

 private:
  void send_messages(OuterSocket* socket, std::size_t first_msg, std::size_t count, Result& r);

  std::size_t slot_size_;
  std::vector<std::uint8_t> storage_;
  std::vector<std::size_t> lens_;
  std::vector<Destination> dests_;
  std::size_t used_ = 0;
  // Per-flush scratch, sized once.
  std::vector<mmsghdr> msgs_;
  std::vector<iovec> iovs_;
  std::vector<std::uint8_t> control_;
  std::vector<std::size_t> msg_first_;           // first datagram of each message
  std::vector<std::size_t> msg_count_;           // datagrams in each message
  std::vector<std::size_t> msg_source_control_;  // control bytes of the source address alone
};

}  // namespace natgate::esp
