#pragma once
// Ctrl-C handling of `llmd-bench run`: the first SIGINT/SIGTERM asks the engine to start nothing
// new and let in-flight requests finish (then the partial report is written); the second aborts
// in-flight requests. The handler only stores to lock-free atomics (async-signal-safe). The
// previous handlers are restored on destruction. One instance at a time.
#include <atomic>

namespace llmd::cli {

class RunSignals {
 public:
  RunSignals();
  ~RunSignals();
  RunSignals(const RunSignals&) = delete;
  RunSignals& operator=(const RunSignals&) = delete;

  const std::atomic<bool>& stop_flag() const;
  const std::atomic<bool>& abort_flag() const;
  bool stop_requested() const { return stop_flag().load(); }
};

}  // namespace llmd::cli
