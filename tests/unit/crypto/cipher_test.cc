// AES-CBC without padding: RFC 3602 §4 test cases 1 and 2.
#include "crypto/cipher.h"

#include <gtest/gtest.h>

namespace natgate::crypto {
namespace {

TEST(Cipher, Rfc3602Case1SingleBlock) {
  auto cbc = Cipher::create_aes_cbc(hex_bytes("06a9214036b8a15b512e03d534120006"));
  ASSERT_TRUE(cbc.has_value()) << cbc.error();
  const Bytes iv = hex_bytes("3dafba429d9eb430b422da802c9fac41");
  ByteView plain = as_bytes("Single block msg");
  Bytes out(16);
  ASSERT_TRUE(cbc->encrypt(iv, plain, out).has_value());
  EXPECT_EQ(to_hex(out), "e353779c1079aeb82708942dbe77181a");
  Bytes back(16);
  ASSERT_TRUE(cbc->decrypt(iv, out, back).has_value());
  EXPECT_EQ(back, Bytes(plain.begin(), plain.end()));
}

TEST(Cipher, Rfc3602Case2TwoBlocksInPlace) {
  auto cbc = Cipher::create_aes_cbc(hex_bytes("c286696d887c9aa0611bbb3e2025a45a"));
  ASSERT_TRUE(cbc.has_value());
  const Bytes iv = hex_bytes("562e17996d093d28ddb3ba695a2e6f58");
  Bytes buf(32);
  for (std::size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<std::uint8_t>(i);
  const Bytes plain = buf;
  ASSERT_TRUE(cbc->encrypt(iv, buf, buf).has_value());
  EXPECT_EQ(to_hex(buf), "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1");
  ASSERT_TRUE(cbc->decrypt(iv, buf, buf).has_value());
  EXPECT_EQ(buf, plain);
  // The key stays, the IV restarts the chain: a second encryption gives the same answer.
  ASSERT_TRUE(cbc->encrypt(iv, buf, buf).has_value());
  EXPECT_EQ(to_hex(buf), "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1");
}

TEST(Cipher, RejectsPartialBlocksAndBadSizes) {
  EXPECT_FALSE(Cipher::create_aes_cbc(Bytes(20)).has_value());
  auto cbc = Cipher::create_aes_cbc(Bytes(32));
  ASSERT_TRUE(cbc.has_value());
  EXPECT_EQ(cbc->key_size(), 32u);
  Bytes out(17);
  EXPECT_FALSE(cbc->encrypt(Bytes(16), Bytes(17), out).has_value());
  Bytes out16(16);
  EXPECT_FALSE(cbc->encrypt(Bytes(12), Bytes(16), out16).has_value());
  Bytes out32(32);
  EXPECT_FALSE(cbc->encrypt(Bytes(16), Bytes(16), out32).has_value());
}

}  // namespace
}  // namespace natgate::crypto
