// Writes the seed corpus for tcp_stream_decoder_fuzz: a control byte, then RFC 9329 streams —
// prefix and frames of every kind, split points, and the stream errors the decoder must catch.
// Usage: tcp_stream_seed_corpus <dir>
#include <vector>

#include "common/bytes.h"
#include "natt/tcp_encap.h"
#include "seed_files.h"

int main(int argc, char** argv) {
  using namespace natgate;
  using namespace natgate::natt::tcp;
  const auto dir = fuzz_seeds::seed_corpus_dir(argc, argv);
  if (!dir) return 2;

  const Bytes ike = hex_bytes("0102030405060708 0000000000000000 21 20 22 08 00000000 0000001c");
  const Bytes esp = hex_bytes("c0010203 00000001 aabbccddeeff0011");
  const Bytes prefix(kStreamPrefix.begin(), kStreamPrefix.end());

  auto seed = [](std::uint8_t control, std::initializer_list<ByteView> parts) {
    Bytes s{control};
    for (ByteView p : parts) append(s, p);
    return s;
  };
  std::vector<Bytes> seeds;
  // Responder (bit 0 clear) reading the prefix, then IKE, ESP, keepalive; with varied chunking.
  for (std::uint8_t control : {0x00, 0x28, 0xf8})
    seeds.push_back(seed(control, {prefix, ike_frame(ike), esp_frame(esp), kKeepaliveFrame}));
  // Originator (bit 0 set): frames straight away.
  seeds.push_back(seed(0x01, {esp_frame(esp), ike_frame(ike), esp_frame(esp)}));
  // Short bodies that are dropped, then a good frame.
  seeds.push_back(seed(0x01, {hex_bytes("0003 00 0006 c0010203 0006 00000000"), esp_frame(esp)}));
  // Stream errors: wrong prefix, Length < 3, Length above a 100-byte maximum (bits 1-2 = 2).
  seeds.push_back(seed(0x00, {as_bytes("IKETCQ"), esp_frame(esp)}));
  seeds.push_back(seed(0x01, {hex_bytes("0002 ffff")}));
  seeds.push_back(seed(0x05, {hex_bytes("0400"), Bytes(100, 0x42)}));
  return fuzz_seeds::write_seed_files(*dir, seeds, "tcp");
}
