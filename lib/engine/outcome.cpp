#include "engine/outcome.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/request_state.hpp"
#include "engine/stream_delivery.hpp"
#include "sse/openai_error.hpp"
#include "sse/preview.hpp"
#include "util/json_text.hpp"

namespace llmd::engine {

using nlohmann::json;

namespace {

constexpr std::size_t k_quote_bytes = 200;

Outcome failure(FailureClass failure_class, std::string message) {
  Outcome outcome;
  outcome.failure = failure_class;
  outcome.message = std::move(message);
  return outcome;
}

std::string curl_message(const TransferFacts& facts) {
  if (!facts.curl_error.empty()) {
    return std::string(facts.curl_error);
  }
  return curl_easy_strerror(facts.code);
}

bool is_connect_error(CURLcode code) {
  return code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_COULDNT_RESOLVE_PROXY || code == CURLE_COULDNT_CONNECT;
}

bool is_tls_error(CURLcode code) {
  return code == CURLE_SSL_CONNECT_ERROR || code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CERTPROBLEM ||
         code == CURLE_SSL_CIPHER || code == CURLE_SSL_CACERT_BADFILE || code == CURLE_SSL_ISSUER_ERROR ||
         code == CURLE_SSL_PINNEDPUBKEYNOTMATCH || code == CURLE_SSL_INVALIDCERTSTATUS;
}

// The transfer ended early: the connection broke or closed mid-response.
bool is_cut(CURLcode code) {
  return code == CURLE_PARTIAL_FILE || code == CURLE_RECV_ERROR || code == CURLE_SEND_ERROR ||
         code == CURLE_GOT_NOTHING || code == CURLE_HTTP2 || code == CURLE_HTTP2_STREAM || code == CURLE_WRITE_ERROR;
}

// Step 1 of classify(): failures decided by libcurl before any response mattered.
std::optional<Outcome> classify_transport(const TransferFacts& facts) {
  if (is_connect_error(facts.code) || (facts.code == CURLE_OPERATION_TIMEDOUT && !facts.request_sent)) {
    return failure(FailureClass::connect, curl_message(facts));
  }
  if (is_tls_error(facts.code)) {
    return failure(FailureClass::tls, curl_message(facts));
  }
  if (facts.code == CURLE_OPERATION_TIMEDOUT) {
    return failure(FailureClass::timeout, curl_message(facts));
  }
  return std::nullopt;
}

Outcome classify_status(const TransferFacts& facts) {
  std::string reason;
  if (auto error = sse::classify_error_body(facts.body); error && !error->message.empty()) {
    reason = error->message;
  } else if (!facts.body.empty()) {
    reason = fmt::format("\"{}\"", sse::preview(facts.body, k_quote_bytes));
  } else {
    reason = "(empty body)";
  }
  Outcome outcome = failure(FailureClass::http_status, fmt::format("HTTP {}: {}", facts.http_status, reason));
  outcome.http_status = facts.http_status;
  return outcome;
}

bool is_event_stream(std::string_view content_type) {
  constexpr std::string_view k_sse = "text/event-stream";
  return content_type.size() >= k_sse.size() &&
         std::equal(k_sse.begin(), k_sse.end(), content_type.begin(),
                    [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); });
}

Outcome classify_stream(const TransferFacts& facts) {
  const sse::StreamTally& tally = *facts.tally;
  Outcome outcome;
  outcome.non_empty_content = tally.content_events > 0;
  outcome.output_tokens = tally.output_tokens();
  outcome.cached_tokens = tally.last_usage ? tally.last_usage->cached_tokens : std::nullopt;
  if (tally.last_usage) {
    outcome.prompt_tokens = tally.last_usage->prompt_tokens;
  }
  auto fail_with = [&outcome](FailureClass failure_class, std::string message) {
    outcome.failure = failure_class;
    outcome.message = std::move(message);
    return outcome;
  };
  if (tally.error_events > 0) {
    const auto& error = tally.first_error;
    return fail_with(FailureClass::server_error_event,
                     fmt::format("in-band error event: {}{}", error && error->code ? fmt::format("{} ", *error->code) : "",
                                 error ? error->message : ""));
  }
  if (tally.malformed_events > 0 || !facts.stream_problem.empty()) {
    return fail_with(FailureClass::malformed_event, fmt::format("malformed event: {}", facts.stream_problem));
  }
  if (tally.events == 0 && !facts.content_encoding.empty() && facts.content_encoding != "identity") {
    return fail_with(FailureClass::malformed_event,
                     fmt::format("unexpected Content-Encoding \"{}\" (none was requested): the stream cannot be read; "
                                 "turn response compression off for this route on the gateway",
                                 sse::preview(facts.content_encoding)));
  }
  if (tally.events == 0 && !is_event_stream(facts.content_type) && facts.code == CURLE_OK) {
    return fail_with(FailureClass::malformed_event,
                     fmt::format("expected an SSE stream, got Content-Type \"{}\"", sse::preview(facts.content_type)));
  }
  if (facts.code != CURLE_OK || !tally.done_seen) {
    return fail_with(FailureClass::stream_cut,
                     fmt::format("stream ended before [DONE] after {} events{}", tally.events,
                                 facts.code != CURLE_OK ? fmt::format(" ({})", curl_message(facts)) : ""));
  }
  outcome.ok = true;
  return outcome;
}

// Total length of choices[].text and choices[].message.content of a non-streamed completion.
std::size_t completion_text_bytes(const json& choices) {
  std::size_t bytes = 0;
  for (const auto& choice : choices) {
    if (!choice.is_object()) {
      continue;
    }
    if (auto text = choice.find("text"); text != choice.end() && text->is_string()) {
      bytes += text->get_ref<const std::string&>().size();
    }
    if (auto message = choice.find("message"); message != choice.end() && message->is_object()) {
      if (auto content = message->find("content"); content != message->end() && content->is_string()) {
        bytes += content->get_ref<const std::string&>().size();
      }
    }
  }
  return bytes;
}

Outcome classify_document(const TransferFacts& facts) {
  if (facts.code != CURLE_OK) {
    return failure(FailureClass::stream_cut, fmt::format("response cut: {}", curl_message(facts)));
  }
  if (facts.body_over_budget) {
    return failure(FailureClass::malformed_event,
                   fmt::format("the completion body was cut at {} bytes: the answers in flight passed the run's budget "
                               "of {} MiB for non-streamed bodies; stream the answers (stream: true) or lower the "
                               "concurrency",
                               facts.body.size(), k_run_document_budget_bytes >> 20U));
  }
  if (facts.body_truncated) {
    return failure(FailureClass::malformed_event,
                   fmt::format("the completion body is larger than {} MiB (cut there): not read",
                               k_max_document_bytes >> 20U));
  }
  // Measured before it becomes a DOM: 16 MB of "[[[[" took 1.28 GB and blocked the loop for seconds.
  auto parsed = util::parse_json_bounded(facts.body);
  if (!parsed && !parsed.error().starts_with("is not JSON")) {
    return failure(FailureClass::malformed_event,
                   fmt::format("not a completion response: the body {}", parsed.error()));
  }
  const json body = parsed ? std::move(*parsed) : json(json::value_t::discarded);
  if (!body.is_discarded() && body.is_object()) {
    if (auto error = sse::api_error_from_json(body)) {
      return failure(FailureClass::server_error_event, fmt::format("error body: {}", error->message));
    }
  }
  if (body.is_discarded() || !body.is_object() || !body.contains("choices") || !body["choices"].is_array()) {
    return failure(FailureClass::malformed_event,
                   fmt::format("not a completion response: \"{}\"", sse::preview(facts.body, k_quote_bytes)));
  }
  Outcome outcome;
  outcome.ok = true;
  outcome.non_empty_content = completion_text_bytes(body["choices"]) > 0;
  if (auto usage = body.find("usage"); usage != body.end() && !usage->is_null()) {
    // A wrong type in the server's answer fails this request; it never throws out of the run.
    auto read = sse::read_usage_object(*usage);
    if (!read) {
      return failure(FailureClass::malformed_event, fmt::format("malformed completion body: {}", read.error()));
    }
    outcome.output_tokens = read->completion_tokens;
    outcome.cached_tokens = read->cached_tokens;
    outcome.prompt_tokens = read->prompt_tokens;
  }
  return outcome;
}

}  // namespace

