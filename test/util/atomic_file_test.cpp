#include "util/atomic_file.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "util/util_test_support.hpp"

namespace fs = std::filesystem;
using llmd::util::AtomicFile;
using llmd::util::write_file_atomically;
using llmd::test::entries;
using llmd::test::scratch_dir;
using testing::HasSubstr;

namespace {

bool is_char_device(const fs::path& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode);
}

// Everything readable from `fd` until EOF.
std::string read_all(int fd) {
  std::string text;
  char buffer[4096];
  for (;;) {
    const auto n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return text;
    }
    text.append(buffer, static_cast<std::size_t>(n));
  }
}

}  // namespace

TEST(AtomicFile, CommitWritesContentAndLeavesNoTemporary) {
  const auto dir = scratch_dir();
  {
    AtomicFile file(dir / "out.json");
    file.write("{\"a\":");
    file.write("1}");
    ASSERT_TRUE(file.commit());
  }
  EXPECT_EQ(*llmd::util::read_file(dir / "out.json"), "{\"a\":1}");
  EXPECT_EQ(entries(dir), 1u);
}

TEST(AtomicFile, DestructionWithoutCommitKeepsPreviousContent) {
  const auto dir = scratch_dir();
  ASSERT_TRUE(write_file_atomically(dir / "out.json", "old"));
  {
    AtomicFile file(dir / "out.json");
    file.write("half-writ");
  }
  EXPECT_EQ(*llmd::util::read_file(dir / "out.json"), "old");
  EXPECT_EQ(entries(dir), 1u);
}

TEST(AtomicFile, UnwritableDirectoryNamesThePath) {
  auto result = write_file_atomically("/nonexistent-dir/x/out.json", "x");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().find("/nonexistent-dir/x/out.json"), std::string::npos);
}

// Issue 10.3: a character device was replaced by a regular file. A device node of our own
// (major 1, minor 3: the null device) stands in for /dev/null, so a regression cannot replace the
// system's /dev/null; DevNullStaysACharacterDevice below checks the real one.
TEST(AtomicFile, ACharacterDeviceIsWrittenInPlace) {
  const auto dir = scratch_dir();
  if (::mknod((dir / "null").c_str(), S_IFCHR | 0666, ::makedev(1, 3)) != 0) {
    GTEST_SKIP() << "cannot create a device node here: " << std::strerror(errno);
  }
  ASSERT_TRUE(write_file_atomically(dir / "null", "{}"));
  EXPECT_TRUE(is_char_device(dir / "null"));
  EXPECT_EQ(entries(dir), 1u);
}

// Issue 10.3: a symlink to /proc/self/fd/N became a regular file; the bytes must reach the pipe.
TEST(AtomicFile, ASymlinkToAPipeThroughProcSelfFdWritesIntoThePipe) {
  const auto dir = scratch_dir();
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  fs::create_symlink("/proc/self/fd/" + std::to_string(fds[1]), dir / "out.json");
  auto written = write_file_atomically(dir / "out.json", "{\"via\":\"pipe\"}");
  ::close(fds[1]);
  const auto received = read_all(fds[0]);
  ::close(fds[0]);
  ASSERT_TRUE(written) << written.error();
  EXPECT_EQ(received, "{\"via\":\"pipe\"}");
  EXPECT_TRUE(fs::is_symlink(dir / "out.json"));
}

