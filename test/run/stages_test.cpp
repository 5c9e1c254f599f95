// The run's pipeline (run/pipeline.hpp) stage by stage, without the CLI: each stage against the real
// embedded simulator on loopback (or a closed port / a missing file for its error path), then the
// whole pipeline: its order, a stop request, and an exception inside a stage.
#include "run/stages.hpp"

#include <algorithm>
#include <atomic>
#include <stdexcept>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "run/pipeline.hpp"
#include "stages_test_support.hpp"

namespace {

using namespace llmd::run_test;
using testing::ElementsAre;
using testing::HasSubstr;
using testing::StartsWith;

TEST(RunStages, TheSimulatorStageStartsTheFleetAndPointsTheRunAtItsGateway) {
  Fixture f;
  f.scenario.sim.pods = 3;
  f.scenario.sim.host = "llm-d.demo.local";
  ASSERT_EQ(run::start_simulator(f.state), run::Next::go_on);
  EXPECT_TRUE(f.report.embedded_sim);
  EXPECT_THAT(f.report.target_url, StartsWith("http://127.0.0.1:"));
  EXPECT_EQ(f.report.target_url, f.state.sim->gateway_url());
  EXPECT_EQ(f.state.sim->pods().size(), 3u);
  EXPECT_EQ(f.scenario.target.host, "llm-d.demo.local");  // requests carry the Host the gateway requires
  EXPECT_EQ(f.state.detail, "3 pods");
  EXPECT_THAT(f.report.notes, ElementsAre(HasSubstr("running against the embedded simulator")));
}

TEST(RunStages, TheSimulatorStageStopsTheRunWhenItsGatewayPortIsTaken) {
  Fixture first;
  ASSERT_EQ(run::start_simulator(first.state), run::Next::go_on);
  const auto taken = static_cast<std::uint16_t>(std::stoi(first.report.target_url.substr(first.report.target_url.rfind(':') + 1)));
  Fixture second;
  second.scenario.sim.gateway_port = taken;
  EXPECT_EQ(run::start_simulator(second.state), run::Next::stop);
  ASSERT_EQ(second.report.errors.size(), 1u);
  EXPECT_THAT(second.report.errors[0], StartsWith("embedded simulator: "));
  EXPECT_FALSE(second.report.embedded_sim);
}

TEST(RunStages, TheTargetStageDiscoversTheModelAndSendsThePreflight) {
  Fixture f;
  ASSERT_EQ(run::start_simulator(f.state), run::Next::go_on);
  ASSERT_EQ(run::prepare_target(f.state), run::Next::go_on) << testing::PrintToString(f.report.errors);
  EXPECT_EQ(f.report.model, f.scenario.sim.pod.model);
  EXPECT_EQ(f.report.model_source, "discovered from GET /v1/models");
  EXPECT_EQ(f.state.detail, "model discovered from GET /v1/models, preflight passed");
}

TEST(RunStages, TheTargetStageKeepsANamedModelAndCanSkipThePreflight) {
  Fixture f;
  f.scenario.target.base_url = k_closed_url;  // nothing is sent: no discovery, no preflight
  f.scenario.request.model = "m";
  f.request.model_source = "--model";
  f.request.preflight = false;
  f.request.ignored_sim_flags = {"--sim-pods"};
  f.request.target_origin = "--target";
  ASSERT_EQ(run::prepare_target(f.state), run::Next::go_on);
  EXPECT_EQ(f.report.target_url, k_closed_url);
  EXPECT_EQ(f.report.model, "m");
  EXPECT_EQ(f.report.model_source, "--model");
  EXPECT_EQ(f.state.detail, "model --model, no preflight");
  const std::string warning = "--sim-pods has no effect with --target: the embedded simulator is not started";
  EXPECT_THAT(f.report.notes, ElementsAre(warning));
  EXPECT_THAT(f.said, ElementsAre("warning: " + warning));
}

TEST(RunStages, ATargetThatCannotAnswerStopsTheRunBeforeAnythingIsMeasured) {
  Fixture f;
  f.scenario.target.base_url = k_closed_url;
  f.scenario.request.model = "m";
  EXPECT_EQ(run::prepare_target(f.state), run::Next::stop);
  ASSERT_EQ(f.report.errors.size(), 1u);
  EXPECT_THAT(f.report.errors[0], HasSubstr("nothing was measured"));
  // The same failure after Ctrl-C is a request given up, not an error: the pipeline notes the stop.
  Fixture stopped;
  stopped.scenario.target.base_url = k_closed_url;
  stopped.scenario.request.model = "m";
  stopped.stop = true;
  EXPECT_EQ(run::prepare_target(stopped.state), run::Next::go_on);
  EXPECT_TRUE(stopped.report.errors.empty());
}

TEST(RunStages, ARestartThatFailsIsTheRunsErrorOrANoteAfterCtrlC) {
  Fixture f;
  f.scenario.cache.source = scenario::CacheSpec::Source::kubernetes;
  f.scenario.cache.kubernetes.restart_pods = true;
  f.scenario.cache.kubernetes.kubeconfig = "/nonexistent/llmd-bench-test/kubeconfig";
  EXPECT_EQ(run::restart_pods(f.state), run::Next::stop);
  ASSERT_EQ(f.report.errors.size(), 1u);
  EXPECT_THAT(f.report.errors[0], StartsWith("restart: "));
  Fixture stopped;
  stopped.scenario.cache = f.scenario.cache;
  stopped.stop = true;
  EXPECT_EQ(run::restart_pods(stopped.state), run::Next::stop);
  EXPECT_TRUE(stopped.report.errors.empty());
  EXPECT_TRUE(stopped.report.interrupted);
  ASSERT_EQ(stopped.report.notes.size(), 2u);
  EXPECT_EQ(stopped.report.notes[0], "interrupted (Ctrl-C / SIGTERM) while restarting the pods: no request was measured");
  EXPECT_THAT(stopped.report.notes[1], StartsWith("restart: "));
}

TEST(RunStages, TheCacheSourceStageBuildsTheScenariosSourceOrSaysWhyNot) {
  Fixture pods;
  ASSERT_EQ(run::start_simulator(pods.state), run::Next::go_on);
  ASSERT_EQ(run::make_source(pods.state), run::Next::go_on);
  ASSERT_NE(pods.state.source, nullptr);
  EXPECT_THAT(pods.state.source->describe(), HasSubstr("direct HTTP scrape of 4 pods"));

  Fixture none;  // automatic without an embedded simulator: no cache figures, not an error
  EXPECT_EQ(run::make_source(none.state), run::Next::go_on);
  EXPECT_EQ(none.state.source, nullptr);
  EXPECT_EQ(none.state.detail, "none");

  Fixture files;
  files.scenario.cache.source = scenario::CacheSpec::Source::files;
  files.scenario.cache.files = {"/nonexistent/llmd-bench-test/pod-a.txt"};
  EXPECT_EQ(run::make_source(files.state), run::Next::stop);
  ASSERT_EQ(files.report.errors.size(), 1u);
  EXPECT_THAT(files.report.errors[0], HasSubstr("/nonexistent/llmd-bench-test/pod-a.txt"));
}

TEST(RunStages, TheWarmUpRunsItsPhaseUnmeasured) {
  Fixture f;
  f.scenario.warmup = iterations(2, "warm");
  ASSERT_NO_FATAL_FAILURE(f.up_to_cache_source());
  ASSERT_EQ(run::run_warmup(f.state), run::Next::go_on) << testing::PrintToString(f.report.errors);
  ASSERT_TRUE(f.report.warmup);
  EXPECT_EQ(f.report.warmup->total.ok, 2u);
  EXPECT_EQ(f.state.detail, "2 requests");
  EXPECT_FALSE(f.report.run);
}

TEST(RunStages, TheSnapshotsAroundTheLoadGiveTheCacheReport) {
  Fixture f;
  ASSERT_NO_FATAL_FAILURE(f.up_to_cache_source());
  ASSERT_EQ(run::scrape_before(f.state), run::Next::go_on) << testing::PrintToString(f.report.errors);
  EXPECT_EQ(f.state.before.size(), 4u);
  EXPECT_EQ(f.state.detail, "4 pods");
  EXPECT_THAT(f.report.cache_source, HasSubstr("direct HTTP scrape of 4 pods"));
  ASSERT_EQ(run::run_load(f.state), run::Next::go_on) << testing::PrintToString(f.report.errors);
  ASSERT_TRUE(f.report.run);
  EXPECT_EQ(f.report.run->total.ok, 3u);
  EXPECT_EQ(f.state.detail, "3 requests");
  EXPECT_FALSE(f.report.interrupted);
  ASSERT_EQ(run::scrape_after(f.state), run::Next::go_on);
  ASSERT_TRUE(f.report.cache);
  EXPECT_EQ(f.state.detail, "4 pods");
  ASSERT_EQ(f.report.cache->pods.size(), 4u);
  EXPECT_EQ(f.report.cache->totals.requests_success, 3.0);  // the pods finished the 3 measured requests, not the preflight before the snapshot
}

TEST(RunStages, ABeforeSnapshotWithNoPodReadStopsTheRun) {
  Fixture f;
  f.scenario.cache.source = scenario::CacheSpec::Source::urls;
  f.scenario.cache.urls = {std::string(k_closed_url) + "/metrics"};
  ASSERT_EQ(run::make_source(f.state), run::Next::go_on);
  EXPECT_EQ(run::scrape_before(f.state), run::Next::stop);
  ASSERT_EQ(f.report.errors.size(), 1u);
  EXPECT_THAT(f.report.errors[0], StartsWith("no pod could be scraped before the run (direct HTTP scrape of 1 pod "));
  EXPECT_EQ(f.state.detail, "0 of 1 pod");
}

TEST(RunStages, ALoadThatReachesNoServerIsTheRunsError) {
  Fixture f;
  f.scenario.target.base_url = k_closed_url;
  f.report.target_url = k_closed_url;
  f.report.model = "m";
  EXPECT_EQ(run::run_load(f.state), run::Next::go_on);
  ASSERT_TRUE(f.report.run);
  EXPECT_EQ(f.report.run->total.failed, 3u);
  ASSERT_EQ(f.report.errors.size(), 1u);
  EXPECT_THAT(f.report.errors[0], StartsWith("no request reached the target http://127.0.0.1:1 (3 of 3 failed to connect"));
}

TEST(RunStages, TheAfterSnapshotIsSkippedAfterASecondCtrlC) {
  Fixture f;
  ASSERT_NO_FATAL_FAILURE(f.up_to_cache_source());
  ASSERT_EQ(run::scrape_before(f.state), run::Next::go_on);
  f.abort = true;
  EXPECT_EQ(run::scrape_after(f.state), run::Next::go_on);
  EXPECT_FALSE(f.report.cache);
  EXPECT_EQ(f.state.detail, "skipped (aborted)");
  EXPECT_THAT(f.report.notes, testing::Contains("after-snapshot skipped: aborted (Ctrl-C twice), so there are no cache figures"));
}

TEST(RunStages, DiagnosticsAndJudgeFinishTheReport) {
  Fixture f;
  f.report.run.emplace();  // a measured run in which not one request ended: an error finding, verdict fail
  EXPECT_EQ(run::find_diagnostics(f.state), run::Next::go_on);
  EXPECT_EQ(f.state.detail, "1 finding");
  ASSERT_EQ(f.report.diagnostics.size(), 1u);
  EXPECT_EQ(f.report.diagnostics[0].code, "no_request");
  EXPECT_EQ(run::judge_run(f.state), run::Next::go_on);
  EXPECT_EQ(f.report.verdict, run::Verdict::fail);
  EXPECT_EQ(f.state.detail, "fail");
}

std::vector<std::string> stage_names(const run::RunReport& report);

TEST(RunStages, TheStartStageWaitsForTheInstantOrSaysHowLateTheLoadStarted) {
  Fixture f;
  const auto ahead = std::chrono::system_clock::now() + std::chrono::milliseconds(300);
  f.request.start_at = ahead;
  EXPECT_EQ(run::wait_for_start(f.state), run::Next::go_on);
  EXPECT_GE(std::chrono::system_clock::now(), ahead);
  ASSERT_TRUE(f.report.start);
  EXPECT_GT(f.report.start->waited, std::chrono::milliseconds(100));
  EXPECT_THAT(f.state.detail, HasSubstr("waited"));
  ASSERT_EQ(f.said.size(), 1u);
  EXPECT_THAT(f.said[0], HasSubstr("for --start-at"));
  EXPECT_TRUE(f.report.diagnostics.empty());

  Fixture late;  // the instant had passed: the load starts at once, with a warning
  late.request.start_at = std::chrono::system_clock::now() - std::chrono::seconds(3);
  EXPECT_EQ(run::wait_for_start(late.state), run::Next::go_on);
  ASSERT_TRUE(late.report.start);
  EXPECT_EQ(late.report.start->waited, std::chrono::nanoseconds::zero());
  EXPECT_GE(late.report.start->late, std::chrono::seconds(3));
  ASSERT_EQ(late.report.diagnostics.size(), 1u);
  EXPECT_EQ(late.report.diagnostics[0].code, "start_at_late");
  EXPECT_THAT(late.report.diagnostics[0].message, HasSubstr("did not start together with the other shards"));

  Fixture stopped;  // Ctrl-C while waiting: the stage returns at once
  stopped.request.start_at = std::chrono::system_clock::now() + std::chrono::hours(1);
  stopped.stop = true;
  const auto before = std::chrono::steady_clock::now();
  EXPECT_EQ(run::wait_for_start(stopped.state), run::Next::go_on);
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(5));
}

