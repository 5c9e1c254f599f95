#include "util/atomic_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "util/output_path.hpp"

namespace llmd::util {

namespace fs = std::filesystem;

namespace {

// Blocks SIGPIPE on this thread while it lives, so writing to a pipe whose reader left fails with
// EPIPE instead of ending the process; a SIGPIPE raised meanwhile is consumed before unblocking.
class SigpipeBlocked {
 public:
  SigpipeBlocked() {
    ::sigemptyset(&m_pipe);
    ::sigaddset(&m_pipe, SIGPIPE);
    sigset_t pending;
    ::sigpending(&pending);
    m_was_pending = ::sigismember(&pending, SIGPIPE) == 1;
    ::pthread_sigmask(SIG_BLOCK, &m_pipe, &m_previous);
  }
  ~SigpipeBlocked() {
    sigset_t pending;
    if (!m_was_pending && ::sigpending(&pending) == 0 && ::sigismember(&pending, SIGPIPE) == 1) {
      const timespec zero{};
      (void)::sigtimedwait(&m_pipe, nullptr, &zero);
    }
    ::pthread_sigmask(SIG_SETMASK, &m_previous, nullptr);
  }
  SigpipeBlocked(const SigpipeBlocked&) = delete;
  SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;

 private:
  sigset_t m_pipe;
  sigset_t m_previous;
  bool m_was_pending = false;
};

// The permission bits a file created now gets: 0666 without the process umask (read from
// /proc/self/status; umask(2) cannot be read without being set, which races other threads).
mode_t new_file_mode() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Umask:", 0) == 0) {
      return static_cast<mode_t>(0666 & ~std::strtoul(line.c_str() + 6, nullptr, 8));
    }
  }
  return 0644;
}

// Temporary in the target's folder, written, fsync'd, renamed over the target. An existing
// target's mode (and owner, where allowed) carries over to its replacement.
Result<void> replace_atomically(const OutputTarget& target, std::string_view data, const std::string& shown) {
  auto temporary = create_temporary(target.path);
  if (!temporary) {
    return fail(fmt::format("cannot write {}: {}", shown, temporary.error()));
  }
  const bool existed = target.kind == OutputKind::regular;
  ::fchmod(temporary->fd, existed ? target.mode : new_file_mode());
  if (existed) {
    (void)::fchown(temporary->fd, target.uid, target.gid);  // best effort: only root may give files away
  }
  auto written = write_all(temporary->fd, data, shown);
  if (written && ::fsync(temporary->fd) != 0) {
    written = fail(fmt::format("cannot write {}: {}", shown, std::strerror(errno)));
  }
  if (::close(temporary->fd) != 0 && written) {
    written = fail(fmt::format("cannot write {}: {}", shown, std::strerror(errno)));
  }
  if (written && ::rename(temporary->path.c_str(), target.path.c_str()) != 0) {
    written = fail(fmt::format("cannot rename {} to {}: {}", temporary->path.string(), target.path.string(), std::strerror(errno)));
  }
  if (!written) {
    ::unlink(temporary->path.c_str());
  }
  return written;
}

// A character device or FIFO, opened for writing as it is: never created, truncated or replaced.
// O_NONBLOCK makes opening a FIFO without a reader fail (ENXIO) instead of waiting for one.
Result<void> write_in_place(const OutputTarget& target, std::string_view data, const std::string& shown) {
  const int fd = ::open(target.path.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENXIO && target.kind == OutputKind::fifo) {
      return fail(fmt::format("cannot write {}: it is a FIFO with no reader; start the reader first (e.g. cat {})", shown,
                              target.path.string()));
    }
    return fail(fmt::format("cannot write {}: {}", shown, std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !(S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
    ::close(fd);
    return fail(fmt::format("cannot write {}: it changed while being opened; try again", shown));
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);  // a reader slower than us is waited for
  auto written = write_all(fd, data, shown);
  ::close(fd);
  return written;
}

// A Unix-domain stream socket: connect, send, close.
Result<void> send_to_socket(const OutputTarget& target, std::string_view data, const std::string& shown) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const auto& name = target.path.native();
  if (name.size() >= sizeof(address.sun_path)) {
    return fail(fmt::format("cannot write {}: a socket path must be shorter than {} bytes", shown, sizeof(address.sun_path)));
  }
  std::memcpy(address.sun_path, name.c_str(), name.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const int err = errno;
    if (fd >= 0) {
      ::close(fd);
    }
    return fail(fmt::format("cannot write {}: cannot connect to the socket: {}", shown, std::strerror(err)));
  }
  auto written = write_all(fd, data, shown);
  ::close(fd);
  return written;
}

}  // namespace

Result<void> AtomicFile::commit() {
  auto target = resolve_output(m_path);
  if (!target) {
    return fail(target.error());
  }
  const auto shown = show_output(m_path, target->path);
  switch (target->kind) {
    case OutputKind::missing:
    case OutputKind::regular:
      return replace_atomically(*target, m_content, shown);
    case OutputKind::char_device:
    case OutputKind::fifo:
      return write_in_place(*target, m_content, shown);
    case OutputKind::socket:
      return send_to_socket(*target, m_content, shown);
    default:
      return fail(output_refusal(m_path, target->kind));
  }
}

Result<void> write_file_atomically(const fs::path& path, std::string_view data) {
  AtomicFile file(path);
  file.write(data);
  return file.commit();
}

Result<void> write_all(int fd, std::string_view data, std::string_view name) {
  const SigpipeBlocked blocked;
  std::size_t done = 0;
  while (done < data.size()) {
    const auto n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail(fmt::format("cannot write {}: {}", name, std::strerror(errno)));
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

Result<std::string> read_file(const fs::path& path) {
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
  // A regular file's size up front: the chunks then fill one buffer instead of regrowing and copying it
  // (most of `merge`'s non-parsing time on 16 files of a few MB). A pipe or device reports none: it grows.
  std::error_code size_error;
  if (const auto size = std::filesystem::file_size(path, size_error); !size_error) {
    text.reserve(static_cast<std::size_t>(std::min<std::uintmax_t>(size, max_bytes)) + k_chunk_bytes);
  }
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
