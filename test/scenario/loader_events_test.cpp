// `events:` (churn during the measured loop) and `cache.interval`.
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "scenario/overrides.hpp"
#include "scenario_test_support.hpp"

namespace llmd::scenario {
namespace {

using namespace std::chrono_literals;
using test::load_error;
using test::load_ok;

// A 9 s measured loop (lines 1-4).
constexpr std::string_view k_loop = "load:\n  - executor: constant-vus\n    vus: 2\n    duration: 9s\n";

std::string with(std::string_view lines) { return std::string(k_loop) + std::string(lines); }

TEST(ScenarioEvents, RestartAndDeleteParse) {
  const Scenario s = load_ok(with("cache: {interval: 500ms}\nevents:\n  - {at: 3s, restart_pod: sim-pod-1}\n"
                                  "  - {restart_pod: sim-pod-2, at: 8.5s}\n"));
  ASSERT_EQ(s.events.size(), 2u);
  EXPECT_EQ(s.events[0].action, ChurnEvent::Action::restart_pod);
  EXPECT_EQ(s.events[0].pod, "sim-pod-1");
  EXPECT_EQ(s.events[0].at, 3s);
  EXPECT_EQ(s.events[0].where.line, 7);
  EXPECT_EQ(s.events[1].at, 8500ms);
  EXPECT_EQ(s.cache.interval, std::chrono::nanoseconds(500ms));
  EXPECT_FALSE(load_ok(k_loop).cache.interval.has_value());  // off by default
  const Scenario kube = load_ok(with("cache: {source: kubernetes, namespace: llm}\nevents: [{at: 1s, delete_pod: vllm-0}]\n"));
  EXPECT_EQ(kube.events[0].action, ChurnEvent::Action::delete_pod);
  EXPECT_EQ(to_string(kube.events[0].action), "delete_pod");
}

TEST(ScenarioEvents, UnknownKeyScaleAndMissingPod) {
  EXPECT_EQ(load_error(with("events:\n  - {at: 3s, reboot_pod: sim-pod-1}\n")),
            "scenarios/x.yaml:6:14: events[0]: unknown key \"reboot_pod\" for an event; valid keys: at, restart_pod, "
            "delete_pod, scale");
  EXPECT_EQ(load_error(with("events:\n  - {at: 3s, scale: 2}\n")),
            "scenarios/x.yaml:6:5: events[0]: scale events are not supported (only restart_pod and delete_pod); remove "
            "the `scale` key");
  EXPECT_EQ(load_error(with("events:\n  - {at: 3s, restart_pod: }\n")),
            "scenarios/x.yaml:6:5: events[0]: restart_pod: missing pod name, e.g. {at: 30s, restart_pod: sim-pod-1}");
  EXPECT_EQ(load_error(with("events:\n  - {at: 3s}\n")),
            "scenarios/x.yaml:6:5: events[0]: an event needs exactly one of restart_pod: POD or delete_pod: POD (found 0)");
  EXPECT_EQ(load_error(with("events:\n  - {at: 3s, restart_pod: a, delete_pod: b}\n")),
            "scenarios/x.yaml:6:5: events[0]: an event needs exactly one of restart_pod: POD or delete_pod: POD (found 2)");
  EXPECT_EQ(load_error(with("events:\n  - {restart_pod: a}\n")),
            "scenarios/x.yaml:6:5: events[0]: missing required key \"at\"");
  EXPECT_EQ(load_error(with("events: {at: 3s}\n")).substr(0, 26), "scenarios/x.yaml:5:9: even");
}

TEST(ScenarioEvents, AtMustFallWithinTheLoop) {
  EXPECT_EQ(load_error(with("events:\n  - {at: 9s, restart_pod: sim-pod-1}\n")),
            "scenarios/x.yaml:6:5: events[0]: at 9s is not within the measured loop, which is planned to last 9s; move "
            "the event earlier or lengthen `load`");
  // A later phase lengthens the loop (start_time + duration).
  EXPECT_EQ(load_ok(with("  - {executor: constant-vus, vus: 1, duration: 5s, start_time: 9s}\n"
                         "events: [{at: 12s, restart_pod: sim-pod-0}]\n"))
                .events.size(),
            1u);
}

TEST(ScenarioEvents, NeedACacheSourceThatFitsTheAction) {
  EXPECT_EQ(load_error(with("cache: {source: none}\nevents: [{at: 1s, restart_pod: sim-pod-1}]\n")),
            "scenarios/x.yaml:6:10: events[0]: events are judged from the pods' prefix-cache counters over time: they "
            "need a cache source (cache.urls, cache.source: kubernetes or the embedded simulator)");
  EXPECT_EQ(load_error(with("events: [{at: 1s, delete_pod: vllm-0}]\n")),
            "scenarios/x.yaml:5:10: events[0]: delete_pod deletes a Kubernetes pod with kubectl and needs cache.source: "
            "kubernetes; for simulator pods use restart_pod");
  EXPECT_EQ(load_error(with("cache: {source: kubernetes}\nevents: [{at: 1s, restart_pod: vllm-0}]\n")),
            "scenarios/x.yaml:6:10: events[0]: restart_pod posts /admin/restart to a simulator pod's metrics URL and "
            "needs the embedded simulator or cache.urls; for Kubernetes pods use delete_pod");
}

TEST(ScenarioEvents, CacheRecoveryTimeIsAPostRunMetric) {
  const Scenario s = load_ok(with("thresholds:\n  cache_recovery_time: [\"max<10s\"]\n"));
  EXPECT_EQ(s.thresholds[0].metric, "cache_recovery_time");
  EXPECT_DOUBLE_EQ(s.thresholds[0].limit, 10.0);
  EXPECT_EQ(load_error(with("thresholds:\n  cache_recovery_time: [{threshold: \"max<10s\", abortOnFail: true}]\n")),
            "scenarios/x.yaml:6:61: thresholds.cache_recovery_time[0].abortOnFail: cache_recovery_time cannot be "
            "evaluated during the run: the pods' counters are read only before and after the measured phases; remove "
            "abortOnFail (the threshold is still judged at the end)");
  EXPECT_THAT(load_error(with("cache: {source: none}\nthresholds:\n  cache_recovery_time: [\"max<10s\"]\n")),
              testing::StartsWith("scenarios/x.yaml:7:25: thresholds.cache_recovery_time: \"max<10s\" needs per-pod "
                                  "metrics"));
}

TEST(ScenarioCacheInterval, Bounds) {
  EXPECT_EQ(load_error(with("cache: {interval: 50ms}\n")),
            "scenarios/x.yaml:5:19: cache.interval: must be >= 100ms (every pod is scraped this often during the loop)");
  EXPECT_EQ(load_error(with("cache: {interval: 0s}\n")).substr(0, 40), "scenarios/x.yaml:5:19: cache.interval: m");
  EXPECT_EQ(load_error(with("cache: {interval: 5}\n")).substr(0, 39), "scenarios/x.yaml:5:19: cache.interval: ");
}

TEST(ScenarioCacheInterval, FlagOverride) {
  Scenario s = load_ok(k_loop);
  Overrides flags;
  flags.cache_interval = "2s";
  ASSERT_TRUE(apply_overrides(s, flags).has_value());
  EXPECT_EQ(s.cache.interval, std::chrono::nanoseconds(2s));
  flags.cache_interval = "10ms";
  EXPECT_EQ(apply_overrides(s, flags).error(), "--cache-interval: must be between 100ms and 1h, got 10ms");
  flags.cache_interval = "soon";
  EXPECT_EQ(apply_overrides(s, flags).error().substr(0, 18), "--cache-interval: ");
}

}  // namespace
}  // namespace llmd::scenario
