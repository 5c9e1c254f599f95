#pragma once
// A file with the given content in the test's temp directory, removed at scope exit (datasets and
// traces of the prompt source tests).
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace llmd::engine::test {

class TempFile {
 public:
  explicit TempFile(const std::string& content, const std::string& suffix = ".jsonl") {
    m_path = testing::TempDir() + "llmd-engine-" + std::to_string(getpid()) + "-" + std::to_string(s_counter++) + suffix;
    std::ofstream(m_path, std::ios::binary) << content;
  }
  ~TempFile() { std::remove(m_path.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return m_path; }

 private:
  static inline int s_counter = 0;
  std::string m_path;
};

}  // namespace llmd::engine::test
