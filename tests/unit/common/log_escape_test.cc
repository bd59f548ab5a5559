#include "common/log_escape.h"

#include <gtest/gtest.h>

namespace natgate {

TEST(LogEscape, PrintableAsciiIsKept) {
  EXPECT_EQ(escape_for_log(std::string_view("carol@example.net 1-2_3 ~!")), "carol@example.net 1-2_3 ~!");
}

TEST(LogEscape, NewlineAndCarriageReturnCannotForgeALogLine) {
  const std::string out = escape_for_log(std::string_view("x\nnatgated[1]: IKE SA established\r"));
  EXPECT_EQ(out, "x\\x0anatgated[1]: IKE SA established\\x0d");
  EXPECT_EQ(out.find('\n'), std::string::npos);
  EXPECT_EQ(out.find('\r'), std::string::npos);
}

TEST(LogEscape, ControlBytesEscAndDelAreEscaped) {
  const std::string in{'\x1b', '[', '2', 'J', '\x00', '\x07', '\x7f', '\x01'};
  EXPECT_EQ(escape_for_log(std::string_view(in)), "\\x1b[2J\\x00\\x07\\x7f\\x01");
}

TEST(LogEscape, BackslashIsDoubledSoEscapesCannotBeFaked) {
  EXPECT_EQ(escape_for_log(std::string_view("DOMAIN\\carol")), "DOMAIN\\\\carol");
  // A peer that sends the text of an escape is told apart from one that sends the byte.
  EXPECT_NE(escape_for_log(std::string_view("\\x0a")), escape_for_log(std::string_view("\n")));
}

TEST(LogEscape, HighBytesOfUtf8AreEscapedOneByOne) {
  EXPECT_EQ(escape_for_log(std::string_view("caf\xc3\xa9")), "caf\\xc3\\xa9");
  EXPECT_EQ(escape_for_log(std::string_view("\x9b")), "\\x9b");  // the 8-bit CSI
  const Bytes all = [] {
    Bytes b;
    for (int i = 0; i < 256; ++i) b.push_back(static_cast<std::uint8_t>(i));
    return b;
  }();
  for (char c : escape_for_log(ByteView(all))) {
    EXPECT_GE(static_cast<unsigned char>(c), 0x20);
    EXPECT_LE(static_cast<unsigned char>(c), 0x7e);
  }
}

}  // namespace natgate
