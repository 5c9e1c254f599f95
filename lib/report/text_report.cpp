#include "report/text_report.hpp"

#include <chrono>
#include <cmath>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engine/outcome.hpp"
#include "report/cache_state_report.hpp"
#include "report/routing_report.hpp"
#include "report/timeline_report.hpp"
#include "report/turns_table.hpp"
#include "util/console.hpp"
#include "util/duration.hpp"

namespace llmd::report {

namespace {

using engine::FailureClass;

std::string percent(std::optional<double> value) {
  return value ? fmt::format("{:.1f}%", *value * 100) : "-";
}

std::string ns_quantiles(const stats::LogLinearHistogram& h, std::initializer_list<double> ps) {
  if (h.count() == 0) {
    return "-";
  }
  std::string out;
  for (double p : ps) {
    out += fmt::format("p{:<3g}{:>9}  ", p, util::format_seconds_fixed(*h.percentile(p) * 1e-9));
  }
  out += fmt::format("avg {:>9}", util::format_seconds_fixed(*h.mean() * 1e-9));
  return out;
}

std::string failure_breakdown(const engine::PhaseResult& phase) {
  std::string out;
  for (std::size_t i = 0; i < engine::k_failure_class_count; ++i) {
    if (phase.failures_by_class[i] == 0) {
      continue;
    }
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", engine::to_string(static_cast<FailureClass>(i)),
                       phase.failures_by_class[i]);
    if (static_cast<FailureClass>(i) == FailureClass::http_status) {
      std::string statuses;
      for (const auto& [status, count] : phase.failures_by_status) {
        statuses += fmt::format("{}{}x{}", statuses.empty() ? "" : " ", count, status);
      }
      out += " (" + statuses + ")";
    }
  }
  return out;
}

// " (after p50 12.00ms, max 40.00ms)": when the failures of a class were known; "" without data.
std::string time_to_failure(const stats::LogLinearHistogram& h) {
  if (h.count() == 0) {
    return "";
  }
  return fmt::format(" (after p50 {}, max {})", util::format_seconds_fixed(*h.percentile(50) * 1e-9),
                     util::format_seconds_fixed(static_cast<double>(*h.max()) * 1e-9));
}

// Failed requests are kept out of the latency lines below; here they get their count by class, one
// example message and the time to failure of each class.
void render_failures(std::string& out, const engine::PhaseResult& phase) {
  if (phase.failed == 0) {
    return;
  }
  out += fmt::format("    failures ........: {}\n", failure_breakdown(phase));
  for (std::size_t i = 0; i < engine::k_failure_class_count; ++i) {
    if (phase.failure_examples[i]) {
      out += fmt::format("                       {}{}: {}\n", engine::to_string(static_cast<FailureClass>(i)),
                         time_to_failure(phase.time_to_failure_ns[i]), *phase.failure_examples[i]);
    }
  }
}

// The two rate metrics over requests that ended, with what they are made of (aborted requests count
// as failed and as cut: run_result.hpp counting rules). Nothing when nothing failed.
void render_failure_rates(std::string& out, const engine::PhaseResult& phase) {
  const std::uint64_t ended = phase.ok + phase.failed + phase.aborted;
  if (phase.failed + phase.aborted > 0) {
    out += fmt::format("    http_req_failed .: {} ({} failed + {} aborted of {} requests)\n",
                       percent(engine::http_req_failed_rate(phase)), phase.failed, phase.aborted, ended);
  }
  const std::uint64_t cut = phase.failures(FailureClass::stream_cut);
  if (cut + phase.aborted > 0) {
    out += fmt::format("    http_req_cut ....: {} ({} cut before their end + {} aborted by llmd-bench of {} requests)\n",
                       percent(engine::http_req_cut_rate(phase)), cut, phase.aborted, ended);
  }
}

// Percentiles shown on every latency line.
constexpr std::initializer_list<double> k_latency_percentiles = {50, 90, 95, 99};
// A figure within this fraction of TTFT is folded into the TTFT line instead of its own line.
constexpr double k_fold_tolerance = 0.05;

// True when every shown percentile of `h` is within k_fold_tolerance of TTFT's (first byte and
// first event of a stream usually are: the server sends headers and the first token together).
bool close_to_ttft(const stats::LogLinearHistogram& h, const stats::LogLinearHistogram& ttft) {
  if (h.count() == 0 || ttft.count() == 0) {
    return h.count() == 0;
  }
  for (double p : k_latency_percentiles) {
    const double reference = *ttft.percentile(p);
    if (std::abs(*h.percentile(p) - reference) > k_fold_tolerance * reference) {
      return false;
    }
  }
  return true;
}

// TTFT, then first byte / first event / event loop lag: folded into the TTFT line when they add
// nothing (within 5% of TTFT; loop lag p99 under 5% of TTFT p50), else on lines of their own.
void render_ttft(std::string& out, const engine::PhaseHistograms& h) {
  std::vector<std::string> folded;
  std::string own_lines;
  for (const auto& [label, line, histogram] :
       {std::tuple{"first byte", "    first byte ......: ", &h.first_byte_ns},
        std::tuple{"first event", "    first event .....: ", &h.first_event_ns}}) {
    if (close_to_ttft(*histogram, h.ttft_ns)) {
      if (histogram->count() > 0) {
        folded.emplace_back(label);
      }
    } else {
      own_lines += fmt::format("{}{}\n", line, ns_quantiles(*histogram, k_latency_percentiles));
    }
  }
  std::string fold_note = folded.empty() ? "" : fmt::format("{} within 5%", fmt::join(folded, ", "));
  if (h.event_loop_lag_ns.count() > 0) {
    const auto lag_p99 = *h.event_loop_lag_ns.percentile(99);
    const auto ttft_p50 = h.ttft_ns.percentile(50);
    if (ttft_p50 && lag_p99 <= k_fold_tolerance * *ttft_p50) {
      fold_note += fmt::format("{}event loop lag p99 {}", fold_note.empty() ? "" : "; ", util::format_seconds_fixed(lag_p99 * 1e-9));
    } else {
      own_lines += fmt::format("    event loop lag ..: {}\n", ns_quantiles(h.event_loop_lag_ns, {50, 90, 99}));
    }
  }
  out += fmt::format("    ttft ............: {}{}\n", ns_quantiles(h.ttft_ns, k_latency_percentiles),
                     fold_note.empty() || h.ttft_ns.count() == 0 ? "" : "  (" + fold_note + ")");
  out += own_lines;
}

// Open loop: "20.0/s target, 19.6/s achieved, 3 dropped"; iterations: "7/20 iterations,
// max_duration reached" when max_duration cut the phase.
void render_schedule(std::string& out, const engine::PhaseResult& phase) {
  if (phase.target_rate_per_s) {
    const auto achieved = engine::achieved_rate_per_s(phase);
    out += fmt::format("    rate ............: {:.1f}/s target, {} achieved, {} dropped\n", *phase.target_rate_per_s,
                       achieved ? fmt::format("{:.1f}/s", *achieved) : std::string("-"), phase.dropped);
  }
  if (phase.iterations_target && phase.max_duration_reached) {
    out += fmt::format("    iterations ......: {}/{} iterations, max_duration reached\n", phase.started,
                       *phase.iterations_target);
  }
}

// Input, output and total tokens with their rates over the wall time. The input count comes from
// usage.prompt_tokens: unknown (never 0) when some ok response did not report usage.
void render_tokens(std::string& out, const engine::PhaseResult& phase) {
  const auto& h = phase.histograms;
  const auto input = engine::input_tokens(phase);
  if (input) {
    out += fmt::format("    input tokens ....: {} total (usage.prompt_tokens of {} ok responses)\n", *input, phase.ok);
  } else if (phase.ok > 0) {
    out += fmt::format("    input tokens ....: unknown ({} of {} ok responses reported usage; stream requests need "
                       "requests.include_usage)\n",
                       phase.responses_with_input_tokens, phase.ok);
  }
  const auto output_rate = engine::output_tokens_per_second(phase);
  const auto per_request = h.tokens_per_second_milli.percentile(50);
  out += fmt::format("    output tokens ...: {} total, {} tokens/s; per request p50 {} tokens/s\n",
                     phase.output_tokens_total, output_rate ? fmt::format("{:.1f}", *output_rate) : "-",
                     per_request ? fmt::format("{:.1f}", *per_request / 1000) : "-");
  if (const auto total_rate = engine::total_tokens_per_second(phase)) {
    out += fmt::format("    total tokens ....: {} (input + output), {:.1f} tokens/s\n",
                       engine::saturating_add(*input, phase.output_tokens_total), *total_rate);
  }
}

// "ttft <= 2s, itl p95 <= 100ms, e2e <= 30s": the objectives that are set.
std::string slo_text(const scenario::Slo& slo) {
  std::vector<std::string> parts;
  if (slo.ttft) {
    parts.push_back("ttft <= " + util::format_duration(*slo.ttft));
  }
  if (slo.itl) {
    parts.push_back(fmt::format("itl {} <= {}", scenario::to_string(slo.itl_stat), util::format_duration(*slo.itl)));
  }
  if (slo.tpot) {
    parts.push_back("tpot <= " + util::format_duration(*slo.tpot));
  }
  if (slo.e2e) {
    parts.push_back("e2e <= " + util::format_duration(*slo.e2e));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

// Goodput (scenario `slo:`): good requests and tokens per second, the good fraction of the requests
// asked for, and how many ok requests missed each objective.
void render_goodput(std::string& out, const engine::PhaseResult& phase) {
  if (!phase.slo) {
    return;
  }
  const auto& g = phase.goodput;
  const auto per_second = engine::goodput_per_second(phase);
  const auto tokens = engine::good_output_tokens_per_second(phase);
  const auto fraction = engine::good_fraction(phase);
  const std::uint64_t asked = phase.ok + phase.failed + phase.aborted + phase.dropped;
  out += fmt::format("    goodput .........: {} good req/s, {} good tokens/s; {} good ({} of {}: ok {}, failed {}, "
                     "aborted {}, dropped {})\n",
                     per_second ? fmt::format("{:.2f}", *per_second) : "-", tokens ? fmt::format("{:.1f}", *tokens) : "-",
                     fraction ? fmt::format("{:.1f}%", *fraction * 100) : "-", g.good, asked, phase.ok, phase.failed,
                     phase.aborted, phase.dropped);
  std::vector<std::string> missed;
  for (const auto& [name, count] : {std::pair<std::string_view, std::uint64_t>{"ttft", g.missed_ttft},
                                    {"itl", g.missed_itl}, {"tpot", g.missed_tpot}, {"e2e", g.missed_e2e}}) {
    if (count > 0) {
      missed.push_back(fmt::format("{} {}", name, count));
    }
  }
  out += fmt::format("    slo .............: {} per request; ok requests that missed: {}\n", slo_text(*phase.slo),
                     missed.empty() ? std::string("none") : fmt::format("{}", fmt::join(missed, ", ")));
}

void render_phase(std::string& out, const engine::PhaseResult& phase) {
  const double seconds = std::chrono::duration<double>(phase.wall_duration).count();
  const double rate = seconds > 0 ? static_cast<double>(phase.completed) / seconds : 0;
  const std::string executor = phase.executor ? std::string(engine::to_string(*phase.executor)) : "all phases";
  out += fmt::format("\n  {} ({})\n", phase.name, executor);
  out += fmt::format("    requests ........: {} completed in {}, {:.1f} req/s; ok {}, failed {}, dropped {}, aborted {}\n",
                     phase.completed, util::format_seconds_fixed(seconds), rate, phase.ok, phase.failed, phase.dropped, phase.aborted);
  render_schedule(out, phase);
  out += fmt::format("    concurrency .....: peak {} in flight, mean {:.1f}\n", phase.peak_in_flight, phase.mean_in_flight);
  render_failure_rates(out, phase);
  render_failures(out, phase);
  if (const auto& b = phase.backoff; b.retry_after_waits + b.connect_error_waits > 0) {
    out += fmt::format("    backoff .........: {} waits, {} in total ({} after Retry-After, {} after connect failures)\n",
                       b.retry_after_waits + b.connect_error_waits, util::format_seconds_fixed(static_cast<double>(b.waited_ns) * 1e-9),
                       b.retry_after_waits, b.connect_error_waits);
  }
  const auto& h = phase.histograms;
  render_ttft(out, h);
  out += fmt::format("    tpot ............: {}\n", ns_quantiles(h.tpot_ns, {50, 90, 99}));
  out += fmt::format("    inter-token .....: {}\n", ns_quantiles(h.inter_token_latency_ns, k_latency_percentiles));
  out += fmt::format("    end-to-end ......: {}\n", ns_quantiles(h.http_req_duration_ns, k_latency_percentiles));
  if (h.schedule_lag_ns.count() > 0) {
    out += fmt::format("    schedule lag ....: {}\n", ns_quantiles(h.schedule_lag_ns, {50, 90, 99}));
  }
  if (const auto buffered = phase.streams_in_bursts + phase.streams_at_end; buffered > 0) {
    out += fmt::format("    delivery ........: {} of {} streams buffered on the way ({} in bursts, {} all at the end)\n",
                       buffered, phase.streams_judged, phase.streams_in_bursts, phase.streams_at_end);
  }
  render_tokens(out, phase);
  render_goodput(out, phase);
}

// "thread 1", or in a merged run "shard 2 thread 1".
std::string loop_name(const engine::EngineThread& thread) {
  return thread.shard ? fmt::format("shard {} thread {}", *thread.shard, thread.index) : fmt::format("thread {}", thread.index);
}

// `--threads N`: what each event loop carried and how late it ran, and the worst loop's lag p99
// (the merged phases' event loop lag holds every loop's probes).
void render_threads(std::string& out, const engine::RunResult& run) {
  if (run.threads.empty()) {
    return;
  }
  out += fmt::format("\nevent loops ({} {})\n", run.threads.size(), run.threads.front().shard ? "across the shards" : "threads");
  const engine::EngineThread* worst = nullptr;
  for (const auto& thread : run.threads) {
    const auto& lag = thread.event_loop_lag_ns;
    out += fmt::format("    {:.<17}: {} requests started, {} ended; loop lag {}{}\n", loop_name(thread) + " ",
                       thread.started, thread.completed, ns_quantiles(lag, {50, 99}),
                       thread.cpu ? "; CPU " + util::format_seconds(std::chrono::duration<double>(thread.cpu->total()).count())
                                  : std::string());
    if (lag.count() > 0 && (worst == nullptr || *lag.percentile(99) > *worst->event_loop_lag_ns.percentile(99))) {
      worst = &thread;
    }
  }
  if (worst != nullptr) {
    out += fmt::format("    worst loop ......: {}, lag p99 {}, max {}\n", loop_name(*worst),
                       util::format_seconds_fixed(*worst->event_loop_lag_ns.percentile(99) * 1e-9),
                       util::format_seconds_fixed(static_cast<double>(*worst->event_loop_lag_ns.max()) * 1e-9));
  }
}

// The unmeasured warm-up on one line, so a warm-up that failed is not invisible.
void render_warmup(std::string& out, const engine::RunResult& warmup) {
  for (const auto& phase : warmup.phases) {
    std::string top;
    std::uint64_t most = 0;
    for (std::size_t i = 0; i < engine::k_failure_class_count; ++i) {
      if (phase.failures_by_class[i] > most) {
        most = phase.failures_by_class[i];
        top = fmt::format(" (most: {} {})", engine::to_string(static_cast<FailureClass>(i)), most);
      }
    }
    out += fmt::format("\nwarm-up {} (not measured): {} requests, ok {}, failed {}{}{}\n", phase.name,
                       phase.completed + phase.aborted, phase.ok, phase.failed, top,
                       phase.aborted > 0 ? fmt::format(", aborted {}", phase.aborted) : "");
  }
}

// "workload allows 92.3%, measured 91.8%": the ideal hit rate of the measured requests next to the
// pods' (run/ideal_hit_rate.hpp), or why it was not computed.
void render_ideal_hit_rate(std::string& out, const run::RunReport& report) {
  const auto& ideal = *report.ideal_hit_rate;
  if (!ideal.rate) {
    out += fmt::format("  expected hit rate: {}\n", ideal.reason);
    return;
  }
  const std::string measured = report.cache ? percent(report.cache->totals.hit_rate) : std::string("not read");
  std::string start = "an empty cache";
  if (ideal.initial_prefixes > 0) {
    start = fmt::format("a cache holding the {} primed prefix{} ({} full blocks{})", ideal.initial_prefixes,
                        ideal.initial_prefixes == 1 ? "" : "es", ideal.initial_blocks,
                        ideal.initial_reset == "none" ? ", no reset before: what the pods held is not counted"
                                                      : "; reset: " + ideal.initial_reset + " before the priming");
  }
  out += fmt::format("  workload allows {}, measured {} (ideal: {} measured requests from {}, every earlier prompt's "
                     "full blocks cached; {} of {} prompt tokens, block size {} ({}), simulator tokenizer)\n",
                     percent(ideal.rate), measured, ideal.requests, start, ideal.hit_tokens, ideal.prompt_tokens,
                     ideal.block_size_tokens, ideal.block_size_source);
}

void render_cache(std::string& out, const run::RunReport& report) {
  out += fmt::format("\nprefix cache over the measured loop ({})\n", report.cache_source);
  out += render_cache_table(*report.cache);
  if (report.ideal_hit_rate) {
    render_ideal_hit_rate(out, report);
  }
}

void render_diagnostics(std::string& out, const run::RunReport& report) {
  if (report.diagnostics.empty()) {
    return;
  }
  out += "\ndiagnostics\n";
  for (const auto& d : report.diagnostics) {
    out += fmt::format("  {} [{}] {}\n", d.severity == scrape::Severity::info ? "·" : "!", d.code, d.message);
    if (!d.fix.empty()) {
      out += fmt::format("      fix: {}\n", d.fix);
    }
  }
}

// "✓ ttft p(95)<2s 0.85s"; a failed threshold gives its reason; a warning says WARN and its band.
void render_thresholds(std::string& out, const run::RunReport& report, const TextOptions& options) {
  if (report.thresholds.empty()) {
    return;
  }
  out += "\nthresholds\n";
  for (const auto& t : report.thresholds) {
    const auto* info = scenario::find_metric(t.threshold.metric);
    const std::string observed = t.result.observed && info != nullptr
                                     ? scenario::format_metric_value(info->kind, *t.result.observed)
                                     : std::string("no data");
    const char* mark = t.result.passed ? (options.unicode ? "✓" : "PASS") : t.warning() ? (options.unicode ? "!" : "WARN")
                                                                                      : (options.unicode ? "✗" : "FAIL");
    const std::string detail = t.result.passed ? observed
                               : t.warning()   ? fmt::format("WARN (severity warn, the run still passes): {}", t.result.reason)
                                               : t.result.reason;
    out += fmt::format("  {} {:<20} {:<14} {}\n", mark, scenario::display_name(t.threshold), t.threshold.source, detail);
  }
}

// Checks are counted, not gates (k6): all passed, some failed, or never evaluated ("no data").
void render_checks(std::string& out, const run::RunReport& report, const TextOptions& options) {
  if (report.checks.empty()) {
    return;
  }
  out += "\nchecks (counted, not gates: a `checks` threshold gates on them)\n";
  std::uint64_t passed = 0;
  std::uint64_t failed = 0;
  for (const auto& c : report.checks) {
    passed += c.passed;
    failed += c.failed;
    if (c.no_data()) {
      out += fmt::format("  {} {:<20} no data (no request completed)\n", options.unicode ? "-" : "NONE", c.name);
      continue;
    }
    out += fmt::format("  {} {:<20} {:>6}  {} passed, {} failed\n",
                       c.all_passed() ? (options.unicode ? "✓" : "PASS") : (options.unicode ? "✗" : "FAIL"), c.name,
                       percent(c.rate()), c.passed, c.failed);
  }
  if (report.checks.size() > 1 && passed + failed > 0) {
    out += fmt::format("  {} {:<20} {:>6}  {} passed, {} failed\n", options.unicode ? " " : "    ", "all checks",
                       percent(static_cast<double>(passed) / static_cast<double>(passed + failed)), passed, failed);
  }
}

// The pipeline's stages that ran, each with its wall time and detail ("scrape before  42.0ms  4 pods").
void render_stages(std::string& out, const run::RunReport& report) {
  if (report.stages.empty()) {
    return;
  }
  out += "\nstages (wall time)\n";
  for (const auto& stage : report.stages) {
    const std::string time = util::format_seconds(std::chrono::duration<double>(stage.elapsed).count());
    out += fmt::format("  {:<14} {:>8}{}{}\n", stage.name, time, stage.detail.empty() ? "" : "  ",
                       util::escape_controls(stage.detail));
  }
}

std::string verdict_line(const run::RunReport& report) {
  std::vector<std::string> failed;
  std::vector<std::string> warnings;
  std::size_t gates = 0;
  for (const auto& t : report.thresholds) {
    const std::string label = scenario::label(t.threshold);
    gates += t.threshold.severity == scenario::ThresholdSeverity::fail ? 1 : 0;
    if (t.gate_failed()) {
      failed.push_back(label);
    } else if (t.warning()) {
      warnings.push_back(label);
    }
  }
  std::vector<std::string> findings;
  for (const auto& d : report.diagnostics) {
    if (d.severity == scrape::Severity::error) {
      findings.push_back(d.code);
    }
  }
  const std::string also = findings.empty() ? std::string()
                                            : fmt::format("; error finding{}: {}", findings.size() == 1 ? "" : "s",
                                                          fmt::join(findings, ", "));
  const std::string warned = warnings.empty() ? std::string()
                                              : fmt::format("; {} warning{}: {}", warnings.size(),
                                                            warnings.size() == 1 ? "" : "s", fmt::join(warnings, ", "));
  const std::string aborted = report.threshold_abort
                                  ? fmt::format("; aborted at t={} by abortOnFail",
                                                util::format_seconds(std::chrono::duration<double>(report.threshold_abort->at).count()))
                                  : std::string();
  const std::string names = failed.empty() ? std::string() : fmt::format(": {}", fmt::join(failed, ", "));
  switch (report.verdict) {
    case run::Verdict::pass: return fmt::format("verdict: PASS ({} of {} gates passed{})", gates, gates, warned);
    case run::Verdict::fail:
      return fmt::format("verdict: FAIL ({} of {} gates failed{}{}{}{})", failed.size(), gates, names, aborted, also, warned);
    case run::Verdict::interrupted: return "verdict: INTERRUPTED (partial results; gates not judged)";
    case run::Verdict::error: return "verdict: ERROR (the run could not be carried out)";
    case run::Verdict::not_judged:
      return report.shard ? fmt::format("verdict: NOT JUDGED (shard {}: `llmd-bench merge` judges every shard's data together)",
                                        engine::to_string(report.shard->slice))
                          : std::string("verdict: NOT JUDGED (--no-gates)");
  }
  return "";
}

}  // namespace

std::string render_cache_table(const scrape::CacheReport& cache) {
  std::string out;
  out += fmt::format("  {:<18} {:>12} {:>12} {:>9} {:>9} {:>9} {:>9}  {}\n", "pod", "Δqueries", "Δhits", "hit rate",
                     "Δrequests", "req share", "qry share", "status");
  for (const auto& row : cache.pods) {
    auto number = [](const std::optional<double>& v) { return v ? fmt::format("{:.0f}", *v) : std::string("-"); };
    out += fmt::format("  {:<18} {:>12} {:>12} {:>9} {:>9} {:>9} {:>9}  {}{}\n", row.pod, number(row.queries.delta),
                       number(row.hits.delta), percent(row.hit_rate), number(row.requests_success.delta),
                       percent(row.share_of_requests), percent(row.share_of_queries), scrape::to_string(row.status),
                       row.unit == scrape::CounterUnit::blocks ? " (blocks)" : "");
  }
  const auto& t = cache.totals;
  out += fmt::format("  {:<18} {:>12.0f} {:>12.0f} {:>9} {:>9.0f}   max pod share {} of requests ({}), {} of queries ({})\n",
                     "total", t.queries, t.hits, percent(t.hit_rate), t.requests_success, percent(t.max_pod_share),
                     t.max_share_pod.empty() ? "-" : t.max_share_pod, percent(t.max_pod_query_share),
                     t.max_query_share_pod.empty() ? "-" : t.max_query_share_pod);
  for (const auto& d : cache.diagnostics) {
    out += fmt::format("  {} {}{}\n", d.severity == scrape::Severity::info ? "·" : "!",
                       d.pod ? *d.pod + ": " : "", d.message);
    if (!d.fix.empty()) {
      out += fmt::format("      fix: {}\n", d.fix);
    }
  }
  return out;
}

// "prompt tokens approximate: generator 1040, server 1987 per request (usage.prompt_tokens, 200
// responses): +91.0%": the generator's count (one word = one token) against the server's.
void render_prompt_token_accuracy(std::string& out, const run::RunReport& report) {
  const engine::PhaseResult& total = report.run->total;
  if (total.prompt_tokens_compared == 0) {
    return;
  }
  const bool calibrated = report.calibration && report.calibration->calibrated;
  const auto kind = report.scenario->request.prompt;
  const double n = static_cast<double>(total.prompt_tokens_compared);
  const double generator = static_cast<double>(total.prompt_tokens_generator) / n;
  const double server = static_cast<double>(total.prompt_tokens_server) / n;
  const bool exact = total.prompt_tokens_generator == total.prompt_tokens_server;
  const double off = generator > 0 ? (server - generator) / generator * 100.0 : 0.0;
  out += fmt::format("\nprompt tokens {}: generator {:.0f}, server {:.0f} per request (usage.prompt_tokens, {} "
                     "responses): {}{:.1f}%{}\n",
                     exact ? "exact" : "approximate", generator, server, total.prompt_tokens_compared,
                     off >= 0 ? "+" : "", off,
                     calibrated ? " (prefixes calibrated: the generator counts their words and fillers, the server "
                                  "their tokens)"
                     : exact ? ""
                     : scenario::calibrates_prefixes(kind)
                         ? " (not calibrated: requests.token_counts.calibrate makes prefixes exact via POST /tokenize)"
                         : fmt::format(" ({} prompts are not calibrated: their lengths are the generator's words)",
                                       scenario::to_string(kind)));
}

namespace {

// Where TTFT/ITL receive times came from (engine/receive_clock.hpp), for the client line.
std::string receive_times(const engine::RunResult& run) {
  if (run.http_client == "libcurl") {
    return "; receive times: the clock after each read";
  }
  const auto& counts = run.http_counts;
  if (counts.reads == 0) {
    return "";  // nothing read, or a result written before reads were counted
  }
  if (counts.kernel_stamped_reads == counts.reads) {
    return fmt::format("; receive times: the kernel's arrival stamps ({} reads)", counts.reads);
  }
  return fmt::format("; receive times: the kernel's arrival stamps on {} of {} reads, the clock after the read on the rest",
                     counts.kernel_stamped_reads, counts.reads);
}

// How many of the loop's waits paused to coalesce wake-ups (engine.coalesce); nothing when none did.
std::string coalesced_waits(const engine::RunResult& run) {
  const auto& counts = run.http_counts;
  if (counts.coalesced_waits == 0) {
    return "";
  }
  return fmt::format("; wake-ups coalesced: {} of {} waits paused first, up to {} (engine.coalesce; stamped reads keep "
                     "their times, two events of one stream within a pause share the later one)",
                     counts.coalesced_waits, counts.waits,
                     util::format_seconds(static_cast<double>(counts.longest_pause_ns) / 1e9));
}

// The client's own CPU over the measured loop (engine/thread_cpu.hpp), per request and per output
// token: what the load generator cost, next to what it measured. "" when not recorded.
std::string client_cpu_line(const engine::RunResult& run) {
  if (!run.client_cpu) {
    return "";
  }
  const auto& cpu = *run.client_cpu;
  const double seconds = std::chrono::duration<double>(cpu.total()).count();
  const double wall = std::chrono::duration<double>(run.total.wall_duration).count();
  std::string line = fmt::format("cpu:      the client used {} of CPU in the measured loop (user {}, system {})",
                                 util::format_seconds(seconds), util::format_seconds(std::chrono::duration<double>(cpu.user).count()),
                                 util::format_seconds(std::chrono::duration<double>(cpu.system).count()));
  if (wall > 0) {
    // --threads N and merged shards: every loop's CPU over the run's wall time, which can pass 1.
    const std::size_t loops = run.threads.size();  // empty for one loop
    line += loops > 1 ? fmt::format(", {:.2f} cores over {} ({} event loops)", seconds / wall, util::format_seconds(wall), loops)
                      : fmt::format(", {:.2f} of a core over {}", seconds / wall, util::format_seconds(wall));
  }
  const std::uint64_t ended = run.total.ok + run.total.failed + run.total.aborted;
  if (ended > 0) {
    line += fmt::format("; {} per request", util::format_seconds(seconds / static_cast<double>(ended)));
  }
  if (run.total.output_tokens_total > 0) {
    line += fmt::format(", {} per output token ({:.0f} tokens per client CPU-second)",
                        util::format_seconds(seconds / static_cast<double>(run.total.output_tokens_total)),
                        seconds > 0 ? static_cast<double>(run.total.output_tokens_total) / seconds : 0.0);
  }
  return line + "\n";
}

}  // namespace

std::string render_text(const run::RunReport& report, const TextOptions& options) {
  std::string out;
  const auto& s = *report.scenario;
  out += fmt::format("scenario: {}{}\n", s.name, s.path.empty() ? "" : " (" + s.path + ")");
  if (report.embedded_sim) {
    out += fmt::format("target:   embedded simulator, {} pods behind {} (route {}, metrics {})\n",
                       report.sim_description["pods"].size(), report.target_url,
                       report.sim_description["route"].get<std::string>(),
                       report.sim_description["metrics_flavor"].get<std::string>());
  } else {
    out += fmt::format("target:   {}{}\n", report.target_url, s.target.host.empty() ? "" : " (Host: " + s.target.host + ")");
  }
  out += fmt::format("model:    {}{}   api: {}\n", report.model.empty() ? "(none: not named and not discovered)" : report.model,
                     report.model_source.empty() ? "" : " (" + report.model_source + ")",
                     s.request.api == scenario::ApiKind::chat ? "chat" : "completions");
  if (report.run && !report.run->http_client.empty()) {
    out += fmt::format("client:   {} ({}){}{}\n", report.run->http_client, report.run->http_client_reason,
                       receive_times(*report.run), coalesced_waits(*report.run));
  }
  if (report.run) {
    out += client_cpu_line(*report.run);
  }
  for (const auto& note : report.notes) {
    out += fmt::format("note:     {}\n", note);
  }
  if (report.calibration) {
    out += render_calibration(*report.calibration);
  }
  if (report.cache_state) {
    out += render_cache_state(*report.cache_state);
  }
  if (report.warmup) {
    render_warmup(out, *report.warmup);
  }
  if (report.run) {
    out += report.run->phases.size() > 1 ? "\nphases" : "\nphase";
    for (const auto& phase : report.run->phases) {
      render_phase(out, phase);
    }
    if (report.run->phases.size() > 1) {
      render_phase(out, report.run->total);
    }
    render_threads(out, *report.run);
    out += render_turns_table(report.run->total);
    render_prompt_token_accuracy(out, report);
  }
  if (report.cache) {
    render_cache(out, report);
  } else if (report.ideal_hit_rate) {
    out += "\nprefix cache (no counters read)\n";
    render_ideal_hit_rate(out, report);
  }
  if (report.routing) {
    out += render_routing(*report.routing);
  }
  out += render_timeline(report);
  out += render_events(report);
  render_diagnostics(out, report);
  render_thresholds(out, report, options);
  render_checks(out, report, options);
  render_stages(out, report);
  for (const auto& error : report.errors) {
    out += fmt::format("\nerror: {}\n", error);
  }
  out += "\n" + verdict_line(report) + "\n";
  return out;
}

}  // namespace llmd::report
