// Failure classes, headers on the wire, and the stop / abort flags, end to end.
#include <atomic>

#include <curl/curl.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/engine.hpp"
#include "engine/engine_test_support.hpp"
#include "engine/request_builder.hpp"

namespace llmd::engine {
namespace {

using namespace std::chrono_literals;
using test::CannedServer;
using test::SimFleet;
using testing::HasSubstr;
using testing::StartsWith;

double seconds(std::chrono::nanoseconds duration) { return std::chrono::duration<double>(duration).count(); }

std::string example(const PhaseResult& phase, FailureClass failure) {
  return phase.failure_examples[static_cast<std::size_t>(failure)].value_or("(none)");
}

std::string fixture(const std::string& name) {
  return test::read_file(std::string(LLMD_TEST_FIXTURES) + "/openai/" + name);
}

TEST(EngineFailures, NothingListeningStillYieldsAResultOfConnectFailures) {
  const auto scenario = test::test_scenario();
  const std::string url = "http://127.0.0.1:" + std::to_string(test::closed_port());
  const RunResult result = test::run_against(url, scenario, {test::iterations_phase(5, 2)});
  const PhaseResult& phase = result.phases[0];
  EXPECT_EQ(phase.started, 5u);
  EXPECT_EQ(phase.failed, 5u);
  EXPECT_EQ(phase.failures(FailureClass::connect), 5u);
  EXPECT_THAT(example(phase, FailureClass::connect), HasSubstr("onnect"));
  EXPECT_EQ(phase.check_counts[0].failed, 5u);
  EXPECT_EQ(phase.histograms.first_byte_ns.count(), 0u);
}

TEST(EngineFailures, RequestTimeoutShorterThanTheStream) {
  auto config = test::fast_sim_config(1.0);
  config.pod.timing.inter_token_ms = 50;  // 20 tokens: ~1 s
  SimFleet fleet(config);
  auto scenario = test::test_scenario();
  scenario.request.max_tokens = 20;
  scenario.target.request_timeout = 250ms;
  const RunResult result = test::run_against(fleet.url(), scenario, {test::iterations_phase(2, 2)});
  const PhaseResult& phase = result.phases[0];
  EXPECT_EQ(phase.failures(FailureClass::timeout), 2u) << to_json(phase)["failure_examples"].dump();
  // The first tokens did arrive, but latency histograms hold ok requests only: the failures have
  // their own time to failure, which is the request timeout.
  EXPECT_EQ(phase.histograms.ttft_ns.count(), 0u);
  EXPECT_EQ(phase.histograms.inter_token_latency_ns.count(), 0u);
  const auto& time_to_failure = phase.time_to_failure_ns[static_cast<std::size_t>(FailureClass::timeout)];
  EXPECT_EQ(time_to_failure.count(), 2u);
  EXPECT_GE(time_to_failure.min().value(), 250'000'000u);
  EXPECT_LT(time_to_failure.max().value(), 900'000'000u);  // well before the ~1 s stream would have ended
}

TEST(EngineFailures, WrongHostHeaderGets404AndTheRightOneIsServed) {
  auto config = test::fast_sim_config();
  config.host = "llm.example.com";
  SimFleet fleet(config);
  auto scenario = test::test_scenario();
  scenario.target.host = "wrong.example.com";
  RunResult result = test::run_against(fleet.url(), scenario, {test::iterations_phase(3, 1)});
  EXPECT_EQ(result.phases[0].failures(FailureClass::http_status), 3u);
  EXPECT_EQ(result.phases[0].failures_by_status.at(404), 3u);
  EXPECT_EQ(example(result.phases[0], FailureClass::http_status), "HTTP 404: (empty body)");
  scenario.target.host = "llm.example.com";
  result = test::run_against(fleet.url(), scenario, {test::iterations_phase(3, 1)});
  EXPECT_EQ(result.phases[0].ok, 3u) << to_json(result.phases[0])["failure_examples"].dump();
}

TEST(EngineFailures, ServerErrorsAreHttpStatusFailures) {
  auto config = test::fast_sim_config();
  config.pod.error_rate = 1.0;
  SimFleet fleet(config);
  const auto scenario = test::test_scenario();
  const RunResult result = test::run_against(fleet.url(), scenario, {test::iterations_phase(4, 2)});
  const PhaseResult& phase = result.phases[0];
  EXPECT_EQ(phase.failures_by_status.at(500), 4u);
  EXPECT_EQ(example(phase, FailureClass::http_status), "HTTP 500: Injected failure (llmd-bench sim --error-rate)");
}

TEST(EngineFailures, StreamsCutBeforeDoneAreStreamCut) {
  auto config = test::fast_sim_config();
  config.pod.abort_rate = 1.0;
  SimFleet fleet(config);
  const auto scenario = test::test_scenario();
  const RunResult result = test::run_against(fleet.url(), scenario, {test::iterations_phase(4, 2)});
  const PhaseResult& phase = result.phases[0];
  EXPECT_EQ(phase.failures(FailureClass::stream_cut), 4u) << to_json(phase)["failure_examples"].dump();
  EXPECT_THAT(example(phase, FailureClass::stream_cut), StartsWith("stream ended before [DONE]"));
}

TEST(EngineFailures, UnknownModelIs404WithTheServerMessage) {
  SimFleet fleet(test::fast_sim_config());
  const auto scenario = test::test_scenario();
  EngineConfig config;
  config.model = "no-such-model";
  const RunResult result = test::run_against(fleet.url(), scenario, {test::iterations_phase(1, 1)}, config);
  EXPECT_EQ(example(result.phases[0], FailureClass::http_status), "HTTP 404: The model `no-such-model` does not exist.");
}

TEST(EngineCanned, RecordedVllmStreamIsOkAndUsesTheUsageCount) {
  CannedServer server(test::sse_response(fixture("vllm-omni-chat-stream-include_usage-continuous-pr2313-TAIL-EXCERPT.sse")),
                      7);
  auto scenario = test::test_scenario();
  scenario.request.api = scenario::ApiKind::chat;
  const RunResult result = test::run_against(server.url(), scenario, {test::iterations_phase(2, 1)});
  const PhaseResult& phase = result.phases[0];
  EXPECT_EQ(phase.ok, 2u) << to_json(phase)["failure_examples"].dump();
  EXPECT_EQ(phase.output_tokens_total, 2u * 113);
}

// Non-streamed answers share the run's budget for bodies held at once: a 200 KiB answer does not
// fit 100 KiB and fails its request; 80 KiB answers, one after another, each fit (a finished
// request gives its bytes back).
TEST(EngineCanned, NonStreamedBodiesShareTheRunsBudgetAndGiveItBack) {
  auto answer = [](std::size_t text_bytes) {
    const std::string body = R"({"choices":[{"text":")" + std::string(text_bytes, 'x') +
                             R"("}],"usage":{"prompt_tokens":1,"completion_tokens":1}})";
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\nConnection: close\r\n\r\n" + body;
  };
  auto scenario = test::test_scenario();
  scenario.request.stream = false;
  EngineConfig config;
  config.document_budget_bytes = 100 * 1024;
  CannedServer big(answer(200 * 1024), 16 * 1024);
  const PhaseResult over = test::run_against(big.url(), scenario, {test::iterations_phase(1, 1)}, config).phases[0];
  EXPECT_EQ(over.failures(FailureClass::malformed_event), 1u);
  ASSERT_TRUE(over.failure_examples[static_cast<std::size_t>(FailureClass::malformed_event)]);
  EXPECT_NE(over.failure_examples[static_cast<std::size_t>(FailureClass::malformed_event)]->find("run's budget"),
            std::string::npos);
  CannedServer fits(answer(80 * 1024), 16 * 1024);
  const PhaseResult ok = test::run_against(fits.url(), scenario, {test::iterations_phase(3, 1)}, config).phases[0];
  EXPECT_EQ(ok.ok, 3u) << to_json(ok)["failure_examples"].dump();
}

