#include "engine/thread_cpu.hpp"

#include <sys/resource.h>
#include <sys/time.h>

namespace llmd::engine {

namespace {
std::chrono::nanoseconds from_timeval(const timeval& value) {
  return std::chrono::seconds{value.tv_sec} + std::chrono::microseconds{value.tv_usec};
}
}  // namespace

CpuTime thread_cpu_now() {
  rusage usage{};
  if (getrusage(RUSAGE_THREAD, &usage) != 0) {
    return {};
  }
  return {from_timeval(usage.ru_utime), from_timeval(usage.ru_stime)};
}

}  // namespace llmd::engine