std::uint64_t elapsed_ns(TimePoint from, TimePoint to) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count();
  return ns > 0 ? static_cast<std::uint64_t>(ns) : 0;
}

Outcome classify(const TransferFacts& facts) {
  if (auto transport = classify_transport(facts)) {
    return std::move(*transport);
  }
  if (facts.http_status >= 100 && facts.http_status <= 199) {
    Outcome outcome = failure(FailureClass::stream_cut,
                              fmt::format("no final response: only interim HTTP {} responses before the transfer ended{}",
                                          facts.http_status,
                                          facts.code != CURLE_OK ? fmt::format(" ({})", curl_message(facts)) : ""));
    outcome.http_status = facts.http_status;
    return outcome;
  }
  if (facts.http_status != 0 && (facts.http_status < 200 || facts.http_status > 299)) {
    return classify_status(facts);
  }
  if (facts.http_status == 0) {
    if (is_cut(facts.code)) {
      return failure(FailureClass::stream_cut, fmt::format("no response: {}", curl_message(facts)));
    }
    return failure(FailureClass::other, curl_message(facts));
  }
  if (facts.code != CURLE_OK && !is_cut(facts.code)) {
    return failure(FailureClass::other, curl_message(facts));
  }
  Outcome outcome = facts.stream && facts.tally != nullptr ? classify_stream(facts) : classify_document(facts);
  outcome.http_status = facts.http_status;
  return outcome;
}

