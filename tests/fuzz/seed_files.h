// The seed-corpus generators' shared ends: where the corpus goes (their one argument) and how
// seeds are written (seed-<n>.<ext>, one file each, as libFuzzer reads a corpus folder).
#pragma once

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"

namespace natgate::fuzz_seeds {

// The corpus folder named on the command line, created; nullopt (after a usage line) otherwise.
inline std::optional<std::filesystem::path> seed_corpus_dir(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus-dir>\n", argv[0]);
    return std::nullopt;
  }
  std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  return dir;
}

// Writes every seed and says how many; the process exit code (0, or 1 when a write failed).
inline int write_seed_files(const std::filesystem::path& dir, const std::vector<Bytes>& seeds,
                            const char* ext) {
  int n = 0;
  for (const Bytes& seed : seeds) {
    std::ofstream out(dir / ("seed-" + std::to_string(n++) + "." + ext), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(seed.data()), static_cast<std::streamsize>(seed.size()));
    if (!out) {
      std::fprintf(stderr, "cannot write seed %d into %s\n", n, dir.c_str());
      return 1;
    }
  }
  std::printf("wrote %d seeds into %s\n", n, dir.c_str());
  return 0;
}

}  // namespace natgate::fuzz_seeds
