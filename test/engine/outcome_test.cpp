#include "engine/outcome.hpp"

#include <array>

#include <gtest/gtest.h>

namespace llmd::engine {
namespace {

using namespace std::chrono_literals;

// A finished stream: `content` content events, [DONE] seen unless `done` is false.
sse::StreamTally stream_tally(std::uint32_t content, bool done = true) {
  sse::StreamTally tally;
  tally.content_events = content;
  tally.events = content + (done ? 1 : 0);
  tally.done_seen = done;
  return tally;
}

TransferFacts stream_facts(const sse::StreamTally& tally) {
  TransferFacts facts;
  facts.request_sent = true;
  facts.http_status = 200;
  facts.content_type = "text/event-stream; charset=utf-8";
  facts.tally = &tally;
  return facts;
}

TEST(Classify, CompleteStreamIsOkWithContentEventsAsTokens) {
  const auto tally = stream_tally(5);
  const Outcome outcome = classify(stream_facts(tally));
  EXPECT_TRUE(outcome.ok);
  EXPECT_EQ(outcome.output_tokens, 5);
  EXPECT_TRUE(outcome.non_empty_content);
  EXPECT_EQ(outcome.http_status, 200);
}

TEST(Classify, UsageOfTheLastChunkGivesOutputTokensAndCachedTokens) {
  auto tally = stream_tally(5);
  tally.last_usage = sse::Usage{10, 7, std::nullopt};
  EXPECT_EQ(classify(stream_facts(tally)).output_tokens, 7);
  EXPECT_FALSE(classify(stream_facts(tally)).cached_tokens);
  tally.last_usage->cached_tokens = 8;
  EXPECT_EQ(classify(stream_facts(tally)).cached_tokens, 8);
}

// Cached tokens are summed over ok responses that reported them; a failed one's are not counted.
TEST(RecordCompletion, SumsCachedTokensOfOkResponses) {
  PhaseResult phase;
  auto tally = stream_tally(2);
  tally.last_usage = sse::Usage{40, 2, 32};
  const auto facts = stream_facts(tally);
  RequestTiming timing;
  timing.started = timing.scheduled = TimePoint{std::chrono::seconds(1)};
  timing.ended = timing.started + 5ms;
  record_completion(phase, facts, classify(facts), timing, LoopKind::closed);
  record_completion(phase, facts, classify(facts), timing, LoopKind::closed);
  auto cut = tally;
  cut.done_seen = false;
  auto cut_facts = stream_facts(cut);
  record_completion(phase, cut_facts, classify(cut_facts), timing, LoopKind::closed);
  auto unreported = tally;
  unreported.last_usage->cached_tokens.reset();
  auto unreported_facts = stream_facts(unreported);
  record_completion(phase, unreported_facts, classify(unreported_facts), timing, LoopKind::closed);
  EXPECT_EQ(phase.ok, 3u);
  EXPECT_EQ(phase.cached_tokens_total, 64u);
  EXPECT_EQ(phase.responses_with_cached_tokens, 2u);
}

// The largest token count taken (1e15) in 1 ns: tokens/s used to overflow a double-to-uint64 cast
// (undefined), and 18,447 such answers wrapped the output-token total to a small number.
TEST(RecordCompletion, HugeTokenCountsSaturateInsteadOfWrapping) {
  PhaseResult phase;
  auto tally = stream_tally(2);
  tally.last_usage = sse::Usage{1, 1'000'000'000'000'000, 1'000'000'000'000'000};
  const auto facts = stream_facts(tally);
  RequestTiming timing;
  timing.started = timing.scheduled = TimePoint{std::chrono::seconds(1)};
  timing.ended = timing.started + 1ns;
  const Outcome outcome = classify(facts);
  ASSERT_TRUE(outcome.ok);
  for (int i = 0; i < 20'000; ++i) {
    record_completion(phase, facts, outcome, timing, LoopKind::closed);
  }
  EXPECT_EQ(phase.output_tokens_total, UINT64_MAX);
  EXPECT_EQ(phase.cached_tokens_total, UINT64_MAX);
  EXPECT_EQ(phase.histograms.tokens_per_second_milli.count(), 20'000u);
  PhaseResult merged;
  ASSERT_TRUE(merge_into(merged, phase));
  ASSERT_TRUE(merge_into(merged, phase));
  EXPECT_EQ(merged.output_tokens_total, UINT64_MAX);
  EXPECT_EQ(saturating_count(-1.0), 0u);
  EXPECT_EQ(saturating_count(1e30), UINT64_MAX);
}

TEST(Classify, AnUnrequestedCompressedStreamSaysSoNotStreamCut) {
  const auto tally = stream_tally(0, /*done=*/false);
  auto facts = stream_facts(tally);
  facts.content_encoding = "gzip";
  facts.code = CURLE_OK;
  const Outcome outcome = classify(facts);
  EXPECT_EQ(outcome.failure, FailureClass::malformed_event);
  EXPECT_EQ(outcome.message, "unexpected Content-Encoding \"gzip\" (none was requested): the stream cannot be read; "
                             "turn response compression off for this route on the gateway");
}

TEST(Classify, OnlyInterimResponsesAreNoFinalResponseNotAnHttpError) {
  TransferFacts facts;
  facts.request_sent = true;
  facts.http_status = 100;
  facts.code = CURLE_GOT_NOTHING;
  facts.curl_error = "Empty reply from server";
  const Outcome outcome = classify(facts);
  EXPECT_EQ(outcome.failure, FailureClass::stream_cut);
  EXPECT_EQ(outcome.message,
            "no final response: only interim HTTP 100 responses before the transfer ended (Empty reply from server)");
}

TEST(Classify, TransportFailures) {
  TransferFacts facts;
  facts.code = CURLE_COULDNT_CONNECT;
  facts.curl_error = "Failed to connect to 127.0.0.1 port 1: Connection refused";
  Outcome outcome = classify(facts);
  EXPECT_EQ(outcome.failure, FailureClass::connect);
  EXPECT_EQ(outcome.message, "Failed to connect to 127.0.0.1 port 1: Connection refused");

  facts.code = CURLE_OPERATION_TIMEDOUT;
  facts.curl_error = "";
  EXPECT_EQ(classify(facts).failure, FailureClass::connect);  // never sent: a connect timeout
  facts.request_sent = true;
  outcome = classify(facts);
  EXPECT_EQ(outcome.failure, FailureClass::timeout);
  EXPECT_EQ(outcome.message, "Timeout was reached");

  facts.code = CURLE_PEER_FAILED_VERIFICATION;
  EXPECT_EQ(classify(facts).failure, FailureClass::tls);
  facts.code = CURLE_GOT_NOTHING;
  EXPECT_EQ(classify(facts).failure, FailureClass::stream_cut);
  facts.code = CURLE_UNSUPPORTED_PROTOCOL;
  EXPECT_EQ(classify(facts).failure, FailureClass::other);
}

TEST(Classify, TimeoutWinsOverWhatTheStreamHadSoFar) {
  auto tally = stream_tally(3, false);
  auto facts = stream_facts(tally);
  facts.code = CURLE_OPERATION_TIMEDOUT;
  EXPECT_EQ(classify(facts).failure, FailureClass::timeout);
}

TEST(Classify, HttpStatusQuotesTheServerMessage) {
  TransferFacts facts;
  facts.request_sent = true;
  facts.http_status = 404;
  facts.body = R"({"error":{"message":"The model `x` does not exist.","type":"NotFoundError","param":"model","code":404}})";
  Outcome outcome = classify(facts);
  EXPECT_EQ(outcome.failure, FailureClass::http_status);
  EXPECT_EQ(outcome.http_status, 404);
  EXPECT_EQ(outcome.message, "HTTP 404: The model `x` does not exist.");
  facts.http_status = 502;
  facts.body = "<html>bad gateway</html>";
  EXPECT_EQ(classify(facts).message, "HTTP 502: \"<html>bad gateway</html>\"");
  facts.body = "";
  EXPECT_EQ(classify(facts).message, "HTTP 502: (empty body)");
}

TEST(Classify, StreamContentDecidesTheRest) {
  auto tally = stream_tally(2);
  tally.error_events = 1;
  tally.first_error = sse::ApiError{500, "InternalServerError", "boom"};
  Outcome outcome = classify(stream_facts(tally));
  EXPECT_EQ(outcome.failure, FailureClass::server_error_event);
  EXPECT_EQ(outcome.message, "in-band error event: 500 boom");

  tally = stream_tally(2);
  tally.malformed_events = 1;
  auto facts = stream_facts(tally);
  facts.stream_problem = "not JSON: \"{bad\"";
  outcome = classify(facts);
  EXPECT_EQ(outcome.failure, FailureClass::malformed_event);
  EXPECT_EQ(outcome.message, "malformed event: not JSON: \"{bad\"");

  tally = stream_tally(2, false);
  outcome = classify(stream_facts(tally));
  EXPECT_EQ(outcome.failure, FailureClass::stream_cut);
  EXPECT_EQ(outcome.message, "stream ended before [DONE] after 2 events");

  facts = stream_facts(tally);
  facts.code = CURLE_PARTIAL_FILE;
  facts.curl_error = "transfer closed with outstanding read data remaining";
  EXPECT_EQ(classify(facts).message,
            "stream ended before [DONE] after 2 events (transfer closed with outstanding read data remaining)");
}

TEST(Classify, TwoHundredThatIsNotSseIsMalformed) {
  const sse::StreamTally tally;
  auto facts = stream_facts(tally);
  facts.content_type = "application/json";
  const Outcome outcome = classify(facts);
  EXPECT_EQ(outcome.failure, FailureClass::malformed_event);
  EXPECT_EQ(outcome.message, "expected an SSE stream, got Content-Type \"application/json\"");
}

// A server answer of the wrong shape fails that request (malformed_event); it never throws (a
// string count used to end the process with nlohmann's type_error.302, exit 134).
TEST(Classify, NonStreamDocumentWithWrongTypesIsAMalformedFailureNotAnException) {
  TransferFacts facts;
  facts.stream = false;
  facts.request_sent = true;
  facts.http_status = 200;
  for (const char* usage : {R"("usage":{"prompt_tokens":3,"completion_tokens":"5"})",
                            R"("usage":{"prompt_tokens":3,"completion_tokens":18446744073709551615})",
                            R"("usage":{"prompt_tokens":3,"completion_tokens":[1]})",
                            R"("usage":"lots")", R"("usage":{"prompt_tokens":3,"completion_tokens":5,)"
                                                   R"("prompt_tokens_details":{"cached_tokens":{}}})"}) {
    const std::string body = std::string(R"({"choices":[{"text":" hello"}],)") + usage + "}";
    facts.body = body;
    Outcome outcome;
    ASSERT_NO_THROW(outcome = classify(facts)) << body;
    EXPECT_FALSE(outcome.ok) << body;
    EXPECT_EQ(outcome.failure, FailureClass::malformed_event) << body;
    EXPECT_NE(outcome.message.find("malformed completion body: "), std::string::npos) << outcome.message;
  }
  facts.body = R"({"choices":[{"text":" hello"}],"usage":{"prompt_tokens":3,"completion_tokens":"5"}})";
  EXPECT_EQ(classify(facts).message, "malformed completion body: \"usage\" has no non-negative integer \"completion_tokens\"");
  facts.body = R"({"choices":[{"text":" hello"}],"usage":null})";  // null usage: no count, still ok
  EXPECT_TRUE(classify(facts).ok);
}

// A 16 MB non-streamed body of "[[[[" took 1.28 GB and 9 s of the event loop to become a DOM.
TEST(Classify, DeepOrOversizedNonStreamBodiesFailWithoutBuildingThem) {
  TransferFacts facts;
  facts.stream = false;
  facts.request_sent = true;
  facts.http_status = 200;
  const std::string deep(16u << 20U, '[');
  facts.body = deep;
  Outcome outcome = classify(facts);
  EXPECT_EQ(outcome.failure, FailureClass::malformed_event);
  EXPECT_EQ(outcome.message, "not a completion response: the body is nested deeper than 128 levels");
  facts.body = R"({"choices":[{"text":"x")";
  facts.body_truncated = true;
  EXPECT_EQ(classify(facts).message, "the completion body is larger than 16 MiB (cut there): not read");
  facts.body_over_budget = true;
  EXPECT_NE(classify(facts).message.find("passed the run's budget of 256 MiB"), std::string::npos);
}

TEST(Classify, NonStreamDocument) {
  TransferFacts facts;
  facts.stream = false;
  facts.request_sent = true;
  facts.http_status = 200;
  facts.body = R"({"choices":[{"text":" hello"}],"usage":{"prompt_tokens":3,"completion_tokens":9}})";
  Outcome outcome = classify(facts);
  EXPECT_TRUE(outcome.ok);
  EXPECT_EQ(outcome.output_tokens, 9);
  EXPECT_TRUE(outcome.non_empty_content);
  EXPECT_FALSE(outcome.cached_tokens);  // not reported: not 0
  facts.body = R"({"choices":[{"text":" hi"}],"usage":{"prompt_tokens":40,"completion_tokens":1,)"
               R"("prompt_tokens_details":{"cached_tokens":32}}})";
  EXPECT_EQ(classify(facts).cached_tokens, 32);
  facts.body = R"({"choices":[{"text":" hi"}],"usage":{"prompt_tokens":4,"completion_tokens":1,)"
               R"("prompt_tokens_details":{"cached_tokens":-1}}})";
  EXPECT_EQ(classify(facts).failure, FailureClass::malformed_event);  // a negative count is no count
  facts.body = R"({"choices":[{"message":{"role":"assistant","content":""}}]})";
  outcome = classify(facts);
  EXPECT_TRUE(outcome.ok);
  EXPECT_FALSE(outcome.non_empty_content);
  facts.body = "[1,2]";
  EXPECT_EQ(classify(facts).message, "not a completion response: \"[1,2]\"");
  facts.body = R"({"object":"error","message":"overloaded","type":"ServiceUnavailable","code":503})";
  outcome = classify(facts);
  EXPECT_EQ(outcome.failure, FailureClass::server_error_event);
  EXPECT_EQ(outcome.message, "error body: overloaded");
}

TEST(CheckPasses, EvaluatesEachCheck) {
  const auto tally = stream_tally(1);
  auto facts = stream_facts(tally);
  const Outcome outcome = classify(facts);
  EXPECT_TRUE(check_passes(scenario::CheckKind::status_200, facts, outcome));
  EXPECT_TRUE(check_passes(scenario::CheckKind::non_empty_content, facts, outcome));
  EXPECT_TRUE(check_passes(scenario::CheckKind::sse_content_type, facts, outcome));
  facts.http_status = 201;
  facts.content_type = "Text/Event-Stream";
  EXPECT_FALSE(check_passes(scenario::CheckKind::status_200, facts, outcome));
  EXPECT_TRUE(check_passes(scenario::CheckKind::sse_content_type, facts, outcome));
  facts.content_type = "application/json";
  EXPECT_FALSE(check_passes(scenario::CheckKind::sse_content_type, facts, outcome));
  EXPECT_FALSE(check_passes(scenario::CheckKind::non_empty_content, facts, Outcome{}));
}

TEST(RecordCompletion, OpenLoopLatenciesCountFromTheScheduledTime) {
  PhaseResult phase;
  phase.checks = {scenario::CheckKind::status_200};
  auto tally = stream_tally(4);
  tally.last_usage = sse::Usage{1, 4, std::nullopt};
  const auto facts = stream_facts(tally);
  const Outcome outcome = classify(facts);
  RequestTiming timing;
  const TimePoint t0{std::chrono::seconds(100)};
  timing.scheduled = t0;
  timing.started = t0 + 5ms;
  timing.first_byte = t0 + 20ms;
  timing.first_event = t0 + 25ms;
  timing.first_token = t0 + 30ms;
  timing.ended = t0 + 2s;
  record_completion(phase, facts, outcome, timing, LoopKind::open);
  EXPECT_EQ(phase.completed, 1u);
  EXPECT_EQ(phase.ok, 1u);
  EXPECT_EQ(phase.histograms.schedule_lag_ns.max(), 5'000'000u);
  EXPECT_EQ(phase.histograms.first_byte_ns.max(), 20'000'000u);
  EXPECT_EQ(phase.histograms.first_event_ns.max(), 25'000'000u);
  EXPECT_EQ(phase.histograms.ttft_ns.max(), 30'000'000u);
  EXPECT_EQ(phase.histograms.http_req_duration_ns.max(), 2'000'000'000u);
  EXPECT_EQ(phase.histograms.output_tokens.max(), 4u);
  EXPECT_EQ(phase.histograms.tokens_per_second_milli.max(), 2000u);  // 4 tokens / 2 s
  EXPECT_EQ(phase.output_tokens_total, 4u);
  EXPECT_EQ(phase.check_counts[0].passed, 1u);

  record_completion(phase, facts, outcome, timing, LoopKind::closed);  // closed: from the actual start
  EXPECT_EQ(phase.histograms.ttft_ns.min(), 25'000'000u);
  EXPECT_EQ(phase.histograms.schedule_lag_ns.count(), 1u);
}

// TPOT as vLLM defines it: (end-to-end - ttft) / (output_tokens - 1), only with > 1 output token.
// Input tokens: usage.prompt_tokens of ok responses; unknown as soon as one ok response lacks usage.
TEST(RecordCompletion, TpotAndInputTokensFollowVllm) {
  PhaseResult phase;
  auto tally = stream_tally(4);
  tally.last_usage = sse::Usage{100, 4, std::nullopt};
  const auto facts = stream_facts(tally);
  RequestTiming timing;
  const TimePoint t0{std::chrono::seconds(100)};
  timing.scheduled = timing.started = t0;
  timing.first_token = t0 + 30ms;
  timing.ended = t0 + 330ms;
  record_completion(phase, facts, classify(facts), timing, LoopKind::closed);
  EXPECT_EQ(phase.histograms.tpot_ns.count(), 1u);
  EXPECT_EQ(phase.histograms.tpot_ns.max(), 100'000'000u);  // 300 ms over 3 tokens after the first
  EXPECT_EQ(input_tokens(phase), 100u);

  auto one = stream_tally(1);
  one.last_usage = sse::Usage{50, 1, std::nullopt};
  const auto one_facts = stream_facts(one);
  record_completion(phase, one_facts, classify(one_facts), timing, LoopKind::closed);
  EXPECT_EQ(phase.histograms.tpot_ns.count(), 1u);  // one token: no TPOT
  EXPECT_EQ(input_tokens(phase), 150u);

  const auto unreported = stream_tally(4);  // no usage chunk
  const auto unreported_facts = stream_facts(unreported);
  record_completion(phase, unreported_facts, classify(unreported_facts), timing, LoopKind::closed);
  EXPECT_EQ(phase.ok, 3u);
  EXPECT_EQ(phase.responses_with_input_tokens, 2u);
  EXPECT_EQ(phase.input_tokens_total, 150u);
  EXPECT_FALSE(input_tokens(phase));  // a partial sum is not the input token count
  EXPECT_EQ(phase.histograms.tpot_ns.count(), 2u);
  phase.wall_duration = 2s;
  EXPECT_FALSE(total_tokens_per_second(phase));
  EXPECT_DOUBLE_EQ(output_tokens_per_second(phase).value_or(-1), 4.5);  // 9 tokens / 2 s
}

TEST(RecordCompletion, FailuresAreCountedByClassStatusAndExample) {
  PhaseResult phase;
  phase.checks = {scenario::CheckKind::status_200, scenario::CheckKind::non_empty_content};
  TransferFacts facts;
  facts.request_sent = true;
  facts.http_status = 503;
  const Outcome outcome = classify(facts);
  RequestTiming timing;
  timing.started = timing.scheduled = TimePoint{std::chrono::seconds(1)};
  timing.ended = timing.started + 1ms;
  record_completion(phase, facts, outcome, timing, LoopKind::closed);
  record_completion(phase, facts, outcome, timing, LoopKind::closed);
  EXPECT_EQ(phase.failed, 2u);
  EXPECT_EQ(phase.failures(FailureClass::http_status), 2u);
  EXPECT_EQ(phase.failures_by_status.at(503), 2u);
  EXPECT_EQ(phase.failure_examples[static_cast<std::size_t>(FailureClass::http_status)], "HTTP 503: (empty body)");
  EXPECT_EQ(phase.check_counts[0].failed, 2u);
  EXPECT_EQ(phase.check_counts[1].failed, 2u);
  EXPECT_EQ(phase.histograms.http_req_duration_ns.count(), 0u);  // ok requests only
  EXPECT_EQ(phase.histograms.ttft_ns.count(), 0u);
  const auto& time_to_failure = phase.time_to_failure_ns[static_cast<std::size_t>(FailureClass::http_status)];
  EXPECT_EQ(time_to_failure.count(), 2u);
  EXPECT_EQ(time_to_failure.max(), 1'000'000u);
}

// A stream that delivered tokens and then an in-band error: its first token, first byte and gaps
// must not reach the latency histograms (a run of such streams has no TTFT to pass a gate with);
// the same timings from an ok stream do.
TEST(RecordCompletion, LatenciesAndGapsCountOnlyForOkRequests) {
  PhaseResult phase;
  const std::array<std::uint64_t, 3> gaps = {1'000'000, 2'000'000, 3'000'000};
  auto tally = stream_tally(4);
  auto facts = stream_facts(tally);
  facts.inter_token_gaps_ns = gaps;
  RequestTiming timing;
  timing.started = timing.scheduled = TimePoint{std::chrono::seconds(1)};
  timing.first_byte = timing.first_event = timing.first_token = timing.started + 10ms;
  timing.ended = timing.started + 40ms;
  auto errored = tally;
  errored.error_events = 1;
  auto failed_facts = facts;
  failed_facts.tally = &errored;
  record_completion(phase, failed_facts, classify(failed_facts), timing, LoopKind::closed);
  EXPECT_EQ(phase.failures(FailureClass::server_error_event), 1u);
  for (const auto* h : {&phase.histograms.first_byte_ns, &phase.histograms.first_event_ns, &phase.histograms.ttft_ns,
                        &phase.histograms.inter_token_latency_ns, &phase.histograms.http_req_duration_ns,
                        &phase.histograms.output_tokens}) {
    EXPECT_EQ(h->count(), 0u);
  }
  EXPECT_EQ(phase.time_to_failure_ns[static_cast<std::size_t>(FailureClass::server_error_event)].max(), 40'000'000u);

  record_completion(phase, facts, classify(facts), timing, LoopKind::closed);
  EXPECT_EQ(phase.ok, 1u);
  EXPECT_EQ(phase.histograms.ttft_ns.max(), 10'000'000u);
  EXPECT_EQ(phase.histograms.inter_token_latency_ns.count(), 3u);
  EXPECT_EQ(phase.histograms.inter_token_latency_ns.max(), 3'000'000u);
  EXPECT_EQ(phase.histograms.http_req_duration_ns.max(), 40'000'000u);
  EXPECT_EQ(phase.streams_judged, 1u);  // the failed stream was not judged; this one streamed
  EXPECT_EQ(phase.streams_in_bursts + phase.streams_at_end, 0u);
}

// An ok stream whose four events all came in the last read (a proxy held the answer back).
TEST(RecordCompletion, CountsStreamsDeliveredAllAtTheEnd) {
  PhaseResult phase;
  const std::array<std::uint64_t, 3> gaps = {0, 0, 0};
  const auto tally = stream_tally(4);
  auto facts = stream_facts(tally);
  facts.inter_token_gaps_ns = gaps;
  RequestTiming timing;
  timing.started = timing.scheduled = TimePoint{std::chrono::seconds(1)};
  timing.first_byte = timing.started + 1ms;
  timing.first_event = timing.first_token = timing.started + 600ms;
  timing.ended = timing.started + 601ms;
  record_completion(phase, facts, classify(facts), timing, LoopKind::closed);
  EXPECT_EQ(phase.streams_judged, 1u);
  EXPECT_EQ(phase.streams_at_end, 1u);
  EXPECT_EQ(stream_buffered_rate(phase), 1.0);
  facts.stream = false;  // an ok non-streamed answer with the same timings is never judged
  Outcome ok_document;
  ok_document.ok = true;
  record_completion(phase, facts, ok_document, timing, LoopKind::closed);
  EXPECT_EQ(phase.ok, 2u);
  EXPECT_EQ(phase.streams_judged, 1u);
}

}  // namespace
}  // namespace llmd::engine
