// MD4 (RFC 1320 §A.5), MS-CHAPv2 (RFC 2759 §9.2) and its keys (RFC 3079 §3.5), vector for vector.
#include "ike/auth/mschapv2.h"

#include <gtest/gtest.h>

#include "ike/auth/md4.h"

namespace natgate::ike {
namespace {

using namespace mschapv2;

std::string md4_hex(std::string_view s) {
  const auto d = md4(as_bytes(s));
  return to_hex(ByteView(d.data(), d.size()));
}

TEST(Md4, Rfc1320TestSuite) {
  EXPECT_EQ(md4_hex(""), "31d6cfe0d16ae931b73c59d7e0c089c0");
  EXPECT_EQ(md4_hex("a"), "bde52cb31de33e46245e05fbdbd6fb24");
  EXPECT_EQ(md4_hex("abc"), "a448017aaf21d8525fc10ae87aa6729d");
  EXPECT_EQ(md4_hex("message digest"), "d9130a8164549fe818874806e1c7014b");
  EXPECT_EQ(md4_hex("abcdefghijklmnopqrstuvwxyz"), "d79e1c308aa5bbcdeea8ed63df412da9");
  EXPECT_EQ(md4_hex("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
            "043f8582f241db351ce627e153e7f0e4");
  EXPECT_EQ(md4_hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890"),
            "e33b4ddc9c38f2199c3e7b164fcc0536");
}

// RFC 2759 §9.2 "Hash Example": user "User", password "clientPass".
const Bytes kAuthChallenge = hex_bytes("5B5D7C7D7B3F2F3E3C2C602132262628");
const Bytes kPeerChallenge = hex_bytes("21402324255E262A28295F2B3A337C7E");

TEST(Mschapv2, Rfc2759HashExample) {
  auto unicode = utf16le_password("clientPass");
  ASSERT_TRUE(unicode);
  EXPECT_EQ(to_hex(unicode->view()), "63006c00690065006e0074005000610073007300");
  auto hash = nt_password_hash("clientPass");
  ASSERT_TRUE(hash);
  EXPECT_EQ(to_hex(hash->view()), "44ebba8d5312b8d611474411f56989ae");
  EXPECT_EQ(to_hex(hash_nt_password_hash(*hash).view()), "41c00c584bd2d91c4017a2a12fa59f3f");
  const auto ch = challenge_hash(kPeerChallenge, kAuthChallenge, "User");
  EXPECT_EQ(to_hex(ByteView(ch.data(), ch.size())), "d02e4386bce91226");
  auto nt = generate_nt_response(kAuthChallenge, kPeerChallenge, "User", *hash);
  ASSERT_TRUE(nt) << nt.error();
  EXPECT_EQ(to_hex(*nt), "82309ecd8d708b5ea08faa3981cd83544233114a3d85d6df");
  EXPECT_EQ(generate_authenticator_response(*hash, *nt, kPeerChallenge, kAuthChallenge, "User"),
            "S=407A5589115FD0D6209F510FE9C04566932CDA56");
}

TEST(Mschapv2, DomainPrefixIsNotHashed) {
  EXPECT_EQ(strip_domain("ACME\\User"), "User");
  EXPECT_EQ(strip_domain("User"), "User");
  const auto a = challenge_hash(kPeerChallenge, kAuthChallenge, "ACME\\User");
  const auto b = challenge_hash(kPeerChallenge, kAuthChallenge, "User");
  EXPECT_EQ(a, b);
}

// RFC 3079 §3.5.3 (128-bit keys) from the same NT-Response.
TEST(Mschapv2, Rfc3079KeyDerivation) {
  const auto hash = nt_password_hash("clientPass").value();
  const Bytes nt = hex_bytes("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF");
  const SecretBytes master = master_key(hash_nt_password_hash(hash), nt);
  EXPECT_EQ(to_hex(master.view()), "fdece3717a8c838cb388e527ae3cdd31");
  // The RFC's SendStartKey128 is the server's send key (Magic3), which the client receives with.
  const SecretBytes server_send = asymmetric_start_key(master, true, true);
  EXPECT_EQ(to_hex(server_send.view()), "8b7cdc149b993a1ba118cb153f56dccb");
  EXPECT_EQ(asymmetric_start_key(master, false, false), server_send);
  const SecretBytes client_send = asymmetric_start_key(master, true, false);
  EXPECT_EQ(asymmetric_start_key(master, false, true), client_send);
  EXPECT_FALSE(client_send == server_send);

  // MSK = server receive key | server send key | 32 zero octets (strongSwan's GenerateMSK).
  const SecretBytes k = msk(hash_nt_password_hash(hash), nt);
  ASSERT_EQ(k.size(), kMskSize);
  EXPECT_EQ(to_hex(k.view().first(16)), to_hex(client_send.view()));
  EXPECT_EQ(to_hex(k.view().subspan(16, 16)), "8b7cdc149b993a1ba118cb153f56dccb");
  EXPECT_EQ(to_hex(k.view().subspan(32)), std::string(64, '0'));
}

TEST(Mschapv2, Utf16Passwords) {
  EXPECT_EQ(to_hex(utf16le_password("\xc3\xa4")->view()), "e400");              // U+00E4
  EXPECT_EQ(to_hex(utf16le_password("\xe2\x82\xac")->view()), "ac20");          // U+20AC
  EXPECT_EQ(to_hex(utf16le_password("\xf0\x9f\x94\x91")->view()), "3dd811dd");  // U+1F511: surrogate pair
  EXPECT_FALSE(utf16le_password("\xc3"));                                       // truncated
  EXPECT_FALSE(utf16le_password("\xc0\xaf"));                                   // overlong
  EXPECT_FALSE(utf16le_password("\xed\xa0\x80"));  // a surrogate encoded in UTF-8
  EXPECT_FALSE(utf16le_password("\xff"));
  EXPECT_TRUE(utf16le_password(std::string(256, 'x')));
  auto too_long = utf16le_password(std::string(257, 'x'));
  ASSERT_FALSE(too_long);
  EXPECT_NE(too_long.error().find("256"), std::string::npos);
}

TEST(Mschapv2, ChallengeResponseChecksSizes) {
  const auto hash = nt_password_hash("x").value();
  EXPECT_FALSE(challenge_response(Bytes(7, 0), hash));
  EXPECT_FALSE(generate_nt_response(Bytes(15, 0), kPeerChallenge, "u", hash));
}

}  // namespace
}  // namespace natgate::ike
