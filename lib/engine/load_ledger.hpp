#pragma once
// The run-wide tallies that cannot be added up per thread (engine.hpp, `--threads`): requests in
// flight (the run's and each phase's peak and time-weighted mean; peaks of separate threads do not
// add up) and the per-second series (its percentiles need every request of the second in one
// histogram). One ledger per run; with several event loops, every change goes through its lock.
// Changes are per request (a start, an end), never per token, so the lock is taken twice per
// request; an uncontended lock costs tens of nanoseconds against a request's microseconds.
//
// Each thread passes its own `now`. Two threads' changes may reach the lock in the other order
// than their instants (by at most the time between reading the clock and taking the lock): the
// in-flight mean then weighs that interval with the count it had before, and an end just after a
// second boundary may land in the second before, as SecondRecorder files late events into its
// open second. Both errors are bounded by that interval (microseconds).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "engine/per_second.hpp"
#include "engine/phase_run.hpp"

namespace llmd::engine {

class LoadLedger {
 public:
  // `phase_starts[i]`: when phase i's in-flight time starts (the run start + its start_time).
  LoadLedger(TimePoint run_start, std::span<const TimePoint> phase_starts);

  // A request of `phase` started at `now` (`since_run_start` = now - the run start).
  void started(std::size_t phase, TimePoint now, std::chrono::nanoseconds since_run_start);
  // A request of `phase` ended: ok requests pass their output tokens, TTFT and inter-token gaps.
  void ended(std::size_t phase, TimePoint now, std::chrono::nanoseconds since_run_start, bool ok,
             std::uint64_t output_tokens, std::optional<std::uint64_t> ttft_ns, std::span<const std::uint64_t> gaps_ns);

  struct InFlight {
    std::size_t peak = 0;
    double mean = 0;  // time-weighted, from the start to `until`
  };
  InFlight total(TimePoint until) const;
  InFlight phase(std::size_t phase, TimePoint until) const;
  // SecondRecorder::finish(): call once, after every thread is done.
  std::vector<SecondBucket> finish_seconds();

 private:
  mutable std::mutex m_mutex;
  InFlightTracker m_total;
  std::vector<InFlightTracker> m_phases;
  SecondRecorder m_seconds;
};

}  // namespace llmd::engine
