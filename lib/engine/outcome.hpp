#pragma once
// Deciding what a finished request was (ok, or which FailureClass), and recording it into a
// PhaseResult. Pure functions of the facts collected during the transfer: unit-testable without
// a network.
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <curl/curl.h>

#include "engine/run_result.hpp"
#include "sse/openai_stream.hpp"

namespace llmd::engine {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

// Instants of one request; TimePoint{} means "did not happen".
struct RequestTiming {
  TimePoint scheduled{};    // open loop: when the request was due; closed loop: == started
  TimePoint started{};      // handed to libcurl
  TimePoint first_byte{};   // first response header byte
  TimePoint first_event{};  // first dispatched SSE event (any kind, [DONE] included)
  TimePoint first_token{};  // first event with non-empty text (TTFT)
  TimePoint last_token{};   // latest event with non-empty text
  TimePoint ended{};        // libcurl reported the transfer done
};

// What the transfer left behind. Views point into the RequestState and are valid until its next request.
struct TransferFacts {
  CURLcode code = CURLE_OK;
  std::string_view curl_error;    // libcurl's error buffer (may be empty)
  bool request_sent = false;      // the request went out on a connection (CURLINFO_REQUEST_SIZE > 0)
  long new_connections = 0;       // connections opened for this request (CURLINFO_NUM_CONNECTS; 0 = reused)
  long http_status = 0;           // 0: no response status
  std::string_view content_type;  // response Content-Type ("" if none)
  std::string_view content_encoding;  // response Content-Encoding ("" if none; none is requested)
  std::string_view retry_after;       // response Retry-After ("" if none)
  bool stream = true;             // an SSE stream was requested
  const sse::StreamTally* tally = nullptr;  // stream: what the events amounted to
  // stream: gaps between consecutive content events, in arrival order (ns; one fewer than the
  // content events). Recorded into inter_token_latency_ns only when the request ends ok.
  std::span<const std::uint64_t> inter_token_gaps_ns;
  std::string_view stream_problem;  // stream: why the bytes were rejected (oversized event) or the first
                                    // malformed payload's problem; "" if none
  std::string_view body;          // non-2xx: the error body (first 16 KiB); 2xx non-stream: the JSON body
  bool body_truncated = false;    // `body` was cut at its limit
  bool body_over_budget = false;  // ... because the run's budget for bodies in flight was spent
  // The endpoint that served the request (attribution.hpp endpoint_of) and the response header that
  // named it; "" when no response header named one.
  std::string_view served_by;
  std::string_view served_by_header;
};

struct Outcome {
  bool ok = false;
  FailureClass failure = FailureClass::other;  // meaningful when !ok
  long http_status = 0;
  std::string message;             // failures only: what went wrong, quoting the server
  std::int64_t output_tokens = 0;  // stream: tally.output_tokens(); non-stream: usage.completion_tokens
  bool non_empty_content = false;  // at least one non-empty text (stream: a content event)
  // usage.prompt_tokens_details.cached_tokens when the server reported it (vLLM with
  // --enable-prompt-tokens-details): prompt tokens it served from its prefix cache.
  std::optional<std::int64_t> cached_tokens;
  // usage.prompt_tokens when the server reported usage (streams: the last chunk with usage, with
  // stream_options.include_usage; non-stream: the body's usage); nullopt when it did not.
  std::optional<std::int64_t> prompt_tokens;
};

// Classification, first match wins:
//   1. libcurl: resolve / connect errors, or a timeout before the request was sent -> connect;
//      TLS errors -> tls; a timeout after it was sent -> timeout;
//   2. a non-2xx status -> http_status ("HTTP 404: <server message>");
//   3. stream: an in-band error event -> server_error_event; a malformed payload or rejected
//      bytes -> malformed_event; a 2xx that is not SSE (no event, Content-Type not
//      text/event-stream) -> malformed_event; a transfer error or no [DONE] -> stream_cut;
//      non-stream: the JSON body is not a completion -> malformed_event; an "error" body ->
//      server_error_event; a transfer error -> stream_cut;
//   4. any other libcurl error -> other; else ok.
Outcome classify(const TransferFacts& facts);

// Checks evaluated for one completed request.
bool check_passes(scenario::CheckKind check, const TransferFacts& facts, const Outcome& outcome);

// Where a request's latencies are measured from (see run_result.hpp).
enum class LoopKind { closed, open };

// Which objectives of an SLO (scenario.hpp Slo) one ok request missed. Latencies from `origin` (the
// request's reference instant); the ITL objective judges the request's own gaps by their p95
// (nearest rank: the ceil(0.95 n)-th smallest) or max.
struct SloJudgement {
  bool missed_ttft = false;  // no first token, or it came later than slo.ttft
  bool missed_itl = false;
  bool missed_tpot = false;
  bool missed_e2e = false;
  bool good() const { return !missed_ttft && !missed_itl && !missed_tpot && !missed_e2e; }
};
SloJudgement judge_slo(const scenario::Slo& slo, std::span<const std::uint64_t> inter_token_gaps_ns,
                       std::uint64_t output_tokens, const RequestTiming& timing, TimePoint origin);
// The p95 (nearest rank) of `values`; 0 when empty. Exposed for tests.
std::uint64_t nearest_rank_p95(std::span<const std::uint64_t> values);

// Folds one completed (not aborted) request into `phase`: counters, failure class, checks and
// histograms (run_result.hpp "counting rules"): an ok request feeds first_byte / first_event / ttft
// (when it reached that instant), its inter-token gaps, http_req_duration, output_tokens and
// tokens_per_second, and its cached_tokens; a failed one only time_to_failure_ns of its class;
// schedule_lag (open loop) both.
// An ok response's usage.prompt_tokens next to the generator's count of its prompt
// (PhaseResult::prompt_tokens_generator / _server / _compared).
void record_prompt_token_accuracy(PhaseResult& phase, std::uint64_t generator_tokens, std::int64_t server_tokens);
// With phase.slo set, an ok request is also judged against it (goodput counters); returns whether
// the request was good, or nullopt without an SLO (a failed request is never good).
std::optional<bool> record_completion(PhaseResult& phase, const TransferFacts& facts, const Outcome& outcome,
                                      const RequestTiming& timing, LoopKind loop);

// Nanoseconds from `from` to `to`, 0 when negative.
std::uint64_t elapsed_ns(TimePoint from, TimePoint to);

// a + b, or the largest uint64 when that would wrap (token totals of a hostile server).
inline std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

// A non-negative double as a uint64, the largest uint64 when it is larger (a plain cast is
// undefined there): per-request rates from absurd token counts or durations of 1 ns.
inline std::uint64_t saturating_count(double value) {
  if (!(value > 0)) {
    return 0;
  }
  return value >= 18446744073709551615.0 ? UINT64_MAX : static_cast<std::uint64_t>(value);
}

}  // namespace llmd::engine
