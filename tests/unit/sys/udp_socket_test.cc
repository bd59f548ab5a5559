// sys/udp_socket and sys/udp_cmsg over loopback: the local address each datagram reports, the
// source address chosen per send on a wildcard-bound socket, and a UDP GSO train cut by the kernel.
#include "sys/udp_socket.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <array>
#include <string>

#include "sys/udp_cmsg.h"

namespace natgate::sys {
namespace {

IpAddress ip(const std::string& text) { return *IpAddress::parse(text); }

// Waits (at most 2 s) for a datagram and receives it.
ReceiveStatus receive(const BoundUdpSocket& s, MutableByteView buffer, UdpDatagram& out) {
  pollfd p{s.fd.get(), POLLIN, 0};
  if (::poll(&p, 1, 2000) != 1) return ReceiveStatus::Empty;
  return receive_datagram(s.fd.get(), buffer, s.local, out);
}

Bytes text_bytes(const std::string& text) { return Bytes(text.begin(), text.end()); }

TEST(UdpSocket, BindsAndReportsThePortTheKernelPicked) {
  auto s = open_udp_socket(Endpoint{ip("127.0.0.1"), 0}, {.nonblocking = true});
  ASSERT_TRUE(s) << s.error();
  EXPECT_NE(s->local.port, 0);
  EXPECT_EQ(s->local.address, ip("127.0.0.1"));
  std::array<std::uint8_t, 64> buffer{};
  UdpDatagram d;
  EXPECT_EQ(receive_datagram(s->fd.get(), buffer, s->local, d), ReceiveStatus::Empty);
}

TEST(UdpSocket, BindErrorNamesTheStepTheEndpointAndTheReason) {
  auto s = open_udp_socket(Endpoint{ip("192.0.2.1"), 0});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), "cannot bind UDP 192.0.2.1:0: Cannot assign requested address");
}

TEST(UdpSocket, WildcardSocketLearnsTheLocalAddressAndRepliesFromIt) {
  // 127.0.0.0/8 is all on loopback: the server, bound to 0.0.0.0, sees which one was used.
  auto server = open_udp_socket(Endpoint{IpAddress::any(IpFamily::V4), 0}, {.nonblocking = true});
  ASSERT_TRUE(server) << server.error();
  auto client = open_udp_socket(Endpoint{ip("127.0.0.1"), 0}, {.nonblocking = true});
  ASSERT_TRUE(client) << client.error();
  const Endpoint to{ip("127.0.0.7"), server->local.port};
  ASSERT_EQ(send_datagram(client->fd.get(), text_bytes("ping"), to, IpAddress::any(IpFamily::V4), 0), 0);

  std::array<std::uint8_t, 64> buffer{};
  UdpDatagram in;
  ASSERT_EQ(receive(*server, buffer, in), ReceiveStatus::Received);
  EXPECT_EQ(in.local, to);
  EXPECT_EQ(in.remote, client->local);
  EXPECT_EQ(std::string(in.payload.begin(), in.payload.end()), "ping");

  // The reply names 127.0.0.7 as its source (IP_PKTINFO on send): the client sees it from there.
  ASSERT_EQ(send_datagram(server->fd.get(), text_bytes("pong"), in.remote, in.local.address, 0), 0);
  UdpDatagram reply;
  ASSERT_EQ(receive(*client, buffer, reply), ReceiveStatus::Received);
  EXPECT_EQ(reply.remote, to);
  EXPECT_EQ(reply.local, client->local);
  EXPECT_EQ(std::string(reply.payload.begin(), reply.payload.end()), "pong");
}

TEST(UdpSocket, OversizedDatagramIsReportedTruncated) {
  auto server = open_udp_socket(Endpoint{ip("127.0.0.1"), 0}, {.nonblocking = true});
  ASSERT_TRUE(server) << server.error();
  ASSERT_EQ(send_datagram(server->fd.get(), Bytes(100, 0xab), server->local, IpAddress::any(IpFamily::V4), 0),
            0);
  std::array<std::uint8_t, 10> small{};
  UdpDatagram d;
  EXPECT_EQ(receive(*server, small, d), ReceiveStatus::Truncated);
}

