// An independent reader of our bytes: Wireshark's ISAKMP dissector (tshark) must see well-formed
// IKEv2 with the payloads we meant to send. The message goes into a one-packet pcap as UDP/500.
// tshark is a hard dependency of this test (tools/install-deps.sh installs it): missing = failure.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <regex>
#include <string>

#include "ike/codec/message_codec.h"
#include "sample_messages.h"

namespace natgate::ike {
namespace {

void le32(Bytes& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void le16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v));
  b.push_back(static_cast<std::uint8_t>(v >> 8));
}
void be16(Bytes& b, std::size_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}

// A classic pcap (LINKTYPE_RAW: packets start at the IPv4 header) holding one UDP datagram
// 192.0.2.1:500 -> 192.0.2.2:500 carrying `ike`.
Bytes pcap_with_udp500(ByteView ike) {
  Bytes ip;
  std::size_t total = 20 + 8 + ike.size();
  ip.insert(ip.end(), {0x45, 0x00});
  be16(ip, total);
  ip.insert(ip.end(), {0x00, 0x01, 0x40, 0x00, 64, 17, 0x00, 0x00, 192, 0, 2, 1, 192, 0, 2, 2});
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < 20; i += 2) sum += (std::uint32_t{ip[i]} << 8) | ip[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  ip[10] = static_cast<std::uint8_t>(~sum >> 8);
  ip[11] = static_cast<std::uint8_t>(~sum);
  be16(ip, 500);
  be16(ip, 500);
  be16(ip, 8 + ike.size());
  be16(ip, 0);  // no UDP checksum (allowed over IPv4)
  append(ip, ike);

  Bytes pcap;
  le32(pcap, 0xa1b2c3d4);
  le16(pcap, 2);
  le16(pcap, 4);
  le32(pcap, 0);
  le32(pcap, 0);
  le32(pcap, 65535);
  le32(pcap, 101);  // LINKTYPE_RAW
  le32(pcap, 1700000000);
  le32(pcap, 0);
  le32(pcap, static_cast<std::uint32_t>(ip.size()));
  le32(pcap, static_cast<std::uint32_t>(ip.size()));
  append(pcap, ip);
  return pcap;
}

