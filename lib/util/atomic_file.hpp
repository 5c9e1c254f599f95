#pragma once
// Atomic file output (ccache's AtomicFile): content goes to "<path>.tmp.<pid>" and is renamed
// over <path> only by commit(). The destructor never commits, so a crash or an early return
// cannot leave half-written results behind; it removes the temporary file.
#include <filesystem>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace llmd::util {

class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path path);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  void write(std::string_view data) { m_content.append(data); }
  // Writes the temporary file, fsyncs it and renames it over the target.
  Result<void> commit();

 private:
  std::filesystem::path m_path;
  std::filesystem::path m_tmp_path;
  std::string m_content;
  bool m_committed = false;
};

// Convenience: write `data` to `path` atomically.
Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view data);

// Reads a whole file; the error names the path and the system's reason.
Result<std::string> read_file(const std::filesystem::path& path);
// Reads at most `max_bytes` of a file: all of it when it is shorter, else its first `max_bytes`.
// Devices (/dev/zero) and FIFOs are read the same way, so an endless input stops there. A caller
// that must reject larger files asks for one byte more than its limit.
Result<std::string> read_file(const std::filesystem::path& path, std::size_t max_bytes);

}  // namespace llmd::util
