// The "hit rate over time" and "churn events" sections and their JSON.
#include "report/timeline_report.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace llmd::report {
namespace {

using testing::HasSubstr;

TEST(Sparkline, EightLevelsAndADotWithoutQueries) {
  EXPECT_EQ(sparkline({0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0}), "▁▂▃▄▅▆▇██");
  EXPECT_EQ(sparkline({0.124, std::nullopt, 0.99}), "▁·█");
  EXPECT_EQ(sparkline({}), "");
  EXPECT_EQ(sparkline({-0.5, 1.5}), "▁█");  // clamped
}

run::PodInterval interval(double t, double queries, double hits, std::optional<double> rate, double requests) {
  run::PodInterval i;
  i.t_seconds = t;
  i.d_queries = queries;
  i.d_hits = hits;
  i.hit_rate = rate;
  i.d_requests = requests;
  return i;
}

run::RunReport report_with_series() {
  run::RunReport report;
  run::CacheTimeline t;
  t.interval_seconds = 0.5;
  t.pods["sim-pod-0"] = {interval(0.5, 100, 90, 0.9, 2), interval(1.0, 0, 0, std::nullopt, 0), interval(1.5, 100, 50, 0.5, 2)};
  run::PodInterval unread;
  unread.t_seconds = 1.0;
  unread.error = "HTTP 503";
  t.pods["sim-pod-1"] = {interval(0.5, 100, 100, 1.0, 1), unread, interval(1.5, 100, 0, 0.0, 3)};
  t.fleet = {{0.5, 200, 190, 0.95, 0}, {1.0, 0, 0, std::nullopt, 1}, {1.5, 200, 50, 0.25, 0}};
  t.samples = {{0.5, 0.001, 2, 2}, {1.0, 0.001, 2, 1}, {1.5, 0.001, 2, 2}};
  t.loop_seconds = 1.5;
  report.timeseries = t;
  return report;
}

TEST(TimelineText, SparklinePerPodWithMinAndMax) {
  const std::string text = render_timeline(report_with_series());
  EXPECT_THAT(text, HasSubstr("hit rate over time (one character per 500ms interval, 3 samples"));
  EXPECT_THAT(text, HasSubstr("  sim-pod-0  █·▅  min  50.0%  max  90.0%\n"));
  EXPECT_THAT(text, HasSubstr("  sim-pod-1  █·▁  min   0.0%  max 100.0%\n"));
  EXPECT_THAT(text, HasSubstr("  fleet      █·▃  min  25.0%  max  95.0%\n"));
  EXPECT_EQ(render_timeline(run::RunReport{}), "");
  EXPECT_EQ(render_events(run::RunReport{}), "");
}

TEST(TimelineText, EventBlockSaysTheResolution) {
  run::RunReport report = report_with_series();
  run::EventReport e;
  e.fired.event = {std::chrono::seconds(1), scenario::ChurnEvent::Action::restart_pod, "sim-pod-1", {}};
  e.fired.planned_seconds = 1;
  e.fired.fired_seconds = 1.001;
  e.fired.ok = true;
  e.fired.result = "POST http://127.0.0.1:1/admin/restart: HTTP 200";
  e.pre_event_hit_rate = 0.95;
  e.recovery_note = "not recovered within the loop";
  e.failed_requests = 7;
  e.disruption_end_seconds = 1.5;
  e.cold_pod = "sim-pod-1";
  e.cold_pod_requests = 3;
  e.cold_pod_queries = 100;
  e.cold_pod_hits = 0;
  e.cold_pod_hit_rate = 0.0;
  report.events = {e};
  const std::string text = render_events(report);
  EXPECT_THAT(text, HasSubstr("churn events (time resolution: the 500ms sampling interval; failures: 100 ms)"));
  EXPECT_THAT(text, HasSubstr("restart_pod sim-pod-1 at 1s: fired at 1s, ok: POST http://127.0.0.1:1/admin/restart"));
  EXPECT_THAT(text, HasSubstr("failed requests during the disruption: 7"));
  EXPECT_THAT(text, HasSubstr("cache recovery time: - (not recovered within the loop; fleet hit rate before the event 95.0%)"));
  EXPECT_THAT(text, HasSubstr("cold pod sim-pod-1: 3 requests finished after the event, hit rate 0.0%"));
  const auto json = events_json(report);
  ASSERT_EQ(json.size(), 1u);
  EXPECT_TRUE(json[0]["recovery_seconds"].is_null());
  EXPECT_EQ(json[0]["recovery_note"], "not recovered within the loop");
  EXPECT_EQ(json[0]["time_resolution_seconds"], 0.5);
  EXPECT_EQ(json[0]["failed_requests"], 7);
}

TEST(TimelineJson, NullWhenOffAndNullRatesWithoutQueries) {
  EXPECT_TRUE(timeseries_json(run::RunReport{}).is_null());
  const auto json = timeseries_json(report_with_series());
  EXPECT_EQ(json["interval_seconds"], 0.5);
  EXPECT_EQ(json["samples"].size(), 3u);
  EXPECT_TRUE(json["pods"]["sim-pod-0"][1]["hit_rate"].is_null());
  EXPECT_EQ(json["pods"]["sim-pod-1"][1]["error"], "HTTP 503");
  EXPECT_TRUE(json["pods"]["sim-pod-1"][1]["d_queries"].is_null());
  EXPECT_EQ(json["fleet"][2]["d_hits"], 50.0);
}

}  // namespace
}  // namespace llmd::report
