#include "run/gates.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "run/run_diagnostics.hpp"
#include "util/duration.hpp"

namespace llmd::run {

namespace {

using scenario::AggregationKind;

// The histogram behind a per-request metric, and the factor that turns its integers into the
// threshold's unit (ns -> s, milli-tokens/s -> tokens/s).
struct HistogramMetric {
  const stats::LogLinearHistogram* histogram = nullptr;
  double scale = 1.0;
};

HistogramMetric histogram_for(const engine::PhaseHistograms& h, std::string_view metric) {
  constexpr double k_ns = 1e-9;
  if (metric == "ttft") return {&h.ttft_ns, k_ns};
  if (metric == "inter_token_latency") return {&h.inter_token_latency_ns, k_ns};
  if (metric == "http_req_duration") return {&h.http_req_duration_ns, k_ns};
  if (metric == "time_to_first_byte") return {&h.first_byte_ns, k_ns};
  if (metric == "time_to_first_event") return {&h.first_event_ns, k_ns};
  if (metric == "schedule_lag") return {&h.schedule_lag_ns, k_ns};
  if (metric == "event_loop_lag") return {&h.event_loop_lag_ns, k_ns};
  if (metric == "tokens_per_second") return {&h.tokens_per_second_milli, 1e-3};
  if (metric == "output_tokens") return {&h.output_tokens, 1.0};
  return {};
}

std::optional<double> aggregate(const HistogramMetric& metric, const scenario::Aggregation& aggregation) {
  const auto& h = *metric.histogram;
  std::optional<double> raw;
  switch (aggregation.kind) {
    case AggregationKind::avg: raw = h.mean(); break;
    case AggregationKind::min: raw = h.min() ? std::optional<double>(static_cast<double>(*h.min())) : std::nullopt; break;
    case AggregationKind::max: raw = h.max() ? std::optional<double>(static_cast<double>(*h.max())) : std::nullopt; break;
    case AggregationKind::med: raw = h.percentile(50); break;
    case AggregationKind::percentile: raw = h.percentile(aggregation.percentile); break;
    case AggregationKind::count: raw = h.count() > 0 ? std::optional<double>(static_cast<double>(h.count())) : std::nullopt; break;
    default: return std::nullopt;
  }
  if (!raw) {
    return std::nullopt;
  }
  return aggregation.kind == AggregationKind::count ? *raw : *raw * metric.scale;
}

std::optional<double> ratio(std::uint64_t numerator, std::uint64_t denominator) {
  if (denominator == 0) {
    return std::nullopt;
  }
  return static_cast<double>(numerator) / static_cast<double>(denominator);
}

std::optional<double> per_second(std::uint64_t count, const engine::RunResult& run) {
  const double seconds = std::chrono::duration<double>(run.ended_at - run.started_at).count();
  if (!(seconds > 0)) {
    return std::nullopt;
  }
  return static_cast<double>(count) / seconds;
}

std::pair<std::uint64_t, std::uint64_t> check_totals(const engine::PhaseResult& total) {
  std::uint64_t passed = 0;
  std::uint64_t failed = 0;
  for (auto check : total.checks) {
    passed += total.check_counts[static_cast<std::size_t>(check)].passed;
    failed += total.check_counts[static_cast<std::size_t>(check)].failed;
  }
  return {passed, failed};
}

// A per-group figure of the routing report aggregated like a trend: avg, min, max, med, p(N) (nearest rank).
std::optional<double> over_groups(const RoutingReport& routing, const scenario::Aggregation& aggregation,
                                  double (*figure)(const GroupRouting&)) {
  std::vector<double> values;
  for (const auto& group : routing.groups) {
    values.push_back(figure(group));
  }
  if (values.empty()) {
    return std::nullopt;
  }
  switch (aggregation.kind) {
    case AggregationKind::avg: {
      double sum = 0;
      for (const double value : values) {
        sum += value;
      }
      return sum / static_cast<double>(values.size());
    }
    case AggregationKind::min: return *std::min_element(values.begin(), values.end());
    case AggregationKind::max: return *std::max_element(values.begin(), values.end());
    case AggregationKind::med: return nearest_rank(values, 50);
    case AggregationKind::percentile: return nearest_rank(values, aggregation.percentile);
    default: return std::nullopt;
  }
}

std::optional<double> counter_value(std::uint64_t count, const scenario::Aggregation& aggregation, const engine::RunResult& run) {
  if (aggregation.kind == AggregationKind::rate) {
    return per_second(count, run);
  }
  return static_cast<double>(count);
}

}  // namespace

std::string_view to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::pass: return "pass";
    case Verdict::fail: return "fail";
    case Verdict::error: return "error";
    case Verdict::interrupted: return "interrupted";
    case Verdict::not_judged: return "not_judged";
  }
  return "?";
}

