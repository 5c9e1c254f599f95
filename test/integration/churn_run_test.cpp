// cache.interval and churn events end to end: the real binary against the embedded simulator. A
// pod restarts during the loop (POST /admin/restart, restart_downtime answers 503); the JSON's
// events are checked against its own time series (the recovery time is recomputed from
// timeseries.fleet) and the completions per 100 ms. Without events, each pod's series adds up to
// the before/after cache report.
#include <cmath>
#include <optional>

#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/run_test_support.hpp"

using llmd::test::read_json;
using llmd::test::scratch_dir;
using llmd::test::write_file;
using nlohmann::json;
using testing::HasSubstr;

namespace {

constexpr const char* k_churn = R"(
requests:
  prompt: {kind: prefix-groups, groups: 8, prompts_per_group: 400, system_prompt_tokens: 1000, question_tokens: 16, order: round-robin}
  max_tokens: 4
load:
  - {name: steady, executor: constant-vus, vus: 8, duration: 4s}
cache: {interval: 250ms}
events:
  - {at: 1200ms, restart_pod: sim-pod-1}
thresholds:
  cache_recovery_time: ["max<2500ms"]
sim: {pods: 4, route: prefix, block_size: 16, restart_downtime: 500ms}
)";

// The recovery as the report defines it, recomputed from timeseries.fleet.
std::optional<double> recovery_from_fleet(const json& fleet, double fired) {
  double queries = 0;
  double hits = 0;
  for (const auto& f : fleet) {
    if (f["t_seconds"].get<double>() <= fired) {
      queries += f["d_queries"].get<double>();
      hits += f["d_hits"].get<double>();
    }
  }
  if (queries == 0) {
    return std::nullopt;
  }
  const double pre = hits / queries;
  double start = 0;
  for (const auto& f : fleet) {
    const double begin = start;
    start = f["t_seconds"].get<double>();
    if (begin >= fired && f["pods_missing"] == 0 && !f["hit_rate"].is_null() &&
        f["hit_rate"].get<double>() >= pre - 0.05 - 1e-12) {
      return start - fired;
    }
  }
  return std::nullopt;
}

TEST(ChurnRun, RestartIsReportedAndConsistentWithTheTimeSeries) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "churn.yaml", k_churn);
  const auto out = llmd::test::run_bench({scenario.string(), "--out", "json=" + (dir / "r.json").string()});
  ASSERT_TRUE(out.exit_code == 0 || out.exit_code == 1) << out.out << out.err;
  const json result = read_json(dir / "r.json");
  ASSERT_EQ(result["events"].size(), 1u) << out.out;
  const json& event = result["events"][0];
  EXPECT_EQ(event["action"], "restart_pod");
  EXPECT_EQ(event["pod"], "sim-pod-1");
  EXPECT_TRUE(event["ok"].get<bool>()) << event["result"];
  EXPECT_THAT(event["result"].get<std::string>(), HasSubstr("/admin/restart: HTTP 200"));
  const double fired = event["fired_seconds"].get<double>();
  EXPECT_NEAR(fired, 1.2, 0.2);
  EXPECT_EQ(event["time_resolution_seconds"], 0.25);
  // restart_downtime: the pod answered 503 for 0.5 s, and the stale prefix index sent requests there.
  EXPECT_GT(event["failed_requests"].get<std::uint64_t>(), 0u) << out.out;
  // The recovery time is the series' own.
  const auto recomputed = recovery_from_fleet(result["timeseries"]["fleet"], fired);
  ASSERT_TRUE(recomputed.has_value()) << out.out;
  ASSERT_FALSE(event["recovery_seconds"].is_null()) << out.out;
  EXPECT_NEAR(event["recovery_seconds"].get<double>(), *recomputed, 1e-9);
  EXPECT_NEAR(event["recovered_at_seconds"].get<double>(), fired + *recomputed, 1e-9);
  // The failures are those of the completions per 100 ms between the event and the recovery.
  const json& failed = result["run"]["total"]["completions_per_100ms"]["failed"];
  std::uint64_t counted = 0;
  const double end = event["disruption_end_seconds"].get<double>();
  for (std::size_t i = 0; i < failed.size(); ++i) {
    const double begin = 0.1 * static_cast<double>(i);
    if (begin + 0.1 > fired + 1e-6 && begin < end - 1e-6) {
      counted += failed[i].get<std::uint64_t>();
    }
  }
  EXPECT_EQ(event["failed_requests"].get<std::uint64_t>(), counted);
  // The cold pod finished requests after the restart, and its hit rate is reported.
  EXPECT_GT(event["cold_pod_requests"].get<double>(), 0.0) << out.out;
  EXPECT_TRUE(event["cold_pod_hit_rate"].is_number()) << event.dump();
  EXPECT_TRUE(event["pre_event_hit_rate"].is_number());
  // The summary: the sparklines and the event's block, with the resolution.
  EXPECT_THAT(out.out, HasSubstr("hit rate over time (one character per 250ms interval"));
  EXPECT_THAT(out.out, HasSubstr("churn events (time resolution: the 250ms sampling interval"));
  EXPECT_THAT(out.out, HasSubstr("restart_pod sim-pod-1 at 1.2s: fired at"));
  EXPECT_THAT(out.out, HasSubstr("cold pod sim-pod-1: "));
  EXPECT_THAT(out.out, HasSubstr("cache_recovery_time"));
}

