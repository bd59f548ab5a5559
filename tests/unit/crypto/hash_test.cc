// One-shot digests against FIPS 180-4 examples ("abc"), and the deterministic test RNG.
#include "crypto/hash.h"

#include <gtest/gtest.h>

#include "crypto/random.h"

namespace natgate::crypto {
namespace {

TEST(Hash, Fips180AbcExamples) {
  ByteView abc = as_bytes("abc");
  EXPECT_EQ(to_hex(hash(Digest::Sha1, abc)), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(to_hex(hash(Digest::Sha256, abc)),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(
      to_hex(hash(Digest::Sha384, abc)),
      "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7");
  EXPECT_EQ(to_hex(hash(Digest::Sha512, abc)),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd"
            "454d4423643ce80e2a9ac94fa54ca49f");
  // Parts are hashed as their concatenation.
  EXPECT_EQ(hash(Digest::Sha256, {as_bytes("a"), as_bytes(""), as_bytes("bc")}), hash(Digest::Sha256, abc));
}

TEST(Random, DeterministicStreamIsReproducibleAndSeedDependent) {
  DeterministicRandom a(42), b(42), c(43);
  Bytes x = a.bytes(100), y = b.bytes(100), z = c.bytes(100);
  EXPECT_EQ(x, y);
  EXPECT_NE(x, z);
  // Block i is SHA-256(seed || be64(i)): the first 32 bytes are SHA-256(be64(42) || be64(0)).
  Bytes seed = hex_bytes("000000000000002a");
  Bytes block0 = hash(Digest::Sha256, {seed, hex_bytes("0000000000000000")});
  EXPECT_EQ(Bytes(x.begin(), x.begin() + 32), block0);
  // Reads of any size line up with one long read.
  DeterministicRandom d(42);
  Bytes pieces;
  for (std::size_t n : {1, 7, 31, 33, 28}) append(pieces, d.bytes(n));
  EXPECT_EQ(pieces, x);
}

TEST(Random, SystemRandomFillsEveryByte) {
  SystemRandom rng;
  // Two 64-byte draws colliding, or one being all zero, has probability ~2^-512.
  Bytes a = rng.bytes(64), b = rng.bytes(64);
  EXPECT_NE(a, b);
  EXPECT_NE(a, Bytes(64, 0));
}

}  // namespace
}  // namespace natgate::crypto
