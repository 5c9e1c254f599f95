#include "util/output_path.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "util/util_test_support.hpp"

#include "util/atomic_file.hpp"

namespace fs = std::filesystem;
using llmd::util::check_output_writable;
using llmd::util::is_temporary_name;
using llmd::util::remove_stale_temporaries;
using llmd::test::entries;
using llmd::test::scratch_dir;
using testing::HasSubstr;

namespace {

fs::path touch(const fs::path& path, std::chrono::seconds age) {
  llmd::util::write_file_atomically(path, "partial");
  fs::last_write_time(path, fs::file_time_type::clock::now() - age);
  return path;
}

}  // namespace

TEST(CheckOutputWritable, AMissingFolderSaysCreateIt) {
  const auto dir = scratch_dir();
  auto checked = check_output_writable(dir / "missing" / "r.json");
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error(), "cannot write " + (dir / "missing" / "r.json").string() + ": the folder " +
                                 (dir / "missing").string() + " does not exist; create it first (mkdir -p " +
                                 (dir / "missing").string() + ")");
}

TEST(CheckOutputWritable, AFolderIsAnError) {
  const auto dir = scratch_dir();
  auto checked = check_output_writable(dir);
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error(), "cannot write " + dir.string() + ": it is a folder; name a file inside it");
}

TEST(CheckOutputWritable, AFileInPlaceOfAFolderIsAnError) {
  const auto dir = scratch_dir();
  ASSERT_TRUE(llmd::util::write_file_atomically(dir / "file", "x"));
  auto checked = check_output_writable(dir / "file" / "r.json");
  ASSERT_FALSE(checked);
  EXPECT_THAT(checked.error(), HasSubstr("cannot write " + (dir / "file" / "r.json").string()));
}

TEST(CheckOutputWritable, AFolderThatRefusesNewFilesIsAnError) {
  // Root ignores permission bits, but not a sysfs folder.
  fs::path folder = "/sys";
  if (::geteuid() != 0) {
    folder = scratch_dir() / "read-only";
    fs::create_directories(folder);
    fs::permissions(folder, fs::perms::owner_read | fs::perms::owner_exec);
  }
  auto checked = check_output_writable(folder / "r.json");
  ASSERT_FALSE(checked);
  EXPECT_THAT(checked.error(), HasSubstr("cannot create a file in the folder " + folder.string()));
  EXPECT_THAT(checked.error(), HasSubstr("make it writable or choose another folder"));
}

// A missing name or a regular file: the probe temporary is removed and the file is untouched.
TEST(CheckOutputWritable, LeavesNothingBehind) {
  const auto dir = scratch_dir();
  ASSERT_TRUE(check_output_writable(dir / "r.json"));
  EXPECT_EQ(entries(dir), 0u);
  ASSERT_TRUE(llmd::util::write_file_atomically(dir / "r.json", "old"));
  ASSERT_TRUE(check_output_writable(dir / "r.json"));
  EXPECT_EQ(entries(dir), 1u);
  EXPECT_EQ(*llmd::util::read_file(dir / "r.json"), "old");
}

// A FIFO is checked without being opened: opening it without a reader would fail, and with one
// the reader would see an end of file before the real content.
TEST(CheckOutputWritable, DevicesAndFifosAreCheckedWithoutOpeningThem) {
  const auto dir = scratch_dir();
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  EXPECT_TRUE(check_output_writable(dir / "fifo"));
  EXPECT_TRUE(check_output_writable("/dev/null"));
  EXPECT_TRUE(fs::is_character_file("/dev/null"));
}

TEST(PrepareOutputFolder, CreatesParentsAndRejectsAFile) {
  const auto dir = scratch_dir();
  ASSERT_TRUE(llmd::util::prepare_output_folder(dir / "a" / "b"));
  EXPECT_TRUE(fs::is_directory(dir / "a" / "b"));
  EXPECT_EQ(entries(dir / "a" / "b"), 0u);
  ASSERT_TRUE(llmd::util::write_file_atomically(dir / "file", "x"));
  auto prepared = llmd::util::prepare_output_folder(dir / "file" / "b");
  ASSERT_FALSE(prepared);
  EXPECT_THAT(prepared.error(), HasSubstr("cannot create the folder " + (dir / "file" / "b").string()));
}