// A temporary file removed when the test ends, pass or fail.
class TempFile {
 public:
  TempFile() {
    char name[] = "/tmp/natgate-codec-XXXXXX.pcap";
    int fd = mkstemps(name, 5);
    if (fd >= 0) {
      close(fd);
      path_ = name;
    }
  }
  ~TempFile() {
    if (!path_.empty()) std::remove(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct PipeCloser {
  void operator()(FILE* f) const { pclose(f); }
};

// tshark's verbose dissection of `ike` sent to UDP port 500.
std::string dissect(ByteView ike) {
  TempFile file;
  EXPECT_FALSE(file.path().empty());
  {
    std::ofstream out(file.path(), std::ios::binary);
    Bytes pcap = pcap_with_udp500(ike);
    out.write(reinterpret_cast<const char*>(pcap.data()), static_cast<std::streamsize>(pcap.size()));
  }
  std::string cmd = "tshark -n -r " + file.path() + " -V -d udp.port==500,isakmp 2>/dev/null";
  std::unique_ptr<FILE, PipeCloser> pipe(popen(cmd.c_str(), "r"));
  EXPECT_TRUE(pipe) << "cannot run tshark";
  std::string text;
  if (!pipe) return text;
  std::array<char, 4096> buf;
  while (std::size_t n = fread(buf.data(), 1, buf.size(), pipe.get())) text.append(buf.data(), n);
  return text;
}

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

// The ISAKMP dissector flags structural problems as "Malformed Packet" or Error/Malformed expert info.
// (Content warnings such as the BER check of our filler certificate are Warning/Malformed: allowed.)
void expect_no_malformation(const std::string& out) {
  EXPECT_EQ(out.find("Malformed Packet"), std::string::npos) << out;
  EXPECT_EQ(out.find("Error/Malformed"), std::string::npos) << out;
}

TEST(TsharkDissection, IkeSaInitRequestDissectsAsIkev2) {
  Message m = testing::ike_sa_init_request();
  std::string out = dissect(encode_message(m));
  ASSERT_NE(out.find("Internet Security Association and Key Management Protocol"), std::string::npos)
      << "tshark missing or did not dissect ISAKMP:\n"
      << out;
  EXPECT_NE(out.find("Version: 2.0"), std::string::npos) << out;
  EXPECT_NE(out.find("Exchange type: IKE_SA_INIT (34)"), std::string::npos) << out;
  EXPECT_NE(out.find("Initiator SPI: 0123456789abcdef"), std::string::npos) << out;
  EXPECT_NE(out.find("Length: " + std::to_string(encode_message(m).size())), std::string::npos) << out;
  EXPECT_EQ(count(out, "Payload: Security Association (33)"), 1u) << out;
  EXPECT_EQ(count(out, "Payload: Proposal (2)"), 2u) << out;
  EXPECT_EQ(count(out, "Payload: Transform (3)"), 7u) << out;
  EXPECT_EQ(count(out, "Transform Attribute (t=14,l=2): Key Length: 256"), 1u) << out;
  EXPECT_EQ(count(out, "Transform Attribute (t=14,l=2): Key Length: 128"), 1u) << out;
  EXPECT_EQ(count(out, "Payload: Key Exchange (34)"), 1u) << out;
  EXPECT_EQ(count(out, "Payload: Nonce (40)"), 1u) << out;
  EXPECT_EQ(count(out, "Payload: Notify (41)"), 4u) << out;
  EXPECT_EQ(count(out, "Payload: Vendor ID (43)"), 1u) << out;
  EXPECT_NE(out.find("NAT_DETECTION_SOURCE_IP (16388)"), std::string::npos) << out;
  EXPECT_NE(out.find("NAT_DETECTION_DESTINATION_IP (16389)"), std::string::npos) << out;
  EXPECT_NE(out.find("IKEV2_FRAGMENTATION_SUPPORTED (16430)"), std::string::npos) << out;
  expect_no_malformation(out);
}

TEST(TsharkDissection, EveryPayloadTypeDissectsWithoutComplaint) {
  Message m = testing::every_payload_type();
  // The inner chain as plain payloads of one message, plus SK at the end: tshark walks them all.
  std::string out = dissect(encode_message(m));
  ASSERT_NE(out.find("Internet Security Association and Key Management Protocol"), std::string::npos) << out;
  expect_no_malformation(out);
  EXPECT_EQ(count(out, "Payload: Identification - Initiator (35)"), 1u) << out;
  EXPECT_EQ(count(out, "Payload: Identification - Responder (36)"), 1u) << out;
  EXPECT_EQ(count(out, "Payload: Certificate (37)"), 1u) << out;
  EXPECT_EQ(count(out, "Payload: Certificate Request (38)"), 1u) << out;
  EXPECT_EQ(count(out, "Payload: Authentication (39)"), 1u) << out;
  EXPECT_EQ(count(out, "Payload: Delete (42)"), 2u) << out;
  EXPECT_EQ(count(out, "Payload: Traffic Selector - Initiator (44)"), 1u) << out;
  EXPECT_EQ(count(out, "Payload: Traffic Selector - Responder (45)"), 1u) << out;
  EXPECT_EQ(count(out, "Payload: Configuration (47)"), 1u) << out;
  EXPECT_EQ(count(out, "Payload: Extensible Authentication (48)"), 2u) << out;
  EXPECT_EQ(count(out, "Payload: Encrypted and Authenticated (46)"), 1u) << out;
  EXPECT_NE(out.find("Starting Addr: 10.1.0.0"), std::string::npos) << out;
  EXPECT_NE(out.find("Ending Addr: fd00::ffff"), std::string::npos) << out;
  EXPECT_NE(out.find("Start Port: 500"), std::string::npos) << out;
}

TEST(TsharkDissection, FragmentDissectsWithNumbers) {
  std::string out = dissect(encode_message(testing::ike_auth_fragment(2, 3)));
  EXPECT_EQ(count(out, "Payload: Encrypted and Authenticated Fragment (53)"), 1u) << out;
  EXPECT_NE(out.find("Fragment Number: 2"), std::string::npos) << out;
  EXPECT_NE(out.find("Total Fragments: 3"), std::string::npos) << out;
  expect_no_malformation(out);
}

}  // namespace
}  // namespace natgate::ike

namespace natgate::ike {
namespace {

// The checks above can fail: tshark does flag a structurally broken message.
TEST(TsharkDissection, FlagsACorruptedMessage) {
  Bytes wire = encode_message(testing::ike_sa_init_request());
  wire[28 + 2] = 0x0f;  // SA payload length far past the end of the message
  std::string out = dissect(wire);
  ASSERT_NE(out.find("Internet Security Association and Key Management Protocol"), std::string::npos) << out;
  EXPECT_TRUE(out.find("Malformed Packet") != std::string::npos ||
              out.find("Error/Malformed") != std::string::npos)
      << out;
}

}  // namespace
}  // namespace natgate::ike
