#include "engine/load_ledger.hpp"

namespace llmd::engine {

LoadLedger::LoadLedger(TimePoint run_start, std::span<const TimePoint> phase_starts) : m_phases(phase_starts.size()) {
  m_total.reset(run_start);
  for (std::size_t i = 0; i < phase_starts.size(); ++i) {
    m_phases[i].reset(phase_starts[i]);
  }
}

void LoadLedger::started(std::size_t phase, TimePoint now, std::chrono::nanoseconds since_run_start) {
  const std::lock_guard lock(m_mutex);
  m_phases[phase].change(now, +1);
  m_total.change(now, +1);
  m_seconds.on_start(since_run_start, m_total.current());
}

void LoadLedger::ended(std::size_t phase, TimePoint now, std::chrono::nanoseconds since_run_start, bool ok,
                       std::uint64_t output_tokens, std::optional<std::uint64_t> ttft_ns,
                       std::span<const std::uint64_t> gaps_ns) {
  const std::lock_guard lock(m_mutex);
  m_seconds.on_end(since_run_start, m_total.current() > 0 ? m_total.current() - 1 : 0, ok, output_tokens, ttft_ns, gaps_ns);
  m_phases[phase].change(now, -1);
  m_total.change(now, -1);
}

LoadLedger::InFlight LoadLedger::total(TimePoint until) const {
  const std::lock_guard lock(m_mutex);
  return {m_total.peak(), m_total.mean(until)};
}

LoadLedger::InFlight LoadLedger::phase(std::size_t phase, TimePoint until) const {
  const std::lock_guard lock(m_mutex);
  return {m_phases[phase].peak(), m_phases[phase].mean(until)};
}

std::vector<SecondBucket> LoadLedger::finish_seconds() {
  const std::lock_guard lock(m_mutex);
  return m_seconds.finish();
}

}  // namespace llmd::engine
