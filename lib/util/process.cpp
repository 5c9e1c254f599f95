#include "util/process.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <fstream>

namespace llmd::util {

namespace {

// The kernel's ceiling for RLIMIT_NOFILE (/proc/sys/fs/nr_open), or 0 when unreadable.
rlim_t kernel_file_ceiling() {
  std::ifstream in("/proc/sys/fs/nr_open");
  unsigned long long value = 0;
  in >> value;
  return static_cast<rlim_t>(value);
}

}  // namespace

std::uint64_t raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return 0;
  }
  // Privileged processes (root in a container, CI) may raise the hard limit too: each stream
  // through the simulator's gateway costs three descriptors.
  constexpr rlim_t k_wanted = 1 << 20;
  const rlim_t ceiling = kernel_file_ceiling();
  const rlim_t wanted = ceiling > 0 ? std::min(k_wanted, ceiling) : k_wanted;
  if (limit.rlim_max < wanted) {
    rlimit raised{wanted, wanted};
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      return static_cast<std::uint64_t>(wanted);
    }
  }
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      limit = raised;
    }
  }
  return static_cast<std::uint64_t>(limit.rlim_cur);
}

}  // namespace llmd::util
