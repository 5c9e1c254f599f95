// abortOnFail thresholds evaluated on live totals (report/live_thresholds.hpp).
#include "run/live_thresholds.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

namespace engine = llmd::engine;
namespace scenario = llmd::scenario;
using llmd::run::LiveThresholds;
using namespace std::chrono_literals;
using testing::HasSubstr;

scenario::Threshold threshold(const std::string& metric, const std::string& source, bool abort_on_fail,
                              std::chrono::nanoseconds delay = {}) {
  auto parsed = scenario::parse_threshold(metric, source);
  EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error());
  parsed->abort_on_fail = abort_on_fail;
  parsed->delay_abort_eval = delay;
  return *parsed;
}

// Live totals `elapsed` into the run: `ok` successes and `failed` HTTP 500s.
engine::RunResult live(std::uint64_t ok, std::uint64_t failed, std::chrono::nanoseconds elapsed) {
  engine::RunResult run;
  run.started_at = std::chrono::system_clock::time_point{};
  run.ended_at = run.started_at + elapsed;
  run.total.ok = ok;
  run.total.failed = failed;
  run.total.completed = ok + failed;
  run.total.wall_duration = elapsed;
  return run;
}

TEST(LiveThresholds, OnlyAbortOnFailThresholdsPastTheirDelayStopTheRun) {
  scenario::Scenario s;
  s.time_scale = 0.1;  // delayAbortEval 10s -> 1 s of the scaled run
  s.thresholds = {threshold("http_req_failed", "rate<0.5", false), threshold("http_req_failed", "rate<0.01", true, 10s)};
  LiveThresholds watch(s);
  EXPECT_FALSE(watch.check(live(5, 5, 500ms))) << "before its delay";
  auto reason = watch.check(live(5, 5, 1500ms));
  ASSERT_TRUE(reason);
  EXPECT_EQ(*reason, "threshold http_req_failed rate<0.01 crossed at t=1.5s: http_req_failed rate = 0.5; required < 0.01");
  llmd::run::RunReport report;
  report.scenario = &s;
  watch.record(report);
  ASSERT_TRUE(report.threshold_abort);
  EXPECT_EQ(report.threshold_abort->threshold, 1u);
  EXPECT_EQ(report.threshold_abort->at, 1500ms);
  ASSERT_EQ(report.notes.size(), 1u);
  EXPECT_THAT(report.notes[0], HasSubstr("aborted: threshold http_req_failed rate<0.01 crossed at t=1.5s ("));
}

TEST(LiveThresholds, PassingOrNoDataYetDoesNotStop) {
  scenario::Scenario s;
  s.thresholds = {threshold("http_req_failed", "rate<0.01", true), threshold("ttft", "p(95)<1s", true)};
  LiveThresholds watch(s);
  EXPECT_FALSE(watch.check(live(0, 0, 5s))) << "no request ended yet: nothing to judge";
  EXPECT_FALSE(watch.check(live(100, 0, 5s))) << "passing; ttft has no data (no histogram samples)";
  llmd::run::RunReport report;
  report.scenario = &s;
  watch.record(report);
  EXPECT_FALSE(report.threshold_abort);
  EXPECT_TRUE(report.notes.empty());
}

TEST(LiveThresholds, AttachesOnlyWithAnAbortOnFailThresholdAtAScaledInterval) {
  scenario::Scenario s;
  s.thresholds = {threshold("http_req_failed", "rate<0.01", false)};
  engine::EngineConfig config;
  LiveThresholds plain(s);
  plain.attach(config);
  EXPECT_FALSE(config.stop_check);
  s.thresholds.push_back(threshold("checks", "rate>0.99", true));
  LiveThresholds watch(s);
  watch.attach(config);
  EXPECT_TRUE(config.stop_check);
  EXPECT_EQ(config.stop_check_interval, 1s);
  s.time_scale = 0.5;
  EXPECT_EQ(watch.interval(), 500ms);
  s.time_scale = 1e-6;
  EXPECT_EQ(watch.interval(), 10ms);
  s.time_scale = 100;
  EXPECT_EQ(watch.interval(), 1s);
}

}  // namespace