TEST(UdpCmsg, GsoTrainArrivesAsSeparateDatagramsOfTheSegmentSize) {
  auto server = open_udp_socket(Endpoint{ip("127.0.0.1"), 0}, {.nonblocking = true});
  auto client = open_udp_socket(Endpoint{ip("127.0.0.1"), 0});
  ASSERT_TRUE(server && client);
  if (!udp_gso_supported(client->fd.get())) GTEST_SKIP() << "no UDP GSO in this kernel";
  // One sendmsg with UDP_SEGMENT 100 and 250 bytes: datagrams of 100, 100 and 50 bytes.
  Bytes payload(250);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>(i);
  sockaddr_storage dest{};
  iovec iov{payload.data(), payload.size()};
  msghdr msg{};
  msg.msg_name = &dest;
  msg.msg_namelen = server->local.to_sockaddr(dest);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) std::uint8_t control[kSegmentSizeSpace + kLocalAddressSpace] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  std::size_t used = put_local_address(CMSG_FIRSTHDR(&msg), ip("127.0.0.1"));
  used += put_segment_size(CMSG_NXTHDR(&msg, CMSG_FIRSTHDR(&msg)), 100);
  msg.msg_controllen = used;
  ASSERT_EQ(::sendmsg(client->fd.get(), &msg, 0), 250) << std::strerror(errno);

  std::array<std::uint8_t, 512> buffer{};
  for (std::size_t expected : {100u, 100u, 50u}) {
    UdpDatagram d;
    ASSERT_EQ(receive(*server, buffer, d), ReceiveStatus::Received);
    EXPECT_EQ(d.payload.size(), expected);
    EXPECT_EQ(d.remote, client->local);
  }
}

TEST(UdpCmsg, GroReportsTheSegmentSizeOfACoalescedTrain) {
  auto server = open_udp_socket(Endpoint{ip("127.0.0.1"), 0}, {.nonblocking = true});
  auto client = open_udp_socket(Endpoint{ip("127.0.0.1"), 0});
  ASSERT_TRUE(server && client);
  if (!enable_udp_gro(server->fd.get()) || !udp_gso_supported(client->fd.get()))
    GTEST_SKIP() << "no UDP GRO/GSO in this kernel";
  Bytes payload(300, 0x5a);
  sockaddr_storage dest{};
  iovec iov{payload.data(), payload.size()};
  msghdr msg{};
  msg.msg_name = &dest;
  msg.msg_namelen = server->local.to_sockaddr(dest);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) std::uint8_t control[kSegmentSizeSpace] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  msg.msg_controllen = put_segment_size(CMSG_FIRSTHDR(&msg), 100);
  ASSERT_EQ(::sendmsg(client->fd.get(), &msg, 0), 300) << std::strerror(errno);

  // Over loopback a GSO train reaches a GRO socket whole: one message, segment size 100.
  pollfd p{server->fd.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 2000), 1);
  std::array<std::uint8_t, 1024> buffer{};
  iovec riov{buffer.data(), buffer.size()};
  alignas(cmsghdr) std::uint8_t rcontrol[kGroSegmentSpace + kLocalAddressSpace] = {};
  msghdr r{};
  r.msg_iov = &riov;
  r.msg_iovlen = 1;
  r.msg_control = rcontrol;
  r.msg_controllen = sizeof rcontrol;
  ASSERT_EQ(::recvmsg(server->fd.get(), &r, 0), 300);
  EXPECT_EQ(read_gro_segment_size(r), 100u);
  IpAddress local;
  ASSERT_TRUE(read_local_address(r, local));
  EXPECT_EQ(local, ip("127.0.0.1"));
}

}  // namespace
}  // namespace natgate::sys
