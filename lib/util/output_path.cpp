#include "util/output_path.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <fmt/format.h>

namespace llmd::util {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view k_temporary_marker = ".llmd-tmp.";
constexpr int k_max_symlink_hops = 40;  // Linux's MAXSYMLINKS

OutputKind kind_of(mode_t mode) {
  if (S_ISREG(mode)) return OutputKind::regular;
  if (S_ISDIR(mode)) return OutputKind::directory;
  if (S_ISCHR(mode)) return OutputKind::char_device;
  if (S_ISBLK(mode)) return OutputKind::block_device;
  if (S_ISFIFO(mode)) return OutputKind::fifo;
  if (S_ISSOCK(mode)) return OutputKind::socket;
  return OutputKind::other;
}

fs::path folder_of(const fs::path& target) {
  return target.has_parent_path() ? target.parent_path() : fs::path(".");
}

// A missing name reached through dangling symlinks: the name the last link points at.
Result<fs::path> follow_dangling(const fs::path& path) {
  fs::path name = path;
  for (int hops = 0; hops < k_max_symlink_hops; ++hops) {
    struct stat st {};
    if (::lstat(name.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) {
      return name;
    }
    std::error_code error;
    const auto link = fs::read_symlink(name, error);
    if (error) {
      return fail(fmt::format("cannot write {}: cannot read the symlink {}: {}", path.string(), name.string(), error.message()));
    }
    name = link.is_absolute() ? link : folder_of(name) / link;
  }
  return fail(fmt::format("cannot write {}: {}", path.string(), std::strerror(ELOOP)));
}

}  // namespace

Result<OutputTarget> resolve_output(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    OutputTarget target{path, kind_of(st.st_mode), static_cast<mode_t>(st.st_mode & 07777), st.st_uid, st.st_gid};
    if (target.kind == OutputKind::regular) {
      const std::unique_ptr<char, decltype(&std::free)> real(::realpath(path.c_str(), nullptr), &std::free);
      if (real) {
        target.path = real.get();
      }
    }
    return target;
  }
  if (errno != ENOENT) {
    return fail(fmt::format("cannot write {}: {}", path.string(), std::strerror(errno)));
  }
  auto name = follow_dangling(path);
  if (!name) {
    return fail(name.error());
  }
  return OutputTarget{*name, OutputKind::missing};
}

Result<Temporary> create_temporary(const fs::path& target) {
  std::string name = target.filename().string();
  constexpr std::size_t k_max_base = NAME_MAX - 1 - k_temporary_marker.size() - 10 - 7;  // ".", pid, ".XXXXXX"
  name.resize(std::min(name.size(), k_max_base));
  const auto folder = folder_of(target);
  std::string path = (folder / fmt::format(".{}{}{}.XXXXXX", name, k_temporary_marker, ::getpid())).string();
  const int fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd >= 0) {
    return Temporary{fd, path};
  }
  const int err = errno;
  struct stat st {};
  const bool found = ::stat(folder.c_str(), &st) == 0;
  if (!found && errno == ENOENT) {
    return fail(fmt::format("the folder {} does not exist; create it first (mkdir -p {})", folder.string(), folder.string()));
  }
  if ((found && !S_ISDIR(st.st_mode)) || (!found && errno == ENOTDIR)) {
    return fail(fmt::format("{} is not a folder (it or a folder above it is a file)", folder.string()));
  }
  return fail(fmt::format("cannot create a file in the folder {}: {}; make it writable or choose another folder",
                          folder.string(), std::strerror(err)));
}

bool is_temporary_name(std::string_view name) {
  const auto marker = name.rfind(k_temporary_marker);
  if (name.size() < 2 || name[0] != '.' || marker == std::string_view::npos || marker < 2) {
    return false;
  }
  const auto rest = name.substr(marker + k_temporary_marker.size());  // "<pid>.XXXXXX"
  const auto dot = rest.find('.');
  if (dot == 0 || dot == std::string_view::npos || rest.size() - dot - 1 != 6) {
    return false;
  }
  const auto all = [](std::string_view text, auto pred) {
    return std::all_of(text.begin(), text.end(), [&](char ch) { return pred(static_cast<unsigned char>(ch)) != 0; });
  };
  return all(rest.substr(0, dot), ::isdigit) && all(rest.substr(dot + 1), ::isalnum);
}

std::string show_output(const fs::path& path, const fs::path& target) {
  std::error_code error;
  if (path == target || !fs::is_symlink(path, error)) {
    return path.string();
  }
  return fmt::format("{} (link to {})", path.string(), target.string());
}

std::string output_refusal(const fs::path& path, OutputKind kind) {
  switch (kind) {
    case OutputKind::directory:
      return fmt::format("cannot write {}: it is a folder; name a file inside it", path.string());
    case OutputKind::block_device:
      return fmt::format("cannot write {}: it is a block device, which is never overwritten; name a file", path.string());
    default:
      return fmt::format("cannot write {}: it is neither a file, a character device, a FIFO nor a socket", path.string());
  }
}

Result<void> check_output_writable(const fs::path& path) {
  auto target = resolve_output(path);
  if (!target) {
    return fail(target.error());
  }
  switch (target->kind) {
    case OutputKind::missing:
    case OutputKind::regular: {
      auto probe = create_temporary(target->path);
      if (!probe) {
        return fail(fmt::format("cannot write {}: {}", show_output(path, target->path), probe.error()));
      }
      ::close(probe->fd);
      ::unlink(probe->path.c_str());
      return {};
    }
    case OutputKind::char_device:
    case OutputKind::fifo:
    case OutputKind::socket:
      if (::access(target->path.c_str(), W_OK) != 0) {
        return fail(fmt::format("cannot write {}: {}", path.string(), std::strerror(errno)));
      }
      return {};
    default:
      return fail(output_refusal(path, target->kind));
  }
}

Result<void> prepare_output_folder(const fs::path& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) {
    return fail(fmt::format("cannot create the folder {}: {}", dir.string(), error.message()));
  }
  auto probe = create_temporary(dir / "probe");
  if (!probe) {
    return fail(probe.error());
  }
  ::close(probe->fd);
  ::unlink(probe->path.c_str());
  return {};
}

std::vector<fs::path> remove_stale_temporaries(const fs::path& dir, std::chrono::seconds min_age) {
  std::vector<fs::path> removed;
  std::error_code error;
  const auto now = std::chrono::system_clock::now();
  for (fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, error), end; !error && it != end;
       it.increment(error)) {
    const auto& path = it->path();
    struct stat st {};
    if (!is_temporary_name(path.filename().string()) || ::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_uid != ::geteuid()) {
      continue;
    }
    const auto modified = std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec);
    if (now - modified >= min_age && ::unlink(path.c_str()) == 0) {
      removed.push_back(path);
    }
  }
  return removed;
}

}  // namespace llmd::util