bool check_passes(scenario::CheckKind check, const TransferFacts& facts, const Outcome& outcome) {
  switch (check) {
    case scenario::CheckKind::status_200:
      return facts.http_status == 200;
    case scenario::CheckKind::non_empty_content:
      return outcome.non_empty_content;
    case scenario::CheckKind::sse_content_type:
      return is_event_stream(facts.content_type);
  }
  return false;
}

namespace {

void record_failure(PhaseResult& phase, const Outcome& outcome, std::uint64_t time_to_failure_ns) {
  ++phase.failed;
  const auto index = static_cast<std::size_t>(outcome.failure);
  ++phase.failures_by_class[index];
  phase.time_to_failure_ns[index].record(time_to_failure_ns);
  if (outcome.failure == FailureClass::http_status) {
    ++phase.failures_by_status[static_cast<int>(outcome.http_status)];
  }
  if (!phase.failure_examples[index]) {
    phase.failure_examples[index] = outcome.message;
  }
}

// The latency histograms of an ok request.
void record_latencies(PhaseHistograms& h, const TransferFacts& facts, const RequestTiming& timing, TimePoint origin) {
  if (timing.first_byte != TimePoint{}) {
    h.first_byte_ns.record(elapsed_ns(origin, timing.first_byte));
  }
  if (timing.first_event != TimePoint{}) {
    h.first_event_ns.record(elapsed_ns(origin, timing.first_event));
  }
  if (timing.first_token != TimePoint{}) {
    h.ttft_ns.record(elapsed_ns(origin, timing.first_token));
  }
  for (const std::uint64_t gap : facts.inter_token_gaps_ns) {
    h.inter_token_latency_ns.record(gap);
  }
  h.http_req_duration_ns.record(elapsed_ns(origin, timing.ended));
}

// How an ok stream reached the client (stream_delivery.hpp), counted when it could be judged.
void record_delivery(PhaseResult& phase, const TransferFacts& facts, const RequestTiming& timing, TimePoint origin) {
  if (!facts.stream || timing.first_token == TimePoint{}) {
    return;
  }
  switch (judge_delivery(facts.inter_token_gaps_ns, elapsed_ns(origin, timing.first_token), elapsed_ns(origin, timing.ended))) {
    case Delivery::not_judged: return;
    case Delivery::streamed: break;
    case Delivery::bursts: ++phase.streams_in_bursts; break;
    case Delivery::at_end: ++phase.streams_at_end; break;
  }
  ++phase.streams_judged;
}

}  // namespace

void record_prompt_token_accuracy(PhaseResult& phase, std::uint64_t generator_tokens, std::int64_t server_tokens) {
  phase.prompt_tokens_generator = saturating_add(phase.prompt_tokens_generator, generator_tokens);
  phase.prompt_tokens_server = saturating_add(phase.prompt_tokens_server,
                                              static_cast<std::uint64_t>(std::max<std::int64_t>(server_tokens, 0)));
  ++phase.prompt_tokens_compared;
}

std::uint64_t nearest_rank_p95(std::span<const std::uint64_t> values) {
  if (values.empty()) {
    return 0;
  }
  // A copy to select in: the gaps stay in arrival order for the histograms. Per loop thread and kept,
  // so judging does not allocate per request once it has seen the longest stream.
  thread_local std::vector<std::uint64_t> scratch;
  scratch.assign(values.begin(), values.end());
  const std::size_t rank = (scratch.size() * 95 + 99) / 100;  // ceil(0.95 n), >= 1
  const auto nth = scratch.begin() + static_cast<std::ptrdiff_t>(rank - 1);
  std::nth_element(scratch.begin(), nth, scratch.end());
  return *nth;
}