TEST(EngineCanned, InBandErrorEventIsServerErrorEvent) {
  const std::string events = fixture("vllm-v0.5-chat-stream-issue6083-EXCERPT.sse") + "\n\n" +
                             "data: {\"error\":{\"message\":\"engine died\",\"type\":\"InternalServerError\",\"code\":500}}\n\n"
                             "data: [DONE]\n\n";
  CannedServer server(test::sse_response(events), 5);
  auto scenario = test::test_scenario();
  scenario.request.api = scenario::ApiKind::chat;
  const RunResult result = test::run_against(server.url(), scenario, {test::iterations_phase(2, 1)});
  const PhaseResult& phase = result.phases[0];
  EXPECT_EQ(phase.failures(FailureClass::server_error_event), 2u) << to_json(phase)["failure_examples"].dump();
  EXPECT_EQ(example(phase, FailureClass::server_error_event), "in-band error event: 500 engine died");
  // Content arrived before the error, yet no latency histogram holds these requests.
  EXPECT_EQ(phase.histograms.ttft_ns.count(), 0u);
  EXPECT_EQ(phase.histograms.first_byte_ns.count(), 0u);
  EXPECT_EQ(phase.histograms.inter_token_latency_ns.count(), 0u);
  EXPECT_EQ(phase.time_to_failure_ns[static_cast<std::size_t>(FailureClass::server_error_event)].count(), 2u);
}

