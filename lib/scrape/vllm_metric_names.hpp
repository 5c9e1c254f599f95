#pragma once
// The vLLM metric names llmd-bench reads from a pod's /metrics to measure the prefix cache, one
// row per exact sample name, each citing the vLLM version (and PR) it comes from. The table lives
// in vllm_metric_names.cpp with a static_assert on its size; /work/shared/VLLM-METRICS.md is the
// source of truth.
//
// Names are matched exactly (never as prefixes: V1 also exports `..._created` gauges) after one of
// the namespace prefixes in k_metric_namespaces ("vllm:", or "ray_vllm:" under Ray Serve).
#include <array>
#include <span>
#include <string_view>
#include <vector>

namespace llmd::scrape {

// What a sample measures.
enum class MetricRole {
  queries,           // prefix-cache lookups: prompt tokens (or blocks, V1 <= 0.8.5) looked up, cumulative
  hits,              // prefix-cache hits: tokens (or blocks) found in the local cache, cumulative
  hit_rate_gauge,    // V0 only: cumulative block hit ratio since start (-1 when caching is off); no counts
  external_queries,  // KV-connector (cross-instance) cache lookups, tokens: reported apart, never added
  external_hits,     // KV-connector cache hits, tokens: reported apart, never added
  requests_success,  // finished requests, summed over finished_reason / finish_reason (and engine)
  cache_config,      // info gauge: labels enable_prefix_caching, block_size (no model_name label)
};

// Which exporter generation a name belongs to (the same role can have several names).
enum class NameGeneration {
  v1_current,     // vllm:prefix_cache_*_total (0.9.2+; the only names from 0.11)
  v1_deprecated,  // vllm:gpu_prefix_cache_*_total (V1 ~0.7.3-0.10.x; hidden 0.11, removed 0.12)
  v0_gauge,       // vllm:gpu_prefix_cache_hit_rate (V0 engine 0.5.5-0.8.x)
  inference_sim,  // llm-d-inference-sim releases: counters without `_total`
  all_versions,   // the same name everywhere it exists
};

struct MetricNameRow {
  MetricRole role;
  NameGeneration generation;
  std::string_view name;   // exact sample name after the namespace prefix, e.g. "prefix_cache_queries_total"
  std::string_view since;  // where the row comes from: vLLM version(s) and PR
};

// Namespace prefixes, in preference order: plain vLLM, then vLLM under Ray Serve (Ray prefixes
// every metric with "ray_" and adds its own labels; VLLM-METRICS.md "Labels and exposition quirks").
inline constexpr std::array<std::string_view, 2> k_metric_namespaces = {"vllm:", "ray_vllm:"};

// Every row of the table, in preference order within each role (current names first).
std::span<const MetricNameRow> metric_name_rows();

// The rows of `role`, in preference order.
std::vector<MetricNameRow> rows_for(MetricRole role);

// The row of `role` and `generation`, or nullptr (e.g. no V0 name for hits).
const MetricNameRow* find_row(MetricRole role, NameGeneration generation);

// True for the sample names (in either namespace) whose HELP text alone tells their unit: the V1
// vllm:gpu_prefix_cache_{queries,hits}_total counters, BLOCKS until 0.8.5, tokens from 0.9.0
// ("in terms of number of queried blocks" / "... tokens"). A source must carry their HELP.
bool unit_told_by_help(std::string_view sample_name);

// Which names a pod's prefix-cache counters use; decides how to read and trust them.
enum class CounterFlavor {
  none,           // no prefix-cache metric at all (vLLM <= 0.5.4, not a vLLM pod, or filtered out)
  v0_gauge,       // V0 engine: only the hit-rate gauge; a delta over the run cannot be computed
  v1_blocks,      // V1 <= 0.8.5: gpu_prefix_cache_* counting BLOCKS (HELP says "blocks")
  v1_old_names,   // 0.9.0-0.9.1: gpu_prefix_cache_* in tokens (PR #18003)
  v1_both_names,  // 0.9.2-0.10.x: both names, equal values (PR #18354): the new ones are read, never summed
  v1_new_names,   // 0.11+: prefix_cache_* only (PR #24245, PR #29330)
  inference_sim,  // llm-d-inference-sim: prefix_cache_* without `_total`
};

// Human description for reports, e.g. "vLLM >= 0.11 (vllm:prefix_cache_*)".
std::string_view describe(CounterFlavor flavor);
// Stable snake_case id for JSON, e.g. "v1_new_names".
std::string_view to_string(CounterFlavor flavor);

// What a pod's queries/hits values count.
enum class CounterUnit {
  none,    // no counts (no counters, or the V0 ratio gauge only)
  tokens,  // prompt tokens (vLLM >= 0.9.0, inference-sim)
  blocks,  // KV blocks of block_size tokens (V1 <= 0.8.5): ratios valid, token counts not
};

// "none" | "tokens" | "blocks".
std::string_view to_string(CounterUnit unit);

}  // namespace llmd::scrape
