#pragma once
// k6-style thresholds: `ttft: ["p(95)<2s", "p(99)<3s"]`, `cache_hit_rate: [">=0.90"]`.
// Parsed once at load time (a bad expression fails the load with file:line:column); the source
// text is kept so the summary prints exactly what the user wrote (k6 Threshold{Source, parsed}).
//
// Grammar (k6's metrics/thresholds_parser.go, plus the short form); blanks are allowed between
// tokens:
//
//   threshold   ::= aggregation operator value
//                 | operator value                 ; short form, ratio metrics only (= "value")
//   aggregation ::= "avg" | "min" | "max" | "med" | "p(" number ")"   ; 0 <= number <= 100
//                 | "rate" | "count" | "value"
//   operator    ::= "<" | "<=" | ">" | ">=" | "==" | "!="
//   value       ::= duration                       ; time metrics: "2s", "150ms", "1m30s"
//                 | number                         ; every other metric: "30", "0.05", "1e3"
//
// Which aggregations a metric takes depends on its kind (the metric table is metric_table()):
//   time     avg min max med p(N)  per-request durations; limits need a unit, stored in seconds
//   trend    avg min max med p(N)  per-request numbers (tokens/s, tokens)
//   rate     rate                  fraction of requests/checks, 0..1 ("rate<0.05" = under 5%)
//   counter  count rate            total over the measured run; rate = per second of it
//   ratio    value (short form)    one number for the run, 0..1 (prefix-cache hit rate)
//   gauge    value (short form)    one number for the run, any value (load imbalance CV)
//
// Keys of the `thresholds` mapping are metric names, plus k6's tag filter for one check:
// `checks{check:NAME}` (NAME as the scenario's `checks` list spells it, or its canonical name), and
// `{pod:NAME}` on ttft / inter_token_latency / http_req_duration: the requests a served-by response
// header attributed to pod NAME (engine/attribution.hpp).
// Items are expressions or k6's object form {threshold, abortOnFail, delayAbortEval} with
// llmd-bench's `severity: fail | warn` (load_checks.cpp reads them).
#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "scenario/source_location.hpp"
#include "util/result.hpp"

namespace llmd::scenario {

enum class MetricKind { time, trend, rate, counter, ratio, gauge };

std::string_view to_string(MetricKind kind);  // "time", "trend", ...

struct MetricInfo {
  std::string_view name;         // canonical name, the one MetricLookup is asked about
  std::string_view alias;        // a second accepted spelling ("itl"), or ""
  MetricKind kind;
  std::string_view description;  // one line, for the README and `--help`
};

// Every metric a threshold may name, in documentation order.
std::span<const MetricInfo> metric_table();

// By canonical name or alias; nullptr when unknown.
const MetricInfo* find_metric(std::string_view name);

// "ttft, inter_token_latency (itl), http_req_duration, ..." for error messages.
std::string valid_metric_names();

enum class AggregationKind { avg, min, max, med, percentile, rate, count, value };

struct Aggregation {
  AggregationKind kind = AggregationKind::value;
  double percentile = 0;  // kind == percentile: 95 for "p(95)", 99.9 for "p(99.9)"

