#pragma once
// What `llmd-bench run` measured, as plain data: one PhaseResult per phase and their merge. Filled
// by the engine (recorder.hpp), rendered by the report module; to_json() is the machine-readable
// form (histograms in the stats module's sparse JSON, plus a precomputed summary of each).
//
// Counting rules (every started request ends in exactly one of ok / failed / aborted):
//   started   = ok + failed + aborted + (still in flight: 0 once the phase finished)
//   completed = ok + failed
//   http_req_failed = (failed + aborted) / (ok + failed + aborted): a request the engine aborted
//               (graceful_stop elapsed, second Ctrl-C) did not succeed, so it counts as failed
//   http_req_cut = (stream_cut failures + aborted) / (ok + failed + aborted): streams that ended
//               before their end, whether the server/proxy cut them or the engine gave up on them
//   stream_buffered = (streams_in_bursts + streams_at_end) / streams_judged: ok streams with >= 4
//               content events whose events arrived held back by something on the path
//               (stream_delivery.hpp)
//   dropped   : open-loop requests that were due while max_in_flight were in flight; never started,
//               so not part of `started`.
// Latencies are nanoseconds, measured from the request's reference instant: the SCHEDULED time for
// open-loop executors (so a late start shows up in the latency: no coordinated omission) and the
// actual start for closed-loop executors. schedule_lag_ns (open loop only) is actual start − scheduled.
// Which requests feed which histogram:
//   first_byte / first_event / ttft / inter_token_latency / http_req_duration / output_tokens /
//   tokens_per_second: OK requests only. A request that fails later (cut stream, in-band error
//   event, timeout) is kept out of all of them: its "first token" may be the server's error, and a
//   run whose every request failed has no latency to gate on (a threshold on it fails "no data").
//   The inter-token gaps of a stream are buffered in its RequestState and recorded when it ends ok.
//   time_to_failure_ns[class]: failed requests, reference instant -> the failure was known (the
//   transfer ended), one histogram per FailureClass.
//   schedule_lag: every completed request of an open-loop phase (ok or failed: it is about the start).
//   ttft_client_added / itl_client_added: every stamped content event as it arrives, failed
//   requests included (they measure the network and the client, not the server's answer).
//   event_loop_lag: the loop's own probe timer, independent of requests.
// Aborted requests record nothing. Launch failures (no transfer: e.g. the multi handle refused it)
// count as failed class `other` without a time to failure.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "engine/attribution.hpp"
#include "engine/per_second.hpp"
#include "engine/thread_cpu.hpp"
#include "scenario/scenario.hpp"
#include "stats/histogram.hpp"
#include "util/result.hpp"

