#pragma once
// The load engine of `llmd-bench run`: runs scenario phases against an OpenAI-compatible server.
//
// How it runs. With EngineConfig::threads == 1, run_phases() runs ONE event loop on the calling
// thread (curl_multi.hpp: libcurl's multi interface, socket-action API on epoll): every transfer, SSE
// parse, measurement, executor decision (executors.hpp) and progress callback happens on that
// thread. No thread per user, no locks on the hot path; the only cross-thread inputs are the two
// atomic flags below. Connections are kept alive and reused across requests (one multi handle, its
// connection cache sized to the run's peak concurrency); HTTP/2 multiplexes when target.http2 is set.
//
// With threads = N > 1 (`run --threads N`, engine_threads.cpp), N such loops run on N threads, each
// with its own multi handle and connections, on slice `slice.within({t, N})` of every phase (item k
// of the phase to thread k mod N: the schedule stays exact, slice.hpp). They share the stop/abort
// flags, a stop of their own (stop_check's reason, or one thread's failure) and one lock-guarded
// ledger of requests in flight and per-second figures (run-wide peaks are exact, not sums). The
// calling thread coordinates: on_start once with the common run start, on_progress and stop_check
// from the threads' snapshots (at most one interval old), and on_request serialised under a lock.
// At the end the threads' results are merged exactly (histograms bucket by bucket, counters
// summed); RunResult::threads keeps each loop's lag.
//
// Phases start at their start_time offset from the run start and may overlap (k6 scenarios). A
// phase stops starting requests at its end; its in-flight requests then get graceful_stop to
// finish, after which they are aborted and counted as aborted. Durations are multiplied by
// Scenario::time_scale here (the engine is where it is applied; rates are not scaled).
//
// Allocation. Per token: nothing in steady state (the SSE parser, the decoder and each slot's
// inter-token gap buffer reuse their storage; histograms are preallocated; a slot's gap buffer
// grows only when it serves a longer stream than any before). Per request: the JSON body
// (nlohmann object + dump), the prompt text when its buffer has to grow, and strings for failure
// messages. Request slots (easy handle, parser,
// buffers) are pooled; per-session header lists are built once per virtual user.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "engine/run_result.hpp"
#include "engine/slice.hpp"
#include "scenario/limits.hpp"
#include "scenario/scenario.hpp"
#include "util/result.hpp"
#include "engine/request_state.hpp"

