#pragma once
// Shared by the fuzz targets: invariant checks that abort (libFuzzer saves the input as a crash;
// the replay main's ctest fails), and reading an input as text.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace llmd::fuzz {

[[noreturn]] inline void invariant_broken(const char* file, int line, const char* condition, const std::string& detail) {
  std::fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n  %s\n", file, line, condition, detail.c_str());
  std::abort();
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The first line of `text` (without its '\n'); `text` keeps what follows it.
inline std::string_view take_line(std::string_view& text) {
  const std::size_t end = text.find('\n');
  const std::string_view line = text.substr(0, end);
  text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  return line;
}

// A 64-bit FNV-1a hash: a deterministic seed derived from an input (e.g. where to split it).
inline std::uint64_t hash_of(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : text) {
    hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  }
  return hash;
}

// Up to 16 cut offsets (ascending) spread over `size`, from `seed`: where a target splits an input
// to check that a parser fed in pieces parses as fed at once.
inline std::vector<std::size_t> cuts_from(std::uint64_t seed, std::size_t size) {
  std::vector<std::size_t> cuts;
  std::size_t at = 0;
  for (int i = 0; i < 16 && size > 0; ++i) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    at += 1 + (seed >> 33) % (size / 8 + 2);
    if (at >= size) {
      break;
    }
    cuts.push_back(at);
  }
  return cuts;
}

}  // namespace llmd::fuzz

// Aborts with `detail` (anything convertible to std::string) when `condition` is false.
#define LLMD_FUZZ_CHECK(condition, detail)                                        \
  do {                                                                            \
    if (!(condition)) {                                                           \
      ::llmd::fuzz::invariant_broken(__FILE__, __LINE__, #condition, (detail));   \
    }                                                                             \
  } while (false)