TEST(EngineCanned, MalformedEventIsMalformed) {
  const std::string events = fixture("vllm-v0.5-chat-stream-issue6083-EXCERPT.sse") + "\n\ndata: {\"choices\": [oops\n\ndata: [DONE]\n\n";
  CannedServer server(test::sse_response(events), 3);
  auto scenario = test::test_scenario();
  scenario.request.api = scenario::ApiKind::chat;
  const RunResult result = test::run_against(server.url(), scenario, {test::iterations_phase(1, 1)});
  const PhaseResult& phase = result.phases[0];
  EXPECT_EQ(phase.failures(FailureClass::malformed_event), 1u) << to_json(phase)["failure_examples"].dump();
  EXPECT_THAT(example(phase, FailureClass::malformed_event), StartsWith("malformed event: "));
}

TEST(EngineCanned, ErrorBodyFixtureIsQuoted) {
  CannedServer server("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n" +
                      fixture("vllm-NEWformat-404-unknown-model-UNATTRIBUTED.json"));
  const auto scenario = test::test_scenario();
  const RunResult result = test::run_against(server.url(), scenario, {test::iterations_phase(1, 1)});
  EXPECT_EQ(example(result.phases[0], FailureClass::http_status),
            "HTTP 404: The model `does-not-exist-model` does not exist.");
}

