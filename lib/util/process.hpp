#pragma once
#include <cstdint>

namespace llmd::util {

// Raises the soft open-file limit (RLIMIT_NOFILE) to the hard limit, since thousands of concurrent
// streams need thousands of sockets. Returns the soft limit in force afterwards.
std::uint64_t raise_open_file_limit();

}  // namespace llmd::util
