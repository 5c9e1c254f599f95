#include "engine/run_result.hpp"

#include "engine/outcome.hpp"
#include "util/instant.hpp"

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace llmd::engine {

using nlohmann::json;

namespace {

constexpr std::array<std::string_view, k_failure_class_count> k_failure_names = {
    "connect", "tls", "timeout", "http_status", "stream_cut", "malformed_event", "server_error_event", "other"};
static_assert(static_cast<std::size_t>(FailureClass::other) + 1 == k_failure_class_count);

constexpr std::array<std::string_view, k_check_count> k_check_names = {"status_200", "non_empty_content",
                                                                       "sse_content_type"};
static_assert(static_cast<std::size_t>(scenario::CheckKind::sse_content_type) + 1 == k_check_count);

static_assert(sizeof(PhaseHistograms) == k_phase_histogram_fields.size() * sizeof(stats::LogLinearHistogram),
              "every PhaseHistograms member needs a row in k_phase_histogram_fields");

json optional_json(const std::optional<double>& value) { return value ? json(*value) : json(nullptr); }
json optional_json(const std::optional<std::uint64_t>& value) { return value ? json(*value) : json(nullptr); }

json summary_json(const stats::LogLinearHistogram& histogram) {
  const stats::Summary summary = stats::summarize(histogram);
  return {{"count", summary.count},          {"overflow", summary.overflow_count}, {"min", optional_json(summary.min)},
          {"max", optional_json(summary.max)}, {"mean", optional_json(summary.mean)}, {"p50", optional_json(summary.p50)},
          {"p90", optional_json(summary.p90)}, {"p95", optional_json(summary.p95)}, {"p99", optional_json(summary.p99)},
          {"p999", optional_json(summary.p999)}};
}

json histogram_json(const stats::LogLinearHistogram& histogram) {
  return {{"summary", summary_json(histogram)}, {"histogram", histogram.to_json()}};
}


}  // namespace

std::string_view to_string(FailureClass failure) { return k_failure_names[static_cast<std::size_t>(failure)]; }

std::string_view to_string(scenario::CheckKind check) { return k_check_names[static_cast<std::size_t>(check)]; }

std::string_view to_string(scenario::ExecutorKind executor) {
  switch (executor) {
    case scenario::ExecutorKind::constant_vus:
      return "constant-vus";
    case scenario::ExecutorKind::ramping_vus:
      return "ramping-vus";
    case scenario::ExecutorKind::constant_arrival_rate:
      return "constant-arrival-rate";
    case scenario::ExecutorKind::poisson:
      return "poisson";
    case scenario::ExecutorKind::gamma:
      return "gamma";
    case scenario::ExecutorKind::iterations:
      return "iterations";
    case scenario::ExecutorKind::trace:
      return "trace";
  }
  return "unknown";
}

stats::HistogramLayout engine_histogram_layout() {
  stats::HistogramLayout layout;
  layout.sub_bucket_bits = 7;
  layout.lowest_value = 0;
  layout.max_value_bits = 42;
  return layout;
}

stats::LogLinearHistogram make_engine_histogram() {
  auto histogram = stats::LogLinearHistogram::create(engine_histogram_layout());
  if (!histogram) {
    std::abort();  // a constant layout: cannot fail
  }
  return std::move(*histogram);
}

FailureHistograms make_failure_histograms() {
  FailureHistograms histograms;
  for (auto& histogram : histograms) {
    histogram = make_engine_histogram();
  }
  return histograms;
}

namespace {

std::optional<double> share_of_ended(std::uint64_t count, const PhaseResult& phase) {
  const std::uint64_t ended = phase.ok + phase.failed + phase.aborted;
  if (ended == 0) {
    return std::nullopt;
  }
  return static_cast<double>(count) / static_cast<double>(ended);
}

}  // namespace

std::optional<double> http_req_failed_rate(const PhaseResult& phase) {
  return share_of_ended(phase.failed + phase.aborted, phase);
}

std::optional<double> http_req_cut_rate(const PhaseResult& phase) {
  return share_of_ended(phase.failures(FailureClass::stream_cut) + phase.aborted, phase);
}

std::optional<double> stream_buffered_rate(const PhaseResult& phase) {
  if (phase.streams_judged == 0) {
    return std::nullopt;
  }
  return static_cast<double>(phase.streams_in_bursts + phase.streams_at_end) / static_cast<double>(phase.streams_judged);
}

std::optional<std::uint64_t> input_tokens(const PhaseResult& phase) {
  if (phase.ok == 0 || phase.responses_with_input_tokens < phase.ok) {
    return std::nullopt;
  }
  return phase.input_tokens_total;
}

namespace {

std::optional<double> per_wall_second(std::uint64_t count, const PhaseResult& phase) {
  const double seconds = std::chrono::duration<double>(phase.wall_duration).count();
  if (!(seconds > 0)) {
    return std::nullopt;
  }
  return static_cast<double>(count) / seconds;
}

}  // namespace

std::optional<double> output_tokens_per_second(const PhaseResult& phase) {
  return per_wall_second(phase.output_tokens_total, phase);
}

std::optional<double> total_tokens_per_second(const PhaseResult& phase) {
  const auto input = input_tokens(phase);
  if (!input) {
    return std::nullopt;
  }
  return per_wall_second(saturating_add(*input, phase.output_tokens_total), phase);
}

std::optional<double> good_fraction(const PhaseResult& phase) {
  const std::uint64_t asked = phase.ok + phase.failed + phase.aborted + phase.dropped;
  if (!phase.slo || asked == 0) {
    return std::nullopt;
  }
  return static_cast<double>(phase.goodput.good) / static_cast<double>(asked);
}

std::optional<double> goodput_per_second(const PhaseResult& phase) {
  return phase.slo ? per_wall_second(phase.goodput.good, phase) : std::nullopt;
}

std::optional<double> good_output_tokens_per_second(const PhaseResult& phase) {
  return phase.slo ? per_wall_second(phase.goodput.good_output_tokens, phase) : std::nullopt;
}

std::optional<double> achieved_rate_per_s(const PhaseResult& phase) {
  if (!phase.target_rate_per_s || !phase.arrival_window || phase.arrival_window->count() <= 0) {
    return std::nullopt;
  }
  return static_cast<double>(phase.started) / std::chrono::duration<double>(*phase.arrival_window).count();
}

std::optional<double> turn_hit_rate(const TurnStats& turn) {
  if (turn.responses_with_cached_tokens == 0 || turn.prompt_tokens == 0) {
    return std::nullopt;
  }
  return static_cast<double>(turn.cached_tokens) / static_cast<double>(turn.prompt_tokens);
}

namespace {

util::Result<void> merge_turns(std::vector<TurnStats>& into, const std::vector<TurnStats>& from) {
  if (into.size() < from.size()) {
    into.resize(from.size());
  }
  for (std::size_t i = 0; i < from.size(); ++i) {
    TurnStats& turn = into[i];
    const TurnStats& other = from[i];
    if (auto merged = turn.ttft_ns.merge(other.ttft_ns); !merged) {
      return merged;
    }
    turn.ok += other.ok;
    turn.failed += other.failed;
    turn.aborted += other.aborted;
    turn.prompt_tokens = saturating_add(turn.prompt_tokens, other.prompt_tokens);
    turn.cached_tokens = saturating_add(turn.cached_tokens, other.cached_tokens);
    turn.responses_with_cached_tokens += other.responses_with_cached_tokens;
  }
  return {};
}

json turns_json(const std::vector<TurnStats>& turns) {
  json out = json::array();
  for (std::size_t i = 0; i < turns.size(); ++i) {
    const TurnStats& turn = turns[i];
    out.push_back({{"turn", i + 1},
                   {"requests", turn.ok + turn.failed + turn.aborted},
                   {"ok", turn.ok},
                   {"failed", turn.failed},
                   {"aborted", turn.aborted},
                   {"ttft_ns", histogram_json(turn.ttft_ns)},
                   {"prompt_tokens", turn.prompt_tokens},
                   {"cached_tokens", turn.cached_tokens},
                   {"responses_with_cached_tokens", turn.responses_with_cached_tokens},
                   {"hit_rate", optional_json(turn_hit_rate(turn))}});
  }
  return out;
}

}  // namespace

HttpClientCounts& HttpClientCounts::operator+=(const HttpClientCounts& other) {
  reads += other.reads;
  kernel_stamped_reads += other.kernel_stamped_reads;
  waits += other.waits;
  coalesced_waits += other.coalesced_waits;
  longest_pause_ns = std::max(longest_pause_ns, other.longest_pause_ns);
  return *this;
}

void count_completion(PhaseResult& phase, std::chrono::nanoseconds since_run_start, bool ok) {
  const auto slice = std::max<std::int64_t>(since_run_start / k_completion_bucket, 0);
  const auto index = std::min(static_cast<std::size_t>(slice), k_max_completion_buckets - 1);
  auto& buckets = phase.completions_per_100ms;
  if (buckets.size() <= index) {
    buckets.resize(index + 1);
  }
  ++(ok ? buckets[index].ok : buckets[index].failed);
}

void merge_slice_plan(PhaseResult& into, const PhaseResult& from, std::chrono::nanoseconds trace_shift) {
  if (from.target_rate_per_s) {
    into.target_rate_per_s = into.target_rate_per_s.value_or(0) + *from.target_rate_per_s;
  }
  if (from.arrival_window) {
    into.arrival_window = std::max(into.arrival_window.value_or(std::chrono::nanoseconds{0}), *from.arrival_window);
  }
  if (from.iterations_target) {
    into.iterations_target = into.iterations_target.value_or(0) + *from.iterations_target;
  }
  into.max_duration_reached = into.max_duration_reached || from.max_duration_reached;
  if (!from.trace) {
    return;
  }
  if (!into.trace) {
    into.trace = TraceReplay{from.trace->records, from.trace->speedup, {}};
  }
  auto& offsets = into.trace->started_offsets_ns;
  offsets.resize(std::max(offsets.size(), from.trace->started_offsets_ns.size()));
  for (std::size_t i = 0; i < from.trace->started_offsets_ns.size(); ++i) {
    if (const auto& offset = from.trace->started_offsets_ns[i]; offset && !offsets[i]) {
      offsets[i] = *offset + trace_shift.count();
    }
  }
}

util::Result<void> merge_into(PhaseResult& into, const PhaseResult& from) {
  for (const auto& field : k_phase_histogram_fields) {
    if (auto merged = (into.histograms.*field.member).merge(from.histograms.*field.member); !merged) {
      return merged;
    }
  }
  for (std::size_t i = 0; i < k_failure_class_count; ++i) {
    if (auto merged = into.time_to_failure_ns[i].merge(from.time_to_failure_ns[i]); !merged) {
      return merged;
    }
  }
  if (into.completions_per_100ms.size() < from.completions_per_100ms.size()) {
    into.completions_per_100ms.resize(from.completions_per_100ms.size());
  }
  for (std::size_t i = 0; i < from.completions_per_100ms.size(); ++i) {
    into.completions_per_100ms[i].ok += from.completions_per_100ms[i].ok;
    into.completions_per_100ms[i].failed += from.completions_per_100ms[i].failed;
  }
  into.started += from.started;
  into.completed += from.completed;
  into.ok += from.ok;
  into.failed += from.failed;
  into.dropped += from.dropped;
  into.aborted += from.aborted;
  for (std::size_t i = 0; i < k_failure_class_count; ++i) {
    into.failures_by_class[i] += from.failures_by_class[i];
    if (!into.failure_examples[i] && from.failure_examples[i]) {
      into.failure_examples[i] = from.failure_examples[i];
    }
  }
  for (const auto& [status, count] : from.failures_by_status) {
    into.failures_by_status[status] += count;
  }
  for (const auto check : from.checks) {
    if (std::find(into.checks.begin(), into.checks.end(), check) == into.checks.end()) {
      into.checks.push_back(check);
    }
  }
  for (std::size_t i = 0; i < k_check_count; ++i) {
    into.check_counts[i].passed += from.check_counts[i].passed;
    into.check_counts[i].failed += from.check_counts[i].failed;
  }
  if (!into.slo) {
    into.slo = from.slo;
  }
  into.goodput.good += from.goodput.good;
  into.goodput.good_output_tokens = saturating_add(into.goodput.good_output_tokens, from.goodput.good_output_tokens);
  into.goodput.missed_ttft += from.goodput.missed_ttft;
  into.goodput.missed_itl += from.goodput.missed_itl;
  into.goodput.missed_tpot += from.goodput.missed_tpot;
  into.goodput.missed_e2e += from.goodput.missed_e2e;
  into.streams_judged += from.streams_judged;
  into.streams_in_bursts += from.streams_in_bursts;
  into.streams_at_end += from.streams_at_end;
  into.output_tokens_total = saturating_add(into.output_tokens_total, from.output_tokens_total);
  into.backoff.retry_after_waits += from.backoff.retry_after_waits;
  into.backoff.connect_error_waits += from.backoff.connect_error_waits;
  into.backoff.waited_ns = saturating_add(into.backoff.waited_ns, from.backoff.waited_ns);
  into.cached_tokens_total = saturating_add(into.cached_tokens_total, from.cached_tokens_total);
  into.responses_with_cached_tokens += from.responses_with_cached_tokens;
  into.input_tokens_total = saturating_add(into.input_tokens_total, from.input_tokens_total);
  into.responses_with_input_tokens += from.responses_with_input_tokens;
  into.prompt_tokens_generator = saturating_add(into.prompt_tokens_generator, from.prompt_tokens_generator);
  into.prompt_tokens_server = saturating_add(into.prompt_tokens_server, from.prompt_tokens_server);
  into.prompt_tokens_compared += from.prompt_tokens_compared;
  into.connections_opened += from.connections_opened;
  merge_attribution(into.attribution, from.attribution);
  return merge_turns(into.turns, from.turns);
}

namespace {

json ns_as_seconds(std::optional<double> ns) { return ns ? json(*ns * 1e-9) : json(nullptr); }

// The figures `vllm bench serve` prints, plus the load actually applied; units in the names, null
// for what does not apply or is unknown.
json summary_figures(const PhaseResult& phase) {
  const auto& h = phase.histograms;
  const json tpot = h.tpot_ns.count() == 0
                        ? json(nullptr)
                        : json{{"mean", ns_as_seconds(h.tpot_ns.mean())},
                               {"p50", ns_as_seconds(h.tpot_ns.percentile(50))},
                               {"p90", ns_as_seconds(h.tpot_ns.percentile(90))},
                               {"p99", ns_as_seconds(h.tpot_ns.percentile(99))}};
  return {{"input_tokens_total", optional_json(input_tokens(phase))},
          {"input_tokens_responses", phase.responses_with_input_tokens},
          {"prompt_tokens_accuracy",
           phase.prompt_tokens_compared == 0
               ? json(nullptr)
               : json{{"generator_tokens", phase.prompt_tokens_generator},
                      {"server_tokens", phase.prompt_tokens_server},
                      {"responses", phase.prompt_tokens_compared}}},
          {"output_tokens_per_second", optional_json(output_tokens_per_second(phase))},
          {"total_tokens_per_second", optional_json(total_tokens_per_second(phase))},
          {"tpot_seconds", tpot},
          {"itl_p99_seconds", ns_as_seconds(h.inter_token_latency_ns.percentile(99))},
          {"peak_concurrency_requests", phase.peak_in_flight},
          {"target_rate_per_second", optional_json(phase.target_rate_per_s)},
          {"achieved_rate_per_second", optional_json(achieved_rate_per_s(phase))},
          {"iterations_target", optional_json(phase.iterations_target)},
          {"max_duration_reached", phase.iterations_target ? json(phase.max_duration_reached) : json(nullptr)}};
}

// {"ok": [...], "failed": [...]}: one entry per 100 ms slice from the run start.
json completions_json(const std::vector<CompletionBucket>& buckets) {
  json ok = json::array();
  json failed = json::array();
  for (const auto& bucket : buckets) {
    ok.push_back(bucket.ok);
    failed.push_back(bucket.failed);
  }
  return {{"bucket_ms", k_completion_bucket.count()}, {"ok", std::move(ok)}, {"failed", std::move(failed)}};
}

json optional_ns(const std::optional<std::chrono::nanoseconds>& value) {
  return value ? json(value->count()) : json(nullptr);
}

// {"slo": {...}, "good": N, ...}, or null without an SLO.
json goodput_json(const PhaseResult& phase) {
  if (!phase.slo) {
    return nullptr;
  }
  const scenario::Slo& slo = *phase.slo;
  const GoodputCounts& g = phase.goodput;
  return {{"slo",
           {{"ttft_ns", optional_ns(slo.ttft)},
            {"itl_ns", optional_ns(slo.itl)},
            {"itl_stat", std::string(scenario::to_string(slo.itl_stat))},
            {"tpot_ns", optional_ns(slo.tpot)},
            {"e2e_ns", optional_ns(slo.e2e)}}},
          {"good", g.good},
          {"good_output_tokens", g.good_output_tokens},
          {"missed", {{"ttft", g.missed_ttft}, {"itl", g.missed_itl}, {"tpot", g.missed_tpot}, {"e2e", g.missed_e2e}}},
          {"good_fraction", optional_json(good_fraction(phase))},
          {"good_per_second", optional_json(goodput_per_second(phase))},
          {"good_output_tokens_per_second", optional_json(good_output_tokens_per_second(phase))}};
}

json trace_json(const std::optional<TraceReplay>& trace) {
  if (!trace) {
    return nullptr;
  }
  json offsets = json::array();
  std::uint64_t started = 0;
  for (const auto& offset : trace->started_offsets_ns) {
    offsets.push_back(offset ? json(*offset) : json(nullptr));
    started += offset ? 1 : 0;
  }
  return {{"records", trace->records}, {"speedup", trace->speedup}, {"started", started}, {"started_offsets_ns", std::move(offsets)}};
}

}  // namespace

json to_json(const PhaseResult& phase) {
  json failures = json::object();
  json examples = json::object();
  for (std::size_t i = 0; i < k_failure_class_count; ++i) {
    failures[std::string(k_failure_names[i])] = phase.failures_by_class[i];
    if (phase.failure_examples[i]) {
      examples[std::string(k_failure_names[i])] = *phase.failure_examples[i];
    }
  }
  json by_status = json::object();
  for (const auto& [status, count] : phase.failures_by_status) {
    by_status[std::to_string(status)] = count;
  }
  json checks = json::object();
  for (const auto check : phase.checks) {
    const auto& counts = phase.check_counts[static_cast<std::size_t>(check)];
    checks[std::string(to_string(check))] = {{"passed", counts.passed}, {"failed", counts.failed}};
  }
  json metrics = json::object();
  for (const auto& field : k_phase_histogram_fields) {
    metrics[field.key] = histogram_json(phase.histograms.*field.member);
  }
  json time_to_failure = json::object();
  for (std::size_t i = 0; i < k_failure_class_count; ++i) {
    time_to_failure[std::string(k_failure_names[i])] = histogram_json(phase.time_to_failure_ns[i]);
  }
  return {{"name", phase.name},
          {"executor", phase.executor ? json(std::string(to_string(*phase.executor))) : json(nullptr)},
          {"counts",
           {{"started", phase.started},
            {"completed", phase.completed},
            {"ok", phase.ok},
            {"failed", phase.failed},
            {"dropped", phase.dropped},
            {"aborted", phase.aborted}}},
          {"failures", std::move(failures)},
          {"failures_by_status", std::move(by_status)},
          {"failure_examples", std::move(examples)},
          {"checks", std::move(checks)},
          {"goodput", goodput_json(phase)},
          {"metrics", std::move(metrics)},
          {"failed_metrics", {{"time_to_failure_ns", std::move(time_to_failure)}}},
          {"rates",
           {{"http_req_failed", optional_json(http_req_failed_rate(phase))},
            {"http_req_cut", optional_json(http_req_cut_rate(phase))},
            {"stream_buffered", optional_json(stream_buffered_rate(phase))}}},
          {"stream_delivery",
           {{"judged", phase.streams_judged}, {"in_bursts", phase.streams_in_bursts}, {"at_end", phase.streams_at_end}}},
          {"output_tokens_total", phase.output_tokens_total},
          {"summary", summary_figures(phase)},
          {"backoff",
           {{"retry_after_waits", phase.backoff.retry_after_waits},
            {"connect_error_waits", phase.backoff.connect_error_waits},
            {"waited_ns", phase.backoff.waited_ns}}},
          {"cached_tokens", {{"total", phase.cached_tokens_total}, {"responses", phase.responses_with_cached_tokens}}},
          {"turns", turns_json(phase.turns)},
          {"connections_opened", phase.connections_opened},
          {"peak_in_flight", phase.peak_in_flight},
          {"mean_in_flight", phase.mean_in_flight},
          {"wall_duration_ns", phase.wall_duration.count()},
          {"started_at_ns", phase.started_at ? json(phase.started_at->count()) : json(nullptr)},
          {"arrival_window_ns", phase.arrival_window ? json(phase.arrival_window->count()) : json(nullptr)},
          {"trace", trace_json(phase.trace)},
          {"completions_per_100ms", completions_json(phase.completions_per_100ms)}};
}

namespace {
json cpu_json(const CpuTime& cpu) { return {{"user_ns", cpu.user.count()}, {"system_ns", cpu.system.count()}}; }
}  // namespace

json to_json(const RunResult& run) {
  json phases = json::array();
  for (const auto& phase : run.phases) {
    phases.push_back(to_json(phase));
  }
  json threads = json::array();
  for (const auto& thread : run.threads) {
    json entry = {{"thread", thread.index},
                  {"started", thread.started},
                  {"completed", thread.completed},
                  {"event_loop_lag_ns", histogram_json(thread.event_loop_lag_ns)}};
    if (thread.shard) {
      entry["shard"] = *thread.shard;
    }
    if (thread.cpu) {
      entry["cpu"] = cpu_json(*thread.cpu);
    }
    threads.push_back(std::move(entry));
  }
  return {{"schema", k_run_result_schema},
          {"version", k_run_result_schema_version},
          {"interrupted", run.interrupted},
          {"aborted", run.aborted},
          {"started_at", util::format_rfc3339(run.started_at)},
          {"ended_at", util::format_rfc3339(run.ended_at)},
          {"phases", std::move(phases)},
          {"total", to_json(run.total)},
          {"per_second", to_json(std::span<const SecondBucket>(run.per_second))},
          {"threads", std::move(threads)},
          {"client_cpu", run.client_cpu ? cpu_json(*run.client_cpu) : json(nullptr)},
          {"http_client", run.http_client.empty() ? json(nullptr)
                                                  : json{{"name", run.http_client},
                                                         {"reason", run.http_client_reason},
                                                         {"reads", run.http_counts.reads},
                                                         {"kernel_stamped_reads", run.http_counts.kernel_stamped_reads},
                                                         {"waits", run.http_counts.waits},
                                                         {"coalesced_waits", run.http_counts.coalesced_waits},
                                                         {"longest_pause_ns", run.http_counts.longest_pause_ns}}}};
}

}  // namespace llmd::engine