TEST(ChurnRun, PerPodSeriesAddUpToTheCacheReport) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", R"(
requests:
  prompt: {kind: shared-prefix, prefix_tokens: 200, suffix_tokens: 8}
  max_tokens: 4
load:
  - {name: loop, executor: constant-vus, vus: 4, duration: 1500ms}
sim: {pods: 3, route: random, timing: {time_scale: 0.1}}
)");
  const auto out = llmd::test::run_bench(
      {scenario.string(), "-q", "--cache-interval", "200ms", "--out", "json=" + (dir / "r.json").string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  const json result = read_json(dir / "r.json");
  const json& series = result["timeseries"];
  ASSERT_TRUE(series.is_object());
  EXPECT_EQ(series["interval_seconds"], 0.2);
  EXPECT_GE(series["samples"].size(), 5u);
  EXPECT_TRUE(result["events"].empty());
  ASSERT_EQ(result["cache"]["pods"].size(), 3u);
  for (const auto& pod : result["cache"]["pods"]) {
    const std::string name = pod["pod"];
    double queries = 0;
    double requests = 0;
    for (const auto& interval : series["pods"][name]) {
      ASSERT_TRUE(interval["error"].is_null()) << interval.dump();
      queries += interval["d_queries"].get<double>();
      requests += interval["d_requests"].get<double>();
      EXPECT_TRUE(interval["running"].is_number());
      EXPECT_TRUE(interval["kv_usage"].is_number());
    }
    EXPECT_DOUBLE_EQ(queries, pod["queries_tokens"]["delta"].get<double>()) << name;
    EXPECT_DOUBLE_EQ(requests, pod["requests_success"]["delta"].get<double>()) << name;
  }
  EXPECT_THAT(out.out, testing::Not(HasSubstr("churn events")));
}

TEST(ChurnRun, EventNamingAnUnknownPodStopsBeforeTheLoop) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", R"(
load:
  - {executor: constant-vus, vus: 1, duration: 1s}
events: [{at: 500ms, restart_pod: sim-pod-9}]
sim: {pods: 2, timing: {time_scale: 0.1}}
)");
  const auto out = llmd::test::run_bench({scenario.string(), "-q"});
  EXPECT_EQ(out.exit_code, 3) << out.out << out.err;
  EXPECT_THAT(out.out + out.err, HasSubstr("restart_pod sim-pod-9: no such pod among the cache source's pods (sim-pod-0, "
                                           "sim-pod-1)"));
}

}  // namespace
