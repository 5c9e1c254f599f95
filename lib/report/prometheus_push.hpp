#pragma once
// The run's metrics in the Prometheus text exposition format (0.0.4), as `run --out
// prometheus-push=URL` PUTs them to a Pushgateway (report/pushgateway.hpp sends them). Pure: a
// RunReport in, text out.
//
// Families (prefix llmd_bench_; every sample carries `scenario`, the Pushgateway's grouping key
// sets the same value; per-phase families carry `phase`, each phase's name and "total"):
//   requests_total{phase,outcome="ok|failed|aborted|dropped"}   counter
//   http_req_failed_ratio{phase}            gauge, (failed + aborted) / ended; absent without data
//   output_tokens_total{phase}              counter
//   output_tokens_per_second{phase}         gauge, output tokens / wall time; absent for 0 s
//   ttft_seconds, itl_seconds, e2e_seconds{phase,le}   histograms of the ok requests (seconds)
//   cache_hit_ratio{pod}                    gauge, Δhits / Δqueries per pod; without `pod`: the fleet
//   routing_efficiency_ratio                gauge, measured / ideal hit rate (when computed)
//   threshold_passed{threshold="ttft p(95)<2s"}   gauge 1 / 0
//   run_verdict_info{verdict}               gauge 1
//   run_start_timestamp_seconds, run_end_timestamp_seconds   gauges (Unix time)
//
// Histogram buckets. The engine's histograms are log-linear in nanoseconds (stats/histogram.hpp:
// 128 sub-buckets per power of two), so a count of values <= X is exact only when X is the highest
// value of a bucket. Each nominal bound of k_push_bucket_bounds_seconds is therefore moved UP to
// the highest value of the bucket that holds it, and that exact value is the `le` label:
// le="0.005013503" counts exactly the requests with a latency <= 5013503 ns. The label is at most
// 2^-7 = 0.78% above the nominal bound (bucket width / lower bound), always the same for the same
// nominal bound, so series stay comparable across runs. Label values are escaped per the text
// format (backslash, double quote, newline).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "run/run_report.hpp"
#include "stats/histogram.hpp"

namespace llmd::report {

// Nominal histogram bounds, seconds (from 1 ms inter-token gaps to 60 s end-to-end); +Inf follows.
inline constexpr std::array<double, 23> k_push_bucket_bounds_seconds = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5,
    0.75,  1,      1.5,   2,    2.5,   5,    7.5,   10,  20,   30,  60};

struct PushBucket {
  std::uint64_t le_ns = 0;       // highest value of the engine bucket holding the nominal bound
  std::uint64_t cumulative = 0;  // values <= le_ns, exactly
};

// One bucket per nominal bound (seconds -> ns, then up to its bucket's highest value) of a
// nanosecond histogram; +Inf is histogram.count().
std::vector<PushBucket> push_buckets(const stats::LogLinearHistogram& histogram_ns);

// The run's exposition text (families above, each once, HELP and TYPE first).
std::string render_prometheus_push(const run::RunReport& report);

// The `scenario` label / grouping value: the scenario's name, "unknown" without a scenario.
std::string push_scenario_name(const run::RunReport& report);

}  // namespace llmd::report