TEST(EngineCanned, SendsBodyHostTokenSessionAndExtraHeaders) {
  CannedServer server(test::sse_response("data: [DONE]\n\n"));
  auto scenario = test::test_scenario();
  scenario.request.prompt = scenario::PromptKind::per_session;
  scenario.request.prefix_tokens = 3;
  scenario.request.suffix_tokens = 1;
  scenario.target.host = "virtual.example";
  scenario.target.headers = {{"X-Team", "bench"}};
  EngineConfig config;
  config.bearer_token = "tok-123";
  config.model = "m1";
  const RunResult result = test::run_against(server.url() + "/v1", scenario, {test::iterations_phase(1, 1)}, config);
  const std::string request = server.last_request();
  EXPECT_THAT(request, StartsWith("POST /v1/completions HTTP/1.1\r\n"));
  EXPECT_THAT(request, HasSubstr("\r\nHost: virtual.example\r\n"));
  EXPECT_THAT(request, HasSubstr("\r\nAuthorization: Bearer tok-123\r\n"));
  EXPECT_THAT(request, HasSubstr("\r\nX-Team: bench\r\n"));
  EXPECT_THAT(request, HasSubstr("\r\nx-session-id: llmd-1-0\r\n"));
  EXPECT_THAT(request, HasSubstr("\"model\":\"m1\""));
  EXPECT_THAT(request, HasSubstr("\"stream_options\":{\"include_usage\":true}"));
  EXPECT_THAT(request, testing::Not(HasSubstr("Expect:")));
  EXPECT_THAT(to_json(result).dump(), testing::Not(HasSubstr("tok-123")));
  // A [DONE]-only stream is complete but empty: ok, and the non_empty_content check fails.
  EXPECT_EQ(result.phases[0].ok, 1u);
  EXPECT_EQ(result.phases[0].check_counts[1].failed, 1u);
}