TEST(TemporaryName, OnlyOurPattern) {
  EXPECT_TRUE(is_temporary_name(".r.json.llmd-tmp.123.aZ09xY"));
  EXPECT_TRUE(is_temporary_name(".a.llmd-tmp.b.llmd-tmp.1.abcdef"));
  EXPECT_FALSE(is_temporary_name("r.json.llmd-tmp.123.aZ09xY"));   // no leading dot
  EXPECT_FALSE(is_temporary_name(".r.json.tmp.123"));              // the old pattern, maybe not ours
  EXPECT_FALSE(is_temporary_name(".r.json.llmd-tmp.12a.abcdef"));  // pid not a number
  EXPECT_FALSE(is_temporary_name(".r.json.llmd-tmp.123.abcde"));   // 5 random characters
  EXPECT_FALSE(is_temporary_name(".r.json.llmd-tmp.123.abc-ef"));
  EXPECT_FALSE(is_temporary_name("..llmd-tmp.123.abcdef"));        // no name
}

TEST(TemporaryName, CreatedTemporariesHaveIt) {
  const auto dir = scratch_dir();
  auto temporary = llmd::util::create_temporary(dir / std::string(300, 'n'));  // cut to fit NAME_MAX
  ASSERT_TRUE(temporary) << temporary.error();
  ::close(temporary->fd);
  EXPECT_TRUE(is_temporary_name(temporary->path.filename().string())) << temporary->path;
  EXPECT_EQ(temporary->path.parent_path(), dir);
  EXPECT_EQ(fs::status(temporary->path).permissions(), static_cast<fs::perms>(0600));
}

TEST(RemoveStaleTemporaries, RemovesOnlyOurOldRegularFiles) {
  const auto dir = scratch_dir();
  const auto old = std::chrono::seconds(120);
  const auto stale = touch(dir / ".r.json.llmd-tmp.999.abcDEF", old);
  touch(dir / ".r.json.llmd-tmp.999.fresh1", std::chrono::seconds(0));  // a write in progress
  touch(dir / "r.json.tmp.999", old);                                     // not our pattern
  touch(dir / "r.json", old);
  fs::create_directories(dir / ".d.llmd-tmp.999.folder");
  fs::create_symlink(dir / "r.json", dir / ".l.llmd-tmp.999.symlnk");
  const auto removed = remove_stale_temporaries(dir);
  EXPECT_EQ(removed, std::vector<fs::path>{stale});
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_EQ(entries(dir), 5u);
}

// Issue 10.14: a writer killed mid-write leaves its temporary behind; the next start removes it.
// The child is killed by SIGXFSZ (a file size limit below the content), as SIGKILL would, after
// the temporary is created and before the rename.
TEST(RemoveStaleTemporaries, RemovesWhatAKilledWriterLeft) {
  const auto dir = scratch_dir();
  ASSERT_TRUE(llmd::util::write_file_atomically(dir / "r.json", "previous"));
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::signal(SIGXFSZ, SIG_DFL);
    const rlimit limit{1024, 1024};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    (void)llmd::util::write_file_atomically(dir / "r.json", std::string(1 << 20, 'x'));
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ) << status;
  EXPECT_EQ(*llmd::util::read_file(dir / "r.json"), "previous");
  ASSERT_EQ(entries(dir), 2u);
  EXPECT_TRUE(remove_stale_temporaries(dir).empty());  // too recent: could be a live writer's
  for (const auto& entry : fs::directory_iterator(dir)) {
    fs::last_write_time(entry.path(), fs::file_time_type::clock::now() - std::chrono::minutes(2));
  }
  EXPECT_EQ(remove_stale_temporaries(dir).size(), 1u);
  EXPECT_EQ(entries(dir), 1u);
  EXPECT_EQ(*llmd::util::read_file(dir / "r.json"), "previous");
}
