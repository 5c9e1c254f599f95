// util::StreamingFile: an output written while it grows, in bounded memory, still atomic.
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "util/streaming_file.hpp"
#include "util_test_support.hpp"

namespace llmd::util {
namespace {

using test::entries;
using test::scratch_dir;
using testing::HasSubstr;

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(StreamingFile, NothingAppearsUnderTheNameBeforeCommitThenAllOfIt) {
  const auto dir = scratch_dir();
  std::ofstream(dir / "out.csv") << "previous\n";
  auto file = StreamingFile::open(dir / "out.csv");
  ASSERT_TRUE(file) << file.error();
  std::string expected;
  for (int i = 0; i < 20000; ++i) {  // ~ 4x the buffer: flushed to the temporary on the way
    const std::string line = "row " + std::to_string(i) + ",some,fields,to,make,it,longer\n";
    (*file)->write(line);
    expected += line;
  }
  ASSERT_GT(expected.size(), 2 * k_streaming_buffer_bytes);
  EXPECT_EQ(read_all(dir / "out.csv"), "previous\n");  // the name still has the old content
  EXPECT_EQ(entries(dir), 2u);                         // and the temporary is next to it
  ASSERT_TRUE((*file)->commit());
  EXPECT_EQ(read_all(dir / "out.csv"), expected);
  EXPECT_EQ((*file)->bytes(), expected.size());
  EXPECT_EQ(entries(dir), 1u);
  EXPECT_FALSE((*file)->commit()) << "a second commit is refused";
}

TEST(StreamingFile, AnUncommittedFileLeavesNoTemporaryAndTheOldContent) {
  const auto dir = scratch_dir();
  std::ofstream(dir / "out.csv") << "previous\n";
  {
    auto file = StreamingFile::open(dir / "out.csv");
    ASSERT_TRUE(file);
    (*file)->write(std::string(3 * k_streaming_buffer_bytes, 'x'));
  }
  EXPECT_EQ(read_all(dir / "out.csv"), "previous\n");
  EXPECT_EQ(entries(dir), 1u);
}

TEST(StreamingFile, ANewFileGetsTheUsualPermissions) {
  const auto dir = scratch_dir();
  const mode_t old_mask = ::umask(022);
  auto file = StreamingFile::open(dir / "new.csv");
  ::umask(old_mask);
  ASSERT_TRUE(file);
  (*file)->write("a\n");
  ASSERT_TRUE((*file)->commit());
  struct stat st {};
  ASSERT_EQ(::stat((dir / "new.csv").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);  // not the temporary's 0600
}

TEST(StreamingFile, ADeviceIsWrittenInPlaceAndAWriteErrorIsReportedAtCommit) {
  auto null = StreamingFile::open("/dev/null");
  ASSERT_TRUE(null) << null.error();
  null->get()->write("discarded\n");
  EXPECT_TRUE(null->get()->commit());
  EXPECT_TRUE(std::filesystem::exists("/dev/null"));
  auto full = StreamingFile::open("/dev/full");  // every write: ENOSPC
  ASSERT_TRUE(full) << full.error();
  full->get()->write(std::string(2 * k_streaming_buffer_bytes, 'x'));
  const auto committed = full->get()->commit();
  ASSERT_FALSE(committed);
  EXPECT_THAT(committed.error(), HasSubstr("/dev/full"));
}

TEST(StreamingFile, AFolderAMissingFolderAndAFifoWithoutReaderAreErrorsNamingThePath) {
  const auto dir = scratch_dir();
  auto folder = StreamingFile::open(dir);
  ASSERT_FALSE(folder);
  EXPECT_THAT(folder.error(), HasSubstr(dir.string()));
  auto missing = StreamingFile::open(dir / "no" / "such.csv");
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error(), HasSubstr("no"));
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  auto fifo = StreamingFile::open(dir / "fifo");
  ASSERT_FALSE(fifo);
  EXPECT_THAT(fifo.error(), HasSubstr((dir / "fifo").string()));
}

}  // namespace
}  // namespace llmd::util
