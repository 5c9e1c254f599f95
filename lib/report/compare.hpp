#pragma once
// `llmd-bench compare BASELINE.json CURRENT.json`: two run results (`run --out json=FILE`, schema
// "llmd-bench/result") side by side, with a significance hint per metric and `--fail-on` gates on the
// change. Pure: JSON in, a Comparison out, renderers to text, JSON and JUnit (cli/compare_command.* reads
// the files and maps the outcome to an exit code).
//
// Significance hints (Significance):
//   - percentiles (ttft.p95, ...): each side's histogram is rebuilt from the JSON and the percentile's
//     distribution-free 95% confidence interval taken from order statistics: ranks
//     n*q -/+ 1.96*sqrt(n*q*(1-q)), clamped to [1, n], mapped to values with the histogram and widened by
//     its max_relative_error(). Overlapping intervals: "within noise".
//   - means (ttft.avg): a z-test on the difference of means, variances from the histograms' buckets.
//   - rates and ratios (http_req_failed, checks, cache_hit_rate): a two-proportion z-test; for the cache
//     hit rate n is the run's requests (a request's prefix tokens hit or miss together, so tokens are not
//     independent trials).
//   |z| < 1.96 or overlapping intervals: no_change. Otherwise up/down, judged better/worse by the metric's
//   direction (latency up = worse, hit rate up = better). Counts and throughput get no hint.
//
// Gates (`--fail-on EXPR`, parse_gate()):
//   gate   ::= metric op change
//   metric ::= name [ "." stat ]          stat ::= pNN | pNN.N | p(NN) | avg | mean | med
//   op     ::= ">" | ">=" | "<" | "<="
//   change ::= ["+" | "-"] number ( "%" | "pp" | duration-unit | "" )
// "ttft.p95>+10%" fails when current is more than 10% above baseline; "cache_hit_rate<-2pp" when more
// than 2 percentage points below; "http_req_duration.p99>+50ms" when more than 50 ms above (time
// metrics only, units of util/duration); a bare number is an absolute change in the metric's unit.
// A gate on a metric missing from either side fails with "no data".
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/result.hpp"

namespace llmd::report {

inline constexpr const char* k_comparison_schema = "llmd-bench/comparison";
inline constexpr int k_comparison_schema_version = 1;

// How a metric's values are shown and its change computed.
enum class CompareUnit {
  seconds,  // latencies; change relative (%)
  number,   // throughput, tokens; change relative (%)
  ratio,    // rates and ratios in 0..1; change in percentage points
  count,    // counts; change absolute
};

enum class Direction { lower_is_better, higher_is_better, neutral };

enum class Significance {
  not_tested,  // counts, throughput: no hint
  no_change,   // within noise
  up,
  down,
  missing,     // a side has no value: MetricRow::why says why
};

struct MetricRow {
  std::string key;  // gate name: "ttft.p95", "http_req_failed", "cache_hit_rate", "counts.ok"
  CompareUnit unit = CompareUnit::number;
  Direction direction = Direction::neutral;
  std::optional<double> baseline;  // seconds for latencies, 0..1 for ratios
  std::optional<double> current;
  // current - baseline, as relative fraction (seconds, number), points 0..1 (ratio) or absolute (count);
  // nullopt when a side is missing or a relative change has a zero baseline.
  std::optional<double> change;
  Significance significance = Significance::not_tested;
  std::string why;     // Significance::missing: "baseline has no cache report"
  std::string detail;  // the test behind the hint: "95% CI [1.2ms, 1.4ms] vs [1.3ms, 1.5ms]", "z = 0.42"
};

// The rows of one part of the run: "total" (run-wide metrics included) or one phase.
struct CompareSection {
  std::string name;
  std::vector<MetricRow> rows;
};

// One `--fail-on` expression, parsed once (the source kept for reports).
struct Gate {
  enum class ChangeKind { relative, points, absolute };
  std::string source;  // as written: "ttft.p95>+10%"
  std::string metric;  // the row key it judges: "ttft.p95"
  bool greater = true;    // ">" / ">=": fail when the change is above the limit; "<" / "<=": below
  bool inclusive = false;  // ">=" / "<="
  ChangeKind kind = ChangeKind::relative;
  double limit = 0;  // fraction for relative ("+10%" = 0.10), 0..1 points, seconds or the metric's unit
};

struct GateResult {
  Gate gate;
  bool passed = false;
  std::optional<double> change;  // in the gate's kind: fraction, points, seconds/units
  std::string reason;            // "ttft.p95 +23.4% (1.20s -> 1.48s); fails when > +10%", or "no data: ..."
};

struct Comparison {
  std::string baseline_name;  // file names as given, for headers
  std::string current_name;
  std::string baseline_verdict;  // "pass", "fail", ...
  std::string current_verdict;
  std::vector<CompareSection> sections;  // "total" first, then the phases in the baseline's order
  std::vector<std::string> phases_only_in_baseline;
  std::vector<std::string> phases_only_in_current;
  std::vector<GateResult> gates;

  std::size_t gates_failed() const;
  bool regression() const { return gates_failed() > 0; }
};

// Checks that `result` is a run result (schema "llmd-bench/result" with a "run"); the error says what it
// is instead, e.g. "is not an llmd-bench run result (schema \"llmd-bench/histogram\"; expected
// \"llmd-bench/result\", written by `llmd-bench run --out json=FILE`)".
util::Result<void> check_run_result(const nlohmann::json& result);

// Parses one --fail-on expression; the error quotes it and says what to write instead.
util::Result<Gate> parse_gate(std::string_view source);

struct CompareOptions {
  std::string baseline_name;
  std::string current_name;
  std::optional<std::string> phase;  // --phase: only this phase's section, and gates judge it
  std::vector<Gate> gates;
};

// Both results must pass check_run_result(). Fails when options.phase is not a phase of both runs.
util::Result<Comparison> compare_results(const nlohmann::json& baseline, const nlohmann::json& current,
                                         const CompareOptions& options);

// The side-by-side tables, the gates with ✓/✗ and the final line "compare: OK" or
// "compare: REGRESSION (n of m gates failed)".
std::string render_comparison_text(const Comparison& comparison);
nlohmann::json comparison_to_json(const Comparison& comparison);
// One <testcase classname="llmd-bench.compare" name="gate: SOURCE"> per gate, <failure> when it failed.
std::string render_comparison_junit(const Comparison& comparison);

// "within noise", "up (worse)", "down (better)", "n/a: baseline has no cache report", "".
std::string significance_text(const MetricRow& row);
// A value as the tables show it ("1.23ms", "93.49%", "1200"; "n/a" when missing), and a row's change
// ("+9.9%", "-14.76pp", "+3"; "" when unknown).
std::string compare_value_text(CompareUnit unit, const std::optional<double>& value);
std::string compare_change_text(const MetricRow& row);

}  // namespace llmd::report
