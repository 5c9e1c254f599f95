#pragma once
// Thresholds with abortOnFail (k6): evaluated during the measured phases, on the live totals the
// engine hands to EngineConfig::stop_check, each once its delayAbortEval (multiplied by the
// scenario's time_scale, like every phase time) has passed since the measured run started. The
// first that fails stops the run: nothing new starts, requests in flight finish within their
// phase's graceful_stop, phases not started never run; the partial results are judged and written
// as usual, and that threshold fails (gates.hpp), so the verdict is fail and the exit code 1 (k6
// exits 99 for failed thresholds, aborting or not; llmd-bench's code for a failed gate is 1).
//
// Evaluated every second, scaled by time_scale (at least every 10 ms, at most every second; k6:
// every 2 s). A threshold with no data yet (no request ended) does not stop the run. Cache metrics
// cannot be evaluated live (no pod snapshot during the loop): the loader refuses abortOnFail on
// them (exit 2).
#include <chrono>
#include <optional>
#include <string>

#include "engine/engine.hpp"
#include "run/run_report.hpp"

namespace llmd::run {

class LiveThresholds {
 public:
  explicit LiveThresholds(const scenario::Scenario& scenario) : m_scenario(scenario) {}

  // When a threshold has abortOnFail, sets config.stop_check (calling check()) and its interval;
  // otherwise leaves `config` alone. `this` must outlive the run.
  void attach(engine::EngineConfig& config);

  // The stop check: why the run must stop (the first due abortOnFail threshold that fails), or
  // nullopt. Remembers the threshold, the time and the reason for record().
  std::optional<std::string> check(engine::RunResult live);

  // After the run: report.threshold_abort and a note "aborted: threshold ... crossed at t=...".
  void record(RunReport& report) const;

  // How often the run evaluates: 1 s x time_scale, kept within 10 ms .. 1 s.
  std::chrono::nanoseconds interval() const;

 private:
  const scenario::Scenario& m_scenario;
  std::optional<ThresholdAbort> m_abort;
};

}  // namespace llmd::run
