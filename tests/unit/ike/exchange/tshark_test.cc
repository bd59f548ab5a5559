// An independent reader of our exchanges: Wireshark's ISAKMP dissector (tshark). IKE_SA_INIT must
// dissect into the payloads and notifies we meant, and IKE_AUTH, floated to UDP 4500 behind a
// NAT, must decrypt with the keys our key schedule produced (tshark's ikev2_decryption_table)
// into IDi, AUTH, SA, TSi and TSr. tshark is a hard dependency (tools/install-deps.sh).
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "sa_pair.h"

namespace natgate::ike {
namespace {

using namespace natgate::ike::testing;

void put_le32(Bytes& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put_be16(Bytes& b, std::size_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}

// One IPv4/UDP packet (LINKTYPE_RAW) per datagram, with the RFC 3948 non-ESP marker in front of
// IKE on the NAT-T port, as it travels on the wire.
Bytes ip_udp_packet(const Datagram& d) {
  Bytes payload;
  if (d.natt) payload = {0, 0, 0, 0};
  append(payload, d.bytes);
  Bytes ip = {0x45, 0x00};
  put_be16(ip, 20 + 8 + payload.size());
  ip.insert(ip.end(), {0x00, 0x01, 0x40, 0x00, 64, 17, 0x00, 0x00});
  append(ip, d.local.address.bytes());
  append(ip, d.remote.address.bytes());
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < 20; i += 2) sum += (std::uint32_t{ip[i]} << 8) | ip[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  ip[10] = static_cast<std::uint8_t>(~sum >> 8);
  ip[11] = static_cast<std::uint8_t>(~sum);
  put_be16(ip, d.local.port);
  put_be16(ip, d.remote.port);
  put_be16(ip, 8 + payload.size());
  put_be16(ip, 0);  // no UDP checksum over IPv4
  append(ip, payload);
  return ip;
}

Bytes pcap(const std::vector<Datagram>& datagrams) {
  Bytes out;
  put_le32(out, 0xa1b2c3d4);
  out.insert(out.end(), {2, 0, 4, 0});
  put_le32(out, 0);
  put_le32(out, 0);
  put_le32(out, 65535);
  put_le32(out, 101);  // LINKTYPE_RAW
  std::uint32_t t = 1700000000;
  for (const auto& d : datagrams) {
    Bytes pkt = ip_udp_packet(d);
    put_le32(out, t++);
    put_le32(out, 0);
    put_le32(out, static_cast<std::uint32_t>(pkt.size()));
    put_le32(out, static_cast<std::uint32_t>(pkt.size()));
    append(out, pkt);
  }
  return out;
}

class TempPcap {
 public:
  explicit TempPcap(const Bytes& contents) {
    char name[] = "/tmp/natgate-exchange-XXXXXX.pcap";
    int fd = mkstemps(name, 5);
    if (fd < 0) return;
    path_ = name;
    bool ok = ::write(fd, contents.data(), contents.size()) == static_cast<ssize_t>(contents.size());
    ::close(fd);
    if (!ok) path_.clear();
  }
  ~TempPcap() {
    if (!path_.empty()) std::remove(path_.c_str());
  }
  TempPcap(const TempPcap&) = delete;
  TempPcap& operator=(const TempPcap&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string run(const std::string& command) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) return out;
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe.get())) > 0) out.append(buf.data(), n);
  return out;
}

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

TEST(Tshark, DissectsInitAndDecryptsAuthWithOurKeys) {
  SaPair pair;
  pair.nat = [](const Endpoint& e) {
    return endpoint("198.51.100.7", static_cast<std::uint16_t>(e.port == 500 ? 40000 : 40001));
  };
  pair.start_and_run();
  ASSERT_TRUE(pair.both_established());
  ASSERT_EQ(pair.wire.size(), 4u);

  const IkeSaKeys& k = *pair.initiator->key_material_for_testing();
  // spi_i, spi_r, SK_ei, SK_er, encryption, SK_ai, SK_ar, integrity (GCM: keys include the salt).
  // Hex fields go unquoted, names quoted (the UAT's own file syntax).
  const std::string row = pair.initiator->spi_i().to_string() + "," + pair.initiator->spi_r().to_string() +
                          "," + to_hex(k.sk_ei.view()) + "," + to_hex(k.sk_er.view()) +
                          ",\"AES-GCM-256 with 16 octet ICV [RFC5282]\",,,\"NONE [RFC4306]\"";
  std::vector<Datagram> datagrams;
  for (const auto& rec : pair.wire) datagrams.push_back(rec.datagram);
  TempPcap file(pcap(datagrams));
  ASSERT_FALSE(file.path().empty());
  const std::string text =
      run("tshark -n -r " + file.path() + " -o 'uat:ikev2_decryption_table:" + row + "' -V 2>&1");

  // Packet 1: IKE_SA_INIT request.
  EXPECT_TRUE(contains(text, "Exchange type: IKE_SA_INIT (34)")) << text;
  EXPECT_TRUE(contains(text, "Payload: Security Association (33)"));
  EXPECT_TRUE(contains(text, "Payload: Key Exchange (34)"));
  EXPECT_TRUE(contains(text, "Payload: Nonce (40)"));
  EXPECT_TRUE(contains(text, "NAT_DETECTION_SOURCE_IP (16388)"));
  EXPECT_TRUE(contains(text, "NAT_DETECTION_DESTINATION_IP (16389)"));
  EXPECT_TRUE(contains(text, "IKEV2_FRAGMENTATION_SUPPORTED (16430)"));
  EXPECT_TRUE(contains(text, "SIGNATURE_HASH_ALGORITHMS (16431)"));
  EXPECT_TRUE(contains(text, "Curve25519")) << "the KE group";
  // Packets 3-4: IKE_AUTH on 4500 behind the marker, decrypted with our SK_e keys.
  EXPECT_TRUE(contains(text, "Exchange type: IKE_AUTH (35)"));
  EXPECT_TRUE(contains(text, "Decrypted Data")) << "tshark opened SK with our SK_ei/SK_er";
  EXPECT_TRUE(contains(text, "Non-ESP Marker"));
  EXPECT_TRUE(contains(text, "Payload: Identification - Initiator (35)")) << text;
  EXPECT_TRUE(contains(text, "Payload: Identification - Responder (36)"));
  EXPECT_TRUE(contains(text, "Payload: Authentication (39)"));
  EXPECT_TRUE(contains(text, "Payload: Traffic Selector - Initiator (44)"));
  EXPECT_TRUE(contains(text, "Payload: Traffic Selector - Responder (45)"));
  EXPECT_TRUE(contains(text, "moon.lab"));
  EXPECT_TRUE(contains(text, "sun.lab"));
  EXPECT_TRUE(contains(text, "INITIAL_CONTACT (16384)"));
  EXPECT_FALSE(contains(text, "Malformed")) << text;
}

}  // namespace
}  // namespace natgate::ike
