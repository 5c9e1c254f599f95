#pragma once
// Prefix-cache report of a measured run: per pod the increase of its counters between the snapshot
// before and the snapshot after the run, fleet totals, and diagnostics that say what to do next.
// Plain data + computation (STYLE.md habit 3); renderers live elsewhere, to_json() is the JSON form.
//
// Undefined values are nullopt, never 0: a pod that received no query has no hit rate.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "prom/counter_delta.hpp"
#include "scrape/snapshot.hpp"
#include "scrape/vllm_metric_names.hpp"

namespace llmd::scrape {

// What became of a pod, most severe first when several apply (the `reset` flag is kept apart).
enum class PodStatus {
  ok,                // scraped twice, counters went up (or stayed)
  reset,             // a series restarted during the run: that series counted from zero (a lower bound)
  new_pod,           // only in the "after" scrape: counted from zero ("new")
  vanished,          // only in the "before" scrape: MISSING from the totals
  scrape_failed,     // a scrape (before or after) failed or was not Prometheus text: MISSING
  invalid,           // impossible figures (Δhits > Δqueries, a non-counter value) or a series
                     // exported twice: no figure of the pod can be trusted, MISSING from the totals
  caching_disabled,  // cache_config_info says enable_prefix_caching="False" (or the V0 gauge reads -1)
  no_counters,       // answered, but without usable prefix-cache counters (V0 gauge only, none, filtered out)
};

// "ok" | "reset" | "new" | "vanished" | "scrape_failed" | "invalid" | "caching_disabled" | "no_counters".
std::string_view to_string(PodStatus status);

// One counter before and after the run (summed over its series), and its increase: each series'
// increase (prom::series_delta: resets judged per series), summed.
struct CounterSpan {
  std::optional<double> before;
  std::optional<double> after;
  std::optional<double> delta;  // nullopt when not computable
  prom::DeltaStatus delta_status = prom::DeltaStatus::absent;
  std::vector<prom::SeriesEvent> series_events;  // series that reset, appeared, vanished or held no counter value
};

struct PodCacheRow {
  std::string pod;
  std::string source;       // URL or file of the latest scrape
  CounterFlavor flavor = CounterFlavor::none;
  std::string flavor_text;  // e.g. "vLLM >= 0.11 (vllm:prefix_cache_*)"
  CounterUnit unit = CounterUnit::none;
  bool unit_verified = true;  // false: `unit` is assumed (old V1 counter names without HELP text; see PodSnapshot)

  CounterSpan queries;           // in `unit`
  CounterSpan hits;              // in `unit`
  CounterSpan requests_success;  // finished requests
  CounterSpan external_queries_tokens;  // KV-connector cache: reported apart, never in totals
  CounterSpan external_hits_tokens;

  std::optional<double> hit_rate;          // Δhits / Δqueries; nullopt when Δqueries is 0 or unknown
  std::optional<double> share_of_queries;  // Δqueries / ΣΔqueries; nullopt when either is 0 or unknown
  std::optional<double> share_of_requests; // Δrequests / ΣΔrequests (finished requests); nullopt when unknown
  std::optional<double> hit_rate_gauge_after;  // V0 only: cumulative ratio since start (not over the run)

  std::string queries_metric;    // exact sample name read for queries, e.g. "vllm:prefix_cache_queries_total"
  std::string hits_metric;       // exact sample name read for hits ("" when none)
  std::optional<bool> prefix_caching_enabled;   // from the latest snapshot
  std::string prefix_caching_label;             // raw enable_prefix_caching label ("True"/"False"/"None"/"")
  std::optional<std::size_t> block_size_tokens;
  std::vector<std::string> model_names_seen;    // model_name values on the pod's prefix-cache series

  bool reset = false;      // a series (or the whole process) restarted between the scrapes
  // The evidence, series by series, e.g. `vllm:prefix_cache_queries_total{engine="1"} went down from
  // 900 to 120; counted from zero`, or "process_start_time_seconds changed (...)".
  std::string reset_reason;
  bool in_totals = false;  // Δqueries and Δhits were added to the totals
  PodStatus status = PodStatus::ok;
  std::string error;       // why, when status is scrape_failed or invalid
};

struct CacheTotals {
  double queries = 0;                     // ΣΔqueries over pods in totals
  double hits = 0;                        // ΣΔhits over pods in totals
  double requests_success = 0;            // ΣΔrequests over the pods that are not missing and have the counter
  std::optional<double> hit_rate;         // ΣΔhits / ΣΔqueries; nullopt when ΣΔqueries is 0
  // Concentration: the largest share_of_requests (finished requests, the share users mean) and the
  // pod holding it; nullopt/"" when no pod finished a request or a pod's request counter is missing.
  std::optional<double> max_pod_share;
  std::string max_share_pod;
  std::optional<double> max_pod_query_share;  // the largest share_of_queries (prefix-cache lookups, tokens)
  std::string max_query_share_pod;
  std::optional<double> external_queries_tokens;  // ΣΔ of the KV-connector counters, when any pod has them
  std::optional<double> external_hits_tokens;
  std::size_t pods_ok = 0;                // pods whose two scrapes both succeeded
  std::size_t pods_failed = 0;            // pods with a failed scrape
  std::size_t pods_invalid = 0;           // pods with impossible or duplicated figures
  std::size_t pods_vanished = 0;          // pods scraped before the run only
  // Pods whose counts are missing from the totals (scrape failed, invalid, vanished), each as
  // "pod (why)": the totals, hit rate and shares cover the other pods only. Gates on them fail
  // unless the scenario allows that many (cache.allow_missing_pods).
  std::vector<std::string> missing_pods;
  bool mixed_units = false;               // some pods count tokens, others blocks: totals mix them
};

enum class Severity { info, warning, error };

// "info" | "warning" | "error".
std::string_view to_string(Severity severity);

struct CacheDiagnostic {
  Severity severity = Severity::info;
  std::optional<std::string> pod;  // nullopt for fleet-wide findings
  std::string message;             // what was found, with the numbers
  std::string fix;                 // what to do about it
};

struct CacheReport {
  std::vector<PodCacheRow> pods;  // sorted by pod name
  CacheTotals totals;
  std::vector<CacheDiagnostic> diagnostics;  // fleet-wide first, then per pod in pod order
};

// Matches pods by name between the two snapshot lists and computes rows, totals and diagnostics.
CacheReport compute_cache_report(const std::vector<PodSnapshotResult>& before,
                                 const std::vector<PodSnapshotResult>& after);

// The report as JSON with snake_case keys; nullopt values are null.
nlohmann::json to_json(const CacheReport& report);

}  // namespace llmd::scrape
