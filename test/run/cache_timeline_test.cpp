// cache.interval series (TimelineBuilder), the churn report (recovery time, failures during the
// disruption, the cold pod) and the cache_recovery_time threshold, from synthetic scrapes.
#include "run/cache_timeline.hpp"

#include <gtest/gtest.h>

#include "run/churn_report.hpp"
#include "run/gates.hpp"
#include "sim/metrics_exporter.hpp"

namespace llmd::run {
namespace {

struct PodCounts {
  std::string pod;
  std::uint64_t queries = 0;
  std::uint64_t hits = 0;
  std::uint64_t requests = 0;
  double started = 1000;  // process start: a change means the pod restarted
  std::uint64_t running = 0;
  double kv_usage = 0;
};

scrape::PodScrape scrape_of(const PodCounts& c) {
  sim::PodMetrics m;
  m.model_name = "m";
  m.process_start_unix_seconds = c.started;
  m.prefix_cache_queries_tokens = c.queries;
  m.prefix_cache_hits_tokens = c.hits;
  m.request_success_by_reason = {{"stop", c.requests}};
  m.num_requests_running = c.running;
  m.kv_cache_usage = c.kv_usage;
  scrape::PodScrape scrape;
  scrape.pod = c.pod;
  scrape.source = "http://127.0.0.1:9000/metrics";
  scrape.text = sim::render_metrics(m, sim::MetricsFlavor::v0_11);
  return scrape;
}

scrape::PodScrape failed(const std::string& pod) {
  scrape::PodScrape scrape;
  scrape.pod = pod;
  scrape.source = "http://127.0.0.1:9001/metrics";
  scrape.text = util::fail("pod " + pod + ": HTTP 503");
  return scrape;
}

TEST(TimelineBuilder, IntervalsAreDeltasBetweenConsecutiveScrapes) {
  TimelineBuilder builder("", 1.0);
  builder.baseline({scrape_of({"a", 100, 50, 1}), scrape_of({"b", 0, 0, 0})});
  builder.add(1.0, {scrape_of({"a", 300, 200, 3, 1000, 2, 0.25}), scrape_of({"b", 100, 0, 1})}, 0.01);
  builder.add(2.0, {scrape_of({"a", 300, 200, 3}), failed("b")}, 0.01);
  builder.add(3.0, {scrape_of({"a", 400, 290, 4}), scrape_of({"b", 300, 150, 4})}, 0.01);
  const CacheTimeline& t = builder.timeline();
  ASSERT_EQ(t.samples.size(), 3u);
  EXPECT_EQ(t.samples[1].pods_read, 1u);
  const auto& a = t.pods.at("a");
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].d_queries, 200);
  EXPECT_EQ(a[0].d_hits, 150);
  EXPECT_DOUBLE_EQ(*a[0].hit_rate, 0.75);
  EXPECT_EQ(a[0].d_requests, 2);
  EXPECT_EQ(a[0].running, 2);
  EXPECT_DOUBLE_EQ(*a[0].kv_usage, 0.25);
  EXPECT_EQ(a[1].d_queries, 0);
  EXPECT_FALSE(a[1].hit_rate.has_value());  // no query: no rate, never 0
  const auto& b = t.pods.at("b");
  EXPECT_EQ(b[1].error, "pod b: HTTP 503");
  EXPECT_FALSE(b[1].d_queries.has_value());
  EXPECT_EQ(b[2].d_queries, 200);  // from its last good snapshot (t=1), across the failed scrape
  EXPECT_EQ(t.fleet[0].d_queries, 300);
  EXPECT_EQ(t.fleet[0].d_hits, 150);
  EXPECT_DOUBLE_EQ(*t.fleet[0].hit_rate, 0.5);
  EXPECT_FALSE(t.fleet[1].hit_rate.has_value());
  EXPECT_EQ(t.fleet[1].pods_missing, 1u);
  EXPECT_EQ(t.fleet[2].pods_missing, 0u);
  EXPECT_DOUBLE_EQ(t.loop_seconds, 3.0);
  EXPECT_EQ(builder.pod_sources().at("b"), "http://127.0.0.1:9000/metrics");
}

