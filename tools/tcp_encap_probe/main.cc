// tcp_encap_probe: sends and reads RFC 9329 TCP-encapsulation streams with natt/tcp_encap and
// natt/tcp_stream_decoder, for tests that need the frames on a real TCP connection (loopback or
// inside a namespace the test created). Not part of the daemon.
//
//   tcp_encap_probe send HOST PORT [--no-prefix] [--chunk N] FRAME...
//       FRAME: ike:HEX | esp:HEX | keepalive | raw:HEX (bytes as they are, for broken streams).
//       Sends "IKETCP" (§4) unless --no-prefix, then the frames, in writes of at most N bytes.
//   tcp_encap_probe listen PORT [--max N]
//       Accepts one connection on 127.0.0.1:PORT, decodes it as the responder and prints one line
//       per result: "ike HEX", "esp SPI HEX", "keepalive", "dropped NAME" or "closed NAME"; then
//       "eof" when the peer closed. Gives up after 10 s without data.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "natt/tcp_encap.h"
#include "natt/tcp_stream_decoder.h"
#include "sys/unique_fd.h"

namespace {

using namespace natgate;
using namespace natgate::natt::tcp;

// A TCP port from the command line; 0 when it is not a number in 1..65535.
std::uint16_t parse_port(const char* text) {
  char* end = nullptr;
  const unsigned long v = std::strtoul(text, &end, 10);
  if (end == text || *end != '\0' || v == 0 || v > 65535) return 0;
  return static_cast<std::uint16_t>(v);
}

int usage() {
  std::fprintf(stderr,
               "usage: tcp_encap_probe send HOST PORT [--no-prefix] [--chunk N] FRAME...\n"
               "       tcp_encap_probe listen PORT [--max N]\n"
               "FRAME: ike:HEX | esp:HEX | keepalive | raw:HEX\n");
  return 2;
}

bool parse_frame(std::string_view arg, Bytes& stream) {
  auto hex_after = [&](std::string_view tag, Bytes& out) {
    return arg.substr(0, tag.size()) == tag && from_hex(arg.substr(tag.size()), out);
  };
  Bytes payload;
  if (arg == "keepalive") {
    append(stream, kKeepaliveFrame);
    return true;
  }
  if (hex_after("raw:", payload)) {
    append(stream, payload);
    return true;
  }
  if (hex_after("ike:", payload)) {
    const Bytes f = ike_frame(payload);
    append(stream, f);
    return !f.empty();
  }
  if (hex_after("esp:", payload)) {
    const Bytes f = esp_frame(payload);
    append(stream, f);
    return !f.empty();
  }
  return false;
}

int send_stream(int argc, char** argv) {
  if (argc < 5) return usage();
  bool prefix = true;
  std::size_t chunk = 65536;
  Bytes stream;
  for (int i = 4; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--no-prefix") {
      prefix = false;
    } else if (a == "--chunk" && i + 1 < argc) {
      chunk = std::max<std::size_t>(1, std::strtoul(argv[++i], nullptr, 10));
    } else if (!parse_frame(a, stream)) {
      std::fprintf(stderr, "tcp_encap_probe: cannot encode frame '%s'\n", argv[i]);
      return 2;
    }
  }
  if (prefix) stream.insert(stream.begin(), kStreamPrefix.begin(), kStreamPrefix.end());

  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(parse_port(argv[3]));
  if (addr.sin_port == 0 || inet_pton(AF_INET, argv[2], &addr.sin_addr) != 1) return usage();
  sys::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // one segment per write
  if (!fd.valid() || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::perror("tcp_encap_probe: connect");
    return 1;
  }
  for (std::size_t at = 0; at < stream.size();) {
    const std::size_t n = std::min(chunk, stream.size() - at);
    const ssize_t w = ::send(fd.get(), stream.data() + at, n, MSG_NOSIGNAL);
    if (w <= 0) {
      std::perror("tcp_encap_probe: send");
      return 1;
    }
    at += static_cast<std::size_t>(w);
    if (chunk < stream.size()) ::usleep(20000);  // let each chunk leave as its own segment
  }
  return 0;
}

void print(const Decoded& r) {
  switch (r.status) {
    case DecodeStatus::Frame:
      if (r.frame.kind == FrameKind::Ike) std::printf("ike %s\n", to_hex(r.frame.payload).c_str());
      if (r.frame.kind == FrameKind::Esp)
        std::printf("esp %08x %s\n", r.frame.spi, to_hex(r.frame.payload).c_str());
      if (r.frame.kind == FrameKind::Keepalive) std::printf("keepalive\n");
      break;
    case DecodeStatus::Dropped:
      std::printf("dropped %s\n", error_name(r.error));
      break;
    case DecodeStatus::Closed:
      std::printf("closed %s\n", error_name(r.error));
      break;
    case DecodeStatus::NeedMore:
      break;
  }
  std::fflush(stdout);
}

int listen_once(int argc, char** argv) {
  if (argc < 3) return usage();
  std::size_t max = kMaxFrameBytes;
  if (argc == 5 && std::string_view(argv[3]) == "--max") max = std::strtoul(argv[4], nullptr, 10);
  sys::UniqueFd ls(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const int one = 1;
  ::setsockopt(ls.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(parse_port(argv[2]));
  if (addr.sin_port == 0) return usage();
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (!ls.valid() || ::bind(ls.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(ls.get(), 1) != 0) {
    std::perror("tcp_encap_probe: listen");
    return 1;
  }
  std::printf("listening\n");
  std::fflush(stdout);
  pollfd p{ls.get(), POLLIN, 0};
  if (::poll(&p, 1, 10000) != 1) return 1;
  sys::UniqueFd conn(::accept4(ls.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn.valid()) return 1;

  StreamDecoder decoder(StreamRole::Responder, max);
  std::vector<std::uint8_t> buf(4096);
  for (;;) {
    pollfd c{conn.get(), POLLIN, 0};
    if (::poll(&c, 1, 10000) != 1) {
      std::printf("timeout\n");
      return 1;
    }
    const ssize_t n = ::recv(conn.get(), buf.data(), buf.size(), 0);
    if (n <= 0) break;
    ByteView in(buf.data(), static_cast<std::size_t>(n));
    for (;;) {
      const Decoded r = decoder.next(in);
      print(r);
      if (r.status == DecodeStatus::NeedMore) break;
      // §6: a broken stream cannot be resynchronised; the connection is closed.
      if (r.status == DecodeStatus::Closed) return 0;
    }
  }
  std::printf("eof\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == "send") return send_stream(argc, argv);
  if (argc >= 2 && std::string_view(argv[1]) == "listen") return listen_once(argc, argv);
  return usage();
}
