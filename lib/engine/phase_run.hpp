#pragma once
// The engine's bookkeeping for one phase while it runs: its executor, its result being filled, its
// lifecycle (pending -> running -> draining -> finished) and in-flight accounting.
#include <algorithm>
#include <cstddef>
#include <memory>
#include <vector>

#include "engine/executors.hpp"
#include "engine/run_result.hpp"
#include "scenario/scenario.hpp"

namespace llmd::engine {

// Requests in flight over time: current, peak and the time-weighted mean.
class InFlightTracker {
 public:
  void reset(TimePoint at) {
    m_since = at;
    m_last_change = at;
    m_weighted_ns = 0;
  }
  void change(TimePoint now, int delta) {
    m_weighted_ns += static_cast<long double>(m_current) * static_cast<long double>(elapsed_ns(m_last_change, now));
    m_last_change = std::max(m_last_change, now);
    m_current = delta < 0 && m_current == 0 ? 0 : m_current + static_cast<std::size_t>(static_cast<long>(delta));
    m_peak = std::max(m_peak, m_current);
  }
  std::size_t current() const { return m_current; }
  std::size_t peak() const { return m_peak; }
  // Mean over [reset time, now]; 0 for an empty interval.
  double mean(TimePoint now) const {
    const auto total_ns = elapsed_ns(m_since, now);
    if (total_ns == 0) {
      return 0;
    }
    const long double tail = static_cast<long double>(m_current) * static_cast<long double>(elapsed_ns(m_last_change, now));
    return static_cast<double>((m_weighted_ns + tail) / static_cast<long double>(total_ns));
  }

 private:
  TimePoint m_since{};
  TimePoint m_last_change{};
  long double m_weighted_ns = 0;  // sum of in_flight x ns
  std::size_t m_current = 0;
  std::size_t m_peak = 0;
};

enum class PhaseState {
  pending,   // before its start_time
  running,   // the executor starts requests
  draining,  // no new requests; in-flight ones have until graceful_deadline
  finished,
};

struct PhaseRun {
  scenario::Phase phase;  // with Scenario::time_scale applied
  std::unique_ptr<Executor> executor;
  PhaseResult result;
  PhaseState state = PhaseState::pending;
  TimePoint start{};                              // run start + start_time
  TimePoint graceful_deadline = TimePoint::max();  // draining: abort what is still in flight then
  TimePoint last_completion{};
  InFlightTracker in_flight;
  std::vector<std::uint32_t> connect_streaks;  // closed loop, per user: consecutive connect failures

  // Moves to finished and fills the result's timing fields. A phase that never started (Ctrl-C
  // came first) keeps started_at empty and a zero wall duration. The wall duration is never
  // negative, even for an executor whose end lies before its start (a phase built in code with an
  // overflowed duration; the loader bounds scaled durations so files cannot produce one).
  void finish(TimePoint now, TimePoint run_start) {
    const bool started = state != PhaseState::pending;
    state = PhaseState::finished;
    if (!started) {
      return;
    }
    const TimePoint ended = std::max({start, last_completion, std::min(executor->end_time(), now)});
    result.started_at = start - run_start;
    result.wall_duration = ended - start;
    result.peak_in_flight = in_flight.peak();
    result.mean_in_flight = in_flight.mean(ended);
  }
};

}  // namespace llmd::engine
