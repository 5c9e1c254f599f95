#pragma once
// One pod's prefix-cache counters at one instant, read from its /metrics text.
//
// Flow: a MetricsSource returns one PodScrape per pod (text or error); snapshot_pod() parses the
// text and extract_counters() reads the vLLM names of vllm_metric_names.hpp into a PodSnapshot.
// Two snapshot lists (before and after the measured run) go to compute_cache_report().
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "prom/counter_delta.hpp"
#include "prom/text_parser.hpp"
#include "scrape/vllm_metric_names.hpp"
#include "util/result.hpp"

namespace llmd::scrape {

// What a MetricsSource fetched for one pod.
struct PodScrape {
  std::string pod;                  // pod name (for saved dumps: the file stem)
  std::string source;               // where the text came from: a URL or a file path
  util::Result<std::string> text;   // the exposition, or an error naming pod, source, cause and what to try
  std::chrono::microseconds duration{0};             // how long fetching took
  std::chrono::system_clock::time_point scraped_at;  // when the text was captured (files: last write time)
};

// KV-connector (cross-instance) cache counters, tokens. A separate cache: never added to local hits.
struct ExternalCounters {
  std::optional<double> queries_tokens;  // vllm:external_prefix_cache_queries_total, summed
  std::optional<double> hits_tokens;     // vllm:external_prefix_cache_hits_total, summed
  prom::SeriesMap queries_series;        // the same, series by series
  prom::SeriesMap hits_series;
};

// The prefix-cache state of one pod. Counter values are cumulative since the pod (re)started,
// summed over every series of the name (the `engine` label under data parallelism, and
// `finished_reason` for requests) whose model_name equals the model filter when one is given.
// nullopt means "not exported" (or every series filtered out), never zero.
struct PodSnapshot {
  CounterFlavor flavor = CounterFlavor::none;
  std::string flavor_text;        // describe(flavor), plus " under Ray Serve (ray_vllm:)" when prefixed so
  std::string metric_namespace = "vllm:";  // "vllm:" or "ray_vllm:" (see k_metric_namespaces)
  CounterUnit unit = CounterUnit::none;    // what `queries` and `hits` count
  // False when `unit` is an assumption: vllm:gpu_prefix_cache_{queries,hits}_total came without any
  // HELP text, so they are read as tokens (0.9.0-0.9.1) though vLLM V1 <= 0.8.5 counted BLOCKS under
  // the same names (only HELP tells them apart).
  bool unit_verified = true;

  std::optional<double> queries;  // prefix-cache lookups, in `unit` (tokens; blocks for v1_blocks)
  std::optional<double> hits;     // prefix-cache hits, in `unit`
  // The series behind `queries`, `hits` and `requests_success`, keyed by label set (series_key()),
  // each with its own `_created` when exported: deltas are taken per series, then summed.
  prom::SeriesMap queries_series;
  prom::SeriesMap hits_series;
  prom::SeriesMap requests_series;
  // Series of those counters that the exposition holds more than once with the same labels, as
  // `name{labels}`: two exporters (or a merging proxy) answer for the pod, and any sum of them
  // counts something twice. A pod with duplicates has no trustworthy figures.
  std::vector<std::string> duplicate_series;
  std::string queries_metric;     // exact sample name read for `queries` ("" when none)
  std::string hits_metric;        // exact sample name read for `hits` ("" when none)

  // V0 engine only: vllm:gpu_prefix_cache_hit_rate, the cumulative block hit ratio since start
  // (0..1; -1 when prefix caching is off). A ratio, not a count: no delta can be computed from it.
  std::optional<double> hit_rate_gauge;

  std::optional<double> requests_success;  // vllm:request_success_total summed over finish reasons
  ExternalCounters external;

  // From vllm:cache_config_info (never filtered by model: it has no model_name label).
  std::optional<bool> prefix_caching_enabled;   // "True" -> true, "False" -> false, "None"/absent -> nullopt
  std::string prefix_caching_label;             // the raw enable_prefix_caching value ("" when absent)
  std::optional<std::size_t> block_size_tokens; // block_size label

  // Restart evidence. Per series: each series' `_created` (in the SeriesMaps). Per process:
  std::optional<double> counters_created_unix_seconds;  // max `_created` of the queries counter (V1 only; informational)
  std::optional<double> process_start_unix_seconds;     // process_start_time_seconds: a change resets every series

  // model_name values found on the prefix-cache series, before filtering (sorted, unique): tells
  // the user what to pass when the model filter matched nothing.
  std::vector<std::string> model_names_seen;
};

// A sample's labels as a canonical series key: `name="value"` pairs sorted by name, comma-joined,
// values escaped as in the exposition (e.g. `engine="0",model_name="m"`; "" without labels).
std::string series_key(const prom::Sample& sample);

// Reads the prefix-cache counters of one pod's exposition. `model_filter` empty: every model.
// Series without a model_name label are kept even when filtering (nothing to compare).
PodSnapshot extract_counters(const prom::Exposition& exposition, std::string_view model_filter);

// One pod's snapshot, or why there is none (scrape failed, or the text is not Prometheus text).
struct PodSnapshotResult {
  std::string pod;
  std::string source;
  util::Result<PodSnapshot> snapshot;
  std::chrono::system_clock::time_point scraped_at;
};

// Parses `scrape.text` and extracts its counters. Errors keep the scrape's message, or say
// "pod P (SOURCE): not Prometheus text: SOURCE:LINE: ..." for text that does not parse.
PodSnapshotResult snapshot_pod(const PodScrape& scrape, std::string_view model_filter);

// snapshot_pod() for every scrape, in order.
std::vector<PodSnapshotResult> snapshot_pods(const std::vector<PodScrape>& scrapes, std::string_view model_filter);

}  // namespace llmd::scrape
