#pragma once
// The running test's own scratch folder: /tmp/llmd-<suite>-<test>-<pid>, emptied and created. One
// per test and process, so tests that ctest runs in parallel never share files.
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace llmd::test {

inline std::filesystem::path scratch_dir() {
  const auto* info = testing::UnitTest::GetInstance()->current_test_info();
  auto dir = std::filesystem::temp_directory_path() / (std::string("llmd-") + info->test_suite_name() + "-" +
                                                       info->name() + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace llmd::test