SloJudgement judge_slo(const scenario::Slo& slo, std::span<const std::uint64_t> inter_token_gaps_ns,
                       std::uint64_t output_tokens, const RequestTiming& timing, TimePoint origin) {
  const auto over = [](std::uint64_t ns, const std::optional<std::chrono::nanoseconds>& limit) {
    return limit && ns > static_cast<std::uint64_t>(limit->count());
  };
  SloJudgement judgement;
  if (slo.ttft) {
    judgement.missed_ttft = timing.first_token == TimePoint{} || over(elapsed_ns(origin, timing.first_token), slo.ttft);
  }
  if (slo.itl && !inter_token_gaps_ns.empty()) {
    const std::uint64_t gap = slo.itl_stat == scenario::ItlStat::max
                                  ? *std::max_element(inter_token_gaps_ns.begin(), inter_token_gaps_ns.end())
                                  : nearest_rank_p95(inter_token_gaps_ns);
    judgement.missed_itl = over(gap, slo.itl);
  }
  if (slo.tpot && output_tokens > 1 && timing.first_token != TimePoint{}) {
    judgement.missed_tpot = over(elapsed_ns(timing.first_token, timing.ended) / (output_tokens - 1), slo.tpot);
  }
  judgement.missed_e2e = over(elapsed_ns(origin, timing.ended), slo.e2e);
  return judgement;
}

std::optional<bool> record_completion(PhaseResult& phase, const TransferFacts& facts, const Outcome& outcome,
                                      const RequestTiming& timing, LoopKind loop) {
  ++phase.completed;
  phase.connections_opened += static_cast<std::uint64_t>(std::max(facts.new_connections, 0L));
  for (const auto check : phase.checks) {
    auto& counts = phase.check_counts[static_cast<std::size_t>(check)];
    ++(check_passes(check, facts, outcome) ? counts.passed : counts.failed);
  }
  auto& h = phase.histograms;
  const TimePoint origin = loop == LoopKind::open ? timing.scheduled : timing.started;
  if (loop == LoopKind::open) {
    h.schedule_lag_ns.record(elapsed_ns(timing.scheduled, timing.started));
  }
  const std::uint64_t duration_ns = elapsed_ns(origin, timing.ended);
  if (!outcome.ok) {
    record_failure(phase, outcome, duration_ns);
    return phase.slo ? std::optional<bool>(false) : std::nullopt;
  }
  ++phase.ok;
  record_latencies(h, facts, timing, origin);
  record_delivery(phase, facts, timing, origin);
  const auto tokens = static_cast<std::uint64_t>(std::max<std::int64_t>(outcome.output_tokens, 0));
  h.output_tokens.record(tokens);
  phase.output_tokens_total = saturating_add(phase.output_tokens_total, tokens);
  if (outcome.cached_tokens) {
    phase.cached_tokens_total = saturating_add(phase.cached_tokens_total,
                                               static_cast<std::uint64_t>(std::max<std::int64_t>(*outcome.cached_tokens, 0)));
    ++phase.responses_with_cached_tokens;
  }
  if (outcome.prompt_tokens) {
    phase.input_tokens_total = saturating_add(phase.input_tokens_total,
                                              static_cast<std::uint64_t>(std::max<std::int64_t>(*outcome.prompt_tokens, 0)));
    ++phase.responses_with_input_tokens;
  }
  if (tokens > 0 && duration_ns > 0) {
    h.tokens_per_second_milli.record(
        saturating_count(static_cast<double>(tokens) * 1e12 / static_cast<double>(duration_ns) + 0.5));
  }
  // vLLM's TPOT (benchmarks/serve.py calculate_metrics): (latency - ttft) / (output_len - 1) for
  // requests with more than one output token, i.e. the mean time per token after the first.
  if (tokens > 1 && timing.first_token != TimePoint{}) {
    h.tpot_ns.record(elapsed_ns(timing.first_token, timing.ended) / (tokens - 1));
  }
  if (!phase.slo) {
    return std::nullopt;
  }
  const SloJudgement judgement = judge_slo(*phase.slo, facts.inter_token_gaps_ns, tokens, timing, origin);
  GoodputCounts& g = phase.goodput;
  g.missed_ttft += judgement.missed_ttft ? 1 : 0;
  g.missed_itl += judgement.missed_itl ? 1 : 0;
  g.missed_tpot += judgement.missed_tpot ? 1 : 0;
  g.missed_e2e += judgement.missed_e2e ? 1 : 0;
  if (!judgement.good()) {
    return false;
  }
  ++g.good;
  g.good_output_tokens = saturating_add(g.good_output_tokens, tokens);
  return true;
}

}  // namespace llmd::engine
