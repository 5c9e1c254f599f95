#pragma once
// The CPU time the client itself spent running a measured loop: getrusage(RUSAGE_THREAD) of each
// event-loop thread (and, with --threads N, of the coordinating thread), taken when the loop starts
// and when it ends. Per thread on purpose: the embedded simulator runs in the same process, and
// RUSAGE_SELF would count its threads (and the scrapes and report before and after the loop) as the
// client's. The total is the scheduler's own runtime of the thread (exact); the kernel splits it
// into user and system by sampling at the tick (CONFIG_HZ), so a loop of a few ticks may show all of
// it as one or the other. libcurl's resolver threads (a host name under the libcurl client) are not
// counted: one lookup per connection, negligible against the loop.
#include <chrono>

namespace llmd::engine {

struct CpuTime {
  std::chrono::nanoseconds user{};
  std::chrono::nanoseconds system{};
  std::chrono::nanoseconds total() const { return user + system; }
  CpuTime& operator+=(const CpuTime& other) {
    user += other.user;
    system += other.system;
    return *this;
  }
  friend CpuTime operator-(CpuTime a, const CpuTime& b) {
    a.user -= b.user;
    a.system -= b.system;
    return a;
  }
  friend bool operator==(const CpuTime&, const CpuTime&) = default;
};

// The calling thread's CPU time so far (zero when the kernel refuses: never on Linux).
CpuTime thread_cpu_now();

}  // namespace llmd::engine
