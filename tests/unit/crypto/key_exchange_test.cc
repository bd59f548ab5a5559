// Key exchange against published vectors: RFC 5903 §8 (ECP-256/384/521), RFC 7748 §6
// (X25519, X448); MODP-2048 against an independent computation; and the public-value checks
// of RFC 7296 §2.12 / RFC 6989 that keep a bad peer value from reaching SKEYSEED.
#include "crypto/key_exchange.h"

#include <gtest/gtest.h>

#include <string>

namespace natgate::crypto {
namespace {

Bytes h(std::string_view hex) { return hex_bytes(hex); }

std::string secret_hex(const Expected<SecretBytes>& s) {
  return s ? to_hex(s->view()) : "error: " + s.error();
}

struct EcpVector {
  const char* name;
  iana::DhGroup group;
  const char* i;
  const char* gi;  // gix || giy
  const char* r;
  const char* gr;  // grx || gry
  const char* girx;
};

// RFC 5903 §8.1, §8.2, §8.3 (spaces as printed in the RFC).
const EcpVector kEcpVectors[] = {
    {"ecp256 (RFC 5903 §8.1)", iana::DhGroup::Ecp256,
     "C88F01F5 10D9AC3F 70A292DA A2316DE5 44E9AAB8 AFE84049 C62A9C57 862D1433",
     "DAD0B653 94221CF9 B051E1FE CA5787D0 98DFE637 FC90B9EF 945D0C37 72581180"
     "5271A046 1CDB8252 D61F1C45 6FA3E59A B1F45B33 ACCF5F58 389E0577 B8990BB3",
     "C6EF9C5D 78AE012A 011164AC B397CE20 88685D8F 06BF9BE0 B283AB46 476BEE53",
     "D12DFB52 89C8D4F8 1208B702 70398C34 2296970A 0BCCB74C 736FC755 4494BF63"
     "56FBF3CA 366CC23E 8157854C 13C58D6A AC23F046 ADA30F83 53E74F33 039872AB",
     "D6840F6B 42F6EDAF D13116E0 E1256520 2FEF8E9E CE7DCE03 812464D0 4B9442DE"},
    {"ecp384 (RFC 5903 §8.2)", iana::DhGroup::Ecp384,
     "099F3C70 34D4A2C6 99884D73 A375A67F 7624EF7C 6B3C0F16 0647B674 14DCE655 E35B5380 41E649EE 3FAEF896 "
     "783AB194",
     "667842D7 D180AC2C DE6F74F3 7551F557 55C7645C 20EF73E3 1634FE72 B4C55EE6 DE3AC808 ACB4BDB4 C88732AE "
     "E95F41AA"
     "9482ED1F C0EEB9CA FC498462 5CCFC23F 65032149 E0E144AD A0241815 35A0F38E EB9FCFF3 C2C947DA E69B4C63 "
     "4573A81C",
     "41CB0779 B4BDB85D 47846725 FBEC3C94 30FAB46C C8DC5060 855CC9BD A0AA2942 E0308312 916B8ED2 960E4BD5 "
     "5A7448FC",
     "E558DBEF 53EECDE3 D3FCCFC1 AEA08A89 A987475D 12FD950D 83CFA417 32BC509D 0D1AC43A 0336DEF9 6FDA41D0 "
     "774A3571"
     "DCFBEC7A ACF31964 72169E83 8430367F 66EEBE3C 6E70C416 DD5F0C68 759DD1FF F83FA401 42209DFF 5EAAD96D "
     "B9E6386C",
     "11187331 C279962D 93D60424 3FD592CB 9D0A926F 422E4718 7521287E 7156C5C4 D6031355 69B9E9D0 9CF5D4A2 "
     "70F59746"},
    {"ecp521 (RFC 5903 §8.3)", iana::DhGroup::Ecp521,
     "0037ADE9 319A89F4 DABDB3EF 411AACCC A5123C61 ACAB57B5 393DCE47 608172A0 95AA85A3 0FE1C295 2C6771D9 "
     "37BA9777 "
     "F5957B26 39BAB072 462F68C2 7A57382D 4A52",
     "0015417E 84DBF28C 0AD3C278 713349DC 7DF153C8 97A1891B D98BAB43 57C9ECBE E1E3BF42 E00B8E38 0AEAE57C "
     "2D107564 "
     "94188594 2AF5A7F4 601723C4 195D176C ED3E"
     "017CAE20 B6641D2E EB695786 D8C94614 6239D099 E18E1D5A 514C739D 7CB4A10A D8A78801 5AC405D7 799DC75E "
     "7B7D5B6C "
     "F2261A6A 7F150743 8BF01BEB 6CA3926F 9582",
     "0145BA99 A847AF43 793FDD0E 872E7CDF A16BE30F DC780F97 BCCC3F07 8380201E 9C677D60 0B343757 A3BDBF2A "
     "3163E4C2 "
     "F869CCA7 458AA4A4 EFFC311F 5CB15168 5EB9",
     "00D0B397 5AC4B799 F5BEA16D 5E13E9AF 971D5E9B 984C9F39 728B5E57 39735A21 9B97C356 436ADC6E 95BB0352 "
     "F6BE64A6 "
     "C2912D4E F2D0433C ED2B6171 640012D9 460F"
     "015C6822 6383956E 3BD066E7 97B623C2 7CE0EAC2 F551A10C 2C724D98 52077B87 220B6536 C5C408A1 D2AEBB8E "
     "86D678AE "
     "49CB5709 1F473229 6579AB44 FCD17F0F C56A",
     "01144C7D 79AE6956 BC8EDB8E 7C787C45 21CB086F A64407F9 7894E5E6 B2D79B04 D1427E73 CA4BAA24 0A347868 "
     "59810C06 "
     "B3C715A3 A8CC3151 F2BEE417 996D19F3 DDEA"},
};

TEST(DhKeyPair, Rfc5903EcpVectors) {
  for (const auto& v : kEcpVectors) {
    SCOPED_TRACE(v.name);
    auto i = DhKeyPair::from_private(v.group, h(v.i));
    auto r = DhKeyPair::from_private(v.group, h(v.r));
    ASSERT_TRUE(i.has_value()) << i.error();
    ASSERT_TRUE(r.has_value()) << r.error();
    // IKE's KE data is x || y without the 0x04 prefix (RFC 5903 §7).
    EXPECT_EQ(to_hex(i->public_value()), to_hex(h(v.gi)));
    EXPECT_EQ(to_hex(r->public_value()), to_hex(h(v.gr)));
    EXPECT_EQ(i->public_value().size(), DhKeyPair::public_value_size(v.group));
    // Both sides get g^ir's x coordinate only.
    EXPECT_EQ(secret_hex(i->shared_secret(r->public_value())), to_hex(h(v.girx)));
    EXPECT_EQ(secret_hex(r->shared_secret(i->public_value())), to_hex(h(v.girx)));
  }
}

TEST(DhKeyPair, Rfc7748X25519) {
  auto alice = DhKeyPair::from_private(iana::DhGroup::Curve25519,
                                       h("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
  auto bob = DhKeyPair::from_private(iana::DhGroup::Curve25519,
                                     h("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
  ASSERT_TRUE(alice && bob);
  EXPECT_EQ(to_hex(alice->public_value()),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  EXPECT_EQ(to_hex(bob->public_value()), "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  const char* k = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
  EXPECT_EQ(secret_hex(alice->shared_secret(bob->public_value())), k);
  EXPECT_EQ(secret_hex(bob->shared_secret(alice->public_value())), k);
}

TEST(DhKeyPair, Rfc7748X448) {
  auto alice = DhKeyPair::from_private(
      iana::DhGroup::Curve448,
      h("9a8f4925d1519f5775cf46b04b5800d4ee9ee8bae8bc5565d498c28dd9c9baf574a9419744897391"
        "006382a6f127ab1d9ac2d8c0a598726b"));
  auto bob = DhKeyPair::from_private(
      iana::DhGroup::Curve448,
      h("1c306a7ac2a0e2e0990b294470cba339e6453772b075811d8fad0d1d6927c120bb5ee8972b0d3e21"
        "374c9c921b09d1b0366f10b65173992d"));
  ASSERT_TRUE(alice && bob);
  EXPECT_EQ(
      to_hex(alice->public_value()),
      "9b08f7cc31b7e3e67d22d5aea121074a273bd2b83de09c63faa73d2c22c5d9bbc836647241d953d40c5b12da88120d53177f80"
      "e532c41fa0");
  EXPECT_EQ(
      to_hex(bob->public_value()),
      "3eb7a829b0cd20f5bcfc0b599b6feccf6da4627107bdb0d4f345b43027d8b972fc3e34fb4232a13ca706dcb57aec3dae07bdc1"
      "c67bf33609");
  const char* k =
      "07fff4181ac6cc95ec1c16a94a0f74d12da232ce40a77552281d282bb60c0b56fd2464c335543936521c24403085d59a449a50"
      "37"
      "514a879d";
  EXPECT_EQ(secret_hex(alice->shared_secret(bob->public_value())), k);
  EXPECT_EQ(secret_hex(bob->shared_secret(alice->public_value())), k);
}

// RFC 3526 §3 prime, for the range checks below.
const char* kModp2048Prime =
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AACAA68FFFFFFFFFFFFFFFF";

// Exponents, public values and g^ir computed with python3's pow(2, x, p) and
// pow(g^r, i, p) over the RFC 3526 prime (/tmp script, exponents = SHA-256("natgate modp
// i 353") twice and SHA-256("natgate modp r 353") twice), picked so that g^ir has a leading
// zero byte: the secret must keep it (RFC 7296 §2.14 pads to the modulus length).
const char* kModpI =
    "7a0ac533aaaec547e553082f391e693b88292f87d2edb6873fa10e7d12aba8e77a0ac533aaaec547e553082f391e693b"
    "88292f87d2edb6873fa10e7d12aba8e7";
const char* kModpR =
    "5859ccd378e8fc039cefad202b1f60dcc2a2fe1bef86bdfd8e1e3e9d913b8a385859ccd378e8fc039cefad202b1f60dc"
    "c2a2fe1bef86bdfd8e1e3e9d913b8a38";
const char* kModpGi =
    "7e242bac4bf1c9eadd2d0fc1cf62ead2deed56972bfc66984277c7af58553672882f5abf908cbdcd4e15795a7c76e74d"
    "4cf617ccf10cf99a77dc0c50ba3cdc37b6724dd25502bd484ac31f8fcccfe818f07ed7181370c9fce70c74bcc916e4eb"
    "38fe9a357d1de7d1870e3f5e28fbd1065506931cfcd58df858bf5e33e8ac5634541d2a112885b5fd754b9b930277c734"
    "6ad2f6dfe1469c7137fd42bce01a8f96133ac80bb1359ce7ff1b7eb6613b162b35fa3b9363f3b49379628f60d35e6012"
    "0eb5ff70161179fc098aba2c9e418470977c43e75cd7791fd26ec936fbe3a5ca0dc596a9f8ddb7491a16f48bd358e3c3"
    "412aa000f74142c7e1afc7e616ca05bd";
const char* kModpGr =
    "34d051fcfe0061ce6abcdc020c682f2303a2d0d628a2aaff41ff0a5db267c8ba53e1cca7b02de173e9d1ef4902b07883"
    "7eba9a5a3bce9ae457d06a4f6e1e8d0ea4bac8197749b9d63659ddbc60c0dd9ed8ec939b0169b0cba0fb693fa56adeab"
    "9381ca8fae312767dd204d7957c61178eb735812dbe007e32ad9f380fa29f2097fe516e3fe40b95330ad62ba2526a07e"
    "36ba92e5051d06d3e81bd37f7115537331006b50eb84ea1d36939ff972cde133180fbfc87fde4aca28b356660bd399e1"
    "c364d54d393fab0ac5d7dd51228faaa7f2c580e6cdd82fafd4f4056c70acf251e2fafa003dd948e19fb7e9e95e1bdc8c"
    "c50ff62977ea1a9b48e5d36532a23db4";
const char* kModpGir =
    "0088b488f1269c2eb764b592feb1a588c3f63babac3bd8f9d25402ac2deeb96e44f70599b02dd0f2ad0f95c28ca9833c"
    "4b57154594af1b3de001c02845f6fe9c5a39bade02f8cb73642031149a334cf606421617856360b8510705096f607076"
    "b4385c3a8ce674b152ce6450e7fc68a3cec58182dffdc76729383c57e79720cbea4968afdd92ebd630ca5391123b81db"
    "674d16fd266af365bfa1f3ef40e32dd5e141743f7b1a2f1a69a9f210c8f2e1e2c10863aeed4b3c0e20a7036a080f27e0"
    "96f8546716d07077cb8c6fabaff6fee0f575e9a29b2ddbc63879b31e070fbf0f0661e2e7ed919fc50433412034780c10"
    "65a5654fe516c8eccd8d31cf7e420a12";

TEST(DhKeyPair, Modp2048MatchesIndependentComputationAndKeepsLeadingZero) {
  auto i = DhKeyPair::from_private(iana::DhGroup::Modp2048, h(kModpI));
  auto r = DhKeyPair::from_private(iana::DhGroup::Modp2048, h(kModpR));
  ASSERT_TRUE(i.has_value()) << i.error();
  ASSERT_TRUE(r.has_value()) << r.error();
  EXPECT_EQ(to_hex(i->public_value()), kModpGi);
  EXPECT_EQ(to_hex(r->public_value()), kModpGr);
  auto s = i->shared_secret(r->public_value());
  ASSERT_TRUE(s.has_value()) << s.error();
  EXPECT_EQ(s->size(), 256u);
  EXPECT_EQ(to_hex(s->view()), kModpGir);
  EXPECT_EQ(secret_hex(r->shared_secret(i->public_value())), kModpGir);
}

// RFC 2409 §6.2's group 2 (only for `legacy_proposals: windows-default`): OpenSSL has no name
// for it, so natgate hands it the prime and generator. Same exponents as above; values from
// python3's pow() over the RFC 2409 prime.
TEST(DhKeyPair, Modp1024MatchesIndependentComputation) {
  auto i = DhKeyPair::from_private(iana::DhGroup::Modp1024, h(kModpI));
  auto r = DhKeyPair::from_private(iana::DhGroup::Modp1024, h(kModpR));
  ASSERT_TRUE(i.has_value()) << i.error();
  ASSERT_TRUE(r.has_value()) << r.error();
  EXPECT_EQ(to_hex(i->public_value()),
            "7d352fe6f8fe22d0d0bcbe3ea80ff8cec12a52950fcfc05db13c44a1972605d32cc3f07d3fc4912e65f2fb35ad669491"
            "bdc50faa2b0b5d712fc90074cd6f1a341efb652d27abf55392f6aefce891c80c6055882fc34c486344437f2d7fdb1d5e"
            "4d27ffa09e6330c0726a6b8a246eca5a73f89b0c0060fd6591781c77c774bc26");
  EXPECT_EQ(to_hex(r->public_value()),
            "70768eecd485493b3cd169f6d1fafbfe6d53bffaf3a6fc42a86236a7d2689b960c55381e382de0848cda840a04f4d57e"
            "4faae13e45532049633c119babde37c85158234fd3b30a52d433be55ae5e2cbb6ccd59da06a71839e25a125c165fba35"
            "9342e881b5078e7aac30a798d84e12e268cd795b55147f74d9d900a68c8b50a0");
  const char* gir =
      "ce2ffb040edd8101f204ebf2941eb11694f1191e27ebc7dbcbe9459668efc48c5892baf7be6d6260738a58742d77d7fe"
      "3ab0526d18314ccbfb7a2a71b913dc96d14b962b9baa457fb507e2c440325bd6e018b95392c74bc65279df8ccebaa08a"
      "89f86c7793ce43ad89e1b33f6741d55dd292ca7cf4bae7ea625d299adcb0fa82";
  EXPECT_EQ(secret_hex(i->shared_secret(r->public_value())), gir);
  EXPECT_EQ(secret_hex(r->shared_secret(i->public_value())), gir);
  EXPECT_EQ(DhKeyPair::public_value_size(iana::DhGroup::Modp1024), 128u);
  // p - 1 is refused as for the other MODP groups (RFC 6989 §2.1).
  Bytes p_minus_1(128, 0xff);
  p_minus_1.back() = 0xfe;
  EXPECT_FALSE(i->shared_secret(p_minus_1).has_value());
}

TEST(DhKeyPair, GeneratedPairsAgreeForEveryGroup) {
  for (auto group :
       {iana::DhGroup::Modp1024, iana::DhGroup::Modp2048, iana::DhGroup::Modp3072, iana::DhGroup::Ecp256,
        iana::DhGroup::Ecp384, iana::DhGroup::Ecp521, iana::DhGroup::Curve25519, iana::DhGroup::Curve448}) {
    SCOPED_TRACE(static_cast<int>(group));
    DeterministicRandom rng_i(1), rng_r(2);
    auto i = DhKeyPair::generate(group, rng_i);
    auto r = DhKeyPair::generate(group, rng_r);
    ASSERT_TRUE(i.has_value()) << i.error();
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_EQ(i->group(), group);
    EXPECT_EQ(i->public_value().size(), DhKeyPair::public_value_size(group));
    auto si = i->shared_secret(r->public_value());
    auto sr = r->shared_secret(i->public_value());
    ASSERT_TRUE(si.has_value()) << si.error();
    ASSERT_TRUE(sr.has_value()) << sr.error();
    EXPECT_EQ(*si, *sr);
    // Keys come from the injected source only: the same seed gives the same key.
    DeterministicRandom again(1);
    auto i2 = DhKeyPair::generate(group, again);
    ASSERT_TRUE(i2.has_value());
    EXPECT_EQ(to_hex(i2->public_value()), to_hex(i->public_value()));
  }
  EXPECT_EQ(DhKeyPair::public_value_size(iana::DhGroup::Modp2048), 256u);
  EXPECT_EQ(DhKeyPair::public_value_size(iana::DhGroup::Modp3072), 384u);
  EXPECT_EQ(DhKeyPair::public_value_size(iana::DhGroup::Ecp521), 132u);
  EXPECT_EQ(DhKeyPair::public_value_size(iana::DhGroup::Curve448), 56u);
}

void expect_rejected(const DhKeyPair& kx, const Bytes& peer, const std::string& needle) {
  auto s = kx.shared_secret(peer);
  ASSERT_FALSE(s.has_value()) << "accepted a bad public value: " << needle;
  EXPECT_NE(s.error().find(needle), std::string::npos) << s.error();
  // The check a responder makes before it has a key pair agrees on the length (the only thing
  // it checks for X25519/X448: every string of the right length is a public value there).
  if (peer.size() != DhKeyPair::public_value_size(kx.group())) {
    EXPECT_FALSE(DhKeyPair::check_peer_value(kx.group(), peer)) << needle;
  }
}

TEST(DhKeyPair, RejectsWrongLengthForEveryGroup) {
  DeterministicRandom rng(7);
  for (auto group : {iana::DhGroup::Modp2048, iana::DhGroup::Ecp256, iana::DhGroup::Ecp384,
                     iana::DhGroup::Curve25519, iana::DhGroup::Curve448}) {
    auto kx = DhKeyPair::generate(group, rng);
    ASSERT_TRUE(kx.has_value());
    Bytes longer(kx->public_value().begin(), kx->public_value().end());
    longer.push_back(0);
    expect_rejected(*kx, longer, "expected " + std::to_string(DhKeyPair::public_value_size(group)));
    Bytes shorter(kx->public_value().begin(), kx->public_value().end() - 1);
    expect_rejected(*kx, shorter, "bytes, expected");
    expect_rejected(*kx, {}, "0 bytes");
  }
}

TEST(DhKeyPair, ModpRejectsValuesOutsideOneToPMinusOne) {
  auto kx = DhKeyPair::from_private(iana::DhGroup::Modp2048, h(kModpI));
  ASSERT_TRUE(kx.has_value());
  const Bytes p = h(kModp2048Prime);
  Bytes zero(256, 0), one(256, 0), p_minus_1 = p, all_ff(256, 0xff);
  one.back() = 1;
  p_minus_1.back() = 0xfe;  // p ends in ...ff
  for (const Bytes* bad : std::initializer_list<const Bytes*>{&zero, &one, &p_minus_1, &p, &all_ff}) {
    expect_rejected(*kx, *bad, "1 < y < p-1");
  }
  // Two is the generator itself: a legal value.
  Bytes two(256, 0);
  two.back() = 2;
  EXPECT_TRUE(kx->shared_secret(two).has_value());
}

TEST(DhKeyPair, EcpRejectsPointsOffTheCurve) {
  for (const auto& v : kEcpVectors) {
    SCOPED_TRACE(v.name);
    auto kx = DhKeyPair::from_private(v.group, h(v.i));
    ASSERT_TRUE(kx.has_value());
    Bytes off = h(v.gr);
    off.back() ^= 0x01;  // y changed: (x, y') does not satisfy the curve equation
    expect_rejected(*kx, off, "not a point on the curve");
    expect_rejected(*kx, Bytes(off.size(), 0), "not a point on the curve");
  }
}

TEST(DhKeyPair, MontgomeryRejectsLowOrderPoints) {
  // u = 0 and u = 1 are points of small order: the X25519/X448 result is all zero
  // (RFC 7748 §6.1 says to check for it; RFC 8031 §2.3 requires it for IKE).
  DeterministicRandom rng(9);
  for (auto group : {iana::DhGroup::Curve25519, iana::DhGroup::Curve448}) {
    auto kx = DhKeyPair::generate(group, rng);
    ASSERT_TRUE(kx.has_value());
    const std::size_t n = DhKeyPair::public_value_size(group);
    Bytes zero(n, 0), one(n, 0);
    one[0] = 1;  // little-endian u = 1
    expect_rejected(*kx, zero, "low-order");
    expect_rejected(*kx, one, "low-order");
    // Before a key pair exists the length is all there is to check; the all-zero result is
    // caught by shared_secret.
    EXPECT_TRUE(DhKeyPair::check_peer_value(group, zero));
    EXPECT_TRUE(
        DhKeyPair::check_peer_value(group, Bytes(kx->public_value().begin(), kx->public_value().end())));
  }
}

TEST(DhKeyPair, RejectsBadPrivateKeysAndUnknownGroups) {
  EXPECT_FALSE(DhKeyPair::from_private(iana::DhGroup::Ecp256, Bytes(32, 0)).has_value());     // scalar 0
  EXPECT_FALSE(DhKeyPair::from_private(iana::DhGroup::Ecp256, Bytes(32, 0xff)).has_value());  // >= n
  EXPECT_FALSE(DhKeyPair::from_private(iana::DhGroup::Ecp256, Bytes(31, 1)).has_value());
  EXPECT_FALSE(DhKeyPair::from_private(iana::DhGroup::Curve25519, Bytes(31, 1)).has_value());
  EXPECT_FALSE(DhKeyPair::from_private(iana::DhGroup::Modp2048, Bytes(1, 1)).has_value());  // x = 1
  DeterministicRandom rng(1);
  auto none = DhKeyPair::generate(iana::DhGroup::None, rng);
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().find("not supported"), std::string::npos);
  EXPECT_FALSE(DhKeyPair::supported(static_cast<iana::DhGroup>(5)));  // MODP-1536: never implemented
  EXPECT_TRUE(DhKeyPair::supported(iana::DhGroup::Curve448));
}

}  // namespace
}  // namespace natgate::crypto
