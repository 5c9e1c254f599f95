// thread_cpu_now(): the calling thread's CPU, not the process's: a thread that spins gains what it
// spun, one that sleeps gains next to nothing, and another thread's spinning is not counted.
#include "engine/thread_cpu.hpp"

#include <cstdint>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

namespace llmd::engine {
namespace {

using namespace std::chrono_literals;

// Spins until the thread itself has used `amount` of CPU (bounded by a generous wall limit).
void spin_for_cpu(std::chrono::nanoseconds amount) {
  const CpuTime start = thread_cpu_now();
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  volatile std::uint64_t sink = 0;
  while ((thread_cpu_now() - start).total() < amount && std::chrono::steady_clock::now() < give_up) {
    for (int i = 0; i < 10'000; ++i) {
      sink = sink + static_cast<std::uint64_t>(i);
    }
  }
}

TEST(ThreadCpu, CountsWhatThisThreadSpins) {
  const CpuTime start = thread_cpu_now();
  spin_for_cpu(50ms);
  const CpuTime used = thread_cpu_now() - start;
  EXPECT_GE(used.total(), 50ms);
  EXPECT_GE(used.user, 0ns);
  EXPECT_GE(used.system, 0ns);
}

TEST(ThreadCpu, DoesNotCountAnotherThreadsWork) {
  const CpuTime start = thread_cpu_now();
  std::thread other([] { spin_for_cpu(200ms); });
  other.join();  // blocks: no CPU of this thread's own while it waits
  const CpuTime used = thread_cpu_now() - start;
  // The process used >= 200 ms meanwhile; this thread only created and joined a thread.
  EXPECT_LT(used.total(), 50ms);
}

TEST(ThreadCpu, SumsAndSubtractsBothParts) {
  CpuTime a{3ms, 1ms};
  a += CpuTime{2ms, 5ms};
  EXPECT_EQ(a, (CpuTime{5ms, 6ms}));
  EXPECT_EQ((a - CpuTime{1ms, 1ms}).total(), 9ms);
}

}  // namespace
}  // namespace llmd::engine