TEST(RunPipeline, AShardRunsItsSliceTakesNoSnapshotsAndJudgesNothing) {
  // The shared target: one simulator for both shards.
  Fixture fleet;
  ASSERT_EQ(run::start_simulator(fleet.state), run::Next::go_on);
  std::uint64_t started = 0;
  for (std::size_t i = 0; i < 2; ++i) {
    Fixture f;
    f.scenario.target.base_url = fleet.report.target_url;
    f.scenario.phases = {iterations(7)};
    f.scenario.phases[0].vus = 2;
    f.scenario.thresholds = {scenario::parse_threshold("http_req_failed", "rate>0.5").value()};  // would fail
    f.scenario.cache.source = scenario::CacheSpec::Source::urls;  // the coordinator's to scrape, not the shard's
    f.scenario.cache.urls = {fleet.report.target_url + "/metrics"};
    ASSERT_TRUE(run::check_shardable(f.scenario, {i, 2}));
    f.request.shard = run::ShardPlan{{i, 2}, "--shard"};
    run::run_pipeline(f.request, f.report);
    EXPECT_THAT(stage_names(f.report), ElementsAre("target", "calibrate", "load", "diagnostics", "judge"));
    EXPECT_EQ(f.report.verdict, run::Verdict::not_judged) << testing::PrintToString(f.report.errors);
    EXPECT_TRUE(f.report.thresholds.empty());
    ASSERT_TRUE(f.report.run);
    EXPECT_EQ(f.report.run->total.started, i == 0 ? 4u : 3u);
    EXPECT_EQ(f.report.run->phases[0].iterations_target, i == 0 ? 4u : 3u);
    started += f.report.run->total.started;
    EXPECT_THAT(f.report.notes, testing::Contains(HasSubstr("no cache snapshots here")));
  }
  EXPECT_EQ(started, 7u);
}

