#pragma once
// Judges a run: evaluates every threshold (k6 semantics: a threshold with no data FAILS) over the
// measured phases and the cache report, counts the checks (k6: a check never fails the run on its
// own; a `checks` or `checks{check:NAME}` threshold gates on them), then sets the verdict and the
// exit code (README "Exit codes"): errors -> 3, interrupted -> 130; a failed threshold of severity
// fail (one of severity warn is a warning only), a threshold with abortOnFail that stopped the run,
// an error-severity run diagnostic (report.diagnostics, e.g. no_successful_request) or a measured
// run in which not one request ended (no_request: nothing was measured, so it is never a PASS, even
// without thresholds) -> 1, else 0.
#include "run/run_report.hpp"
#include "scenario/thresholds.hpp"

namespace llmd::run {

// Answers scenario::MetricLookup questions from a report's measured totals and cache report.
class RunMetrics final : public scenario::MetricLookup {
 public:
  explicit RunMetrics(const RunReport& report) : m_report(report) {}
  std::optional<double> value(std::string_view metric, const scenario::Aggregation& aggregation) const override;
  std::optional<double> check_rate(std::string_view check) const override;
  std::optional<double> pod_value(std::string_view pod, std::string_view metric,
                                  const scenario::Aggregation& aggregation) const override;
  // Cache metrics are not trusted while more pods are missing from the cache totals than the
  // scenario allows (cache.allow_missing_pods).
  std::optional<std::string> distrust(std::string_view metric) const override;

 private:
  const RunReport& m_report;
};

// Fills report.thresholds, report.checks and report.verdict (cli::exit_code maps it to the exit code).
// report.threshold_abort (set before) fails its threshold whatever its value at the end.
void judge(RunReport& report);

}  // namespace llmd::run