std::optional<double> RunMetrics::value(std::string_view metric, const scenario::Aggregation& aggregation) const {
  if (metric == "cache_hit_rate") {
    return m_report.cache ? m_report.cache->totals.hit_rate : std::nullopt;
  }
  if (metric == "max_pod_share") {
    return m_report.cache ? m_report.cache->totals.max_pod_share : std::nullopt;
  }
  if (metric == "max_pod_query_share") {
    return m_report.cache ? m_report.cache->totals.max_pod_query_share : std::nullopt;
  }
  if (metric == "routing_efficiency") {
    return m_report.routing ? m_report.routing->efficiency : std::nullopt;
  }
  if (metric == "load_imbalance_cv") {
    return m_report.routing ? m_report.routing->load_cv : std::nullopt;
  }
  if (metric == "affinity" || metric == "pod_switches") {
    if (!m_report.routing) {
      return std::nullopt;
    }
    return metric == "affinity"
               ? over_groups(*m_report.routing, aggregation, [](const GroupRouting& g) { return g.affinity; })
               : over_groups(*m_report.routing, aggregation,
                             [](const GroupRouting& g) { return static_cast<double>(g.switches); });
  }
  if (metric == "cache_recovery_time") {
    return largest_recovery(m_report.events).seconds;
  }
  if (!m_report.run) {
    return std::nullopt;
  }
  const engine::RunResult& run = *m_report.run;
  const engine::PhaseResult& total = run.total;
  if (auto histogram = histogram_for(total.histograms, metric); histogram.histogram != nullptr) {
    return aggregate(histogram, aggregation);
  }
  if (metric == "http_reqs") {
    return total.completed > 0 ? counter_value(total.completed, aggregation, run) : std::nullopt;
  }
  if (metric == "dropped_requests") {
    return counter_value(total.dropped, aggregation, run);
  }
  if (metric == "goodput") {
    return total.slo ? counter_value(total.goodput.good, aggregation, run) : std::nullopt;
  }
  if (metric == "good_fraction") {
    return engine::good_fraction(total);
  }
  if (metric == "http_req_failed") {
    return engine::http_req_failed_rate(total);
  }
  if (metric == "http_req_cut") {
    return engine::http_req_cut_rate(total);
  }
  if (metric == "stream_buffered") {
    return engine::stream_buffered_rate(total);
  }
  if (metric == "checks") {
    const auto [passed, failed] = check_totals(total);
    return ratio(passed, passed + failed);
  }
  return std::nullopt;
}

std::optional<double> RunMetrics::pod_value(std::string_view pod, std::string_view metric,
                                            const scenario::Aggregation& aggregation) const {
  if (!m_report.run) {
    return std::nullopt;
  }
  // The endpoints the routing report mapped to `pod` (or that are named `pod` as written).
  const engine::Attribution& attribution = m_report.run->total.attribution;
  engine::EndpointStats merged;
  bool found = false;
  for (const auto& [endpoint, stats] : attribution.endpoints) {
    bool match = endpoint == pod;
    if (!match && m_report.routing) {
      for (const auto& row : m_report.routing->pods) {
        match = match || (row.pod == pod && std::find(row.endpoints.begin(), row.endpoints.end(), endpoint) !=
                                                row.endpoints.end());
      }
    }
    if (match) {
      found = true;
      engine::add_endpoint(merged, stats);
    }
  }
  if (!found) {
    return std::nullopt;
  }
  const stats::LogLinearHistogram* histogram = metric == "ttft"                  ? &merged.ttft_ns
                                               : metric == "inter_token_latency" ? &merged.inter_token_latency_ns
                                               : metric == "http_req_duration"   ? &merged.http_req_duration_ns
                                                                                 : nullptr;
  if (histogram == nullptr) {
    return std::nullopt;
  }
  return aggregate(HistogramMetric{histogram, 1e-9}, aggregation);
}