TEST(RunShard, WhatAShardMayNotDoIsRefusedWithWhatToDoInstead) {
  scenario::Scenario s = small_scenario();
  s.phases[0].vus = 2;
  EXPECT_THAT(run::check_shardable(s, {0, 2}).error(), HasSubstr("no target (--target or target.base_url)"));
  s.target.base_url = "http://127.0.0.1:1";
  EXPECT_TRUE(run::check_shardable(s, {0, 2}));
  s.cache.kubernetes.restart_pods = true;
  EXPECT_THAT(run::check_shardable(s, {0, 2}).error(), HasSubstr("would restart the pods once per shard"));
  s.cache.kubernetes.restart_pods = false;
  s.cache_state.prime = true;
  EXPECT_THAT(run::check_shardable(s, {0, 2}).error(), HasSubstr("cache_state (reset, prime, verify)"));
  s.cache_state.prime = false;
  s.events.push_back({});
  EXPECT_THAT(run::check_shardable(s, {0, 2}).error(), HasSubstr("events (pod churn)"));
  s.events.clear();
  s.warmup = iterations(1, "warm");  // 1 iteration, 1 user: shard 1 of 2 has nothing to do, which is fine
  EXPECT_TRUE(run::check_shardable(s, {1, 2}));
  s.phases[0].vus = 1;  // 3 iterations, 1 user: shard 1/2 would have iterations and no user
  EXPECT_THAT(run::check_shardable(s, {1, 2}).error(),
              HasSubstr("shard 1/2: phase \"loop\": iterations with vus 1 cannot be split 2 ways"));
}

