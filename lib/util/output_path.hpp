#pragma once
// Where a result file goes once symlinks are followed, and what may be done there (issue 10):
//   missing name, regular file        replaced atomically: a temporary of our own name pattern is
//                                     created in the same folder (mkstemp: O_EXCL, random name),
//                                     written, fsync'd and renamed over the name; a symlink to a
//                                     regular file keeps the link, its target is replaced
//   character device, FIFO, socket    written in place (never created, truncated or replaced)
//   folder, block device, other       refused with an error naming the path
// Also: checking a destination before a run, and removing the temporaries a killed run left.
// No llmd knowledge here: callers prefix the flag that named the path.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace llmd::util {

enum class OutputKind { missing, regular, directory, char_device, block_device, fifo, socket, other };

struct OutputTarget {
  // The name to write. For a regular file or a missing name: with every symlink followed, so the
  // rename replaces the target and the links stay. Otherwise the path as given: open() follows it
  // (including /proc/self/fd/N, whose link text is not a path).
  std::filesystem::path path;
  OutputKind kind = OutputKind::missing;
  mode_t mode = 0;  // permission bits of an existing target (st_mode & 07777)
  uid_t uid = 0;    // owner of an existing target
  gid_t gid = 0;
};

// Follows `path` and judges what it names. Errors (a folder on the way that is a file, a symlink
// loop, no permission to look) name the path.
Result<OutputTarget> resolve_output(const std::filesystem::path& path);

// How errors name an output: "PATH", or "PATH (link to TARGET)" when PATH is a symlink.
std::string show_output(const std::filesystem::path& path, const std::filesystem::path& target);

// The error for a kind that is never written (folder, block device, other), naming `path`.
std::string output_refusal(const std::filesystem::path& path, OutputKind kind);

// Checks, before any work, that write_file_atomically(path, ...) can succeed: a regular file or a
// missing name needs its folder to exist and accept a new file (probed by creating and removing a
// temporary); a device, FIFO or socket must be writable (access(2); not opened, so a FIFO's reader
// does not see an early end of file); a folder or block device is an error. The error names the
// path and says what to do.
Result<void> check_output_writable(const std::filesystem::path& path);

// Creates `dir` and its parents when missing and checks a file can be created in it.
Result<void> prepare_output_folder(const std::filesystem::path& dir);

// A new temporary next to `target`: ".<name>.llmd-tmp.<pid>.XXXXXX" (mkstemp fills XXXXXX; the
// name is cut to keep the whole under NAME_MAX), created with O_EXCL so nothing planted at that
// name is ever followed. Returns the open descriptor (mode 0600, close-on-exec) and its path; the
// error names the folder and says what to do when it is missing or not writable.
struct Temporary {
  int fd = -1;
  std::filesystem::path path;
};
Result<Temporary> create_temporary(const std::filesystem::path& target);

// True when `file_name` has the shape create_temporary gives names.
bool is_temporary_name(std::string_view file_name);

// A temporary lives for the milliseconds of one write; one this old was left by a killed run.
// (Age, not "its pid is gone": another PID namespace sharing the folder, e.g. two containers
// writing to one volume, would make a live writer's pid look gone.)
inline constexpr std::chrono::seconds k_stale_temporary_age{60};

// Removes from `dir` the regular files named like our temporaries, owned by this user and not
// modified for `min_age`; returns what it removed. Housekeeping: errors are ignored.
std::vector<std::filesystem::path> remove_stale_temporaries(const std::filesystem::path& dir,
                                                            std::chrono::seconds min_age = k_stale_temporary_age);

}  // namespace llmd::util
