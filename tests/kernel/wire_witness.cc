#include "wire_witness.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace natgate::xfrm::guest {

WireWitness::WireWitness(const std::string& interface, std::vector<Subnet> inner) : inner_(std::move(inner)) {
  fd_.reset(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL)));
  const unsigned index = ::if_nametoindex(interface.c_str());
  if (!fd_.valid() || index == 0)
    throw std::runtime_error("cannot capture on " + interface + ": " + std::strerror(errno));
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = static_cast<int>(index);
  if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) != 0) {
    throw std::runtime_error("cannot bind the capture to " + interface + ": " + std::strerror(errno));
  }
}

WireWitness::~WireWitness() = default;

void WireWitness::collect() {
  std::uint8_t frame[2048];
  for (int i = 0; i < 100000; ++i) {
    ssize_t n = ::recv(fd_.get(), frame, sizeof(frame), 0);
    if (n < 0) break;
    classify(frame, static_cast<std::size_t>(n));
  }
}

void WireWitness::clear() {
  collect();
  esp_.clear();
  cleartext_ = 0;
}

int WireWitness::count(std::uint32_t spi, std::uint16_t sport, std::uint16_t dport) const {
  int n = 0;
  for (const EspInUdp& e : esp_) {
    if (e.spi == spi && e.sport == sport && e.dport == dport) ++n;
  }
  return n;
}

void WireWitness::classify(const std::uint8_t* frame, std::size_t len) {
  constexpr std::size_t kEth = 14;
  if (len < kEth + 20) return;
  if (frame[12] != 0x08 || frame[13] != 0x00) return;  // IPv4 only
  const std::uint8_t* ip = frame + kEth;
  const std::size_t ihl = std::size_t{ip[0] & 0x0fu} * 4;
  if ((ip[0] >> 4) != 4 || ihl < 20 || len < kEth + ihl) return;
  const IpAddress src = IpAddress::from_bytes(IpFamily::V4, ByteView(ip + 12, 4));
  const IpAddress dst = IpAddress::from_bytes(IpFamily::V4, ByteView(ip + 16, 4));
  for (const Subnet& s : inner_) {
    if (s.contains(src) || s.contains(dst)) {
      ++cleartext_;  // a protected address in an outer header: not tunnelled
      return;
    }
  }
  if (ip[9] != IPPROTO_UDP || len < kEth + ihl + 8) return;
  const std::uint8_t* udp = ip + ihl;
  const std::uint16_t sport = static_cast<std::uint16_t>(udp[0] << 8 | udp[1]);
  const std::uint16_t dport = static_cast<std::uint16_t>(udp[2] << 8 | udp[3]);
  const std::uint8_t* payload = udp + 8;
  const std::size_t payload_len = len - kEth - ihl - 8;
  // RFC 3948 §2.2: a zero first word is the non-ESP marker (IKE); a lone 0xff a keepalive.
  if (payload_len < 8) return;
  const std::uint32_t spi =
      static_cast<std::uint32_t>(payload[0]) << 24 | payload[1] << 16 | payload[2] << 8 | payload[3];
  if (spi == 0) return;
  esp_.push_back(EspInUdp{src, sport, dst, dport, spi});
}

}  // namespace natgate::xfrm::guest