// h2c: refused up front on libcurl < 8.0.0 (it breaks reused h2c connections, curl issue #10634:
// see check_transport), the h2c preface on the wire with a newer libcurl.
TEST(EngineCanned, Http2OverPlainHttpUsesPriorKnowledgeOrIsRefusedOnOldLibcurl) {
  CannedServer server(test::sse_response("data: [DONE]\n\n"));
  auto scenario = test::test_scenario();
  scenario.target.http2 = true;
  EngineConfig config;
  config.scenario = &scenario;
  config.base_url = server.url();
  const std::vector<scenario::Phase> phases = {test::iterations_phase(1, 1)};
  const auto result = run_phases(config, phases);
  if (curl_version_info(CURLVERSION_NOW)->version_num < 0x080000) {
    ASSERT_FALSE(result);
    EXPECT_THAT(result.error(), HasSubstr("curl issue #10634"));
    EXPECT_THAT(result.error(), HasSubstr(server.url()));
    EXPECT_EQ(server.requests(), 0u);
    scenario.target.http2 = false;  // the same target over HTTP/1.1 is fine
    EXPECT_TRUE(check_transport(scenario.target, server.url()));
    scenario.target.http2 = true;
    EXPECT_TRUE(check_transport(scenario.target, "https://127.0.0.1:1"));  // h2 via ALPN is fine
    return;
  }
  ASSERT_TRUE(result) << result.error();
  EXPECT_THAT(server.last_request(), StartsWith("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));  // the h2c preface
  EXPECT_EQ(result->phases[0].failed, 1u);  // the canned server only speaks HTTP/1.1
}

TEST(EngineFlagsTiming, StopLetsInFlightRequestsFinishAndStartsNothingNew) {
  auto config = test::fast_sim_config(1.0);
  config.pod.timing.inter_token_ms = 15;  // 20 tokens: ~300 ms per request
  SimFleet fleet(config);
  auto scenario = test::test_scenario();
  scenario.request.max_tokens = 20;
  std::atomic<bool> stop{false};
  Progress at_stop;
  EngineConfig engine;
  engine.stop = &stop;
  engine.progress_interval = 50ms;
  engine.on_progress = [&](const Progress& progress) {
    if (!stop && progress.elapsed >= 400ms) {
      at_stop = progress;
      stop = true;
    }
  };
  const auto started = std::chrono::steady_clock::now();
  const RunResult result = test::run_against(fleet.url(), scenario, {test::constant_vus_phase(4, 30s)}, engine);
  EXPECT_LT(seconds(std::chrono::steady_clock::now() - started), 5.0);
  const PhaseResult& phase = result.phases[0];
  EXPECT_TRUE(result.interrupted);
  EXPECT_FALSE(result.aborted);
  EXPECT_EQ(phase.aborted, 0u);
  EXPECT_EQ(phase.ok, phase.started) << to_json(phase)["failure_examples"].dump();
  // What was in flight at the stop finished; at most one loop iteration of restarts slipped in.
  EXPECT_LE(phase.started, at_stop.completed + at_stop.in_flight + 4);
}

TEST(EngineFlags, StopBeforeALaterPhaseSkipsIt) {
  SimFleet fleet(test::fast_sim_config());
  const auto scenario = test::test_scenario();
  auto later = test::iterations_phase(5, 1);
  later.name = "later";
  later.start_time = 10s;
  std::atomic<bool> stop{true};
  EngineConfig engine;
  engine.stop = &stop;
  const RunResult result = test::run_against(fleet.url(), scenario, {later}, engine);
  EXPECT_TRUE(result.interrupted);
  EXPECT_EQ(result.phases[0].started, 0u);
  EXPECT_FALSE(result.phases[0].started_at.has_value());
}

TEST(EngineFlagsTiming, GracefulStopAbortsWhatIsStillRunning) {
  auto config = test::fast_sim_config(1.0);
  config.pod.timing.inter_token_ms = 100;  // 20 tokens: ~2 s
  SimFleet fleet(config);
  auto scenario = test::test_scenario();
  scenario.request.max_tokens = 20;
  auto phase = test::constant_vus_phase(2, 200ms);
  phase.graceful_stop = 150ms;
  const auto started = std::chrono::steady_clock::now();
  const RunResult result = test::run_against(fleet.url(), scenario, {phase}, EngineConfig{});
  EXPECT_LT(seconds(std::chrono::steady_clock::now() - started), 1.5);
  EXPECT_EQ(result.phases[0].aborted, 2u);
  EXPECT_EQ(result.phases[0].completed, 0u);
  EXPECT_EQ(result.phases[0].started, 2u);
  EXPECT_EQ(result.phases[0].histograms.inter_token_latency_ns.count(), 0u);  // aborted: nothing recorded
}

TEST(EngineFlagsTiming, AbortCutsInFlightRequestsAtOnce) {
  auto config = test::fast_sim_config(1.0);
  config.pod.timing.inter_token_ms = 100;
  SimFleet fleet(config);
  auto scenario = test::test_scenario();
  scenario.request.max_tokens = 50;
  std::atomic<bool> stop{false};
  std::atomic<bool> abort{false};
  EngineConfig engine;
  engine.stop = &stop;
  engine.abort = &abort;
  engine.progress_interval = 50ms;
  engine.on_progress = [&](const Progress& progress) {
    if (progress.elapsed >= 300ms) {
      stop = true;
      abort = true;
    }
  };
  const auto started = std::chrono::steady_clock::now();
  const RunResult result = test::run_against(fleet.url(), scenario, {test::constant_vus_phase(3, 30s)}, engine);
  EXPECT_LT(seconds(std::chrono::steady_clock::now() - started), 2.0);
  EXPECT_TRUE(result.aborted);
  EXPECT_EQ(result.phases[0].aborted, 3u);
  EXPECT_EQ(result.total.aborted, 3u);
}

TEST(EngineConfigErrors, BadSetupIsAnErrorNotAResult) {
  auto scenario = test::test_scenario();
  EngineConfig config;
  config.scenario = &scenario;
  const std::vector<scenario::Phase> phases = {test::iterations_phase(1, 1)};
  auto result = run_phases(config, phases);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), "no target: target.base_url is empty and no simulator URL was given");
  config.base_url = "localhost:8000";
  EXPECT_EQ(run_phases(config, phases).error(),
            "target.base_url: \"localhost:8000\" must start with http:// or https://");
  config.base_url = "http://127.0.0.1:1";
  std::vector<scenario::Phase> bad = {test::iterations_phase(0, 1)};
  EXPECT_EQ(run_phases(config, bad).error(), "phase \"iterations\": iterations needs iterations >= 1 and vus >= 1");
}

}  // namespace
}  // namespace llmd::engine
