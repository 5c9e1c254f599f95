#pragma once
// An output written while it grows (issue 15: `run --out csv=FILE`, one row per request during the
// run), in bounded memory and still atomic: a regular file or a missing name is written to a
// temporary next to it (create_temporary, output_path.hpp) and renamed over it by commit(); a
// character device, FIFO or socket, and "-" (standard output), are written in place. Nothing is
// held beyond a k_streaming_buffer_bytes buffer, flushed when full and at least every
// k_streaming_flush_interval (which also keeps the temporary's mtime fresh, so that another run's
// stale-temporary sweep, 60 s, never takes it). The destructor of an uncommitted file removes its
// temporary: a crash or early return never leaves half a file under the name.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace llmd::util {

inline constexpr std::size_t k_streaming_buffer_bytes = 256 * 1024;
inline constexpr std::chrono::seconds k_streaming_flush_interval{10};

class StreamingFile {
 public:
  // `path` "-" is standard output. Errors name the path and say what to do.
  static Result<std::unique_ptr<StreamingFile>> open(const std::filesystem::path& path);
  StreamingFile(const StreamingFile&) = delete;
  StreamingFile& operator=(const StreamingFile&) = delete;
  ~StreamingFile();

  // Appends; the first write error is kept (commit() returns it) and later data is dropped.
  void write(std::string_view data);
  // Flushes, fsyncs and renames the temporary over the name (in place: flushes). Once.
  Result<void> commit();
  std::uint64_t bytes() const { return m_bytes; }

 private:
  StreamingFile() = default;
  void flush();

  std::filesystem::path m_shown;      // as given, for messages
  std::filesystem::path m_target;     // the name the temporary replaces
  std::filesystem::path m_temporary;  // empty: written in place
  int m_fd = -1;
  bool m_owns_fd = true;
  bool m_committed = false;
  std::string m_buffer;
  std::uint64_t m_bytes = 0;
  std::optional<std::string> m_error;
  std::chrono::steady_clock::time_point m_last_flush{};
};

}  // namespace llmd::util
