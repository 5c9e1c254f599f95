#include "engine/loop_progress.hpp"

namespace llmd::engine {

void ProgressMerger::add(const LoopSnapshot& snapshot) {
  for (std::size_t i = 0; i < snapshot.phase_active.size() && i < m_active.size(); ++i) {
    m_active[i] = m_active[i] || snapshot.phase_active[i];
  }
  m_line.active_vus += snapshot.active_vus;
  m_line.in_flight += snapshot.in_flight;
  m_line.completed += snapshot.completed;
  m_line.errors += snapshot.errors;
  m_line.dropped += snapshot.dropped;
  (void)m_ttft.merge(snapshot.live_ttft);  // same layout: cannot fail
}

Progress ProgressMerger::finish(TimePoint now) {
  Progress progress = std::move(m_line);
  for (std::size_t i = 0; i < m_active.size(); ++i) {
    if (m_active[i]) {
      progress.phase += progress.phase.empty() ? m_names[i] : "," + m_names[i];
    }
  }
  progress.elapsed = now - m_run_start;
  const double seconds = std::chrono::duration<double>(now - m_last).count();
  const std::uint64_t fresh = progress.completed >= m_completed ? progress.completed - m_completed : 0;
  progress.requests_per_s = seconds > 0 ? static_cast<double>(fresh) / seconds : 0;
  if (auto p95 = m_ttft.percentile(95)) {
    progress.ttft_p95_seconds = *p95 / 1e9;
  }
  m_completed = progress.completed;
  m_last = now;
  m_line = Progress{};
  m_active.assign(m_active.size(), false);
  m_ttft.reset();
  return progress;
}

}  // namespace llmd::engine
