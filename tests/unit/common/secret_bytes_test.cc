#include "common/secret_bytes.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>

namespace natgate {

TEST(SecretBytes, NeverPrintsItsContent) {
  SecretBytes s(hex_bytes("deadbeef"));
  std::ostringstream os;
  os << s;
  EXPECT_EQ(os.str(), "<secret 4 bytes>");
}

TEST(SecretBytes, WipeEmptiesAndMoveLeavesSourceEmpty) {
  SecretBytes s(hex_bytes("00112233"));
  SecretBytes moved = std::move(s);
  EXPECT_EQ(moved.size(), 4u);
  EXPECT_TRUE(s.empty());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  moved.wipe();
  EXPECT_TRUE(moved.empty());
}

TEST(SecretBytes, SliceAndCompare) {
  SecretBytes s(hex_bytes("0011223344"));
  EXPECT_EQ(s.slice(1, 2), SecretBytes(hex_bytes("1122")));
  EXPECT_FALSE(s.slice(0, 2) == SecretBytes(hex_bytes("1122")));
  EXPECT_THROW((void)s.slice(4, 2), std::out_of_range);
}

// The VmFlags of the mapping that holds `p`, from /proc/self/smaps ("rd wr mr mw me dd ..").
std::string vm_flags_of(const void* p) {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    // A mapping's first line: "begin-end perms ..." in hex.
    std::uintptr_t begin = 0, end = 0;
    const auto dash = line.find('-'), space = line.find(' ');
    const bool range =
        dash != std::string::npos && space != std::string::npos && space > dash &&
        std::from_chars(line.data(), line.data() + dash, begin, 16).ec == std::errc() &&
        std::from_chars(line.data() + dash + 1, line.data() + space, end, 16).ec == std::errc();
    if (range) {
      inside = a >= begin && a < end;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line.substr(8) + " ";
    }
  }
  return "(no mapping)";
}

TEST(SecretBytes, KeyMemoryIsExcludedFromCoreDumps) {
  // Small keys (slots), a key of a few pages, and a grown one: all in MADV_DONTDUMP pages ("dd").
  SecretBytes small(hex_bytes("00112233445566778899aabbccddeeff"));
  SecretBytes large(20000);
  SecretBytes grown(hex_bytes("01"));
  grown.append(hex_bytes("0203"));
  for (const SecretBytes* s : {&small, &large, &grown}) {
    const std::string flags = vm_flags_of(s->data());
    EXPECT_NE(flags.find(" dd "), std::string::npos) << s->size() << " bytes: VmFlags" << flags;
  }
  // Ordinary heap memory is dumped, so the check above can tell them apart.
  const Bytes plain(64, 1);
  EXPECT_EQ(vm_flags_of(plain.data()).find(" dd "), std::string::npos);
  EXPECT_TRUE(grown == SecretBytes(hex_bytes("010203")));
}

TEST(SecretBytes, ManyKeysOfEverySizeStayIntact) {
  std::vector<SecretBytes> keys;
  for (std::size_t n = 1; n < 6000; n += 37) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 7 + n);
    keys.emplace_back(b);
  }
  for (std::size_t k = 0; k < keys.size(); k += 2) keys[k].wipe();  // freed slots are reused below
  for (std::size_t k = 0; k < keys.size(); k += 2) keys[k] = SecretBytes(Bytes(16 + k, 0x5a));
  std::size_t n = 1;
  for (std::size_t k = 0; k < keys.size(); ++k, n += 37) {
    if (k % 2 == 0) continue;
    ASSERT_EQ(keys[k].size(), n);
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(keys[k].data()[i], static_cast<std::uint8_t>(i * 7 + n));
  }
}

}  // namespace natgate