namespace llmd::engine {

// Why a request failed. Each failed request has exactly one class (the first that applies: connect,
// tls, timeout; then HTTP status; then what the stream contained; precedence in outcome.hpp).
enum class FailureClass : std::uint8_t {
  connect,             // no connection: refused, unresolvable host, connect timeout
  tls,                 // TLS handshake or certificate verification failed
  timeout,             // connected, but request_timeout elapsed before the response ended
  http_status,         // the response status was not 2xx (see PhaseResult::failures_by_status)
  stream_cut,          // the connection ended before `data: [DONE]` (or before any response)
  malformed_event,     // an SSE payload that is not an OpenAI chunk, an oversized event, or a 2xx
                       // body that is not the expected SSE stream / JSON document
  server_error_event,  // an in-band `data: {"error":...}` event
  other,               // anything else libcurl reported (message kept in failure_examples)
};
inline constexpr std::size_t k_failure_class_count = 8;
// "connect", "tls", "timeout", "http_status", "stream_cut", "malformed_event", "server_error_event", "other"
std::string_view to_string(FailureClass failure);

// scenario::CheckKind values, as array indexes.
inline constexpr std::size_t k_check_count = 3;
// "status_200", "non_empty_content", "sse_content_type"
std::string_view to_string(scenario::CheckKind check);
// k6 executor names: "constant-vus", "ramping-vus", "constant-arrival-rate", "poisson", "iterations"
std::string_view to_string(scenario::ExecutorKind executor);

struct CheckCounts {
  std::uint64_t passed = 0;
  std::uint64_t failed = 0;
};

// The layout every engine histogram uses: <= 0.39% percentile error, 0 .. 2^42-1 (73 minutes in
// ns), 0 tracked (a zero inter-token gap is real when two events arrive in one read).
stats::HistogramLayout engine_histogram_layout();
stats::LogLinearHistogram make_engine_histogram();

struct PhaseHistograms {
  stats::LogLinearHistogram first_byte_ns = make_engine_histogram();   // first response byte (headers)
  stats::LogLinearHistogram first_event_ns = make_engine_histogram();  // first SSE event, any kind
  stats::LogLinearHistogram ttft_ns = make_engine_histogram();         // first event with non-empty text
  // Gap between consecutive events with non-empty text; the gaps of a stream are recorded when it
  // ends ok (a failed stream's gaps are dropped).
  stats::LogLinearHistogram inter_token_latency_ns = make_engine_histogram();
  stats::LogLinearHistogram http_req_duration_ns = make_engine_histogram();  // end-to-end; ok requests only
  stats::LogLinearHistogram schedule_lag_ns = make_engine_histogram();       // open loop only
  stats::LogLinearHistogram output_tokens = make_engine_histogram();         // per ok request
  // Output tokens / end-to-end seconds of each ok request with >= 1 token, x 1000 (milli-tokens/s,
  // so the integer histogram keeps 1% precision at low rates).
  stats::LogLinearHistogram tokens_per_second_milli = make_engine_histogram();
  // Time per output token as vLLM's `vllm bench serve` defines it: per ok request with more than
  // one output token and a first token, (end-to-end - ttft) / (output_tokens - 1), in ns.
  stats::LogLinearHistogram tpot_ns = make_engine_histogram();
  // Only when the server stamps its events (`llmd-bench sim --stamp-events`: a `: llmd-sent-ns=N`
  // comment with its CLOCK_MONOTONIC send time in the event's block; same machine, same clock):
  // the delay the network and this client added = client receive instant − server send instant.
  // ttft_client_added_ns: the first content event of each stream; itl_client_added_ns: every later
  // content event (one per inter-token gap). A gap's error is at most the larger of its two events'
  // delays. Recorded as events arrive (also on streams that fail later: they measure the path, not
  // the answer); empty without stamps.
  stats::LogLinearHistogram ttft_client_added_ns = make_engine_histogram();
  stats::LogLinearHistogram itl_client_added_ns = make_engine_histogram();
  // How late the engine's event loop got around to a timer that was due: a probe timer every
  // k_loop_probe_interval (engine.hpp), recorded as (instant the loop saw it) - (instant it was
  // due). Every socket event and request start waits up to this long on top of the kernel, so it
  // bounds what the client adds to every latency above. A phase records the probes taken while it
  // ran; the run total has each probe once (phases that overlap share their probes).
  stats::LogLinearHistogram event_loop_lag_ns = make_engine_histogram();
};

// Every histogram of PhaseHistograms with its JSON key in to_json(PhaseResult) (the unit is in the
// key), for the writer and the reader (run_result_json.cpp) alike.
struct PhaseHistogramField {
  const char* key;
  stats::LogLinearHistogram PhaseHistograms::*member;
};
inline constexpr std::array<PhaseHistogramField, 12> k_phase_histogram_fields = {{
    {"first_byte_ns", &PhaseHistograms::first_byte_ns},
    {"first_event_ns", &PhaseHistograms::first_event_ns},
    {"ttft_ns", &PhaseHistograms::ttft_ns},
    {"inter_token_latency_ns", &PhaseHistograms::inter_token_latency_ns},
    {"http_req_duration_ns", &PhaseHistograms::http_req_duration_ns},
    {"schedule_lag_ns", &PhaseHistograms::schedule_lag_ns},
    {"output_tokens", &PhaseHistograms::output_tokens},
    {"tokens_per_second_milli", &PhaseHistograms::tokens_per_second_milli},
    {"tpot_ns", &PhaseHistograms::tpot_ns},
    {"ttft_client_added_ns", &PhaseHistograms::ttft_client_added_ns},
    {"itl_client_added_ns", &PhaseHistograms::itl_client_added_ns},
    {"event_loop_lag_ns", &PhaseHistograms::event_loop_lag_ns},
}};

// One engine histogram per failure class, indexed by FailureClass.
using FailureHistograms = std::array<stats::LogLinearHistogram, k_failure_class_count>;
FailureHistograms make_failure_histograms();

// Waits of closed-loop users before their next request (engine/backoff.hpp).
struct BackoffCounts {
  std::uint64_t retry_after_waits = 0;    // after a 429/503 with Retry-After
  std::uint64_t connect_error_waits = 0;  // after a connect failure (exponential, to 1 s)
  std::uint64_t waited_ns = 0;            // the waits asked for, summed over users
};

// Multi-turn prompts (conversation.hpp): the requests of one turn number. TTFT of its ok requests,
// and the client's view of the prefix cache: usage.prompt_tokens_details.cached_tokens and
// usage.prompt_tokens summed over the ok responses that reported cached_tokens.
struct TurnStats {
  std::uint64_t ok = 0;
  std::uint64_t failed = 0;
  std::uint64_t aborted = 0;
  stats::LogLinearHistogram ttft_ns = make_engine_histogram();
  std::uint64_t prompt_tokens = 0;  // of the responses that reported cached_tokens
  std::uint64_t cached_tokens = 0;
  std::uint64_t responses_with_cached_tokens = 0;
};
// cached_tokens / prompt_tokens of the turn; nullopt when no response reported cached_tokens (the
// server does not: vLLM needs --enable-prompt-tokens-details) or their prompts had no tokens.
std::optional<double> turn_hit_rate(const TurnStats& turn);
// A `trace` phase (trace_executor.hpp): how its records were replayed.
struct TraceReplay {
  std::uint64_t records = 0;  // in the trace
  double speedup = 1;         // the phase's speedup divided by the scenario's time_scale: trace ms per replay ms
  // Per record: when it actually started, from the phase start (ns); nullopt when it never started
  // (dropped with max_in_flight in flight, due after max_duration, or the run stopped first).
  std::vector<std::optional<std::int64_t>> started_offsets_ns;
};

// Requests that ended in one 100 ms slice of the run (from the run start, the same clock for every
// phase): ended ok, and ended not ok (failed or aborted). The churn report (run/churn_report.hpp)
// counts the failures of a disruption from them.
struct CompletionBucket {
  std::uint32_t ok = 0;
  std::uint32_t failed = 0;
};
inline constexpr std::chrono::milliseconds k_completion_bucket{100};
// 24 h of slices; requests ending later count in the last slice.
inline constexpr std::size_t k_max_completion_buckets = 864'000;

// Goodput (scenario `slo:`): the ok requests judged against the SLO (outcome.hpp judge_slo).
struct GoodputCounts {
  std::uint64_t good = 0;                // ok and met every objective set
  std::uint64_t good_output_tokens = 0;  // their output tokens
  // Ok requests that missed each objective (one request may miss several).
  std::uint64_t missed_ttft = 0;
  std::uint64_t missed_itl = 0;
  std::uint64_t missed_tpot = 0;
  std::uint64_t missed_e2e = 0;
};

struct PhaseResult {
  std::string name;                                  // "total" for RunResult::total
  std::optional<scenario::ExecutorKind> executor;    // nullopt for RunResult::total
  std::uint64_t started = 0;
  std::uint64_t completed = 0;
  std::uint64_t ok = 0;
  std::uint64_t failed = 0;
  std::uint64_t dropped = 0;
  std::uint64_t aborted = 0;   // cut by the engine: graceful_stop elapsed, or the second Ctrl-C
  std::array<std::uint64_t, k_failure_class_count> failures_by_class{};  // indexed by FailureClass
  std::map<int, std::uint64_t> failures_by_status;   // HTTP status -> requests (http_status failures)
  // The first message seen for each failure class, e.g. "HTTP 404: The model `x` does not exist."
  std::array<std::optional<std::string>, k_failure_class_count> failure_examples;
  std::vector<scenario::CheckKind> checks;           // the checks evaluated (scenario order)
  std::array<CheckCounts, k_check_count> check_counts{};  // indexed by CheckKind
  std::optional<scenario::Slo> slo;                  // the scenario's `slo:`; nullopt: no goodput
  GoodputCounts goodput;                             // zero without an SLO
  PhaseHistograms histograms;                        // ok requests only (see the counting rules)
  // Failed requests: reference instant -> the transfer ended, per FailureClass (ns).
  FailureHistograms time_to_failure_ns = make_failure_histograms();
  // How ok streams were delivered (stream_delivery.hpp): judged = those with >= 4 content events;
  // of them, buffered in bursts or all at the end (the rest came token by token).
  std::uint64_t streams_judged = 0;
  std::uint64_t streams_in_bursts = 0;
  std::uint64_t streams_at_end = 0;
  BackoffCounts backoff;
  std::uint64_t output_tokens_total = 0;             // summed over ok requests
  // usage.prompt_tokens_details.cached_tokens summed over the ok responses that carried it (vLLM
  // --enable-prompt-tokens-details), and how many did: the client's view of the prefix-cache hits,
  // compared with the pods' ΣΔhits by report/run_diagnostics.hpp.
  std::uint64_t cached_tokens_total = 0;
  std::uint64_t responses_with_cached_tokens = 0;
  // usage.prompt_tokens summed over the ok responses that reported usage, and how many did. The
  // input token count is known only when every ok response reported it (input_tokens()).
  std::uint64_t input_tokens_total = 0;
  std::uint64_t responses_with_input_tokens = 0;
  // How far the generator's token count is from the server's: over the ok responses with
  // usage.prompt_tokens whose prompt the engine generated as text (not chat messages), the
  // generator's count (one word = one token) and usage.prompt_tokens, summed, and how many.
  std::uint64_t prompt_tokens_generator = 0;
  std::uint64_t prompt_tokens_server = 0;
  std::uint64_t prompt_tokens_compared = 0;
  std::uint64_t connections_opened = 0;              // new connections (CURLINFO_NUM_CONNECTS); the rest reused one
  std::uint64_t peak_in_flight = 0;                  // most requests in flight at once
  double mean_in_flight = 0;                         // time-weighted mean over wall_duration
  std::chrono::nanoseconds wall_duration{};          // first possible start to last request end
  std::optional<std::chrono::nanoseconds> started_at;  // offset of the phase start from the run start
  // Open-loop phases (constant-arrival-rate, poisson): the arrival rate asked for (requests/s) and
  // how long arrivals were scheduled: the phase's duration, or up to the stop when Ctrl-C ended it
  // early. nullopt for closed loops and RunResult::total.
  std::optional<double> target_rate_per_s;
  std::optional<std::chrono::nanoseconds> arrival_window;
  // iterations phases: the iterations asked for, and whether max_duration passed before all of them
  // started (then `started` < iterations_target). nullopt / false otherwise.
  std::optional<std::uint64_t> iterations_target;
  bool max_duration_reached = false;
  // Multi-turn prompts: turns[n - 1] holds the requests of turn n (as far as a conversation got);
  // empty for the other prompt kinds.
  std::vector<TurnStats> turns;
  std::optional<TraceReplay> trace;  // trace phases only (not merged into RunResult::total)
  // Which endpoint served each completed request, per endpoint and per group (attribution.hpp);
  // rendered by the run's routing report, not in the phase JSON.
  Attribution attribution;
  // Requests ended per k_completion_bucket from the run start (index = slice); empty when none ended.
  std::vector<CompletionBucket> completions_per_100ms;