// Issue 10.3: a FIFO became a regular file. The content is larger than a pipe's buffer, so the
// write can only complete while the reader thread reads.
TEST(AtomicFile, AFifoWithAReaderThreadReceivesTheContent) {
  const auto dir = scratch_dir();
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  // Held open so the writer finds a reader however the threads are scheduled; it never reads.
  const int keep = ::open((dir / "fifo").c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(keep, 0);
  std::string received;
  std::thread reader([&] {
    const int fd = ::open((dir / "fifo").c_str(), O_RDONLY | O_CLOEXEC);
    received = read_all(fd);
    ::close(fd);
  });
  const std::string content(1 << 20, 'x');
  auto written = write_file_atomically(dir / "fifo", content);
  // Should the write have gone elsewhere, the reader still waits in open(): release it.
  ::close(::open((dir / "fifo").c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  reader.join();
  ::close(keep);
  ASSERT_TRUE(written) << written.error();
  EXPECT_EQ(received.size(), content.size());
  EXPECT_EQ(fs::status(dir / "fifo").type(), fs::file_type::fifo);
}

TEST(AtomicFile, AFifoWithoutAReaderIsAnErrorAtOnce) {
  const auto dir = scratch_dir();
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  auto written = write_file_atomically(dir / "fifo", "{}");
  ASSERT_FALSE(written);
  EXPECT_THAT(written.error(), HasSubstr((dir / "fifo").string()));
  EXPECT_THAT(written.error(), HasSubstr("FIFO with no reader"));
  EXPECT_EQ(fs::status(dir / "fifo").type(), fs::file_type::fifo);
}

TEST(AtomicFile, ASymlinkToARegularFileKeepsTheLinkAndReplacesTheTarget) {
  const auto dir = scratch_dir();
  fs::create_directories(dir / "real");
  ASSERT_TRUE(write_file_atomically(dir / "real" / "r.json", "old"));
  fs::create_symlink("real/r.json", dir / "link.json");
  ASSERT_TRUE(write_file_atomically(dir / "link.json", "new"));
  EXPECT_TRUE(fs::is_symlink(dir / "link.json"));
  EXPECT_EQ(fs::read_symlink(dir / "link.json"), "real/r.json");
  EXPECT_EQ(*llmd::util::read_file(dir / "real" / "r.json"), "new");
  EXPECT_EQ(entries(dir / "real"), 1u);
  EXPECT_EQ(entries(dir), 2u);
}

TEST(AtomicFile, ADanglingSymlinkCreatesItsTarget) {
  const auto dir = scratch_dir();
  fs::create_directories(dir / "real");
  fs::create_symlink("real/r.json", dir / "link.json");
  ASSERT_TRUE(write_file_atomically(dir / "link.json", "new"));
  EXPECT_TRUE(fs::is_symlink(dir / "link.json"));
  EXPECT_EQ(*llmd::util::read_file(dir / "real" / "r.json"), "new");
}

TEST(AtomicFile, ASymlinkToDevNullKeepsTheLinkAndTheDevice) {
  const auto dir = scratch_dir();
  fs::create_symlink("/dev/null", dir / "out.json");
  ASSERT_TRUE(write_file_atomically(dir / "out.json", "{}"));
  EXPECT_TRUE(fs::is_symlink(dir / "out.json"));
  EXPECT_TRUE(is_char_device("/dev/null"));
  EXPECT_EQ(entries(dir), 1u);
}

TEST(AtomicFile, AFolderIsAnErrorNamingIt) {
  const auto dir = scratch_dir();
  fs::create_directories(dir / "results");
  auto written = write_file_atomically(dir / "results", "{}");
  ASSERT_FALSE(written);
  EXPECT_THAT(written.error(), HasSubstr((dir / "results").string() + ": it is a folder; name a file inside it"));
  EXPECT_TRUE(fs::is_directory(dir / "results"));
  EXPECT_EQ(entries(dir / "results"), 0u);
}

// Issue 10.3: the temporary name "<path>.tmp.<pid>" was predictable and opened without O_EXCL, so
// a symlink planted there made the write go through it (truncating its target) and the rename
// then put the planted link in place of the result.
TEST(AtomicFile, APlantedLinkAtTheOldTemporaryNameIsNotFollowed) {
  const auto dir = scratch_dir();
  ASSERT_TRUE(write_file_atomically(dir / "victim", "precious"));
  fs::create_symlink(dir / "victim", dir / ("out.json.tmp." + std::to_string(::getpid())));
  ASSERT_TRUE(write_file_atomically(dir / "out.json", "{}"));
  EXPECT_EQ(*llmd::util::read_file(dir / "victim"), "precious");
  EXPECT_FALSE(fs::is_symlink(dir / "out.json"));
  EXPECT_EQ(*llmd::util::read_file(dir / "out.json"), "{}");
}

// Issue 10.3: as root, `--out json=/dev/null` replaced the system's /dev/null with a regular file.
TEST(AtomicFile, DevNullStaysACharacterDevice) {
  ASSERT_TRUE(write_file_atomically("/dev/null", "{}"));
  EXPECT_TRUE(is_char_device("/dev/null"));
}

// A device that refuses the bytes is an error naming it, not a replaced device.
TEST(AtomicFile, AFullDeviceIsAnErrorNamingIt) {
  auto written = write_file_atomically("/dev/full", "{}");
  ASSERT_FALSE(written);
  EXPECT_THAT(written.error(), HasSubstr("cannot write /dev/full: No space left on device"));
  EXPECT_TRUE(is_char_device("/dev/full"));
}

TEST(AtomicFile, ABlockDeviceIsNeverWritten) {
  const auto dir = scratch_dir();
  if (::mknod((dir / "disk").c_str(), S_IFBLK | 0600, ::makedev(7, 0)) != 0) {
    GTEST_SKIP() << "cannot create a device node here: " << std::strerror(errno);
  }
  auto written = write_file_atomically(dir / "disk", "{}");
  ASSERT_FALSE(written);
  EXPECT_THAT(written.error(), HasSubstr((dir / "disk").string() + ": it is a block device"));
  EXPECT_EQ(fs::status(dir / "disk").type(), fs::file_type::block);
}

// The reader goes away after one byte: the write fails with EPIPE instead of SIGPIPE ending the
// process (the test binary would die).
TEST(AtomicFile, AFifoWhoseReaderLeavesIsAnErrorNotADeadProcess) {
  const auto dir = scratch_dir();
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  const int keep = ::open((dir / "fifo").c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(keep, 0);
  std::thread reader([&] {
    const int fd = ::open((dir / "fifo").c_str(), O_RDONLY | O_CLOEXEC);
    ::close(keep);
    char byte = 0;
    (void)::read(fd, &byte, 1);
    ::close(fd);
  });
  auto written = write_file_atomically(dir / "fifo", std::string(1 << 20, 'x'));
  reader.join();
  ASSERT_FALSE(written);
  EXPECT_THAT(written.error(), HasSubstr("Broken pipe"));
}

TEST(AtomicFile, AUnixSocketReceivesTheContent) {
  const auto dir = scratch_dir();
  const auto path = dir / "sock";
  const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  ASSERT_EQ(::bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  std::string received;
  std::thread server([&] {
    const int fd = ::accept(listener, nullptr, nullptr);
    received = read_all(fd);
    ::close(fd);
  });
  auto written = write_file_atomically(path, "{\"via\":\"socket\"}");
  if (!written) {
    ::shutdown(listener, SHUT_RDWR);  // release accept()
  }
  server.join();
  ::close(listener);
  ASSERT_TRUE(written) << written.error();
  EXPECT_EQ(received, "{\"via\":\"socket\"}");
  EXPECT_EQ(fs::status(path).type(), fs::file_type::socket);
}

// A replaced file keeps its permission bits; a new one gets 0666 minus the umask, as open(2)
// would give it (mkstemp alone would leave 0600).
TEST(AtomicFile, ModesAreThoseOfTheReplacedFileOrTheUmask) {
  const auto dir = scratch_dir();
  const mode_t umask_now = ::umask(022);
  ASSERT_TRUE(write_file_atomically(dir / "new.json", "{}"));
  ASSERT_TRUE(write_file_atomically(dir / "kept.json", "{}"));
  fs::permissions(dir / "kept.json", fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  ASSERT_TRUE(write_file_atomically(dir / "kept.json", "{\"v\":2}"));
  ::umask(umask_now);
  EXPECT_EQ(fs::status(dir / "new.json").permissions(), static_cast<fs::perms>(0644));
  EXPECT_EQ(fs::status(dir / "kept.json").permissions(), static_cast<fs::perms>(0640));
  EXPECT_EQ(*llmd::util::read_file(dir / "kept.json"), "{\"v\":2}");
}

TEST(AtomicFile, AMissingFolderSaysCreateItAndLeavesNothing) {
  const auto dir = scratch_dir();
  auto written = write_file_atomically(dir / "missing" / "r.json", "{}");
  ASSERT_FALSE(written);
  EXPECT_THAT(written.error(), HasSubstr("cannot write " + (dir / "missing" / "r.json").string() + ": the folder " +
                                         (dir / "missing").string() + " does not exist; create it first"));
  EXPECT_EQ(entries(dir), 0u);
}

TEST(ReadFile, MissingFileNamesThePath) {
  auto result = llmd::util::read_file("/nonexistent-file.yaml");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().find("/nonexistent-file.yaml"), std::string::npos);
}

TEST(ReadFile, WithALimitReadsAtMostThatManyBytes) {
  const auto dir = scratch_dir();
  ASSERT_TRUE(llmd::util::write_file_atomically(dir / "f", "0123456789"));
  EXPECT_EQ(*llmd::util::read_file(dir / "f", 4), "0123");
  EXPECT_EQ(*llmd::util::read_file(dir / "f", 10), "0123456789");
  EXPECT_EQ(*llmd::util::read_file(dir / "f", 100), "0123456789");
  EXPECT_EQ(*llmd::util::read_file("/dev/zero", 3), std::string(3, '\0'));  // endless input: stops at the limit
  auto missing = llmd::util::read_file("/nonexistent-file.yaml", 4);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), "cannot read /nonexistent-file.yaml: No such file or directory");
}
