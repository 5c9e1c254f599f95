#pragma once
// Test support for test/util: a scratch folder per test and counting what a folder holds.
#include <unistd.h>

#include <filesystem>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

namespace llmd::test {

// A fresh, empty /tmp/llmd-util-<pid>-<test> folder.
inline std::filesystem::path util_scratch_dir() {
  auto dir = std::filesystem::temp_directory_path() /
             ("llmd-util-" + std::to_string(::getpid()) + "-" + testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// How many entries `dir` holds (hidden ones included: a temporary left behind counts).
inline std::size_t entries(const std::filesystem::path& dir) {
  return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()));
}

}  // namespace llmd::test