std::optional<double> RunMetrics::check_rate(std::string_view check) const {
  const auto kind = scenario::find_check(check);
  if (!kind || !m_report.run) {
    return std::nullopt;
  }
  const engine::PhaseResult& total = m_report.run->total;
  if (std::find(total.checks.begin(), total.checks.end(), *kind) == total.checks.end()) {
    return std::nullopt;
  }
  const auto& counts = total.check_counts[static_cast<std::size_t>(*kind)];
  return ratio(counts.passed, counts.passed + counts.failed);
}

std::optional<std::string> RunMetrics::distrust(std::string_view metric) const {
  if (metric == "cache_recovery_time") {
    const auto unrecovered = largest_recovery(m_report.events).unrecovered;
    if (!unrecovered.empty()) {
      return fmt::format("the fleet hit rate did not recover: {}", fmt::join(unrecovered, "; "));
    }
  }
  if (!m_report.cache || !scenario::is_cache_metric(metric)) {
    return std::nullopt;
  }
  const auto& missing = m_report.cache->totals.missing_pods;
  const std::size_t allowed = m_report.scenario != nullptr ? m_report.scenario->cache.allow_missing_pods : 0;
  if (missing.size() <= allowed) {
    return std::nullopt;
  }
  return fmt::format("judged on partial data: {} pod{} missing from the cache totals ({}){}", missing.size(),
                     missing.size() == 1 ? "" : "s", fmt::join(missing, ", "),
                     allowed == 0 ? std::string("; allow with cache.allow_missing_pods")
                                  : fmt::format("; cache.allow_missing_pods allows {}", allowed));
}

// The threshold that stopped the run fails, with when and why, whatever its value at the end.
void mark_abort(ThresholdOutcome& outcome, const ThresholdAbort& abort) {
  outcome.result.reason = fmt::format("crossed at t={} during the run ({}), which abortOnFail stopped; at the end: {}",
                                      util::format_seconds(std::chrono::duration<double>(abort.at).count()), abort.reason,
                                      outcome.result.reason);
  outcome.result.passed = false;
}

void judge(RunReport& report) {
  const RunMetrics metrics(report);
  report.thresholds.clear();
  bool gate_failed = false;
  // A shard judges nothing: its numbers are a slice of the load, and `llmd-bench merge` evaluates the
  // thresholds on every shard's data together.
  const std::vector<scenario::Threshold> none;
  const auto& thresholds = report.no_gates ? none : report.scenario->thresholds;
  for (std::size_t i = 0; i < thresholds.size(); ++i) {
    report.thresholds.push_back({thresholds[i], scenario::evaluate(thresholds[i], metrics)});
    if (report.threshold_abort && report.threshold_abort->threshold == i) {
      mark_abort(report.thresholds.back(), *report.threshold_abort);
    }
    gate_failed = gate_failed || report.thresholds.back().gate_failed();
  }
  report.checks.clear();
  if (report.run) {
    for (auto check : report.run->total.checks) {
      const auto& counts = report.run->total.check_counts[static_cast<std::size_t>(check)];
      report.checks.push_back({check, scenario::check_name(*report.scenario, check), counts.passed, counts.failed});
    }
  }
  // A run-level error finding (e.g. no request succeeded) fails the run on its own, and so does a
  // measured run in which not one request ended (the no_request finding, run_diagnostics.hpp):
  // with nothing measured there is nothing to pass, even without thresholds or checks.
  for (const auto& finding : report.diagnostics) {
    gate_failed = gate_failed || finding.severity == scrape::Severity::error;
  }
  gate_failed = gate_failed || (report.run && no_request_ended(report.run->total));
  if (!report.errors.empty()) {
    report.verdict = Verdict::error;
  } else if (report.interrupted) {
    report.verdict = Verdict::interrupted;
  } else if (report.no_gates) {
    report.verdict = Verdict::not_judged;
  } else if (gate_failed) {
    report.verdict = Verdict::fail;
  } else {
    report.verdict = Verdict::pass;
  }
}

}  // namespace llmd::run
