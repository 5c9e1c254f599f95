#include "scrape/vllm_metric_names.hpp"

#include <iterator>

// Sources: /work/shared/VLLM-METRICS.md (github.com/vllm-project/vllm PRs cited per row) and the
// captured expositions in test/fixtures/metrics/.

namespace llmd::scrape {

namespace {

using G = NameGeneration;
using R = MetricRole;

// Preference order within a role matters: rows_for() returns them in this order.
constexpr MetricNameRow k_rows[] = {
    // Local prefix cache, tokens. New names appear in 0.9.2 next to the old ones (PR #18354).
    {R::queries, G::v1_current, "prefix_cache_queries_total", "vLLM >= 0.9.2 (PR #18354); only name from 0.11"},
    {R::hits, G::v1_current, "prefix_cache_hits_total", "vLLM >= 0.9.2 (PR #18354); only name from 0.11"},
    // Old V1 names: BLOCKS in ~0.7.3-0.8.5, tokens from 0.9.0 (PR #18003), hidden in 0.11 (PR #24245),
    // removed in 0.12 (PR #29330).
    {R::queries, G::v1_deprecated, "gpu_prefix_cache_queries_total", "vLLM V1 ~0.7.3-0.10.x (blocks until 0.8.5)"},
    {R::hits, G::v1_deprecated, "gpu_prefix_cache_hits_total", "vLLM V1 ~0.7.3-0.10.x (blocks until 0.8.5)"},
    // llm-d-inference-sim (Go client_golang): the counter name is the sample name, no `_total`.
    {R::queries, G::inference_sim, "prefix_cache_queries", "llm-d-inference-sim releases"},
    {R::hits, G::inference_sim, "prefix_cache_hits", "llm-d-inference-sim releases"},
    // V0 engine 0.5.5-0.8.x: cumulative block hit ratio since start, -1 when prefix caching is off.
    {R::hit_rate_gauge, G::v0_gauge, "gpu_prefix_cache_hit_rate", "vLLM V0 engine 0.5.5-0.8.x"},
    // KV connector (cross-instance) cache, tokens (PR #26245): a separate cache, never added to hits.
    {R::external_queries, G::all_versions, "external_prefix_cache_queries_total", "vLLM with a KV connector (PR #26245)"},
    {R::external_hits, G::all_versions, "external_prefix_cache_hits_total", "vLLM with a KV connector (PR #26245)"},
    // Finished requests, one series per finished_reason (and engine in V1).
    {R::requests_success, G::all_versions, "request_success_total", "vLLM V0 and V1; current llm-d-inference-sim"},
    {R::requests_success, G::inference_sim, "request_success", "llm-d-inference-sim releases without `_total`"},
    // Cache config as labels (Python str() values: "True"/"False"/"None"); no model_name label.
    {R::cache_config, G::all_versions, "cache_config_info", "vLLM V0 (>= 0.4) and V1; inference-sim (block_size only)"},
};
static_assert(std::size(k_rows) == 12, "update the table tests when adding a metric-name row");

}  // namespace

std::span<const MetricNameRow> metric_name_rows() { return k_rows; }

std::vector<MetricNameRow> rows_for(MetricRole role) {
  std::vector<MetricNameRow> rows;
  for (const MetricNameRow& row : k_rows) {
    if (row.role == role) {
      rows.push_back(row);
    }
  }
  return rows;
}

const MetricNameRow* find_row(MetricRole role, NameGeneration generation) {
  for (const MetricNameRow& row : k_rows) {
    if (row.role == role && row.generation == generation) {
      return &row;
    }
  }
  return nullptr;
}

bool unit_told_by_help(std::string_view sample_name) {
  for (std::string_view ns : k_metric_namespaces) {
    if (!sample_name.starts_with(ns)) {
      continue;
    }
    const std::string_view bare = sample_name.substr(ns.size());
    for (MetricRole role : {MetricRole::queries, MetricRole::hits}) {
      if (find_row(role, NameGeneration::v1_deprecated)->name == bare) {
        return true;
      }
    }
  }
  return false;
}

std::string_view describe(CounterFlavor flavor) {
  switch (flavor) {
    case CounterFlavor::none: return "no prefix-cache metrics";
    case CounterFlavor::v0_gauge: return "vLLM V0 (hit-rate gauge only)";
    case CounterFlavor::v1_blocks: return "vLLM V1 <= 0.8 (blocks!)";
    case CounterFlavor::v1_old_names: return "vLLM 0.9.0-0.9.1 (vllm:gpu_prefix_cache_*)";
    case CounterFlavor::v1_both_names: return "vLLM 0.9.2-0.10.x (both names)";
    case CounterFlavor::v1_new_names: return "vLLM >= 0.11 (vllm:prefix_cache_*)";
    case CounterFlavor::inference_sim: return "llm-d-inference-sim";
  }
  return "no prefix-cache metrics";
}

std::string_view to_string(CounterFlavor flavor) {
  switch (flavor) {
    case CounterFlavor::none: return "none";
    case CounterFlavor::v0_gauge: return "v0_gauge";
    case CounterFlavor::v1_blocks: return "v1_blocks";
    case CounterFlavor::v1_old_names: return "v1_old_names";
    case CounterFlavor::v1_both_names: return "v1_both_names";
    case CounterFlavor::v1_new_names: return "v1_new_names";
    case CounterFlavor::inference_sim: return "inference_sim";
  }
  return "none";
}

std::string_view to_string(CounterUnit unit) {
  switch (unit) {
    case CounterUnit::none: return "none";
    case CounterUnit::tokens: return "tokens";
    case CounterUnit::blocks: return "blocks";
  }
  return "none";
}

}  // namespace llmd::scrape
