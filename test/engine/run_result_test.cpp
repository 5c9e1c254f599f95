#include "engine/run_result.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace llmd::engine {
namespace {

using namespace std::chrono_literals;

PhaseResult sample_phase() {
  PhaseResult phase;
  phase.name = "load";
  phase.executor = scenario::ExecutorKind::constant_arrival_rate;
  phase.started = 10;
  phase.completed = 9;
  phase.ok = 7;
  phase.failed = 2;
  phase.dropped = 3;
  phase.aborted = 1;
  phase.failures_by_class[static_cast<std::size_t>(FailureClass::http_status)] = 2;
  phase.failures_by_status[503] = 2;
  phase.failure_examples[static_cast<std::size_t>(FailureClass::http_status)] = "HTTP 503: (empty body)";
  phase.checks = {scenario::CheckKind::status_200};
  phase.check_counts[0] = {7, 2};
  phase.histograms.ttft_ns.record(20'000'000);
  phase.histograms.ttft_ns.record(40'000'000);
  phase.time_to_failure_ns[static_cast<std::size_t>(FailureClass::http_status)].record(3'000'000);
  phase.time_to_failure_ns[static_cast<std::size_t>(FailureClass::http_status)].record(5'000'000);
  phase.streams_judged = 6;
  phase.streams_in_bursts = 1;
  phase.streams_at_end = 2;
  phase.output_tokens_total = 56;
  phase.cached_tokens_total = 320;
  phase.responses_with_cached_tokens = 7;
  phase.peak_in_flight = 4;
  phase.mean_in_flight = 2.5;
  phase.wall_duration = 2s;
  phase.started_at = 1s;
  phase.input_tokens_total = 700;
  phase.responses_with_input_tokens = 7;
  phase.histograms.tpot_ns.record(10'000'000);
  phase.histograms.inter_token_latency_ns.record(12'000'000);
  phase.target_rate_per_s = 6.0;
  phase.arrival_window = 1s;
  return phase;
}

TEST(FailureClassNames, AreSnakeCase) {
  EXPECT_EQ(to_string(FailureClass::connect), "connect");
  EXPECT_EQ(to_string(FailureClass::server_error_event), "server_error_event");
  EXPECT_EQ(to_string(FailureClass::other), "other");
  EXPECT_EQ(to_string(scenario::CheckKind::sse_content_type), "sse_content_type");
  EXPECT_EQ(to_string(scenario::ExecutorKind::constant_arrival_rate), "constant-arrival-rate");
}

TEST(PhaseResultJson, CarriesCountsFailuresChecksAndMetrics) {
  const auto json = to_json(sample_phase());
  EXPECT_EQ(json["name"], "load");
  EXPECT_EQ(json["executor"], "constant-arrival-rate");
  EXPECT_EQ(json["counts"], nlohmann::json::parse(
                                R"({"started":10,"completed":9,"ok":7,"failed":2,"dropped":3,"aborted":1})"));
  EXPECT_EQ(json["failures"]["http_status"], 2);
  EXPECT_EQ(json["failures"]["connect"], 0);
  EXPECT_EQ(json["failures"].size(), k_failure_class_count);
  EXPECT_EQ(json["failures_by_status"]["503"], 2);
  EXPECT_EQ(json["failure_examples"]["http_status"], "HTTP 503: (empty body)");
  EXPECT_EQ(json["checks"], nlohmann::json::parse(R"({"status_200":{"passed":7,"failed":2}})"));
  const auto& ttft = json["metrics"]["ttft_ns"];
  EXPECT_EQ(ttft["summary"]["count"], 2);
  EXPECT_EQ(ttft["summary"]["min"], 20'000'000);
  EXPECT_EQ(ttft["histogram"]["schema"], "llmd-bench/histogram");
  EXPECT_TRUE(json["metrics"]["schedule_lag_ns"]["summary"]["p95"].is_null());
  EXPECT_EQ(json["metrics"].size(), 12u);  // client-added and event_loop_lag_ns included, empty
  EXPECT_EQ(json["metrics"]["itl_client_added_ns"]["summary"]["count"], 0);
  const auto& time_to_failure = json["failed_metrics"]["time_to_failure_ns"];
  EXPECT_EQ(time_to_failure.size(), k_failure_class_count);  // every class, empty ones included
  EXPECT_EQ(time_to_failure["http_status"]["summary"]["count"], 2);
  EXPECT_EQ(time_to_failure["http_status"]["summary"]["max"], 5'000'000);
  EXPECT_EQ(time_to_failure["http_status"]["histogram"]["schema"], "llmd-bench/histogram");
  EXPECT_EQ(time_to_failure["stream_cut"]["summary"]["count"], 0);
  // 2 failed + 1 aborted of 10 ended; no stream_cut, so only the aborted one is cut.
  EXPECT_DOUBLE_EQ(json["rates"]["http_req_failed"].get<double>(), 3.0 / 10);
  EXPECT_DOUBLE_EQ(json["rates"]["http_req_cut"].get<double>(), 1.0 / 10);
  EXPECT_TRUE(to_json(PhaseResult{})["rates"]["http_req_failed"].is_null());
  EXPECT_DOUBLE_EQ(json["rates"]["stream_buffered"].get<double>(), 3.0 / 6);
  EXPECT_EQ(json["stream_delivery"], nlohmann::json::parse(R"({"judged":6,"in_bursts":1,"at_end":2})"));
  EXPECT_TRUE(to_json(PhaseResult{})["rates"]["stream_buffered"].is_null());
  EXPECT_EQ(json["cached_tokens"], nlohmann::json::parse(R"({"total":320,"responses":7})"));
  EXPECT_EQ(json["wall_duration_ns"], 2'000'000'000);
  EXPECT_EQ(json["started_at_ns"], 1'000'000'000);
  EXPECT_EQ(json["mean_in_flight"], 2.5);
}

// The `vllm bench serve`-like figures, with units in their names and null for what does not apply.
TEST(PhaseResultJson, SummaryFiguresHaveUnitsAndNullsForWhatDoesNotApply) {
  const auto summary = to_json(sample_phase())["summary"];
  EXPECT_EQ(summary["input_tokens_total"], 700);
  EXPECT_EQ(summary["input_tokens_responses"], 7);
  EXPECT_DOUBLE_EQ(summary["output_tokens_per_second"].get<double>(), 28.0);  // 56 / 2 s
  EXPECT_DOUBLE_EQ(summary["total_tokens_per_second"].get<double>(), 378.0);  // (700 + 56) / 2 s
  EXPECT_NEAR(summary["tpot_seconds"]["p50"].get<double>(), 0.010, 0.0001);
  EXPECT_NEAR(summary["tpot_seconds"]["mean"].get<double>(), 0.010, 0.0001);
  EXPECT_NEAR(summary["itl_p99_seconds"].get<double>(), 0.012, 0.0001);
  EXPECT_EQ(summary["peak_concurrency_requests"], 4);
  EXPECT_DOUBLE_EQ(summary["target_rate_per_second"].get<double>(), 6.0);
  EXPECT_DOUBLE_EQ(summary["achieved_rate_per_second"].get<double>(), 10.0);  // 10 started in 1 s
  EXPECT_TRUE(summary["iterations_target"].is_null());
  EXPECT_TRUE(summary["max_duration_reached"].is_null());

  auto unreported = sample_phase();
  unreported.responses_with_input_tokens = 6;  // one ok response without usage
  const auto partial = to_json(unreported)["summary"];
  EXPECT_TRUE(partial["input_tokens_total"].is_null());
  EXPECT_TRUE(partial["total_tokens_per_second"].is_null());
  const auto empty = to_json(PhaseResult{})["summary"];
  EXPECT_TRUE(empty["tpot_seconds"].is_null());
  EXPECT_TRUE(empty["itl_p99_seconds"].is_null());
  EXPECT_TRUE(empty["output_tokens_per_second"].is_null());
  EXPECT_TRUE(empty["achieved_rate_per_second"].is_null());
}

TEST(RunResultJson, HasSchemaTimesAndTotal) {
  RunResult run;
  run.phases.push_back(sample_phase());
  run.total.name = "total";
  run.interrupted = true;
  run.started_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'123));
  run.ended_at = run.started_at + 90s;
  const auto json = to_json(run);
  EXPECT_EQ(json["schema"], "llmd-bench/run-result");
  EXPECT_EQ(json["version"], 1);
  EXPECT_EQ(json["interrupted"], true);
  EXPECT_EQ(json["aborted"], false);
  EXPECT_EQ(json["started_at"], "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(json["ended_at"], "2023-11-14T22:14:50.123Z");
  EXPECT_EQ(json["phases"].size(), 1u);
  EXPECT_TRUE(json["total"]["executor"].is_null());
}

TEST(MergeInto, AddsCountersMapsChecksAndHistograms) {
  PhaseResult total;
  ASSERT_TRUE(merge_into(total, sample_phase()));
  ASSERT_TRUE(merge_into(total, sample_phase()));
  EXPECT_EQ(total.started, 20u);
  EXPECT_EQ(total.dropped, 6u);
  EXPECT_EQ(total.failures(FailureClass::http_status), 4u);
  EXPECT_EQ(total.failures_by_status.at(503), 4u);
  EXPECT_EQ(total.failure_examples[static_cast<std::size_t>(FailureClass::http_status)], "HTTP 503: (empty body)");
  EXPECT_EQ(total.checks, std::vector<scenario::CheckKind>{scenario::CheckKind::status_200});
  EXPECT_EQ(total.check_counts[0].passed, 14u);
  EXPECT_EQ(total.histograms.ttft_ns.count(), 4u);
  EXPECT_EQ(total.time_to_failure_ns[static_cast<std::size_t>(FailureClass::http_status)].count(), 4u);
  EXPECT_EQ(total.output_tokens_total, 112u);
  EXPECT_EQ(total.streams_judged, 12u);
  EXPECT_EQ(total.streams_at_end, 4u);
  EXPECT_EQ(total.cached_tokens_total, 640u);
  EXPECT_EQ(total.responses_with_cached_tokens, 14u);
  EXPECT_EQ(total.input_tokens_total, 1400u);
  EXPECT_EQ(total.responses_with_input_tokens, 14u);
  EXPECT_EQ(total.histograms.tpot_ns.count(), 2u);
  EXPECT_FALSE(total.target_rate_per_s);  // per phase only
  EXPECT_EQ(total.peak_in_flight, 0u);  // not additive: left to the engine
}

TEST(EngineHistogram, KeepsOnePercentPrecisionAndTracksZero) {
  auto histogram = make_engine_histogram();
  EXPECT_LE(histogram.layout().max_relative_error(), 0.01);
  histogram.record(0);
  EXPECT_EQ(histogram.overflow_count(), 0u);
}

}  // namespace
}  // namespace llmd::engine
