#pragma once
// Internal to the engine module: the live progress line (engine.hpp, Progress) from what each event
// loop reports of itself. One loop makes the line from its own snapshot; a `--threads` run's
// coordinator from every loop's latest (engine_threads.hpp): one code path for both.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.hpp"

namespace llmd::engine {

// A loop's view of itself: made for each progress line, and published to a threaded run's hub.
struct LoopSnapshot {
  bool published = false;          // the hub's: false until the loop first published
  std::vector<bool> phase_active;  // per phase: running or draining
  std::size_t active_vus = 0;
  std::size_t in_flight = 0;
  std::uint64_t completed = 0;
  std::uint64_t errors = 0;
  std::uint64_t dropped = 0;
  stats::LogLinearHistogram live_ttft = make_engine_histogram();
  std::optional<PhaseResult> live_total;  // threaded, when the coordinator has a stop_check
};

// Sums the snapshots of one progress line: the phases running in any loop (in phase order), users,
// requests in flight and counters summed, TTFT p95 from the merged histograms, requests/s since the
// previous line.
class ProgressMerger {
 public:
  ProgressMerger(std::vector<std::string> phase_names, TimePoint run_start)
      : m_names(std::move(phase_names)), m_run_start(run_start), m_last(run_start), m_active(m_names.size()) {}

  void add(const LoopSnapshot& snapshot);
  // The line of what was added since the previous call.
  Progress finish(TimePoint now);

 private:
  std::vector<std::string> m_names;
  TimePoint m_run_start;
  TimePoint m_last;              // the previous line
  std::uint64_t m_completed = 0;  // as of the previous line
  Progress m_line;
  std::vector<bool> m_active;
  stats::LogLinearHistogram m_ttft = make_engine_histogram();
};

}  // namespace llmd::engine
