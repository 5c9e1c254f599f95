#include "util/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/core.h>

namespace llmd::util {

AtomicFile::AtomicFile(std::filesystem::path path)
    : m_path(std::move(path)), m_tmp_path(m_path.string() + fmt::format(".tmp.{}", ::getpid())) {}

AtomicFile::~AtomicFile() {
  if (!m_committed) {
    std::error_code ignored;
    std::filesystem::remove(m_tmp_path, ignored);
  }
}

Result<void> AtomicFile::commit() {
  const int fd = ::open(m_tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return fail(fmt::format("cannot write {}: {}", m_path.string(), std::strerror(errno)));
  }
  std::size_t done = 0;
  while (done < m_content.size()) {
    const auto n = ::write(fd, m_content.data() + done, m_content.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      const int err = errno;
      ::close(fd);
      return fail(fmt::format("cannot write {}: {}", m_path.string(), std::strerror(err)));
    }
    done += static_cast<std::size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(m_tmp_path.c_str(), m_path.c_str()) != 0) {
    return fail(fmt::format("cannot rename {} to {}: {}", m_tmp_path.string(), m_path.string(), std::strerror(errno)));
  }
  m_committed = true;
  return {};
}

Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view data) {
  AtomicFile file(path);
  file.write(data);
  return file.commit();
}

Result<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<std::string> read_file(const std::filesystem::path& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
  }
  constexpr std::size_t k_chunk_bytes = 64 * 1024;
  std::string text;
  while (text.size() < max_bytes && in) {
    const std::size_t before = text.size();
    const std::size_t wanted = std::min(k_chunk_bytes, max_bytes - before);
    text.resize(before + wanted);
    in.read(text.data() + before, static_cast<std::streamsize>(wanted));
    text.resize(before + static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) {
    return fail(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
  }
  return text;
}

}  // namespace llmd::util
