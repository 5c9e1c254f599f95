#include "scrape/cache_report.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "scrape/cache_diagnostics.hpp"

namespace llmd::scrape {

namespace {

using prom::DeltaStatus;
using prom::KnownRestart;

struct PodPair {
  const PodSnapshotResult* before = nullptr;
  const PodSnapshotResult* after = nullptr;
};

// Pod name -> its two results (the last one wins if a list names a pod twice). Sorted by name.
std::map<std::string, PodPair> pair_by_pod(const std::vector<PodSnapshotResult>& before,
                                          const std::vector<PodSnapshotResult>& after) {
  std::map<std::string, PodPair> pairs;
  for (const PodSnapshotResult& result : before) {
    pairs[result.pod].before = &result;
  }
  for (const PodSnapshotResult& result : after) {
    pairs[result.pod].after = &result;
  }
  return pairs;
}

// The series of a counter, or, for a snapshot built without them (tests, older callers), its sum
// as one unlabeled series.
prom::SeriesMap series_or_sum(const prom::SeriesMap& series, std::optional<double> sum) {
  if (!series.empty() || !sum) {
    return series;
  }
  return {{std::string(), prom::SeriesPoint{*sum, std::nullopt}}};
}

CounterSpan span_of(std::optional<double> before, const prom::SeriesMap& before_series, std::optional<double> after,
                    const prom::SeriesMap& after_series, KnownRestart restart) {
  prom::SeriesDelta delta =
      prom::series_delta(series_or_sum(before_series, before), series_or_sum(after_series, after), restart);
  return {before, after, delta.delta, delta.status, std::move(delta.events)};
}

// `name{labels}`, or the bare name for an unlabeled series.
std::string series_name(std::string_view metric, const std::string& key) {
  return key.empty() ? std::string(metric) : fmt::format("{}{{{}}}", metric, key);
}

// Why the pod counts as restarted ("" when it does not): the series that reset (went down, or
// their `_created` changed), or the process start time changed (every series restarted).
std::string restart_evidence(const PodCacheRow& row, bool process_restarted, const PodSnapshot& before,
                             const PodSnapshot& after) {
  if (process_restarted) {
    return fmt::format("process_start_time_seconds changed ({:.3f} -> {:.3f}): every series counted from zero",
                       *before.process_start_unix_seconds, *after.process_start_unix_seconds);
  }
  // The first counter with a reset tells (the others of the same engine reset with it).
  constexpr std::size_t k_shown = 3;
  const std::pair<std::string_view, const CounterSpan*> spans[] = {
      {row.queries_metric, &row.queries}, {row.hits_metric, &row.hits}, {"vllm:request_success_total", &row.requests_success}};
  for (const auto& [metric, span] : spans) {
    std::vector<std::string> parts;
    std::size_t resets = 0;
    for (const prom::SeriesEvent& event : span->series_events) {
      if (event.status == DeltaStatus::reset && resets++ < k_shown) {
        parts.push_back(fmt::format("{} {}", series_name(metric, event.series), event.evidence));
      }
    }
    if (resets > k_shown) {
      parts.push_back(fmt::format("and {} more series", resets - k_shown));
    }
    if (!parts.empty()) {
      return fmt::format("{}", fmt::join(parts, "; "));
    }
  }
  return {};
}

void copy_description(PodCacheRow& row, const PodSnapshot& snapshot) {
  row.flavor = snapshot.flavor;
  row.flavor_text = snapshot.flavor_text;
  row.unit = snapshot.unit;
  row.unit_verified = snapshot.unit_verified;
  row.queries_metric = snapshot.queries_metric;
  row.hits_metric = snapshot.hits_metric;
  row.prefix_caching_enabled = snapshot.prefix_caching_enabled;
  row.prefix_caching_label = snapshot.prefix_caching_label;
  row.block_size_tokens = snapshot.block_size_tokens;
  row.model_names_seen = snapshot.model_names_seen;
}

void fill_spans(PodCacheRow& row, const PodSnapshot* before, const PodSnapshot& after) {
  const bool process_restarted = before != nullptr && before->process_start_unix_seconds &&
                                 after.process_start_unix_seconds &&
                                 *before->process_start_unix_seconds != *after.process_start_unix_seconds;
  const KnownRestart restart = process_restarted ? KnownRestart::yes : KnownRestart::no;
  static const PodSnapshot k_nothing;
  const PodSnapshot& was = before != nullptr ? *before : k_nothing;
  row.queries = span_of(was.queries, was.queries_series, after.queries, after.queries_series, restart);
  row.hits = span_of(was.hits, was.hits_series, after.hits, after.hits_series, restart);
  row.requests_success =
      span_of(was.requests_success, was.requests_series, after.requests_success, after.requests_series, restart);
  row.external_queries_tokens = span_of(was.external.queries_tokens, was.external.queries_series,
                                        after.external.queries_tokens, after.external.queries_series, restart);
  row.external_hits_tokens = span_of(was.external.hits_tokens, was.external.hits_series, after.external.hits_tokens,
                                     after.external.hits_series, restart);
  if (before != nullptr) {
    row.reset_reason = restart_evidence(row, process_restarted, *before, after);
    row.reset = !row.reset_reason.empty();
  }
  if (after.flavor == CounterFlavor::v0_gauge) {
    row.hit_rate_gauge_after = after.hit_rate_gauge;
  }
}

// Why the pod's figures cannot be trusted ("" when they can): a series exported twice in a scrape,
// a value that is no counter value, or more hits than lookups.
std::string invalid_evidence(const PodCacheRow& row, const PodSnapshot* before, const PodSnapshot& after) {
  std::vector<std::string> duplicates = after.duplicate_series;
  if (before != nullptr) {
    duplicates.insert(duplicates.end(), before->duplicate_series.begin(), before->duplicate_series.end());
  }
  std::sort(duplicates.begin(), duplicates.end());
  duplicates.erase(std::unique(duplicates.begin(), duplicates.end()), duplicates.end());
  if (!duplicates.empty()) {
    return fmt::format("the scrape holds the same series more than once ({}): two exporters answer for this pod, so "
                       "any sum would count them twice",
                       fmt::join(duplicates, ", "));
  }
  for (const auto& [metric, span] : {std::pair<std::string_view, const CounterSpan*>{row.queries_metric, &row.queries},
                                     {row.hits_metric, &row.hits}}) {
    for (const prom::SeriesEvent& event : span->series_events) {
      if (event.status == DeltaStatus::invalid) {
        return fmt::format("{} {}: not a counter value (NaN, infinite or negative)", series_name(metric, event.series),
                           event.evidence);
      }
    }
  }
  if (row.queries.delta && row.hits.delta && *row.hits.delta > *row.queries.delta) {
    return fmt::format("Δhits {:g} > Δqueries {:g} (hit rate {:.4g}): a cache cannot hit more than it was asked",
                       *row.hits.delta, *row.queries.delta,
                       *row.queries.delta > 0 ? *row.hits.delta / *row.queries.delta : 0.0);
  }
  return {};
}

PodStatus status_of(const PodCacheRow& row, bool is_new) {
  if (row.prefix_caching_enabled == false) {
    return PodStatus::caching_disabled;
  }
  if (!row.queries.delta || !row.hits.delta) {
    return PodStatus::no_counters;
  }
  if (row.reset) {
    return PodStatus::reset;
  }
  return is_new ? PodStatus::new_pod : PodStatus::ok;
}

std::string failure_of(const PodPair& pair) {
  std::vector<std::string> parts;
  if (pair.before != nullptr && !pair.before->snapshot) {
    parts.push_back("before the run: " + pair.before->snapshot.error());
  }
  if (pair.after != nullptr && !pair.after->snapshot) {
    parts.push_back("after the run: " + pair.after->snapshot.error());
  }
  return fmt::format("{}", fmt::join(parts, "; "));
}

PodCacheRow make_row(const std::string& pod, const PodPair& pair) {
  PodCacheRow row;
  row.pod = pod;
  row.source = pair.after != nullptr ? pair.after->source : pair.before->source;
  const PodSnapshot* before = pair.before != nullptr && pair.before->snapshot ? &*pair.before->snapshot : nullptr;
  const PodSnapshot* after = pair.after != nullptr && pair.after->snapshot ? &*pair.after->snapshot : nullptr;
  if (const PodSnapshot* latest = after != nullptr ? after : before) {
    copy_description(row, *latest);
  }
  if (std::string failure = failure_of(pair); !failure.empty()) {
    row.status = PodStatus::scrape_failed;
    row.error = std::move(failure);
    return row;
  }
  if (after == nullptr) {
    static const prom::SeriesMap k_none;
    row.status = PodStatus::vanished;
    row.queries = span_of(before->queries, before->queries_series, std::nullopt, k_none, KnownRestart::no);
    row.hits = span_of(before->hits, before->hits_series, std::nullopt, k_none, KnownRestart::no);
    row.requests_success =
        span_of(before->requests_success, before->requests_series, std::nullopt, k_none, KnownRestart::no);
    return row;
  }
  fill_spans(row, before, *after);
  if (std::string invalid = invalid_evidence(row, before, *after); !invalid.empty()) {
    row.status = PodStatus::invalid;
    row.error = std::move(invalid);
    return row;
  }
  row.status = status_of(row, before == nullptr);
  row.in_totals = row.queries.delta.has_value() && row.hits.delta.has_value();
  if (row.in_totals && *row.queries.delta > 0) {
    row.hit_rate = *row.hits.delta / *row.queries.delta;
  }
  return row;
}

void add_optional(std::optional<double>& total, const std::optional<double>& value) {
  if (value) {
    total = total.value_or(0.0) + *value;
  }
}

bool is_missing(PodStatus status) {
  return status == PodStatus::scrape_failed || status == PodStatus::invalid || status == PodStatus::vanished;
}

std::string_view missing_reason(PodStatus status) {
  switch (status) {
    case PodStatus::scrape_failed: return "scrape failed";
    case PodStatus::invalid: return "invalid figures";
    default: return "vanished during the run";
  }
}

// The largest of `share` over the rows that have it, and its pod.
void largest_share(const std::vector<PodCacheRow>& rows, std::optional<double> PodCacheRow::*share,
                   std::optional<double>& max_share, std::string& pod) {
  for (const PodCacheRow& row : rows) {
    if ((row.*share) && (!max_share || *(row.*share) > *max_share)) {
      max_share = row.*share;
      pod = row.pod;
    }
  }
}

void count_pods(CacheReport& report) {
  CacheTotals& totals = report.totals;
  for (const PodCacheRow& row : report.pods) {
    (row.status == PodStatus::scrape_failed ? totals.pods_failed : totals.pods_ok) += 1;
    totals.pods_invalid += row.status == PodStatus::invalid ? 1 : 0;
    totals.pods_vanished += row.status == PodStatus::vanished ? 1 : 0;
    if (is_missing(row.status)) {
      totals.missing_pods.push_back(fmt::format("{} ({})", row.pod, missing_reason(row.status)));
    }
  }
}

// Shares of finished requests: over the pods that are not missing; unknown when one of them
// counted queries but exports no request counter.
void request_shares(CacheReport& report) {
  CacheTotals& totals = report.totals;
  bool complete = true;
  for (const PodCacheRow& row : report.pods) {
    if (is_missing(row.status)) {
      continue;
    }
    if (row.requests_success.delta) {
      totals.requests_success += *row.requests_success.delta;
    } else if (row.in_totals) {
      complete = false;
    }
  }
  if (!complete || totals.requests_success <= 0) {
    return;
  }
  for (PodCacheRow& row : report.pods) {
    if (!is_missing(row.status) && row.requests_success.delta) {
      row.share_of_requests = *row.requests_success.delta / totals.requests_success;
    }
  }
  largest_share(report.pods, &PodCacheRow::share_of_requests, totals.max_pod_share, totals.max_share_pod);
}

void compute_totals(CacheReport& report) {
  CacheTotals& totals = report.totals;
  count_pods(report);
  request_shares(report);
  bool tokens = false;
  bool blocks = false;
  for (const PodCacheRow& row : report.pods) {
    if (is_missing(row.status)) {
      continue;
    }
    add_optional(totals.external_queries_tokens, row.external_queries_tokens.delta);
    add_optional(totals.external_hits_tokens, row.external_hits_tokens.delta);
    if (row.in_totals) {
      totals.queries += *row.queries.delta;
      totals.hits += *row.hits.delta;
      tokens = tokens || row.unit == CounterUnit::tokens;
      blocks = blocks || row.unit == CounterUnit::blocks;
    }
  }
  totals.mixed_units = tokens && blocks;
  if (totals.queries <= 0) {
    return;  // no hit rate, no shares of queries: nothing was looked up
  }
  totals.hit_rate = totals.hits / totals.queries;
  for (PodCacheRow& row : report.pods) {
    if (row.in_totals) {
      row.share_of_queries = *row.queries.delta / totals.queries;
    }
  }
  largest_share(report.pods, &PodCacheRow::share_of_queries, totals.max_pod_query_share, totals.max_query_share_pod);
}

}  // namespace

std::string_view to_string(PodStatus status) {
  switch (status) {
    case PodStatus::ok: return "ok";
    case PodStatus::reset: return "reset";
    case PodStatus::new_pod: return "new";
    case PodStatus::vanished: return "vanished";
    case PodStatus::scrape_failed: return "scrape_failed";
    case PodStatus::invalid: return "invalid";
    case PodStatus::caching_disabled: return "caching_disabled";
    case PodStatus::no_counters: return "no_counters";
  }
  return "ok";
}

std::string_view to_string(Severity severity) {
  switch (severity) {
    case Severity::info: return "info";
    case Severity::warning: return "warning";
    case Severity::error: return "error";
  }
  return "info";
}

CacheReport compute_cache_report(const std::vector<PodSnapshotResult>& before,
                                 const std::vector<PodSnapshotResult>& after) {
  CacheReport report;
  for (const auto& [pod, pair] : pair_by_pod(before, after)) {
    report.pods.push_back(make_row(pod, pair));
  }
  compute_totals(report);
  report.diagnostics = diagnose_cache(report);
  return report;
}

}  // namespace llmd::scrape