  friend bool operator==(const Aggregation&, const Aggregation&) = default;
};

std::string to_string(const Aggregation& aggregation);  // "avg", "p(95)", "p(99.9)", "value"

enum class Comparison { less, less_equal, greater, greater_equal, equal, not_equal };

std::string_view to_string(Comparison comparison);  // "<", "<=", ">", ">=", "==", "!="

enum class ThresholdSeverity {
  fail,  // a failed threshold fails the run (exit 1)
  warn,  // a failed threshold is reported as a warning; the run still passes (exit 0)
};

std::string_view to_string(ThresholdSeverity severity);  // "fail" | "warn"

struct Threshold {
  std::string metric;  // canonical metric name ("itl" is stored as "inter_token_latency")
  std::string check;   // `checks{check:NAME}`: NAME as written; "" = every check (and every other metric)
  std::string pod;     // `ttft{pod:NAME}`: NAME as written; "" = every pod
  std::string source;  // the expression exactly as written, e.g. "p(95)<2s"
  SourceLocation where;
  Aggregation aggregation;  // the short form ">=0.90" parses as `value`
  Comparison comparison = Comparison::less;
  double limit = 0;  // right-hand side; seconds for time metrics ("150ms" -> 0.15)
  ThresholdSeverity severity = ThresholdSeverity::fail;
  // k6 abortOnFail: also evaluated during the measured phases (report/live_thresholds.hpp); when it
  // fails there, the run stops early and fails.
  bool abort_on_fail = false;
  // k6 delayAbortEval: no evaluation during the run before this much of it has passed (as written;
  // the run multiplies it by time_scale like every phase time).
  std::chrono::nanoseconds delay_abort_eval{};
};

// The metric as the thresholds mapping names it: "ttft", "checks{check:status-200}".
std::string display_name(const Threshold& threshold);
// The threshold as reports name it: display name and expression, "ttft p(95)<2s".
std::string label(const Threshold& threshold);

// A key of the thresholds mapping: a metric name or alias, or `checks{check:NAME}`.
struct ThresholdKey {
  const MetricInfo* metric = nullptr;
  std::string check;  // NAME of checks{check:NAME}; "" otherwise
  std::string pod;    // NAME of ttft{pod:NAME}; "" otherwise
};
// The error says what is wrong with the key, without a location.
util::Result<ThresholdKey> parse_threshold_key(std::string_view key);

// Metrics whose value exists only after the run (the pods' counters are read before and after the
// measured phases): abortOnFail cannot apply to them.
bool is_cache_metric(std::string_view metric);
// Metrics known only once the run is over (the cache metrics, and the routing analysis of the
// served-by headers): abortOnFail cannot apply to them.
bool is_post_run_metric(std::string_view metric);
// Metrics that take a {pod:NAME} tag filter: ttft, inter_token_latency, http_req_duration.
bool takes_pod_filter(std::string_view metric);

// Parses `source` for `metric` (canonical name or alias). The error quotes the expression and
// says what was expected, without a location: the loader prefixes file:line:column and field.
util::Result<Threshold> parse_threshold(std::string_view metric, std::string_view source);

// Where evaluate() gets observed values: implemented by the run report over its statistics.
class MetricLookup {
 public:
  virtual ~MetricLookup() = default;
  // The aggregated value of `metric` (canonical name) over the measured run, seconds for time
  // metrics; nullopt when there is nothing to aggregate (no requests, no cache counters).
  virtual std::optional<double> value(std::string_view metric, const Aggregation& aggregation) const = 0;
  // `checks{check:NAME}`: the fraction of NAME's evaluations that passed; nullopt when it was
  // evaluated on no request (or is not one of the run's checks).
  virtual std::optional<double> check_rate(std::string_view /*check*/) const { return std::nullopt; }
  // `ttft{pod:NAME}`: `metric` aggregated over the requests attributed to pod NAME; nullopt when
  // none was (no served-by header, or no such pod).
  virtual std::optional<double> pod_value(std::string_view /*pod*/, std::string_view /*metric*/,
                                          const Aggregation& /*aggregation*/) const {
    return std::nullopt;
  }
  // Why `metric`'s value cannot be trusted for a gate, e.g. "judged on partial data: 1 pod missing
  // from the cache totals (pod-a (scrape failed))"; nullopt when it can. A threshold over an
  // untrusted value FAILS with this reason, whatever the value.
  virtual std::optional<std::string> distrust(std::string_view /*metric*/) const { return std::nullopt; }
};

struct ThresholdResult {
  bool passed = false;
  std::optional<double> observed;  // nullopt: no data (the threshold then fails)
  std::string reason;              // "no data", or "ttft p(95) = 2.5s; required < 2s"
};

// Compares the looked-up value with the limit. A missing or non-finite value FAILS with reason
// "no data": a gate never passes because nothing was measured. An untrusted value (lookup.distrust)
// FAILS too, with the observed value and the reason.
ThresholdResult evaluate(const Threshold& threshold, const MetricLookup& lookup);

// A value of a metric of `kind` for humans: time as "1.25s"/"850ms", integers as "1200",
// others with 4 significant digits ("0.9333").
std::string format_metric_value(MetricKind kind, double value);

}  // namespace llmd::scenario
