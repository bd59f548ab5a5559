// Guest-test helper: an AF_PACKET socket on one interface that records what crossed it, so a
// test can say what was on the wire without trusting the code under test: ESP-in-UDP
// datagrams (RFC 3948 §2.1) with their outer ports and SPI, IKE (non-ESP marker), and any
// cleartext packet between the protected subnets.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/ip_address.h"
#include "sys/unique_fd.h"

namespace natgate::xfrm::guest {

struct EspInUdp {
  IpAddress src;
  std::uint16_t sport = 0;
  IpAddress dst;
  std::uint16_t dport = 0;
  std::uint32_t spi = 0;
};

class WireWitness {
 public:
  // Opens the capture in the thread's current namespace; `inner` are the protected subnets.
  WireWitness(const std::string& interface, std::vector<Subnet> inner);
  WireWitness(const WireWitness&) = delete;
  WireWitness& operator=(const WireWitness&) = delete;
  ~WireWitness();

  // Reads everything captured so far (non-blocking, bounded).
  void collect();
  const std::vector<EspInUdp>& esp() const { return esp_; }
  int cleartext() const { return cleartext_; }
  // ESP-in-UDP datagrams with this SPI and these outer ports.
  int count(std::uint32_t spi, std::uint16_t sport, std::uint16_t dport) const;
  void clear();

 private:
  void classify(const std::uint8_t* frame, std::size_t len);
  sys::UniqueFd fd_;
  std::vector<Subnet> inner_;
  std::vector<EspInUdp> esp_;
  int cleartext_ = 0;
};

}  // namespace natgate::xfrm::guest
