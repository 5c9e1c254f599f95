#pragma once
// Renders a simulated pod's /metrics in vLLM's real metric names, types, labels and histogram
// buckets, for three vLLM generations (see ../shared/VLLM-METRICS.md and the `flavor` table in
// metrics_exporter.cpp, each row citing the vLLM version/PR it follows).
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace llmd::sim {

enum class MetricsFlavor {
  v0,      // vLLM V0 engine (0.5.5 - 0.8.x): gauge vllm:gpu_prefix_cache_hit_rate, vllm:gpu_cache_usage_perc
  v0_10,   // vLLM 0.9.2 - 0.10.x V1: vllm:gpu_prefix_cache_*_total AND vllm:prefix_cache_*_total (tokens)
  v0_11,   // vLLM 0.11+ V1: vllm:prefix_cache_*_total (tokens), vllm:kv_cache_usage_perc
};

// "v0" | "v0.10" | "v0.11" (the --metrics-flavor values); the error lists the valid choices.
util::Result<MetricsFlavor> parse_metrics_flavor(std::string_view text);
std::string_view to_string(MetricsFlavor flavor);

// A Prometheus histogram with fixed upper bounds (seconds). `bucket_counts[i]` counts
// observations <= upper_bounds[i] and > upper_bounds[i-1] (NOT cumulative; +Inf bucket last).
struct HistogramData {
  std::vector<double> upper_bounds;
  std::vector<std::uint64_t> bucket_counts;  // upper_bounds.size() + 1 entries
  double sum = 0;
  std::uint64_t count = 0;

  explicit HistogramData(std::vector<double> bounds = {});
  void observe(double value);
};

// vLLM's bucket boundaries (vllm/v1/metrics/loggers.py), each function citing its version.
std::vector<double> ttft_buckets_seconds();
std::vector<double> inter_token_buckets_seconds();
std::vector<double> request_latency_buckets_seconds();

// Everything one pod's /metrics shows. Counters are cumulative since the pod (re)started.
struct PodMetrics {
  std::string model_name;                // label model_name
  std::string engine = "0";              // label engine (V1 flavors only)
  double process_start_unix_seconds = 0; // value of every `_created` sample (V1 flavors)

  // cache_config_info labels
  bool enable_prefix_caching = true;
  std::size_t block_size_tokens = 16;
  std::size_t num_gpu_blocks = 0;

  // Prefix cache, in TOKENS (V1 since 0.9.0), plus the block-level numbers V0's hit-rate gauge uses.
  std::uint64_t prefix_cache_queries_tokens = 0;
  std::uint64_t prefix_cache_hits_tokens = 0;
  std::uint64_t prefix_cache_queried_blocks = 0;
  std::uint64_t prefix_cache_hit_blocks = 0;

  double kv_cache_usage = 0;             // 0..1
  std::uint64_t num_requests_running = 0;
  std::uint64_t num_requests_waiting = 0;

  std::uint64_t prompt_tokens = 0;
  std::uint64_t generation_tokens = 0;
  // vllm:request_success_total{finished_reason=...}: "stop", "length", "abort"
  std::map<std::string, std::uint64_t> request_success_by_reason;

  HistogramData time_to_first_token{ttft_buckets_seconds()};
  HistogramData inter_token_latency{inter_token_buckets_seconds()};
  HistogramData e2e_request_latency{request_latency_buckets_seconds()};
  HistogramData request_queue_time{request_latency_buckets_seconds()};
};

// The full text exposition (text/plain; version=0.0.4) of `metrics` in `flavor`.
std::string render_metrics(const PodMetrics& metrics, MetricsFlavor flavor);

}  // namespace llmd::sim
