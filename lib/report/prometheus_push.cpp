#include "report/prometheus_push.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <optional>
#include <string_view>

#include "engine/run_result.hpp"
#include "prom/text_writer.hpp"

namespace llmd::report {

namespace {

constexpr double k_ns_per_second = 1e9;

using PhaseRef = std::reference_wrapper<const engine::PhaseResult>;

// Each phase, then the total (its name is "total").
std::vector<PhaseRef> phases_of(const run::RunReport& report) {
  std::vector<PhaseRef> phases;
  if (!report.run) {
    return phases;
  }
  for (const auto& phase : report.run->phases) {
    phases.emplace_back(phase);
  }
  phases.emplace_back(report.run->total);
  return phases;
}

double unix_seconds(std::chrono::system_clock::time_point at) {
  return std::chrono::duration<double>(at.time_since_epoch()).count();
}

class Writer {
 public:
  explicit Writer(std::string scenario) : m_scenario(std::move(scenario)) {}

  void header(std::string_view name, std::string_view type, std::string_view help) {
    prom::append_header(m_out, name, type, help);
  }
  // `labels` after scenario.
  void sample(std::string_view name, prom::LabelPairs labels, double value) {
    labels.insert(labels.begin(), {"scenario", m_scenario});
    prom::append_sample(m_out, name, labels, value);
  }
  // A gauge family with one optional value per phase.
  void phase_gauge(std::string_view name, std::string_view help, const std::vector<PhaseRef>& phases,
                   const std::function<std::optional<double>(const engine::PhaseResult&)>& value) {
    header(name, "gauge", help);
    for (const engine::PhaseResult& phase : phases) {
      if (auto v = value(phase)) {
        sample(name, {{"phase", phase.name}}, *v);
      }
    }
  }
  void histogram(std::string_view name, std::string_view help, const std::vector<PhaseRef>& phases,
                 const stats::LogLinearHistogram engine::PhaseHistograms::*member) {
    header(name, "histogram", help);
    const std::string bucket = std::string(name) + "_bucket";
    for (const engine::PhaseResult& phase : phases) {
      const stats::LogLinearHistogram& histogram = phase.histograms.*member;
      for (const PushBucket& b : push_buckets(histogram)) {
        const std::string le = prom::format_value(static_cast<double>(b.le_ns) / k_ns_per_second);
        sample(bucket, {{"phase", phase.name}, {"le", le}}, static_cast<double>(b.cumulative));
      }
      sample(bucket, {{"phase", phase.name}, {"le", "+Inf"}}, static_cast<double>(histogram.count()));
      sample(std::string(name) + "_sum", {{"phase", phase.name}},
             static_cast<double>(histogram.sum()) / k_ns_per_second);
      sample(std::string(name) + "_count", {{"phase", phase.name}}, static_cast<double>(histogram.count()));
    }
  }
  std::string take() { return std::move(m_out); }

