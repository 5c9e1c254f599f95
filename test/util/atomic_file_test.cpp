#include "util/atomic_file.hpp"

#include <filesystem>

#include <gtest/gtest.h>

namespace fs = std::filesystem;
using llmd::util::AtomicFile;

namespace {

fs::path temp_dir() {
  auto dir = fs::temp_directory_path() / ("llmd-atomic-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                          "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

}  // namespace

TEST(AtomicFile, CommitWritesContentAndLeavesNoTemporary) {
  const auto dir = temp_dir();
  {
    AtomicFile file(dir / "out.json");
    file.write("{\"a\":");
    file.write("1}");
    ASSERT_TRUE(file.commit());
  }
  EXPECT_EQ(*llmd::util::read_file(dir / "out.json"), "{\"a\":1}");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

TEST(AtomicFile, DestructionWithoutCommitKeepsPreviousContent) {
  const auto dir = temp_dir();
  ASSERT_TRUE(llmd::util::write_file_atomically(dir / "out.json", "old"));
  {
    AtomicFile file(dir / "out.json");
    file.write("half-writ");
  }
  EXPECT_EQ(*llmd::util::read_file(dir / "out.json"), "old");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

TEST(AtomicFile, UnwritableDirectoryNamesThePath) {
  auto result = llmd::util::write_file_atomically("/nonexistent-dir/x/out.json", "x");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().find("/nonexistent-dir/x/out.json"), std::string::npos);
}

TEST(ReadFile, MissingFileNamesThePath) {
  auto result = llmd::util::read_file("/nonexistent-file.yaml");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().find("/nonexistent-file.yaml"), std::string::npos);
}

TEST(ReadFile, WithALimitReadsAtMostThatManyBytes) {
  const auto dir = temp_dir();
  ASSERT_TRUE(llmd::util::write_file_atomically(dir / "f", "0123456789"));
  EXPECT_EQ(*llmd::util::read_file(dir / "f", 4), "0123");
  EXPECT_EQ(*llmd::util::read_file(dir / "f", 10), "0123456789");
  EXPECT_EQ(*llmd::util::read_file(dir / "f", 100), "0123456789");
  EXPECT_EQ(*llmd::util::read_file("/dev/zero", 3), std::string(3, '\0'));  // endless input: stops at the limit
  auto missing = llmd::util::read_file("/nonexistent-file.yaml", 4);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), "cannot read /nonexistent-file.yaml: No such file or directory");
}
