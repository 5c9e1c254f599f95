#include "run/live_thresholds.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "run/gates.hpp"
#include "util/duration.hpp"

namespace llmd::run {

namespace {

std::string seconds_text(std::chrono::nanoseconds duration) {
  return util::format_seconds(std::chrono::duration<double>(duration).count());
}

}  // namespace

std::chrono::nanoseconds LiveThresholds::interval() const {
  const double scaled = 1e9 * m_scenario.time_scale;
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::clamp(scaled, 1e7, 1e9)));
}

void LiveThresholds::attach(engine::EngineConfig& config) {
  const auto& thresholds = m_scenario.thresholds;
  if (std::none_of(thresholds.begin(), thresholds.end(), [](const auto& t) { return t.abort_on_fail; })) {
    return;
  }
  config.stop_check = [this](engine::RunResult live) { return check(std::move(live)); };
  config.stop_check_interval = interval();
}

std::optional<std::string> LiveThresholds::check(engine::RunResult live) {
  if (m_abort) {
    return std::nullopt;  // already stopping
  }
  const std::chrono::nanoseconds elapsed = live.total.wall_duration;
  RunReport report;
  report.scenario = &m_scenario;
  report.run = std::move(live);
  const RunMetrics metrics(report);
  const auto& thresholds = m_scenario.thresholds;
  for (std::size_t i = 0; i < thresholds.size(); ++i) {
    const auto& threshold = thresholds[i];
    const double delay_ns = static_cast<double>(threshold.delay_abort_eval.count()) * m_scenario.time_scale;
    if (!threshold.abort_on_fail || static_cast<double>(elapsed.count()) < delay_ns) {
      continue;
    }
    auto result = scenario::evaluate(threshold, metrics);
    if (result.passed || !result.observed) {
      continue;  // passing, or nothing to judge yet
    }
    m_abort = ThresholdAbort{i, elapsed, result.reason};
    return fmt::format("threshold {} crossed at t={}: {}", scenario::label(threshold), seconds_text(elapsed),
                       result.reason);
  }
  return std::nullopt;
}

void LiveThresholds::record(RunReport& report) const {
  if (!m_abort) {
    return;
  }
  report.threshold_abort = m_abort;
  report.notes.push_back(fmt::format(
      "aborted: threshold {} crossed at t={} ({}); abortOnFail stopped the run: phases not started were not run, "
      "requests in flight finished within graceful_stop",
      scenario::label(m_scenario.thresholds[m_abort->threshold]), seconds_text(m_abort->at), m_abort->reason));
}

}  // namespace llmd::run