std::vector<std::string> stage_names(const run::RunReport& report) {
  std::vector<std::string> names;
  for (const auto& stage : report.stages) {
    names.push_back(stage.name);
  }
  return names;
}

TEST(RunPipeline, RunsTheStagesThatApplyInOrderAndTimesEach) {
  Fixture f;
  f.scenario.warmup = iterations(1, "warm");
  run::run_pipeline(f.request, f.report);
  EXPECT_THAT(stage_names(f.report), ElementsAre("simulator", "target", "cache source", "calibrate", "warm-up",
                                                 "scrape before", "load", "scrape after", "diagnostics", "judge"));
  EXPECT_EQ(f.report.verdict, run::Verdict::pass) << testing::PrintToString(f.report.errors);
  const auto load = std::find_if(f.report.stages.begin(), f.report.stages.end(), [](const auto& s) { return s.name == "load"; });
  ASSERT_NE(load, f.report.stages.end());
  EXPECT_EQ(load->detail, "3 requests");
  EXPECT_GE(load->elapsed, f.report.run->ended_at - f.report.run->started_at);  // the stage holds the whole run
  EXPECT_EQ(f.report.scenario, &f.scenario);
  EXPECT_THAT(run::stage_ids(), ElementsAre("simulator", "target", "restart", "cache-source", "calibrate", "reset", "warm-up", "prime",
                                            "verify", "scrape-before", "start-at", "load", "scrape-after", "diagnostics", "judge"));
}

