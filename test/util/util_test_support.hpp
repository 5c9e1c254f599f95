#pragma once
// Test support for test/util: scratch folders (support/scratch_dir.hpp) and counting what a folder holds.
#include <unistd.h>

#include <filesystem>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "support/scratch_dir.hpp"

namespace llmd::test {

// How many entries `dir` holds (hidden ones included: a temporary left behind counts).
inline std::size_t entries(const std::filesystem::path& dir) {
  return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()));
}

}  // namespace llmd::test