 private:
  std::string m_scenario;
  std::string m_out;
};

void render_requests(Writer& w, const std::vector<PhaseRef>& phases) {
  w.header("llmd_bench_requests_total", "counter",
           "Requests by outcome: ok, failed, aborted (cut by the engine), dropped (open loop, never started)");
  for (const engine::PhaseResult& phase : phases) {
    const std::pair<std::string_view, std::uint64_t> outcomes[] = {
        {"ok", phase.ok}, {"failed", phase.failed}, {"aborted", phase.aborted}, {"dropped", phase.dropped}};
    for (const auto& [outcome, count] : outcomes) {
      w.sample("llmd_bench_requests_total", {{"phase", phase.name}, {"outcome", outcome}}, static_cast<double>(count));
    }
  }
  w.phase_gauge("llmd_bench_http_req_failed_ratio", "(failed + aborted) / ended requests", phases,
                [](const engine::PhaseResult& p) { return engine::http_req_failed_rate(p); });
  w.header("llmd_bench_output_tokens_total", "counter", "Output tokens of the ok requests");
  for (const engine::PhaseResult& phase : phases) {
    w.sample("llmd_bench_output_tokens_total", {{"phase", phase.name}}, static_cast<double>(phase.output_tokens_total));
  }
  w.phase_gauge("llmd_bench_output_tokens_per_second", "Output tokens per second of wall time", phases,
                [](const engine::PhaseResult& p) { return engine::output_tokens_per_second(p); });
  w.histogram("llmd_bench_ttft_seconds", "Time to first token of the ok requests", phases,
              &engine::PhaseHistograms::ttft_ns);
  w.histogram("llmd_bench_itl_seconds", "Inter-token latency: gaps between content events of ok streams", phases,
              &engine::PhaseHistograms::inter_token_latency_ns);
  w.histogram("llmd_bench_e2e_seconds", "End-to-end request duration of the ok requests", phases,
              &engine::PhaseHistograms::http_req_duration_ns);
}

void render_cache(Writer& w, const run::RunReport& report) {
  const bool any_pod = report.cache && std::any_of(report.cache->pods.begin(), report.cache->pods.end(),
                                                   [](const scrape::PodCacheRow& pod) { return pod.hit_rate.has_value(); });
  if (report.cache && (report.cache->totals.hit_rate || any_pod)) {
    w.header("llmd_bench_cache_hit_ratio", "gauge",
             "Prefix-cache hit rate over the run, delta hits / delta queries: per pod, and the fleet without a pod label");
    if (report.cache->totals.hit_rate) {
      w.sample("llmd_bench_cache_hit_ratio", {}, *report.cache->totals.hit_rate);
    }
    for (const auto& pod : report.cache->pods) {
      if (pod.hit_rate) {
        w.sample("llmd_bench_cache_hit_ratio", {{"pod", pod.pod}}, *pod.hit_rate);
      }
    }
  }
  if (report.routing && report.routing->efficiency) {
    w.header("llmd_bench_routing_efficiency_ratio", "gauge", "Measured hit rate / the workload's ideal hit rate");
    w.sample("llmd_bench_routing_efficiency_ratio", {}, *report.routing->efficiency);
  }
}

void render_verdict(Writer& w, const run::RunReport& report) {
  if (!report.thresholds.empty()) {
    w.header("llmd_bench_threshold_passed", "gauge", "1 when the threshold passed, 0 when it failed");
    for (const auto& outcome : report.thresholds) {
      const std::string name = scenario::label(outcome.threshold);
      w.sample("llmd_bench_threshold_passed", {{"threshold", name}}, outcome.result.passed ? 1 : 0);
    }
  }
  w.header("llmd_bench_run_verdict_info", "gauge", "The run's verdict: pass, fail, error or interrupted");
  w.sample("llmd_bench_run_verdict_info", {{"verdict", run::to_string(report.verdict)}}, 1);
  if (report.run) {
    w.header("llmd_bench_run_start_timestamp_seconds", "gauge", "When the measured run started, Unix time");
    w.sample("llmd_bench_run_start_timestamp_seconds", {}, unix_seconds(report.run->started_at));
    w.header("llmd_bench_run_end_timestamp_seconds", "gauge", "When the measured run ended, Unix time");
    w.sample("llmd_bench_run_end_timestamp_seconds", {}, unix_seconds(report.run->ended_at));
  }
}

}  // namespace

std::vector<PushBucket> push_buckets(const stats::LogLinearHistogram& histogram_ns) {
  const stats::HistogramLayout& layout = histogram_ns.layout();
  const auto counts = histogram_ns.bucket_counts();
  std::vector<PushBucket> buckets;
  std::size_t next = 0;  // first bucket not yet summed
  std::uint64_t cumulative = 0;
  for (const double bound : k_push_bucket_bounds_seconds) {
    const auto bound_ns = static_cast<std::uint64_t>(std::llround(bound * k_ns_per_second));
    const std::size_t index = std::min(layout.bucket_index(bound_ns), counts.size() - 1);
    for (; next <= index; ++next) {
      cumulative += counts[next];
    }
    buckets.push_back({layout.bucket_highest_value(index), cumulative});
  }
  return buckets;
}

std::string push_scenario_name(const run::RunReport& report) {
  return report.scenario != nullptr ? report.scenario->name : "unknown";
}

std::string render_prometheus_push(const run::RunReport& report) {
  Writer w(push_scenario_name(report));
  const auto phases = phases_of(report);
  if (!phases.empty()) {
    render_requests(w, phases);
  }
  render_cache(w, report);
  render_verdict(w, report);
  return w.take();
}

}  // namespace llmd::report
