// `load:` and `warmup:`: every executor, start times, and their errors.
#include <string>

#include <gtest/gtest.h>

#include "scenario_test_support.hpp"

namespace llmd::scenario {
namespace {

using namespace std::chrono_literals;
using test::load_error;
using test::load_ok;

TEST(ScenarioLoad, ConstantVus) {
  const Scenario scenario = load_ok("load:\n  - name: steady\n    executor: constant-vus\n    vus: 10\n    duration: 2m\n"
                                    "    start_time: 30s\n    graceful_stop: 5s\n");
  ASSERT_EQ(scenario.phases.size(), 1u);
  const Phase& phase = scenario.phases[0];
  EXPECT_EQ(phase.name, "steady");
  EXPECT_EQ(phase.executor, ExecutorKind::constant_vus);
  EXPECT_EQ(phase.vus, 10u);
  EXPECT_EQ(phase.duration, 2min);
  EXPECT_EQ(phase.start_time, 30s);
  EXPECT_EQ(phase.graceful_stop, 5s);
  EXPECT_EQ(phase.where.file, "scenarios/x.yaml");
  EXPECT_EQ(phase.where.line, 2);
  EXPECT_EQ(phase.where.column, 5);
}

TEST(ScenarioLoad, RampingVus) {
  const Phase phase = load_ok("load:\n  - executor: ramping-vus\n    start_vus: 2\n    stages:\n"
                              "      - {duration: 30s, target: 20}\n      - {duration: 1m, target: 0}\n")
                          .phases.at(0);
  EXPECT_EQ(phase.executor, ExecutorKind::ramping_vus);
  EXPECT_EQ(phase.start_vus, 2u);
  ASSERT_EQ(phase.stages.size(), 2u);
  EXPECT_EQ(phase.stages[0].duration, 30s);
  EXPECT_EQ(phase.stages[0].target_vus, 20u);
  EXPECT_EQ(phase.stages[1].duration, 1min);
  EXPECT_EQ(phase.stages[1].target_vus, 0u);
  EXPECT_EQ(phase.name, "load[0]");
}

TEST(ScenarioLoad, RampingVusErrors) {
  EXPECT_EQ(load_error("load:\n  - executor: ramping-vus\n    stages: []\n"),
            "scenarios/x.yaml:3:13: load[0].stages: must list at least one stage, e.g. [{duration: 1m, target: 10}]");
  EXPECT_EQ(load_error("load:\n  - executor: ramping-vus\n"), "scenarios/x.yaml:2:5: load[0]: missing required key \"stages\"");
  EXPECT_EQ(load_error("load:\n  - executor: ramping-vus\n    stages:\n      - {duration: 1m, target: 0}\n"),
            "scenarios/x.yaml:4:7: load[0].stages: start_vus and every stage target are 0: no request would be sent");
  EXPECT_EQ(load_error("load:\n  - executor: ramping-vus\n    stages:\n      - {duration: 1m, vus: 3}\n"),
            "scenarios/x.yaml:4:24: load[0].stages[0]: unknown key \"vus\"; valid keys: duration, target");
  EXPECT_EQ(load_error("load:\n  - executor: ramping-vus\n    stages:\n      - {target: 3}\n"),
            "scenarios/x.yaml:4:9: load[0].stages[0]: missing required key \"duration\"");
}

TEST(ScenarioLoad, ConstantArrivalRateAndPoisson) {
  const Scenario scenario = load_ok("load:\n  - executor: constant-arrival-rate\n    rate: 12.5\n    duration: 1m\n"
                                    "    max_in_flight: 64\n  - executor: poisson\n    rate: 3\n    duration: 30s\n");
  ASSERT_EQ(scenario.phases.size(), 2u);
  EXPECT_EQ(scenario.phases[0].executor, ExecutorKind::constant_arrival_rate);
  EXPECT_DOUBLE_EQ(scenario.phases[0].rate_per_s, 12.5);
  EXPECT_EQ(scenario.phases[0].max_in_flight, 64u);
  EXPECT_EQ(scenario.phases[1].executor, ExecutorKind::poisson);
  EXPECT_DOUBLE_EQ(scenario.phases[1].rate_per_s, 3);
  EXPECT_EQ(scenario.phases[1].max_in_flight, 1000u);  // the documented default
  EXPECT_EQ(scenario.phases[1].start_time, 1min);       // right after the first phase
}

TEST(ScenarioLoad, ArrivalRateErrors) {
  EXPECT_EQ(load_error("load:\n  - executor: poisson\n    rate: 0\n    duration: 1m\n"),
            "scenarios/x.yaml:3:11: load[0].rate: must be >= 1e-06, got 0");
  EXPECT_EQ(load_error("load:\n  - executor: poisson\n    rate: 5\n    duration: 1m\n    max_in_flight: 0\n"),
            "scenarios/x.yaml:5:20: load[0].max_in_flight: must be >= 1, got 0");
  EXPECT_EQ(load_error("load:\n  - executor: poisson\n    duration: 1m\n    vus: 3\n"),
            "scenarios/x.yaml:4:5: load[0]: unknown key \"vus\" for executor poisson; valid keys: name, executor, "
            "start_time, rate, duration, max_in_flight, graceful_stop");
}

TEST(ScenarioLoad, Iterations) {
  const Phase phase = load_ok("load:\n  - executor: iterations\n    iterations: 100\n    vus: 4\n    max_duration: 2m\n").phases.at(0);
  EXPECT_EQ(phase.executor, ExecutorKind::iterations);
  EXPECT_EQ(phase.iterations, 100u);
  EXPECT_EQ(phase.vus, 4u);
  EXPECT_EQ(phase.max_duration, 2min);
  EXPECT_EQ(load_ok("load:\n  - executor: iterations\n    iterations: 5\n").phases.at(0).vus, 1u);
  EXPECT_EQ(load_error("load:\n  - executor: iterations\n    iterations: 0\n"),
            "scenarios/x.yaml:3:17: load[0].iterations: must be >= 1, got 0");
}

TEST(ScenarioLoad, StartTimesDefaultToAfterThePreviousPhase) {
  const Scenario scenario = load_ok("load:\n"
                                    "  - {executor: constant-vus, vus: 1, duration: 1m}\n"
                                    "  - {executor: ramping-vus, stages: [{duration: 10s, target: 5}, {duration: 20s, target: 1}]}\n"
                                    "  - {executor: constant-vus, vus: 1, duration: 1m, start_time: 5m}\n"
                                    "  - {executor: iterations, iterations: 3}\n");
  ASSERT_EQ(scenario.phases.size(), 4u);
  EXPECT_EQ(scenario.phases[0].start_time, 0s);
  EXPECT_EQ(scenario.phases[1].start_time, 1min);
  EXPECT_EQ(scenario.phases[2].start_time, 5min);
  EXPECT_EQ(scenario.phases[3].start_time, 6min);
}

TEST(ScenarioLoad, PhaseAfterIterationsNeedsAStartTime) {
  EXPECT_EQ(load_error("load:\n  - {executor: iterations, iterations: 3}\n  - {executor: constant-vus, vus: 1, duration: 1m}\n"),
            "scenarios/x.yaml:3:5: load[1]: needs a start_time: the previous phase (iterations) has no fixed length");
  EXPECT_EQ(load_ok("load:\n  - {executor: iterations, iterations: 3}\n"
                    "  - {executor: constant-vus, vus: 1, duration: 1m, start_time: 0s}\n")
                .phases.size(),
            2u);
}

TEST(ScenarioLoad, DuplicatePhaseNames) {
  EXPECT_EQ(load_error("load:\n  - {name: a, executor: constant-vus, vus: 1, duration: 1m}\n"
                       "  - {name: a, executor: constant-vus, vus: 1, duration: 1m}\n"),
            "scenarios/x.yaml:3:5: load[1]: duplicate phase name \"a\" (first at line 2)");
}

TEST(ScenarioLoad, EmptyLoadList) {
  EXPECT_EQ(load_error("load: []\n"), "scenarios/x.yaml:1:7: load: must list at least one phase");
}

TEST(ScenarioLoad, WarmupIsOnePhaseWithoutStartTime) {
  const Scenario scenario = load_ok("warmup:\n  executor: iterations\n  iterations: 8\n  vus: 2\n"
                                    "load:\n  - {executor: constant-vus, vus: 1, duration: 1m}\n");
  ASSERT_TRUE(scenario.warmup.has_value());
  EXPECT_EQ(scenario.warmup->name, "warmup");
  EXPECT_EQ(scenario.warmup->executor, ExecutorKind::iterations);
  EXPECT_EQ(scenario.warmup->iterations, 8u);
  EXPECT_FALSE(load_ok("load:\n  - {executor: constant-vus, vus: 1, duration: 1m}\n").warmup.has_value());
  EXPECT_EQ(load_error("warmup:\n  executor: constant-vus\n  vus: 1\n  duration: 5s\n  start_time: 1s\n"
                       "load:\n  - {executor: constant-vus, vus: 1, duration: 1m}\n"),
            "scenarios/x.yaml:5:3: warmup: unknown key \"start_time\" for executor constant-vus; valid keys: name, "
            "executor, vus, duration, graceful_stop");
}

TEST(ScenarioLoad, PerSessionNeedsVirtualUsers) {
  EXPECT_EQ(load_error("requests:\n  prompt: {kind: per-session}\n"
                       "load:\n  - {executor: constant-vus, vus: 2, duration: 1m}\n"
                       "  - {executor: poisson, rate: 5, duration: 1m}\n"),
            "scenarios/x.yaml:5:5: phase \"load[1]\": prompt kind per-session needs virtual users to own the sessions, "
            "but executor poisson is open loop; use constant-vus, ramping-vus or iterations");
  EXPECT_EQ(load_ok("requests:\n  prompt: {kind: per-session}\n"
                    "load:\n  - {executor: ramping-vus, stages: [{duration: 1m, target: 4}]}\n"
                    "  - {executor: iterations, iterations: 10, vus: 2}\n")
                .request.prompt,
            PromptKind::per_session);
}

TEST(ScenarioLoad, EngineThreadsDefaultToOneAndAreBounded) {
  const std::string load = "load:\n  - {executor: constant-vus, vus: 4, duration: 1m}\n";
  EXPECT_EQ(load_ok(load).engine.threads, 1u);
  const Scenario scenario = load_ok("engine:\n  threads: 4\n" + load);
  EXPECT_EQ(scenario.engine.threads, 4u);
  EXPECT_EQ(scenario.engine.where.line, 2);
  EXPECT_EQ(load_error("engine:\n  threads: 0\n" + load), "scenarios/x.yaml:2:12: engine.threads: must be >= 1, got 0");
  EXPECT_EQ(load_error("engine:\n  threads: 257\n" + load), "scenarios/x.yaml:2:12: engine.threads: must be <= 256, got 257");
  EXPECT_NE(load_error("engine:\n  thread: 2\n" + load).find("thread"), std::string::npos);
}

TEST(ScenarioLoad, EngineCoalesceIsAutoOffOrAWindowOfAtMostFiveMilliseconds) {
  const std::string load = "load:\n  - {executor: constant-vus, vus: 4, duration: 1m}\n";
  EXPECT_EQ(load_ok(load).engine.coalesce.mode, Coalesce::Mode::automatic);
  EXPECT_EQ(to_string(load_ok(load).engine.coalesce), "auto");
  EXPECT_EQ(load_ok("engine:\n  coalesce: off\n" + load).engine.coalesce.mode, Coalesce::Mode::off);
  const Coalesce fixed = load_ok("engine:\n  coalesce: 2ms\n" + load).engine.coalesce;
  EXPECT_EQ(fixed.mode, Coalesce::Mode::fixed);
  EXPECT_EQ(fixed.window, 2ms);
  EXPECT_EQ(to_string(fixed), "2ms");
  EXPECT_EQ(load_ok("engine:\n  coalesce: 5ms\n" + load).engine.coalesce.window, 5ms);
  EXPECT_EQ(load_error("engine:\n  coalesce: 6ms\n" + load),
            "scenarios/x.yaml:2:13: engine.coalesce: got \"6ms\", expected auto, off or a duration in (0, 5ms] such as "
            "\"2ms\"; a pause is bounded by the loop's 5ms probe");
  EXPECT_EQ(load_error("engine:\n  coalesce: 0s\n" + load),
            "scenarios/x.yaml:2:13: engine.coalesce: got \"0s\", expected auto, off or a duration in (0, 5ms] such as "
            "\"2ms\"; a pause is bounded by the loop's 5ms probe");
  EXPECT_EQ(load_error("engine:\n  coalesce: sometimes\n" + load),
            "scenarios/x.yaml:2:13: engine.coalesce: got \"sometimes\": expected auto, off or a duration in (0, 5ms] such "
            "as \"2ms\"");
}

TEST(ScenarioLoad, TimeScaleIsKeptNotApplied) {
  const Scenario scenario = load_ok("time_scale: 0.01\nload:\n  - {executor: constant-vus, vus: 1, duration: 2m}\n");
  EXPECT_DOUBLE_EQ(scenario.time_scale, 0.01);
  EXPECT_EQ(scenario.phases[0].duration, 2min);
}

}  // namespace
}  // namespace llmd::scenario