TEST(RunPipeline, AStageThatStopsTheRunSkipsToDiagnosticsAndJudge) {
  Fixture f;
  f.scenario.target.base_url = k_closed_url;
  f.scenario.request.model = "m";
  run::run_pipeline(f.request, f.report);
  EXPECT_THAT(stage_names(f.report), ElementsAre("target", "diagnostics", "judge"));
  EXPECT_EQ(f.report.verdict, run::Verdict::error);
  EXPECT_FALSE(f.report.run);
}

TEST(RunPipeline, AStopRequestEndsTheRunAfterTheStageItInterrupted) {
  Fixture f;
  f.request.before_stage = [&f](std::string_view id) {
    if (id == "cache-source") f.stop = true;  // Ctrl-C while the pods are discovered
  };
  run::run_pipeline(f.request, f.report);
  // No warm-up in the scenario: its check still runs, before anything is measured.
  EXPECT_THAT(stage_names(f.report), ElementsAre("simulator", "target", "cache source", "calibrate", "diagnostics", "judge"));
  EXPECT_TRUE(f.report.interrupted);
  EXPECT_EQ(f.report.calibration->note, "not calibrated: interrupted (Ctrl-C / SIGTERM)");
  EXPECT_TRUE(f.scenario.request.calibrated.empty());
  EXPECT_THAT(f.report.notes, testing::Contains("interrupted (Ctrl-C / SIGTERM) before the measured phases (during the "
                                                "warm-up or before it)"));
  EXPECT_EQ(f.report.verdict, run::Verdict::interrupted);
}

TEST(RunPipeline, AnExceptionInAStageIsTimedAndPassedOnWithWhatWasGathered) {
  Fixture f;
  f.request.before_stage = [](std::string_view id) {
    if (id == "scrape-after") throw std::runtime_error("boom");
  };
  EXPECT_THROW(run::run_pipeline(f.request, f.report), std::runtime_error);
  EXPECT_THAT(stage_names(f.report),
              ElementsAre("simulator", "target", "cache source", "calibrate", "scrape before", "load", "scrape after"));
  EXPECT_EQ(f.report.stages.back().detail, "internal error");
  ASSERT_TRUE(f.report.run);
  EXPECT_EQ(f.report.run->total.ok, 3u);  // what was measured is kept for the results the cli still writes

  Fixture inside;  // thrown from inside a stage's work: that stage's timing says so
  inside.request.on_progress = [](const llmd::engine::Progress&) {};
  inside.request.after_load = [] { throw std::runtime_error("boom in load"); };
  EXPECT_THROW(run::run_pipeline(inside.request, inside.report), std::runtime_error);
  ASSERT_FALSE(inside.report.stages.empty());
  EXPECT_EQ(inside.report.stages.back().name, "load");
  EXPECT_EQ(inside.report.stages.back().detail, "internal error");
}

}  // namespace
