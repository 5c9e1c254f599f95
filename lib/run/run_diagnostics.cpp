#include "run/run_diagnostics.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "engine/stream_delivery.hpp"
#include "run/pod_requests.hpp"
#include "util/duration.hpp"

namespace llmd::run {

namespace {

// Relative difference between the client's cached tokens and the pods' ΣΔhits that is a mismatch.
constexpr double k_cached_tokens_tolerance = 0.01;

std::string ns_text(std::optional<double> ns) { return ns ? util::format_seconds_fixed(*ns * 1e-9) : std::string("-"); }

// Requests ended, none of them ok: every latency, token and rate figure is empty or describes
// failures. An error finding: it fails the run (gates.hpp), whatever the thresholds say.
void add_no_successful_request(RunReport& report, const engine::PhaseResult& total) {
  const std::uint64_t ended = total.completed + total.aborted;
  if (ended == 0 || total.ok > 0) {
    return;
  }
  std::vector<std::string> classes;
  for (std::size_t i = 0; i < engine::k_failure_class_count; ++i) {
    if (total.failures_by_class[i] > 0) {
      classes.push_back(fmt::format("{} {}", engine::to_string(static_cast<engine::FailureClass>(i)),
                                    total.failures_by_class[i]));
    }
  }
  if (total.aborted > 0) {
    classes.push_back(fmt::format("aborted {}", total.aborted));
  }
  report.diagnostics.push_back(
      {"no_successful_request", scrape::Severity::error,
       fmt::format("not one of the {} requests that ended succeeded ({}): there is no latency, token or cache figure "
                   "of a successful request to judge, so the run fails whatever its thresholds say",
                   ended, fmt::join(classes, ", ")),
       "read the failure examples in the phase summary (the server's own message is quoted) and fix the target"});
}

// Not one request ended in the measured phases: there is nothing to judge, so the run fails.
void add_no_request(RunReport& report, const engine::PhaseResult& total) {
  if (!no_request_ended(total)) {
    return;
  }
  const std::size_t phases = report.run->phases.size();
  report.diagnostics.push_back(
      {"no_request", scrape::Severity::error,
       fmt::format("no request ended in the {} measured phase{} ({} started, {} dropped, over {}): there is no latency, "
                   "token, check or cache figure to judge, so the run fails whatever its thresholds say",
                   phases, phases == 1 ? "" : "s", total.started, total.dropped,
                   util::format_seconds_fixed(std::chrono::duration<double>(total.wall_duration).count())),
       "give the phases time to start requests: an open-loop phase shorter than 1/rate may see no arrival, and "
       "time_scale (or --time-scale) shortens every phase; check duration, rate, max_in_flight and time_scale"});
}

void add_stream_buffered(RunReport& report, const engine::PhaseResult& total) {
  const std::uint64_t buffered = total.streams_in_bursts + total.streams_at_end;
  if (total.streams_judged == 0 || buffered * 2 <= total.streams_judged) {
    return;
  }
  const auto& h = total.histograms;
  report.diagnostics.push_back(
      {"stream_buffered", scrape::Severity::warning,
       fmt::format("{} of {} streamed responses with >= {} tokens arrived buffered ({} in bursts, {} all at the end): "
                   "inter-token latency p50 {} against a mean of {} per token, TTFT p50 {} of end-to-end p50 {}. "
                   "Something between llmd-bench and the server held the events back and released them together, so "
                   "TTFT and inter-token latency measure that proxy, not the server",
                   buffered, total.streams_judged, engine::k_min_judged_content_events, total.streams_in_bursts,
                   total.streams_at_end, ns_text(h.inter_token_latency_ns.percentile(50)),
                   ns_text(h.inter_token_latency_ns.mean()), ns_text(h.ttft_ns.percentile(50)),
                   ns_text(h.http_req_duration_ns.percentile(50))),
       "turn response buffering off on the path: HAProxy `option http-no-delay` and no `http-response wait-for-body`; "
       "nginx `proxy_buffering off` (or the upstream sending `X-Accel-Buffering: no`); Envoy/Istio: no buffer filter "
       "(envoy.filters.http.buffer) or body-reading ext_proc/Lua on the route. Compare with --target pointing at a "
       "pod directly; gate on it with thresholds: {stream_buffered: [\"rate<0.1\"]}"});
}

// Why the pods' ΣΔhits cannot stand next to the client's cached tokens; "" when it can: every
// scraped pod was read twice without a restart and counts hits in tokens.
std::string hits_not_comparable(const std::optional<scrape::CacheReport>& cache) {
  if (!cache) {
    return "no pod counters were read (no cache source)";
  }
  if (cache->pods.empty()) {
    return "no pod was scraped";
  }
  for (const auto& row : cache->pods) {
    if (row.status != scrape::PodStatus::ok && row.status != scrape::PodStatus::new_pod &&
        row.status != scrape::PodStatus::caching_disabled) {
      return fmt::format("pod {} is {} (its hits over the run are unknown or a lower bound)", row.pod,
                         scrape::to_string(row.status));
    }
    if (!row.in_totals || row.unit != scrape::CounterUnit::tokens) {
      return fmt::format("pod {} does not count prefix-cache hits in tokens", row.pod);
    }
  }
  return "";
}

void add_cached_tokens_mismatch(RunReport& report, const engine::PhaseResult& total, double client, double hits) {
  const double larger = std::max(client, hits);
  if (larger <= 0 || std::abs(client - hits) / larger <= k_cached_tokens_tolerance) {
    return;
  }
  report.diagnostics.push_back(
      {"cached_tokens_mismatch", scrape::Severity::warning,
       fmt::format("the ok responses reported {:.0f} cached prompt tokens but the scraped pods' prefix-cache hits grew by "
                   "{:.0f} tokens: {} by {:.1f}% (more than {:.0f}%). The pods count every request they looked up, the "
                   "client sums ok responses only: other traffic on the pods during the run, or requests that failed or "
                   "were aborted after the lookup ({} here), make ΣΔhits larger; ok responses from pods outside the "
                   "scraped set make it smaller; a server whose cached_tokens includes other hits (e.g. a KV connector's "
                   "external cache) differs too",
                   client, hits, client > hits ? "the client's is larger" : "the pods' is larger",
                   std::abs(client - hits) / larger * 100, k_cached_tokens_tolerance * 100, total.failed + total.aborted),
       "run against pods no other client uses during the measured loop; scrape every pod behind the gateway "
       "(--cache-url for each, or the Kubernetes selector); check http_req_failed; the prefix-cache hit rate is from "
       "the pods' counters either way"});
}

void add_cached_tokens(RunReport& report, const engine::PhaseResult& total) {
  if (total.responses_with_cached_tokens == 0) {
    return;
  }
  const double client = static_cast<double>(total.cached_tokens_total);
  std::string message = fmt::format("the server reported {:.0f} cached prompt tokens (usage.prompt_tokens_details."
                                    "cached_tokens) in {} of {} ok responses",
                                    client, total.responses_with_cached_tokens, total.ok);
  std::string why_not = total.responses_with_cached_tokens < total.ok ? "the other ok responses did not report it"
                                                                      : hits_not_comparable(report.cache);
  if (!why_not.empty()) {
    report.diagnostics.push_back({"cached_tokens", scrape::Severity::info,
                                  message + "; not compared with the pods' prefix-cache hits: " + why_not, ""});
    return;
  }
  const double hits = report.cache->totals.hits;
  report.diagnostics.push_back(
      {"cached_tokens", scrape::Severity::info,
       message + fmt::format("; the scraped pods' prefix-cache hits grew by {:.0f} tokens (ΣΔhits) over the measured loop",
                             hits),
       ""});
  add_cached_tokens_mismatch(report, total, client, hits);
}

// Share of a core above which an event loop counts as busy: it was running the client's own work
// nearly all the time, so a socket or timer that became ready waited for it.
constexpr double k_busy_loop_share = 0.9;
// Shorter runs are not judged: connection set-up and the first requests weigh too much in them.
constexpr std::chrono::seconds k_busy_loop_min_wall{1};

// An event loop used >= 90% of a core over the measured loop (engine/thread_cpu.hpp): the client
// was close to its own limit, so reads and starts waited for it and the latencies include client
// time. Not judged for merged shards (each shard ran over its own wall time on its own machine).
void add_client_busy(RunReport& report, const engine::RunResult& run) {
  const auto wall = run.total.wall_duration;
  if (wall < k_busy_loop_min_wall) {
    return;
  }
  const double seconds = std::chrono::duration<double>(wall).count();
  std::vector<std::string> busy;
  auto judge = [&](const std::optional<engine::CpuTime>& cpu, const std::string& name) {
    if (!cpu) {
      return;
    }
    const double share = std::chrono::duration<double>(cpu->total()).count() / seconds;
    if (share >= k_busy_loop_share) {
      busy.push_back(fmt::format("{} {:.0f}%", name, share * 100));
    }
  };
  if (run.threads.empty()) {
    judge(run.client_cpu, "the event loop");
  } else {
    for (const auto& thread : run.threads) {
      if (thread.shard) {
        return;
      }
      judge(thread.cpu, fmt::format("thread {}", thread.index));
    }
  }
  if (busy.empty()) {
    return;
  }
  const auto& lag = run.total.histograms.event_loop_lag_ns;
  report.diagnostics.push_back(
      {"client_busy", scrape::Severity::warning,
       fmt::format("the client's own CPU was nearly saturated over the {} measured loop ({} of a core; >= {:.0f}% is "
                   "busy): sockets and timers that became ready waited for it, so TTFT, inter-token latency and "
                   "schedule lag include client time (event loop lag p99 {})",
                   util::format_seconds(seconds), fmt::join(busy, ", "), k_busy_loop_share * 100,
                   ns_text(lag.percentile(99))),
       "give the client more cores: --threads N (engine.threads) up to the machine's cores, or shards on several "
       "machines (--shard i/N, then `llmd-bench merge`); the summary's cpu line says what each request cost"});
}

// Every request of the warm-up failed: the caches it was meant to fill are cold, and the measured
// phases most likely fail the same way.
void add_warmup_failed(RunReport& report) {
  if (!report.warmup) {
    return;
  }
  const auto& total = report.warmup->total;
  if (total.ok > 0 || total.failed + total.aborted == 0) {
    return;
  }
  std::size_t top = 0;
  for (std::size_t i = 1; i < engine::k_failure_class_count; ++i) {
    top = total.failures_by_class[i] > total.failures_by_class[top] ? i : top;
  }
  const auto top_class = static_cast<engine::FailureClass>(top);
  const auto& example = total.failure_examples[top];
  report.diagnostics.push_back(
      {"warmup_failed", scrape::Severity::warning,
       fmt::format("every one of the {} warm-up requests failed ({} failed, {} aborted; most: {} {}{}): nothing was "
                   "warmed up, and the measured phases likely fail the same way",
                   total.failed + total.aborted, total.failed, total.aborted, engine::to_string(top_class),
                   total.failures_by_class[top], example ? ": " + *example : ""),
       "fix the target (URL, Host, model, API key) before reading the measured figures; the warm-up's failures are "
       "in the JSON result's \"warmup\""});
}

}  // namespace

bool no_request_ended(const engine::PhaseResult& total) { return total.ok + total.failed + total.aborted == 0; }

void add_run_diagnostics(RunReport& report) {
  add_warmup_failed(report);
  if (!report.run) {
    return;
  }
  add_no_request(report, report.run->total);
  add_no_successful_request(report, report.run->total);
  add_stream_buffered(report, report.run->total);
  add_client_busy(report, *report.run);
  if (report.cache) {
    if (auto mismatch = reconcile_pod_requests(*report.cache, *report.run)) {
      report.diagnostics.push_back(std::move(*mismatch));
    }
  }
  add_cached_tokens(report, report.run->total);
}

}  // namespace llmd::run
