// An outgoing netlink message (libnl nl_msg) that may carry SA keys: its whole buffer is wiped
// before it is freed, so key material never outlives the request in our memory.
#pragma once

#include <netlink/msg.h>

#include <cstddef>
#include <cstdint>

#include "common/expected.h"

namespace natgate::xfrm {

class NetlinkMessage {
 public:
  // A request of `type` with NLM_F_REQUEST | flags and room for every XFRM request natgate
  // builds (the largest is an SA with a 4096-bit ESN bitmap, under 1 KiB).
  static Expected<NetlinkMessage> create(std::uint16_t type, int flags = 0);
  // Takes ownership of a message libnl-xfrm built (policies).
  static NetlinkMessage adopt(nl_msg* msg) { return NetlinkMessage(msg); }

  NetlinkMessage(NetlinkMessage&& other) noexcept : msg_(other.msg_) { other.msg_ = nullptr; }
  NetlinkMessage& operator=(NetlinkMessage&& other) noexcept;
  NetlinkMessage(const NetlinkMessage&) = delete;
  NetlinkMessage& operator=(const NetlinkMessage&) = delete;
  ~NetlinkMessage();

  nl_msg* get() const { return msg_; }
  nlmsghdr* header() const { return nlmsg_hdr(msg_); }

  // Appends the fixed header struct that follows nlmsghdr (xfrm_usersa_info, ...), zeroed,
  // and returns it for the caller to fill in place.
  template <typename T>
  T* append_header() {
    return static_cast<T*>(reserve_header(sizeof(T)));
  }
  // Reserves an attribute of `len` payload bytes, zeroed; nullptr when the buffer is full.
  void* reserve_attribute(int type, std::size_t len);
  Status put_attribute(int type, const void* data, std::size_t len);

 private:
  explicit NetlinkMessage(nl_msg* msg) : msg_(msg) {}
  void* reserve_header(std::size_t len);
  void release();

  nl_msg* msg_ = nullptr;
};

}  // namespace natgate::xfrm