namespace llmd::engine {

// A snapshot for the live progress line.
struct Progress {
  std::string phase;                         // running phases, comma-separated ("" between phases)
  std::chrono::nanoseconds elapsed{};        // since the run started
  std::size_t active_vus = 0;                // closed loop: users with a request in flight; open loop: in flight
  std::size_t in_flight = 0;                 // requests in flight, all phases
  double requests_per_s = 0;                 // completed (ok + failed) over the last interval
  std::optional<double> ttft_p95_seconds;    // over every ok request so far; nullopt before the first one
  std::uint64_t completed = 0;               // so far, all phases
  std::uint64_t errors = 0;                  // failed so far
  std::uint64_t dropped = 0;                 // dropped so far
};

// Period of the event-loop lag probe (PhaseHistograms::event_loop_lag_ns): short enough for a p99
// over a few seconds, long enough that an idle loop wakes only 200 times a second for it.
inline constexpr std::chrono::nanoseconds k_loop_probe_interval = std::chrono::milliseconds(5);
// engine.coalesce auto (curl_multi.hpp "Wake-ups"): how often the window is set again from the gaps
// seen since, and how many new gaps that takes (fewer: the window stays as it was).
inline constexpr std::chrono::nanoseconds k_coalesce_update = std::chrono::milliseconds(100);
inline constexpr std::uint64_t k_coalesce_min_gaps = 32;

// One request as it ended, for a per-request log (`run --out csv=FILE`): instants are offsets from
// the run start (the clock of RunResult). Views are valid during the call only.
struct RequestRecord {
  enum class End : std::uint8_t { ok, failed, aborted };
  std::string_view phase;  // the phase's name
  std::size_t vu = 0;      // closed loop: the user; open loop: the arrival's session slot
  std::chrono::nanoseconds scheduled{};  // open loop: when it was due; closed loop: == started
  std::chrono::nanoseconds started{};    // handed to libcurl (a launch failure: when it failed)
  std::optional<std::chrono::nanoseconds> first_byte;   // first response byte
  std::optional<std::chrono::nanoseconds> first_event;  // first SSE event
  std::chrono::nanoseconds ended{};
  std::optional<std::uint64_t> ttft_ns;  // ok requests with a first token: as the ttft histogram has it
  std::uint64_t e2e_ns = 0;              // from the reference instant (scheduled for open loops) to the end
  long http_status = 0;                  // 0: no response status
  End end = End::ok;
  std::optional<FailureClass> failure;  // failed requests
  std::uint64_t output_tokens = 0;      // ok requests
  // With a scenario `slo:`: whether the request was good (outcome.hpp judge_slo; failed and aborted
  // requests never are); nullopt without one.
  std::optional<bool> good;
  std::string_view endpoint;            // the served-by header's endpoint ("" when none)
};

struct EngineConfig {
  const scenario::Scenario* scenario = nullptr;  // request spec, target, checks, time_scale; must outlive the run
  std::string base_url;      // overrides scenario->target.base_url when non-empty (e.g. the embedded sim's gateway)
  std::string model;         // model sent in requests; empty = scenario->request.model; both empty = omitted
  std::string bearer_token;  // read by the CALLER from the env var target.api_key_env; sent as
                             // "Authorization: Bearer ..."; never printed, never in results
  std::function<void(const Progress&)> on_progress;  // called every progress_interval, on the loop thread
                                                     // (threads > 1: on the calling thread)
  std::chrono::nanoseconds progress_interval = std::chrono::seconds(1);
  // First Ctrl-C: start nothing new, let in-flight requests finish within each phase's graceful_stop.
  const std::atomic<bool>* stop = nullptr;
  // Second Ctrl-C: abort in-flight requests now (counted as aborted) and return.
  const std::atomic<bool>* abort = nullptr;
  // Asked every stop_check_interval, on the loop thread, with the live totals so far (`total` of
  // every phase merged, as run_phases() would return it now; `phases` empty; ended_at = now). A
  // reason stops the run like the first Ctrl-C (nothing new starts; in-flight requests finish
  // within graceful_stop; phases not started yet never run), without counting as interrupted:
  // RunResult::stop_reason keeps it. Used for thresholds with abortOnFail (report/live_thresholds.hpp).
  std::function<std::optional<std::string>(RunResult live)> stop_check;
  std::chrono::nanoseconds stop_check_interval = std::chrono::seconds(1);
  // Called once on the loop thread when the measured clock starts (the origin of every offset in the
  // RunResult, e.g. PhaseResult::completions_per_100ms); must return at once (run/cache_timeline.hpp).
  std::function<void(std::chrono::steady_clock::time_point run_start)> on_start;
  // Called on the loop thread for every request of the measured phases as it ends (ok, failed,
  // aborted, or refused at launch); must return at once (a buffered write). threads > 1: on the
  // loop threads, one call at a time (under a lock).
  std::function<void(const RequestRecord&)> on_request;
  // The share of every phase this engine runs (slice.hpp: `run --shard i/N`). A phase's result then
  // holds the slice's targets (its share of the iterations, rate / count), so the slices' results
  // add up to the whole; prompts are numbered i + count * (the slice's own request number), so no
  // two slices send the same generated prompt where the unsliced run would not.
  Slice slice;
  // Bytes of non-streamed answers held by the requests in flight at once (request_state.hpp); with
  // threads, each thread holds its share.
  std::size_t document_budget_bytes = k_run_document_budget_bytes;
  // Event loops (`run --threads N`, scenario engine.threads), 1 .. k_max_threads; see the top.
  std::size_t threads = 1;
};

// Most event-loop threads one run may have.
inline constexpr std::size_t k_max_threads = scenario::limits::k_max_threads;

// Runs `phases` (e.g. {*scenario.warmup} or scenario.phases) and returns what was measured. Fails
// only when the run cannot be set up: invalid phase, bad URL or header, unreadable dataset, libcurl
// initialisation. A target that refuses every connection still yields a RunResult (every request
// failed with class connect): the caller maps that to exit code 3 and still writes the JSON.
util::Result<RunResult> run_phases(const EngineConfig& config, std::span<const scenario::Phase> phases);

}  // namespace llmd::engine