TEST(TimelineBuilder, ARestartedPodCountsFromZero) {
  TimelineBuilder builder("", 1.0);
  builder.baseline({scrape_of({"a", 1000, 900, 10})});
  builder.add(1.0, {scrape_of({"a", 40, 0, 2, 2000})}, 0.01);  // restarted: counters start again
  const auto& a = builder.timeline().pods.at("a");
  EXPECT_TRUE(a[0].reset);
  EXPECT_EQ(a[0].d_queries, 40);
  EXPECT_EQ(a[0].d_requests, 2);
}

PodInterval interval(double t, double queries, double hits, std::optional<double> rate, double requests) {
  PodInterval i;
  i.t_seconds = t;
  i.d_queries = queries;
  i.d_hits = hits;
  i.hit_rate = rate;
  i.d_requests = requests;
  return i;
}

// A fleet series with the given hit rates, one interval per second, 100 queried tokens each.
CacheTimeline fleet_of(const std::vector<std::optional<double>>& rates, double fired_at) {
  CacheTimeline t;
  t.interval_seconds = 1;
  for (std::size_t i = 0; i < rates.size(); ++i) {
    const double end = static_cast<double>(i + 1);
    FleetInterval f{end, rates[i] ? 100.0 : 0.0, rates[i] ? *rates[i] * 100 : 0.0, rates[i], 0};
    t.fleet.push_back(f);
    t.pods["cold"].push_back(
        interval(end, 50, rates[i] ? *rates[i] * 10 : 0, rates[i] ? std::optional<double>(*rates[i] / 5) : std::nullopt, 3));
    t.samples.push_back({end, 0.01, 1, 1});
  }
  t.loop_seconds = static_cast<double>(rates.size());
  FiredEvent fired;
  fired.event = {std::chrono::seconds(3), scenario::ChurnEvent::Action::restart_pod, "cold", {}};
  fired.planned_seconds = 3;
  fired.fired_seconds = fired_at;
  fired.ok = true;
  t.events.push_back(fired);
  return t;
}

std::vector<engine::CompletionBucket> failures_every_100ms(std::size_t slices) {
  return std::vector<engine::CompletionBucket>(slices, engine::CompletionBucket{5, 1});
}

TEST(ChurnReport, RecoversWithinFivePoints) {
  // 90% before the event at 3.0 s; the interval (3,4] dips, (4,5] is at 80% (10 points off), (5,6]
  // at 86% (within 5): recovered at 6 s, 3 s after the event.
  const auto t = fleet_of({0.9, 0.9, 0.9, 0.3, 0.8, 0.86, 0.9}, 3.0);
  const auto reports = compute_event_reports(t, failures_every_100ms(70));
  ASSERT_EQ(reports.size(), 1u);
  const EventReport& e = reports[0];
  EXPECT_NEAR(*e.pre_event_hit_rate, 0.9, 1e-9);
  EXPECT_NEAR(*e.recovery_seconds, 3.0, 1e-9);
  EXPECT_NEAR(*e.recovered_at_seconds, 6.0, 1e-9);
  EXPECT_EQ(e.recovery_note, "");
  EXPECT_EQ(e.failed_requests, 30u);  // slices 3.0..5.9 s
  EXPECT_DOUBLE_EQ(e.disruption_end_seconds, 6.0);
  EXPECT_EQ(e.cold_pod, "cold");
  EXPECT_EQ(e.cold_pod_requests, 12);  // the 4 intervals ending after 3 s, 3 requests each
  EXPECT_EQ(e.cold_pod_queries, 200);
  EXPECT_NEAR(*e.cold_pod_hit_rate, (3 + 8 + 8.6 + 9) / 200.0, 1e-9);
  const RecoveryFigure figure = largest_recovery(reports);
  EXPECT_NEAR(*figure.seconds, 3.0, 1e-9);
  EXPECT_TRUE(figure.unrecovered.empty());
}

TEST(ChurnReport, AnIntervalMissingAPodDoesNotEndTheRecovery) {
  // (3,4] is at 90% but the restarting pod was not read: the recovery ends with (4,5].
  auto t = fleet_of({0.9, 0.9, 0.9, 0.9, 0.88}, 3.0);
  t.fleet[3].pods_missing = 1;
  const auto e = compute_event_reports(t, {})[0];
  EXPECT_NEAR(*e.recovery_seconds, 2.0, 1e-9);
}

