#include "xfrm/netlink_message.h"

#include <netlink/attr.h>
#include <openssl/crypto.h>

#include <cstring>

namespace natgate::xfrm {

namespace {
constexpr std::size_t kMessageBytes = 8192;
}

Expected<NetlinkMessage> NetlinkMessage::create(std::uint16_t type, int flags) {
  nl_msg* msg = nlmsg_alloc_size(kMessageBytes);
  if (msg == nullptr) return unexpected(std::string("netlink: out of memory for a request"));
  if (nlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, type, 0, NLM_F_REQUEST | flags) == nullptr) {
    nlmsg_free(msg);
    return unexpected(std::string("netlink: cannot put a message header"));
  }
  return NetlinkMessage(msg);
}

NetlinkMessage& NetlinkMessage::operator=(NetlinkMessage&& other) noexcept {
  if (this != &other) {
    release();
    msg_ = other.msg_;
    other.msg_ = nullptr;
  }
  return *this;
}

NetlinkMessage::~NetlinkMessage() { release(); }

void NetlinkMessage::release() {
  if (msg_ == nullptr) return;
  // libnl never reallocates an nl_msg, so this buffer is the only copy of what we put in it.
  OPENSSL_cleanse(nlmsg_hdr(msg_), nlmsg_get_max_size(msg_));
  nlmsg_free(msg_);
  msg_ = nullptr;
}

void* NetlinkMessage::reserve_header(std::size_t len) {
  void* p = nlmsg_reserve(msg_, len, NLMSG_ALIGNTO);
  if (p != nullptr) std::memset(p, 0, len);
  return p;
}

void* NetlinkMessage::reserve_attribute(int type, std::size_t len) {
  nlattr* attr = nla_reserve(msg_, type, static_cast<int>(len));
  if (attr == nullptr) return nullptr;
  void* p = nla_data(attr);
  std::memset(p, 0, len);
  return p;
}

Status NetlinkMessage::put_attribute(int type, const void* data, std::size_t len) {
  if (nla_put(msg_, type, static_cast<int>(len), data) < 0) {
    return unexpected(std::string("netlink: request too large for attribute ") + std::to_string(type));
  }
  return {};
}

}  // namespace natgate::xfrm
