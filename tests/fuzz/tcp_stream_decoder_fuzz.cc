// Fuzzing the RFC 9329 stream decoder (natt/tcp_stream_decoder). Input: one control byte, then the
// byte stream. The control byte picks the role (bit 0), the configured maximum (bits 1-2) and the
// chunking (bits 3-7: the read sizes' seed). The stream is decoded twice — in one read and in
// chunks — and the two must agree frame for frame; the decoder must stay within one frame of
// buffering, stay closed once closed, and every frame it yields must re-encode to the same length.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/bytes.h"
#include "natt/tcp_encap.h"
#include "natt/tcp_stream_decoder.h"

namespace {

using namespace natgate;
using namespace natgate::natt::tcp;

struct Seen {
  DecodeStatus status;
  FrameKind kind;
  Bytes payload;
  std::uint32_t spi;
  DecodeError error;
  bool operator==(const Seen&) const = default;
};

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void drain(StreamDecoder& d, ByteView chunk, std::vector<Seen>& out) {
  for (;;) {
    const std::size_t before = chunk.size();
    const Decoded r = d.next(chunk);
    check(chunk.size() <= before);
    check(d.buffered() <= d.max_frame_bytes());
    if (r.status == DecodeStatus::NeedMore) {
      check(chunk.empty());
      return;
    }
    if (r.status == DecodeStatus::Frame) {
      if (r.frame.kind == FrameKind::Ike) check(frame_size(FrameKind::Ike, r.frame.payload.size()) != 0);
      if (r.frame.kind == FrameKind::Esp) {
        check(r.frame.spi != 0);
        check(frame_size(FrameKind::Esp, r.frame.payload.size()) != 0);
      }
      if (r.frame.kind == FrameKind::Keepalive) check(r.frame.payload.empty());
    }
    if (r.status == DecodeStatus::Dropped) check(!must_close(r.error));
    out.push_back({r.status, r.frame.kind, Bytes(r.frame.payload.begin(), r.frame.payload.end()), r.frame.spi,
                   r.error});
    if (r.status == DecodeStatus::Closed) {
      check(must_close(r.error) && d.closed());
      ByteView again = chunk;
      check(d.next(again).status == DecodeStatus::Closed && again.size() == chunk.size());
      return;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t control = data[0];
  const ByteView stream(data + 1, size - 1);
  const StreamRole role = (control & 1) ? StreamRole::Originator : StreamRole::Responder;
  static constexpr std::size_t kMaxima[] = {kMaxFrameBytes, 1500, 100, 34};
  const std::size_t max = kMaxima[(control >> 1) & 3];

  std::vector<Seen> whole, chunked;
  StreamDecoder a(role, max);
  drain(a, stream, whole);

  StreamDecoder b(role, max);
  std::uint32_t x = control >> 3;
  std::size_t at = 0;
  while (at < stream.size() && !b.closed()) {
    x = x * 1103515245u + 12345u;  // small LCG: the chunk sizes only need to vary
    const std::size_t n = std::min<std::size_t>(stream.size() - at, 1 + (x >> 16) % 64);
    drain(b, stream.subspan(at, n), chunked);
    at += n;
  }
  check(whole == chunked);
  check(a.closed() == b.closed() && a.close_reason() == b.close_reason());
  return 0;
}