TEST(ChurnReport, TheIntervalHoldingTheEventDoesNotCountAsRecovered) {
  // The event at 2.5 s: (2,3] still mostly pre-event traffic at 90%; only (3,4] onwards counts.
  const auto t = fleet_of({0.9, 0.9, 0.9, 0.88}, 2.5);
  const auto e = compute_event_reports(t, {})[0];
  EXPECT_NEAR(*e.pre_event_hit_rate, 0.9, 1e-9);  // the intervals ending at or before 2.5 s
  EXPECT_NEAR(*e.recovery_seconds, 1.5, 1e-9);
}

TEST(ChurnReport, NeverRecovers) {
  const auto t = fleet_of({0.9, 0.9, 0.9, 0.2, 0.5, std::nullopt, 0.6}, 3.0);
  const auto reports = compute_event_reports(t, failures_every_100ms(70));
  const EventReport& e = reports[0];
  EXPECT_FALSE(e.recovery_seconds.has_value());
  EXPECT_EQ(e.recovery_note, "not recovered within the loop");
  EXPECT_DOUBLE_EQ(e.disruption_end_seconds, 7.0);  // the loop's end
  EXPECT_EQ(e.failed_requests, 40u);
  const RecoveryFigure figure = largest_recovery(reports);
  EXPECT_NEAR(*figure.seconds, 4.0, 1e-9);  // a lower bound
  ASSERT_EQ(figure.unrecovered.size(), 1u);
  EXPECT_EQ(figure.unrecovered[0], "restart_pod cold at 3s (not recovered within the loop, >= 4s)");
}

TEST(ChurnReport, NoPreEventData) {
  const auto t = fleet_of({std::nullopt, std::nullopt, std::nullopt, 0.9, 0.9}, 3.0);
  const auto e = compute_event_reports(t, {})[0];
  EXPECT_FALSE(e.pre_event_hit_rate.has_value());
  EXPECT_FALSE(e.recovery_seconds.has_value());
  EXPECT_EQ(e.recovery_note, "no pre-event hit rate: no prefix-cache query in the intervals before the event");
}

TEST(ChurnReport, AnEventThatNeverFiredHasNoFigures) {
  auto t = fleet_of({0.9, 0.9}, 3.0);
  t.events[0].fired_seconds.reset();
  const auto reports = compute_event_reports(t, {});
  EXPECT_EQ(reports[0].recovery_note, "the event did not fire");
  EXPECT_FALSE(largest_recovery(reports).seconds.has_value());
}

// cache_recovery_time as a threshold: the largest recovery; a never-recovered event fails it
// with the reason; no events: no data.
TEST(CacheRecoveryThreshold, PassFailNoData) {
  scenario::Scenario s;
  RunReport report;
  report.scenario = &s;
  const auto threshold = *scenario::parse_threshold("cache_recovery_time", "max<4s");
  EXPECT_EQ(scenario::evaluate(threshold, RunMetrics(report)).reason, "no data");

  report.events = compute_event_reports(fleet_of({0.9, 0.9, 0.9, 0.3, 0.8, 0.86, 0.9}, 3.0), {});
  auto result = scenario::evaluate(threshold, RunMetrics(report));
  EXPECT_TRUE(result.passed) << result.reason;
  EXPECT_EQ(result.reason, "cache_recovery_time max = 3s; required < 4s");
  EXPECT_FALSE(scenario::evaluate(*scenario::parse_threshold("cache_recovery_time", "max<2s"), RunMetrics(report)).passed);

  report.events = compute_event_reports(fleet_of({0.9, 0.9, 0.9, 0.2, 0.5}, 3.0), {});
  result = scenario::evaluate(*scenario::parse_threshold("cache_recovery_time", "max<10s"), RunMetrics(report));
  EXPECT_FALSE(result.passed);
  ASSERT_TRUE(result.observed.has_value());  // finite: the lower bound
  EXPECT_EQ(result.reason, "cache_recovery_time max = 2s, not trusted: the fleet hit rate did not recover: restart_pod "
                           "cold at 3s (not recovered within the loop, >= 2s)");
}

}  // namespace
}  // namespace llmd::run
