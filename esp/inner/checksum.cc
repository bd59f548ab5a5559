#include "esp/inner/checksum.h"

namespace natgate::esp {

bool complete_partial_checksum(std::uint8_t* pkt, std::size_t len, std::size_t start, std::size_t offset) {
  if (start > len || offset + 2 > len - start) return false;
  Checksum c;
  c.add(pkt + start, len - start);
  std::uint16_t v = static_cast<std::uint16_t>(~c.folded());
  // A computed 0 is sent as all ones: for UDP 0 means "no checksum" (RFC 768), and for TCP the
  // two are the same value in ones' complement.
  if (v == 0) v = 0xFFFF;
  std::memcpy(pkt + start + offset, &v, 2);
  return true;
}

}  // namespace natgate::esp