  std::uint64_t failures(FailureClass failure) const { return failures_by_class[static_cast<std::size_t>(failure)]; }
};

// One event loop of a `--threads N` run: what it carried and how late it ran (engine.hpp).
struct EngineThread {
  std::size_t index = 0;
  // `merge`: the shard whose event loop this was (every shard's loops are listed; a shard with one
  // loop is one entry made of its totals). Unset in a single run.
  std::optional<std::size_t> shard;
  std::uint64_t started = 0;    // requests it started, all phases
  std::uint64_t completed = 0;  // requests that ended on it (ok or failed)
  // The CPU its thread used over the loop (thread_cpu.hpp); unset in results written before it was
  // recorded.
  std::optional<CpuTime> cpu;
  stats::LogLinearHistogram event_loop_lag_ns = make_engine_histogram();  // its probes, as PhaseHistograms has it
};

// The built-in HTTP client's reads and the event loop's waits (JSON run.http_client; summed over
// threads and shards, the longest pause is the max). Reads: how many carried the kernel's receive
// stamp (receive_clock.hpp: their times are when the bytes arrived, not when the client got round to
// the socket); both 0 with libcurl, whose times are the clock after each read. Waits: how many
// paused first to coalesce wake-ups (engine.coalesce, curl_multi.hpp), and the longest pause.
struct HttpClientCounts {
  std::uint64_t reads = 0;
  std::uint64_t kernel_stamped_reads = 0;
  std::uint64_t waits = 0;
  std::uint64_t coalesced_waits = 0;
  std::uint64_t longest_pause_ns = 0;
  HttpClientCounts& operator+=(const HttpClientCounts& other);
};

struct RunResult {
  std::vector<PhaseResult> phases;
  PhaseResult total;         // every phase merged (peak/mean in flight: of the whole run)
  bool interrupted = false;  // the stop flag (first Ctrl-C) ended the run early
  bool aborted = false;      // the abort flag (second Ctrl-C) cut in-flight requests
  // EngineConfig::stop_check stopped the run (e.g. a threshold with abortOnFail failed): its reason,
  // and when, from the run start. Not an interruption: `interrupted` stays false.
  std::optional<std::string> stop_reason;
  std::chrono::nanoseconds stopped_at{};
  std::chrono::system_clock::time_point started_at;
  std::chrono::system_clock::time_point ended_at;
  // The whole run second by second (per_second.hpp): JSON run.per_second, the HTML report's charts.
  std::vector<SecondBucket> per_second;
  // `--threads N` with N > 1: one entry per event loop, in thread order (empty for one thread; the
  // total's event_loop_lag_ns holds every thread's probes). A merged run lists every shard's loops,
  // by shard and thread (run/merge.hpp), one-loop shards included.
  std::vector<EngineThread> threads;
  // The HTTP client that ran the requests (fast_http.hpp): "built-in HTTP/1.1" or "libcurl", and
  // why (JSON run.http_client {name, reason}; empty in results written before it was recorded).
  std::string http_client;
  std::string http_client_reason;
  HttpClientCounts http_counts;
  // The client's own CPU over the measured loop (thread_cpu.hpp): every event loop's thread, plus the
  // coordinating thread of a --threads N run; a merged run sums its shards' (unset when any shard
  // lacks it). Unset in results written before it was recorded. JSON run.client_cpu.
  std::optional<CpuTime> client_cpu;
};

// Counts one ended request in phase.completions_per_100ms at `since_run_start`.
void count_completion(PhaseResult& phase, std::chrono::nanoseconds since_run_start, bool ok);

// The rate metrics of the counting rules above; nullopt when no request ended (denominator 0).
std::optional<double> http_req_failed_rate(const PhaseResult& phase);
std::optional<double> http_req_cut_rate(const PhaseResult& phase);
std::optional<double> stream_buffered_rate(const PhaseResult& phase);  // nullopt when no stream was judged
// usage.prompt_tokens summed over the ok requests; nullopt when no request ended ok or any ok
// response did not report usage (a partial sum is not the input token count).
std::optional<std::uint64_t> input_tokens(const PhaseResult& phase);
// Output tokens / wall_duration; nullopt for a zero duration.
std::optional<double> output_tokens_per_second(const PhaseResult& phase);
// (input + output tokens) / wall_duration, as vLLM's "Total Token throughput"; nullopt when the
// input tokens are unknown or the duration is zero.
std::optional<double> total_tokens_per_second(const PhaseResult& phase);
// Goodput (with an SLO; nullopt without one): good / (ok + failed + aborted + dropped), i.e. of the
// requests the phase asked for, a dropped arrival or an aborted request being not good (nullopt when
// that is 0); good requests and their output tokens per second of wall_duration (nullopt for a zero
// duration).
std::optional<double> good_fraction(const PhaseResult& phase);
std::optional<double> goodput_per_second(const PhaseResult& phase);
std::optional<double> good_output_tokens_per_second(const PhaseResult& phase);
// Open loop: requests started per second of the arrival window; nullopt for closed loops or an
// empty window.
std::optional<double> achieved_rate_per_s(const PhaseResult& phase);

// Adds `from` into `into` (counters, maps, histograms, checks, turns turn by turn). Keeps into's name and executor;
// peak/mean in flight and durations are NOT merged (they are not additive).
util::Result<void> merge_into(PhaseResult& into, const PhaseResult& from);
// Adds what one slice (slice.hpp: a thread or a shard) was given of the same phase: the targets sum
// (iterations, arrival rate), the arrival window and max_duration_reached are the widest, and each
// trace record's start offset comes from the one slice that started it, moved by `trace_shift`
// (that slice's phase start minus the merged phase start). Counters and histograms: merge_into.
void merge_slice_plan(PhaseResult& into, const PhaseResult& from, std::chrono::nanoseconds trace_shift);

// {"name","executor","counts":{...},"failures":{"connect":0,...},"failures_by_status":{"404":3},
//  "failure_examples":{...},"checks":{"status_200":{"passed":..,"failed":..}},
//  "metrics":{"ttft_ns":{"summary":{count,min,max,mean,p50,p90,p95,p99,p999,overflow},"histogram":{...}},...},
//  "failed_metrics":{"time_to_failure_ns":{"connect":{"summary":{...},"histogram":{...}},...every class}},
//  "rates":{"http_req_failed":0.1,"http_req_cut":0.05,"stream_buffered":0} (null without data),
//  "stream_delivery":{"judged":..,"in_bursts":..,"at_end":..},
//  "cached_tokens":{"total":..,"responses":..} (usage.prompt_tokens_details.cached_tokens of ok responses),
//  "summary":{"input_tokens_total","input_tokens_responses","output_tokens_per_second",
//    "total_tokens_per_second","tpot_seconds":{"mean","p50","p90","p99"},"itl_p99_seconds",
//    "peak_concurrency_requests","target_rate_per_second","achieved_rate_per_second",
//    "iterations_target","max_duration_reached"} (null what does not apply or is unknown),
//  "turns":[{"turn":1,"requests","ok","failed","aborted","ttft_ns":{"summary","histogram"},"prompt_tokens",
//    "cached_tokens","responses_with_cached_tokens","hit_rate"(null: not reported)},...] (multi-turn; else []),
//  "output_tokens_total","connections_opened","peak_in_flight","mean_in_flight","wall_duration_ns","started_at_ns",
//  "arrival_window_ns" (open loop: how long arrivals were scheduled; null otherwise),
//  "trace":{"records","speedup","started","started_offsets_ns":[ns or null per record]} (null but for trace phases)}
nlohmann::json to_json(const PhaseResult& phase);
// {"schema":"llmd-bench/run-result","version":1,"interrupted","aborted","started_at","ended_at",
//  "phases":[...],"total":{...},"per_second":{...} (per_second.hpp),
//  "threads":[{"thread":0,"shard"(merged results only),"started","completed","cpu":{"user_ns","system_ns"},
//  "event_loop_lag_ns":{"summary","histogram"}},...] ([] for one event loop),
//  "client_cpu":{"user_ns","system_ns"} (null when not recorded), "http_client":{"name","reason","reads","kernel_stamped_reads","waits","coalesced_waits","longest_pause_ns"} (null when not recorded)}; times are RFC 3339 UTC with milliseconds.
nlohmann::json to_json(const RunResult& run);
inline constexpr const char* k_run_result_schema = "llmd-bench/run-result";

// Reading a run back (run_result_json.cpp), the inverse of to_json for everything it writes (a
// result file's checks may be spelled as its scenario wrote them: "status-200"). What to_json does
// not write stays default: attribution, stop_reason, stopped_at. `path` names the value in errors:
// "run.phases[1].metrics.ttft_ns.histogram: histogram JSON: count: ...".
util::Result<RunResult> run_result_from_json(const nlohmann::json& run, const std::string& path = "run");
util::Result<PhaseResult> phase_result_from_json(const nlohmann::json& phase, const std::string& path);
// The columns of to_json(std::span<const SecondBucket>), back into buckets.
util::Result<std::vector<SecondBucket>> per_second_from_json(const nlohmann::json& per_second, const std::string& path);
inline constexpr int k_run_result_schema_version = 1;

}  // namespace llmd::engine
