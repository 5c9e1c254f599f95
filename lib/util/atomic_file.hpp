#pragma once
// Atomic file output (ccache's AtomicFile): content is buffered and nothing is written before
// commit(). The destructor never commits, so a crash or an early return cannot leave
// half-written results behind. What commit() does depends on what the path names once symlinks
// are followed (util/output_path.hpp): a regular file or a missing name is replaced atomically
// through a temporary in the same folder; a character device (/dev/null), a FIFO or a socket is
// written in place; a folder or a block device is an error.
#include <filesystem>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace llmd::util {

class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path path) : m_path(std::move(path)) {}
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::string_view data) { m_content.append(data); }
  // Writes the content to the path (see the file comment). A FIFO without a reader is an error at
  // once, never a wait. The error names the path and says what to do.
  Result<void> commit();

 private:
  std::filesystem::path m_path;
  std::string m_content;
};

// Convenience: write `data` to `path` as AtomicFile::commit does.
Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view data);

// Writes all of `data` to the open descriptor `fd` (retrying short writes and EINTR). A closed
// pipe or FIFO is an error (EPIPE), not a SIGPIPE that ends the process. `name` is used in the error.
Result<void> write_all(int fd, std::string_view data, std::string_view name);

// Reads a whole file; the error names the path and the system's reason.
Result<std::string> read_file(const std::filesystem::path& path);
// Reads at most `max_bytes` of a file: all of it when it is shorter, else its first `max_bytes`.
// Devices (/dev/zero) and FIFOs are read the same way, so an endless input stops there. A caller
// that must reject larger files asks for one byte more than its limit.
Result<std::string> read_file(const std::filesystem::path& path, std::size_t max_bytes);

}  // namespace llmd::util
