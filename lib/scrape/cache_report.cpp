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

CounterSpan span_of(std::optional<double> before, std::optional<double> after, KnownRestart restart) {
  const prom::CounterDelta delta = prom::counter_delta(before, after, restart);
  return {before, after, delta.delta, delta.status};
}

// Why the pod counts as restarted ("" when it does not): a counter went down, or the counter's
// creation time / the process start time changed between the two snapshots.
std::string restart_evidence(const PodSnapshot& before, const PodSnapshot& after) {
  struct Watched {
    std::string_view name;
    std::optional<double> was;
    std::optional<double> now;
  };
  const Watched watched[] = {{after.queries_metric, before.queries, after.queries},
                             {after.hits_metric, before.hits, after.hits},
                             {"vllm:request_success_total", before.requests_success, after.requests_success}};
  for (const Watched& counter : watched) {
    if (counter.was && counter.now && *counter.now < *counter.was) {
      return fmt::format("{} went down from {:g} to {:g}", counter.name, *counter.was, *counter.now);
    }
  }
  if (before.counters_created_unix_seconds && after.counters_created_unix_seconds &&
      *before.counters_created_unix_seconds != *after.counters_created_unix_seconds) {
    return fmt::format("the counters were recreated (_created {:.3f} -> {:.3f})", *before.counters_created_unix_seconds,
                       *after.counters_created_unix_seconds);
  }
  if (before.process_start_unix_seconds && after.process_start_unix_seconds &&
      *before.process_start_unix_seconds != *after.process_start_unix_seconds) {
    return fmt::format("process_start_time_seconds changed ({:.3f} -> {:.3f})", *before.process_start_unix_seconds,
                       *after.process_start_unix_seconds);
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
  if (before != nullptr) {
    row.reset_reason = restart_evidence(*before, after);
    row.reset = !row.reset_reason.empty();
  }
  const KnownRestart restart = row.reset ? KnownRestart::yes : KnownRestart::no;
  auto member = [before](std::optional<double> PodSnapshot::*field) {
    return before != nullptr ? before->*field : std::nullopt;
  };
  row.queries = span_of(member(&PodSnapshot::queries), after.queries, restart);
  row.hits = span_of(member(&PodSnapshot::hits), after.hits, restart);
  row.requests_success = span_of(member(&PodSnapshot::requests_success), after.requests_success, restart);
  const std::optional<double> ext_queries = before ? before->external.queries_tokens : std::nullopt;
  const std::optional<double> ext_hits = before ? before->external.hits_tokens : std::nullopt;
  row.external_queries_tokens = span_of(ext_queries, after.external.queries_tokens, restart);
  row.external_hits_tokens = span_of(ext_hits, after.external.hits_tokens, restart);
  if (after.flavor == CounterFlavor::v0_gauge) {
    row.hit_rate_gauge_after = after.hit_rate_gauge;
  }
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
    row.status = PodStatus::vanished;
    row.queries = span_of(before->queries, std::nullopt, KnownRestart::no);
    row.hits = span_of(before->hits, std::nullopt, KnownRestart::no);
    row.requests_success = span_of(before->requests_success, std::nullopt, KnownRestart::no);
    return row;
  }
  fill_spans(row, before, *after);
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

void compute_totals(CacheReport& report) {
  CacheTotals& totals = report.totals;
  bool tokens = false;
  bool blocks = false;
  for (const PodCacheRow& row : report.pods) {
    (row.status == PodStatus::scrape_failed ? totals.pods_failed : totals.pods_ok) += 1;
    if (row.status != PodStatus::vanished && row.requests_success.delta) {
      totals.requests_success += *row.requests_success.delta;
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
    return;  // no hit rate, no shares: nothing was looked up
  }
  totals.hit_rate = totals.hits / totals.queries;
  for (PodCacheRow& row : report.pods) {
    if (!row.in_totals) {
      continue;
    }
    row.share_of_queries = *row.queries.delta / totals.queries;
    if (!totals.max_pod_share || *row.share_of_queries > *totals.max_pod_share) {
      totals.max_pod_share = row.share_of_queries;
      totals.max_share_pod = row.pod;
    }
  }
}

}  // namespace

std::string_view to_string(PodStatus status) {
  switch (status) {
    case PodStatus::ok: return "ok";
    case PodStatus::reset: return "reset";
    case PodStatus::new_pod: return "new";
    case PodStatus::vanished: return "vanished";
    case PodStatus::scrape_failed: return "scrape_failed";
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
