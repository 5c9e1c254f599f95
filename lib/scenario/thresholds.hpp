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
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "scenario/source_location.hpp"
#include "util/result.hpp"

namespace llmd::scenario {

enum class MetricKind { time, trend, rate, counter, ratio };

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

struct Threshold {
  std::string metric;  // canonical metric name ("itl" is stored as "inter_token_latency")
  std::string source;  // the expression exactly as written, e.g. "p(95)<2s"
  SourceLocation where;
  Aggregation aggregation;  // the short form ">=0.90" parses as `value`
  Comparison comparison = Comparison::less;
  double limit = 0;  // right-hand side; seconds for time metrics ("150ms" -> 0.15)
};

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
