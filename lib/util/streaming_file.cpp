#include "util/streaming_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "util/atomic_file.hpp"
#include "util/output_path.hpp"

namespace llmd::util {

Result<std::unique_ptr<StreamingFile>> StreamingFile::open(const std::filesystem::path& path) {
  std::unique_ptr<StreamingFile> file(new StreamingFile());
  file->m_shown = path;
  file->m_buffer.reserve(k_streaming_buffer_bytes);
  file->m_last_flush = std::chrono::steady_clock::now();
  if (path == "-") {
    file->m_fd = STDOUT_FILENO;
    file->m_owns_fd = false;
    return file;
  }
  auto target = resolve_output(path);
  if (!target) {
    return fail(target.error());
  }
  const std::string shown = show_output(path, target->path);
  switch (target->kind) {
    case OutputKind::missing:
    case OutputKind::regular: {
      auto temporary = create_temporary(target->path);
      if (!temporary) {
        return fail(fmt::format("cannot write {}: {}", shown, temporary.error()));
      }
      if (target->kind == OutputKind::regular) {
        ::fchmod(temporary->fd, target->mode);
      } else {
        const mode_t mask = ::umask(0);
        ::umask(mask);
        ::fchmod(temporary->fd, 0666 & ~mask);
      }
      file->m_fd = temporary->fd;
      file->m_temporary = temporary->path;
      file->m_target = target->path;
      return file;
    }
    case OutputKind::char_device:
    case OutputKind::fifo: {
      // O_NONBLOCK: a FIFO without a reader is an error now (ENXIO), never a wait.
      const int fd = ::open(target->path.c_str(), O_WRONLY | O_CLOEXEC | O_NONBLOCK);
      if (fd < 0) {
        return fail(fmt::format("cannot open {} for writing: {}", shown, std::strerror(errno)));
      }
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      file->m_fd = fd;
      return file;
    }
    default: return fail(output_refusal(path, target->kind));
  }
}

StreamingFile::~StreamingFile() {
  if (m_owns_fd && m_fd >= 0) {
    ::close(m_fd);
  }
  if (!m_committed && !m_temporary.empty()) {
    ::unlink(m_temporary.c_str());
  }
}

void StreamingFile::flush() {
  m_last_flush = std::chrono::steady_clock::now();
  if (m_buffer.empty()) {
    return;
  }
  if (!m_error) {
    if (auto written = write_all(m_fd, m_buffer, m_shown.string()); !written) {
      m_error = written.error();
    }
  }
  m_buffer.clear();
}

void StreamingFile::write(std::string_view data) {
  m_bytes += data.size();
  m_buffer.append(data);
  if (m_buffer.size() >= k_streaming_buffer_bytes ||
      std::chrono::steady_clock::now() - m_last_flush >= k_streaming_flush_interval) {
    flush();
  }
}

Result<void> StreamingFile::commit() {
  if (m_committed) {
    return fail(fmt::format("{}: already written", m_shown.string()));
  }
  flush();
  m_committed = true;
  if (m_error) {
    if (!m_temporary.empty()) {
      ::unlink(m_temporary.c_str());
    }
    return fail(*m_error);
  }
  if (m_temporary.empty()) {
    return {};
  }
  std::optional<std::string> error;
  if (::fsync(m_fd) != 0) {
    error = fmt::format("cannot write {}: fsync: {}", m_shown.string(), std::strerror(errno));
  }
  if (::close(m_fd) != 0 && !error) {
    error = fmt::format("cannot write {}: close: {}", m_shown.string(), std::strerror(errno));
  }
  m_fd = -1;
  if (!error && ::rename(m_temporary.c_str(), m_target.c_str()) != 0) {
    error = fmt::format("cannot rename {} to {}: {}", m_temporary.string(), m_target.string(), std::strerror(errno));
  }
  if (error) {
    ::unlink(m_temporary.c_str());
    return fail(*error);
  }
  return {};
}

}  // namespace llmd::util
