// to_json(CacheReport): the prefix-cache section of the JSON result file. snake_case keys with
// the unit as suffix; nullopt (and NaN) values are null, never 0. The prefix-cache counters count
// tokens (vLLM >= 0.9) or KV blocks (V1 <= 0.8.5): they appear as `queries_tokens`/`hits_tokens`
// or `queries_blocks`/`hits_blocks`, the pair of the other unit null (both pairs null when the pod
// has no counters, or for totals that mix units or count no pod).
#include <algorithm>
#include <optional>

#include <nlohmann/json.hpp>

#include "scrape/cache_report.hpp"

namespace llmd::scrape {

namespace {

using nlohmann::json;

template <class T>
json optional_json(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

json span_json(const CounterSpan& span) {
  json events = json::array();
  for (const prom::SeriesEvent& event : span.series_events) {
    events.push_back({{"series", event.series}, {"status", prom::to_string(event.status)}, {"evidence", event.evidence}});
  }
  return {{"before", optional_json(span.before)},
          {"after", optional_json(span.after)},
          {"delta", optional_json(span.delta)},
          {"delta_status", prom::to_string(span.delta_status)},
          {"series_events", std::move(events)}};
}

// `value` when the counters are in `unit`, else null.
json in_unit(CounterUnit counted, CounterUnit unit, json value) { return counted == unit ? std::move(value) : json(nullptr); }

// The one unit of the pods in the totals; none when no pod is in them or they mix units.
CounterUnit totals_unit(const CacheReport& report) {
  std::optional<CounterUnit> unit;
  for (const PodCacheRow& row : report.pods) {
    if (!row.in_totals || row.unit == CounterUnit::none) {
      continue;
    }
    if (unit && *unit != row.unit) {
      return CounterUnit::none;
    }
    unit = row.unit;
  }
  return unit.value_or(CounterUnit::none);
}

// Whether the requests total stands on a counter: some pod that is not missing had one.
bool requests_known(const CacheReport& report) {
  return std::any_of(report.pods.begin(), report.pods.end(), [](const PodCacheRow& row) {
    return row.requests_success.delta.has_value() && row.status != PodStatus::scrape_failed &&
           row.status != PodStatus::invalid && row.status != PodStatus::vanished;
  });
}

json row_json(const PodCacheRow& row) {
  return {{"pod", row.pod},
          {"source", row.source},
          {"status", to_string(row.status)},
          {"flavor", to_string(row.flavor)},
          {"flavor_text", row.flavor_text},
          {"unit", to_string(row.unit)},
          {"unit_verified", row.unit_verified},
          {"queries_metric", row.queries_metric},
          {"hits_metric", row.hits_metric},
          {"queries_tokens", in_unit(row.unit, CounterUnit::tokens, span_json(row.queries))},
          {"hits_tokens", in_unit(row.unit, CounterUnit::tokens, span_json(row.hits))},
          {"queries_blocks", in_unit(row.unit, CounterUnit::blocks, span_json(row.queries))},
          {"hits_blocks", in_unit(row.unit, CounterUnit::blocks, span_json(row.hits))},
          {"requests_success", span_json(row.requests_success)},
          {"external_queries_tokens", span_json(row.external_queries_tokens)},
          {"external_hits_tokens", span_json(row.external_hits_tokens)},
          {"hit_rate", optional_json(row.hit_rate)},
          {"share_of_queries", optional_json(row.share_of_queries)},
          {"share_of_requests", optional_json(row.share_of_requests)},
          {"hit_rate_gauge_after", optional_json(row.hit_rate_gauge_after)},
          {"prefix_caching_enabled", optional_json(row.prefix_caching_enabled)},
          {"prefix_caching_label", row.prefix_caching_label},
          {"block_size_tokens", optional_json(row.block_size_tokens)},
          {"model_names_seen", row.model_names_seen},
          {"reset", row.reset},
          {"reset_reason", row.reset_reason},
          {"in_totals", row.in_totals},
          {"error", row.error}};
}

// `requests_known`: some pod in the totals has vllm:request_success_total (else the sum is null).
json totals_json(const CacheTotals& totals, CounterUnit unit, bool requests_known) {
  return {{"queries_tokens", in_unit(unit, CounterUnit::tokens, totals.queries)},
          {"hits_tokens", in_unit(unit, CounterUnit::tokens, totals.hits)},
          {"queries_blocks", in_unit(unit, CounterUnit::blocks, totals.queries)},
          {"hits_blocks", in_unit(unit, CounterUnit::blocks, totals.hits)},
          {"requests_success", requests_known ? json(totals.requests_success) : json(nullptr)},
          {"hit_rate", optional_json(totals.hit_rate)},
          {"max_pod_share", optional_json(totals.max_pod_share)},
          {"max_share_pod", totals.max_share_pod.empty() ? json(nullptr) : json(totals.max_share_pod)},
          {"max_pod_query_share", optional_json(totals.max_pod_query_share)},
          {"max_query_share_pod", totals.max_query_share_pod.empty() ? json(nullptr) : json(totals.max_query_share_pod)},
          {"external_queries_tokens", optional_json(totals.external_queries_tokens)},
          {"external_hits_tokens", optional_json(totals.external_hits_tokens)},
          {"pods_ok", totals.pods_ok},
          {"pods_failed", totals.pods_failed},
          {"pods_invalid", totals.pods_invalid},
          {"pods_vanished", totals.pods_vanished},
          {"missing_pods", totals.missing_pods},
          {"mixed_units", totals.mixed_units}};
}

json diagnostic_json(const CacheDiagnostic& diagnostic) {
  return {{"severity", to_string(diagnostic.severity)},
          {"pod", optional_json(diagnostic.pod)},
          {"message", diagnostic.message},
          {"fix", diagnostic.fix}};
}

}  // namespace

nlohmann::json to_json(const CacheReport& report) {
  json pods = json::array();
  for (const PodCacheRow& row : report.pods) {
    pods.push_back(row_json(row));
  }
  json diagnostics = json::array();
  for (const CacheDiagnostic& diagnostic : report.diagnostics) {
    diagnostics.push_back(diagnostic_json(diagnostic));
  }
  return {{"pods", std::move(pods)}, {"totals", totals_json(report.totals, totals_unit(report), requests_known(report))}, {"diagnostics", std::move(diagnostics)}};
}

}  // namespace llmd::scrape
