// engine::run_result_from_json: the exact inverse of to_json(RunResult) (round trips of hand-built
// results and of real runs against the in-process simulator), and errors that name the JSON path.
// Round trips of `llmd-bench run` result files are in test/integration/merge_run_test.cpp.
#include "engine/run_result.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/engine_test_support.hpp"

namespace llmd::engine {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// A phase with every field to_json writes set to something other than its default.
PhaseResult full_phase(const std::string& name) {
  PhaseResult phase;
  phase.name = name;
  phase.executor = scenario::ExecutorKind::constant_arrival_rate;
  phase.started = 10;
  phase.completed = 9;
  phase.ok = 7;
  phase.failed = 2;
  phase.dropped = 3;
  phase.aborted = 1;
  phase.failures_by_class[static_cast<std::size_t>(FailureClass::http_status)] = 1;
  phase.failures_by_class[static_cast<std::size_t>(FailureClass::stream_cut)] = 1;
  phase.failures_by_status[503] = 1;
  phase.failure_examples[static_cast<std::size_t>(FailureClass::http_status)] = "HTTP 503: \"busy\"";
  phase.checks = {scenario::CheckKind::sse_content_type, scenario::CheckKind::status_200};
  phase.check_counts[0] = {7, 2};
  phase.check_counts[2] = {9, 0};
  scenario::Slo slo;
  slo.ttft = 2s;
  slo.itl = 100ms;
  slo.itl_stat = scenario::ItlStat::max;
  slo.e2e = 30s;
  phase.slo = slo;
  phase.goodput = {5, 40, 1, 1, 0, 2};
  std::uint64_t value = 1;
  for (auto* histogram : {&phase.histograms.first_byte_ns, &phase.histograms.first_event_ns, &phase.histograms.ttft_ns,
                          &phase.histograms.inter_token_latency_ns, &phase.histograms.http_req_duration_ns,
                          &phase.histograms.schedule_lag_ns, &phase.histograms.output_tokens,
                          &phase.histograms.tokens_per_second_milli, &phase.histograms.tpot_ns,
                          &phase.histograms.ttft_client_added_ns, &phase.histograms.itl_client_added_ns,
                          &phase.histograms.event_loop_lag_ns}) {
    histogram->record(value *= 7);
    histogram->record(value * 3 + 1);
  }
  phase.time_to_failure_ns[static_cast<std::size_t>(FailureClass::stream_cut)].record(5'000'000);
  phase.streams_judged = 6;
  phase.streams_in_bursts = 1;
  phase.streams_at_end = 2;
  phase.backoff = {3, 4, 5'000'000};
  phase.output_tokens_total = 56;
  phase.cached_tokens_total = 320;
  phase.responses_with_cached_tokens = 7;
  phase.input_tokens_total = 700;
  phase.responses_with_input_tokens = 7;
  phase.prompt_tokens_generator = 690;
  phase.prompt_tokens_server = 700;
  phase.prompt_tokens_compared = 7;
  phase.connections_opened = 4;
  phase.peak_in_flight = 4;
  phase.mean_in_flight = 2.375;
  phase.wall_duration = 2'000'000'123ns;
  phase.started_at = 1'000'000'007ns;
  phase.target_rate_per_s = 6.5;
  phase.arrival_window = 1'500'000'001ns;
  phase.iterations_target = 12;
  phase.max_duration_reached = true;
  TurnStats turn;
  turn.ok = 3;
  turn.failed = 1;
  turn.ttft_ns.record(30'000'000);
  turn.prompt_tokens = 90;
  turn.cached_tokens = 64;
  turn.responses_with_cached_tokens = 3;
  phase.turns = {turn, TurnStats{}};
  phase.trace = TraceReplay{3, 2.5, {100, std::nullopt, 300}};
  count_completion(phase, 250ms, true);
  count_completion(phase, 1250ms, false);
  return phase;
}

RunResult full_run() {
  RunResult run;
  run.phases = {full_phase("warm"), full_phase("load")};
  run.total = full_phase("total");
  run.total.executor.reset();
  run.interrupted = true;
  run.started_at = std::chrono::system_clock::time_point(1'764'700'000'123ms);
  run.ended_at = run.started_at + 3s;
  run.per_second = {SecondBucket{3, 2, 1, 40, 4, 1e7, 2e7, 1e6, std::nullopt}, SecondBucket{}};
  EngineThread thread;
  thread.index = 1;
  thread.started = 6;
  thread.completed = 5;
  thread.event_loop_lag_ns.record(120'000);
  thread.shard = 2;  // as `merge` writes it
  thread.cpu = CpuTime{700ms, 200ms};
  run.threads = {EngineThread{}, thread};
  run.client_cpu = CpuTime{1'250'000'000ns, 310'000'000ns};
  run.http_client = "built-in HTTP/1.1";
  run.http_client_reason = "http:// target, HTTP/1.1, no proxy";
  run.http_counts.reads = 40;
  run.http_counts.kernel_stamped_reads = 39;
  run.http_counts.waits = 500;
  run.http_counts.coalesced_waits = 120;
  run.http_counts.longest_pause_ns = 4'900'000;
  return run;
}

TEST(RunResultFromJson, RoundTripsEveryFieldToJsonWrites) {
  const json written = to_json(full_run());
  auto read = run_result_from_json(written);
  ASSERT_TRUE(read) << read.error();
  EXPECT_EQ(to_json(*read), written);
  EXPECT_EQ(read->phases[1].arrival_window, 1'500'000'001ns);
  EXPECT_EQ(read->started_at, full_run().started_at);  // milliseconds, as written
  for (const auto& field : k_phase_histogram_fields) {
    EXPECT_EQ(read->phases[0].histograms.*field.member, full_run().phases[0].histograms.*field.member) << field.key;
  }
  EXPECT_EQ(read->phases[0].time_to_failure_ns, full_run().phases[0].time_to_failure_ns);
  ASSERT_EQ(read->threads.size(), 2u);
  EXPECT_EQ(read->threads[1].started, 6u);
  EXPECT_EQ(read->threads[1].shard, 2u);
  EXPECT_EQ(read->threads[0].shard, std::nullopt);  // no "shard" written: a single run's loop
  EXPECT_FALSE(written["threads"][0].contains("shard"));
  EXPECT_EQ(read->threads[1].event_loop_lag_ns, full_run().threads[1].event_loop_lag_ns);
  EXPECT_EQ(read->http_counts.reads, 40u);
  EXPECT_EQ(read->http_counts.kernel_stamped_reads, 39u);
  EXPECT_EQ(read->http_counts.waits, 500u);
  EXPECT_EQ(read->http_counts.coalesced_waits, 120u);
  EXPECT_EQ(read->http_counts.longest_pause_ns, 4'900'000u);
  EXPECT_EQ(read->client_cpu, (CpuTime{1'250'000'000ns, 310'000'000ns}));
  EXPECT_EQ(written["client_cpu"], (json{{"user_ns", 1'250'000'000}, {"system_ns", 310'000'000}}));
  EXPECT_EQ(read->threads[1].cpu, (CpuTime{700ms, 200ms}));
  EXPECT_EQ(read->threads[0].cpu, std::nullopt);  // none recorded: none written
  EXPECT_FALSE(written["threads"][0].contains("cpu"));
}

// Results written before the client's CPU was recorded: unset, written back as null; a broken value
// is an error naming it.
TEST(RunResultFromJson, ClientCpuIsOptionalAndChecked) {
  json written = to_json(full_run());
  written.erase("client_cpu");
  written["threads"][1].erase("cpu");
  auto read = run_result_from_json(written);
  ASSERT_TRUE(read) << read.error();
  EXPECT_EQ(read->client_cpu, std::nullopt);
  EXPECT_EQ(read->threads[1].cpu, std::nullopt);
  EXPECT_TRUE(to_json(*read)["client_cpu"].is_null());
  written["client_cpu"] = {{"user_ns", -5}, {"system_ns", 0}};
  read = run_result_from_json(written);
  ASSERT_FALSE(read);
  EXPECT_NE(read.error().find("run.client_cpu.user_ns"), std::string::npos) << read.error();
  written["client_cpu"] = {{"user_ns", 5}};
  read = run_result_from_json(written);
  ASSERT_FALSE(read);
  EXPECT_NE(read.error().find("run.client_cpu.system_ns"), std::string::npos) << read.error();
  written["client_cpu"] = nullptr;
  written["threads"][1]["cpu"] = "lots";
  read = run_result_from_json(written);
  ASSERT_FALSE(read);
  EXPECT_NE(read.error().find("run.threads[1].cpu"), std::string::npos) << read.error();
}

// Results written before wake-ups were coalesced: no waits, none paused.
TEST(RunResultFromJson, AnHttpClientWithoutWaitCountsReadsThemAsNone) {
  json written = to_json(full_run());
  for (const char* key : {"waits", "coalesced_waits", "longest_pause_ns"}) {
    written["http_client"].erase(key);
  }
  auto read = run_result_from_json(written);
  ASSERT_TRUE(read) << read.error();
  EXPECT_EQ(read->http_counts.reads, 40u);
  EXPECT_EQ(read->http_counts.waits, 0u);
  EXPECT_EQ(read->http_counts.coalesced_waits, 0u);
}

// Results written before the client's reads were counted: name and reason only, reads 0.
TEST(RunResultFromJson, AnHttpClientWithoutReadCountsReadsAsNone) {
  json written = to_json(full_run());
  written["http_client"].erase("reads");
  written["http_client"].erase("kernel_stamped_reads");
  auto read = run_result_from_json(written);
  ASSERT_TRUE(read) << read.error();
  EXPECT_EQ(read->http_client, "built-in HTTP/1.1");
  EXPECT_EQ(read->http_counts.reads, 0u);
  EXPECT_EQ(read->http_counts.kernel_stamped_reads, 0u);
  written["http_client"]["reads"] = 3;  // one without the other is broken
  read = run_result_from_json(written);
  ASSERT_FALSE(read);
  EXPECT_NE(read.error().find("run.http_client.kernel_stamped_reads"), std::string::npos) << read.error();
}

// Results written before `--threads` have no "threads": one loop.
TEST(RunResultFromJson, AResultWithoutThreadsIsOneLoop) {
  json written = to_json(full_run());
  written.erase("threads");
  auto read = run_result_from_json(written);
  ASSERT_TRUE(read) << read.error();
  EXPECT_TRUE(read->threads.empty());
  written["threads"] = json::array({{{"thread", 0}, {"started", "many"}}});
  read = run_result_from_json(written);
  ASSERT_FALSE(read);
  EXPECT_NE(read.error().find("run.threads[0].started"), std::string::npos) << read.error();
  written["threads"] = to_json(full_run())["threads"];
  written["threads"][1]["shard"] = -1;  // a merged result's shard index is a count
  read = run_result_from_json(written);
  ASSERT_FALSE(read);
  EXPECT_NE(read.error().find("run.threads[1].shard"), std::string::npos) << read.error();
}

// Results written before arrival_window_ns: the window comes back from the achieved rate.
TEST(RunResultFromJson, RecoversTheArrivalWindowFromTheAchievedRate) {
  json written = to_json(full_phase("load"));
  written.erase("arrival_window_ns");
  auto read = phase_result_from_json(written, "phase");
  ASSERT_TRUE(read) << read.error();
  ASSERT_TRUE(read->arrival_window);
  EXPECT_NEAR(static_cast<double>(read->arrival_window->count()), 1.5e9, 2);
}

// Result files name checks as the scenario spelled them.
TEST(RunResultFromJson, ReadsChecksSpelledAsTheScenarioWroteThem) {
  json written = to_json(full_phase("load"));
  written["checks"] = {{"status-200", {{"passed", 5}, {"failed", 1}}}};
  auto read = phase_result_from_json(written, "phase");
  ASSERT_TRUE(read) << read.error();
  ASSERT_EQ(read->checks.size(), 1u);
  EXPECT_EQ(read->check_counts[0].passed, 5u);
  EXPECT_EQ(read->check_counts[0].failed, 1u);
}

TEST(RunResultFromJson, ErrorsNameTheJsonPath) {
  const json good = to_json(full_run());
  const auto error_of = [](const json& document) {
    auto read = run_result_from_json(document);
    return read ? std::string("no error") : read.error();
  };
  json bad = good;
  bad["phases"][1]["metrics"]["ttft_ns"]["histogram"]["count"] = 99;
  EXPECT_EQ(error_of(bad).rfind("run.phases[1].metrics.ttft_ns.histogram: histogram JSON: count: got 99", 0), 0u)
      << error_of(bad);
  bad = good;
  bad["total"]["counts"].erase("ok");
  EXPECT_EQ(error_of(bad), "run.total.counts.ok: missing");
  bad = good;
  bad["phases"][0]["counts"]["started"] = -1;
  EXPECT_EQ(error_of(bad), "run.phases[0].counts.started: got -1, expected a non-negative integer");
  bad = good;
  bad["phases"][0]["executor"] = "warp";
  EXPECT_EQ(error_of(bad), "run.phases[0].executor: got \"warp\", expected an executor name or null");
  bad = good;
  bad["started_at"] = "yesterday";
  EXPECT_EQ(error_of(bad), "run.started_at: got \"yesterday\", expected RFC 3339 UTC like 2026-01-31T12:00:00.000Z");
  bad = good;
  bad["per_second"]["ok"].push_back(1);
  EXPECT_EQ(error_of(bad).rfind("run.per_second.ok: 3 entries, expected 2", 0), 0u) << error_of(bad);
  bad = good;
  bad["phases"][1]["failed_metrics"]["time_to_failure_ns"]["tls"]["histogram"]["layout"]["sub_bucket_bits"] = 5;
  EXPECT_EQ(error_of(bad).rfind("run.phases[1].failed_metrics.time_to_failure_ns.tls.histogram: layout", 0), 0u)
      << error_of(bad);
  bad = good;
  bad["phases"][0]["checks"]["status_201"] = {{"passed", 1}, {"failed", 0}};
  EXPECT_EQ(error_of(bad).rfind("run.phases[0].checks.status_201: not a check", 0), 0u) << error_of(bad);
  bad = good;
  bad["schema"] = "something-else";
  EXPECT_EQ(error_of(bad).rfind("run: schema \"something-else\"", 0), 0u) << error_of(bad);
  EXPECT_EQ(error_of(json::array()), "run: got [], expected an object");
}

// Real runs against the in-process simulator: a closed loop, an open loop (schedule lag, arrival
// window) and iterations, each read back into the same JSON.
TEST(RunResultFromJson, RoundTripsRealRuns) {
  test::SimFleet fleet(test::fast_sim_config());
  const auto scenario = test::test_scenario();
  const RunResult result =
      test::run_against(fleet.url(), scenario,
                        {test::iterations_phase(20, 4), test::constant_vus_phase(2, 300ms),
                         test::arrival_phase(scenario::ExecutorKind::poisson, 40, 300ms, 8)});
  fleet.stop();
  ASSERT_GT(result.total.ok, 20u);
  const json written = to_json(result);
  auto read = run_result_from_json(json::parse(written.dump()));  // through text, as a file
  ASSERT_TRUE(read) << read.error();
  EXPECT_EQ(to_json(*read), written);
  EXPECT_EQ(read->total.histograms.ttft_ns, result.total.histograms.ttft_ns);
}

}  // namespace
}  // namespace llmd::engine
