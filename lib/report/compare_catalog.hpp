#pragma once
// Inside report/compare.*: the metrics a comparison has rows for (where each is read in a run result,
// its unit and its direction) and the gate evaluation. Not for other callers.
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "report/compare.hpp"

namespace llmd::report {

// A row key with its unit and direction: every key compare_results() may produce.
struct CompareMetric {
  std::string key;  // "ttft.p95", "counts.ok", "cache_hit_rate"
  CompareUnit unit;
  Direction direction;
};

// nullptr when no row has this key.
const CompareMetric* find_compare_metric(std::string_view key);
// Every key, in table order ("ttft.p50, ttft.p90, ..." for error messages).
const std::vector<CompareMetric>& compare_metrics();

// A histogram of a phase's "metrics" (JSON key `json_key`), shown as `key`.p50 ... `key`.avg.
struct HistogramMetric {
  const char* key;       // threshold name: "ttft"
  const char* json_key;  // "ttft_ns"
  CompareUnit unit;
  Direction direction;
  double scale;  // recorded unit -> shown unit (ns -> s: 1e-9; tokens/s * 1000 -> tokens/s: 1e-3)
};

inline constexpr std::array<HistogramMetric, 10> k_histogram_metrics = {{
    {"ttft", "ttft_ns", CompareUnit::seconds, Direction::lower_is_better, 1e-9},
    {"inter_token_latency", "inter_token_latency_ns", CompareUnit::seconds, Direction::lower_is_better, 1e-9},
    {"http_req_duration", "http_req_duration_ns", CompareUnit::seconds, Direction::lower_is_better, 1e-9},
    {"tpot", "tpot_ns", CompareUnit::seconds, Direction::lower_is_better, 1e-9},
    {"time_to_first_byte", "first_byte_ns", CompareUnit::seconds, Direction::lower_is_better, 1e-9},
    {"time_to_first_event", "first_event_ns", CompareUnit::seconds, Direction::lower_is_better, 1e-9},
    {"schedule_lag", "schedule_lag_ns", CompareUnit::seconds, Direction::lower_is_better, 1e-9},
    {"event_loop_lag", "event_loop_lag_ns", CompareUnit::seconds, Direction::lower_is_better, 1e-9},
    {"tokens_per_second", "tokens_per_second_milli", CompareUnit::number, Direction::higher_is_better, 1e-3},
    {"output_tokens", "output_tokens", CompareUnit::number, Direction::neutral, 1},
}};

struct HistogramStat {
  const char* name;               // "p95", "avg"
  std::optional<double> quantile;  // 0.95; nullopt for the mean
};

inline constexpr std::array<HistogramStat, 5> k_histogram_stats = {{
    {"p50", 0.50}, {"p90", 0.90}, {"p95", 0.95}, {"p99", 0.99}, {"avg", std::nullopt}}};

// Keys of a phase's "counts", shown as counts.NAME.
inline constexpr std::array<const char*, 6> k_count_names = {"started", "completed", "ok", "failed", "dropped", "aborted"};

// Rows of the run's cache report and routing analysis (the total section only).
struct RunWideMetric {
  const char* key;            // "cache_hit_rate"
  const char* section;        // top-level key of the result: "cache", "routing"
  const char* section_label;  // for "baseline has no cache report"
  std::array<const char*, 3> path;  // below the result's root
  CompareUnit unit;
  Direction direction;
};

inline constexpr std::array<RunWideMetric, 7> k_run_wide_metrics = {{
    {"cache_hit_rate", "cache", "cache", {"cache", "totals", "hit_rate"}, CompareUnit::ratio, Direction::higher_is_better},
    {"max_pod_share", "cache", "cache", {"cache", "totals", "max_pod_share"}, CompareUnit::ratio, Direction::neutral},
    {"max_pod_query_share", "cache", "cache", {"cache", "totals", "max_pod_query_share"}, CompareUnit::ratio, Direction::neutral},
    {"routing_efficiency", "routing", "routing", {"routing", "efficiency", "ratio"}, CompareUnit::ratio, Direction::higher_is_better},
    {"affinity", "routing", "routing", {"routing", "affinity", "mean"}, CompareUnit::ratio, Direction::higher_is_better},
    {"pod_switches", "routing", "routing", {"routing", "pod_switches", "mean_per_group"}, CompareUnit::number, Direction::lower_is_better},
    {"load_imbalance_cv", "routing", "routing", {"routing", "load_imbalance", "cv"}, CompareUnit::number, Direction::lower_is_better},
}};

// Judges each gate on `phase`'s row of its metric (when phase is given and has it), else on `total`'s.
void evaluate_gates(const std::vector<Gate>& gates, const CompareSection* phase, const CompareSection& total,
                    std::vector<GateResult>& out);

}  // namespace llmd::report
