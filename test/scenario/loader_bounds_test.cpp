// Every number a scenario gives has an upper bound (scenario/limits.hpp, sim/sim_config.hpp),
// checked at load time with the key's file:line:column (issue 10 items 5, 7, 11): values past them
// used to abort with std::bad_alloc (vus: 10000000, prefix_tokens: 1000000000, sim kv_blocks:
// 1000000000), spin (rate: 1e15) or overflow the clock (time_scale: 1e300).
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "scenario/overrides.hpp"
#include "scenario_test_support.hpp"

namespace llmd::scenario {
namespace {

using test::k_load;
using test::load_error;
using test::load_ok;

// `load:` with one phase whose keys are `keys` (a flow mapping's inside), on lines 1-2.
std::string phase(const std::string& keys) { return "load:\n  - {" + keys + "}\n"; }

// (scenario text, expected error) for a table of keys past their bound.
using Case = std::pair<std::string, std::string>;

void expect_errors(const std::vector<Case>& cases) {
  for (const auto& [text, expected] : cases) {
    EXPECT_EQ(load_error(text), expected) << text;
  }
}

TEST(ScenarioBounds, ConcurrencyKeysStopAtOneHundredThousand) {
  expect_errors({
      {"load:\n  - executor: constant-vus\n    vus: 10000000\n    duration: 1s\n",
       "scenarios/x.yaml:3:10: load[0].vus: must be <= 100000, got 10000000"},
      {phase("executor: ramping-vus, start_vus: 100001, stages: [{duration: 1s, target: 1}]"),
       "scenarios/x.yaml:2:40: load[0].start_vus: must be <= 100000, got 100001"},
      {phase("executor: ramping-vus, stages: [{duration: 1s, target: 100000000}]"),
       "scenarios/x.yaml:2:61: load[0].stages[0].target: must be <= 100000, got 100000000"},
      {phase("executor: poisson, rate: 1, duration: 1s, max_in_flight: 100001"),
       "scenarios/x.yaml:2:63: load[0].max_in_flight: must be <= 100000, got 100001"},
      {phase("executor: iterations, iterations: 10, vus: 100001"),
       "scenarios/x.yaml:2:49: load[0].vus: must be <= 100000, got 100001"},
      {phase("executor: iterations, iterations: 1000000001"),
       "scenarios/x.yaml:2:40: load[0].iterations: must be <= 1000000000, got 1000000001"},
  });
  const Scenario at_limit = load_ok(phase("executor: constant-vus, vus: 100000, duration: 1s"));
  EXPECT_EQ(at_limit.phases[0].vus, 100000u);
}

TEST(ScenarioBounds, TokenCountsStopAtOneMillion) {
  expect_errors({
      {std::string(k_load) + "requests:\n  prompt: {kind: shared-prefix, prefix_tokens: 1000000000}\n",
       "scenarios/x.yaml:6:48: requests.prompt.prefix_tokens: must be <= 1048576, got 1000000000"},
      {std::string(k_load) + "requests:\n  prompt: {kind: per-session, suffix_tokens: 1048577}\n",
       "scenarios/x.yaml:6:46: requests.prompt.suffix_tokens: must be <= 1048576, got 1048577"},
      {std::string(k_load) + "requests:\n  prompt: {kind: random, length: 1000000000000}\n",
       "scenarios/x.yaml:6:34: requests.prompt.length: must be <= 1048576, got 1000000000000"},
      {std::string(k_load) + "requests:\n  prompt: {kind: random, length: {distribution: uniform, min: 1, max: 1000000000000}}\n",
       "scenarios/x.yaml:6:71: requests.prompt.length.max: must be <= 1048576, got 1000000000000"},
      {std::string(k_load) + "requests:\n  prompt: {kind: random, length: {distribution: constant, value: 2000000}}\n",
       "scenarios/x.yaml:6:66: requests.prompt.length.value: must be <= 1048576, got 2000000"},
      {std::string(k_load) + "requests:\n  prompt: {kind: random, length: {distribution: normal, mean: 1e12, stddev: 1}}\n",
       "scenarios/x.yaml:6:63: requests.prompt.length.mean: must be <= 1048576, got 1e12"},
      {std::string(k_load) + "requests:\n  prompt: {kind: random, length: {distribution: lognormal, mean: 10, stddev: 1e9}}\n",
       "scenarios/x.yaml:6:78: requests.prompt.length.stddev: must be <= 1048576, got 1e9"},
      {std::string(k_load) + "requests: {max_tokens: 1048577}\n",
       "scenarios/x.yaml:5:24: requests.max_tokens: must be <= 1048576, got 1048577"},
  });
}

// `length: 50000` was clamped to 32,768 without a word: a constant length is the length.
TEST(ScenarioBounds, AConstantRandomLengthIsNotClampedToTheNormalDefault) {
  const Scenario scenario = load_ok(std::string(k_load) + "requests:\n  prompt: {kind: random, length: 50000}\n");
  EXPECT_EQ(scenario.request.length.max_tokens, 1048576u);
  const Scenario table =
      load_ok(std::string(k_load) + "requests:\n  prompt: {kind: random, length: {distribution: constant, value: 50000}}\n");
  EXPECT_EQ(table.request.length.max_tokens, 1048576u);
}

TEST(ScenarioBounds, RatesAreBetweenOneInElevenDaysAndOneHundredThousandPerSecond) {
  expect_errors({
      {phase("executor: poisson, rate: 1e15, duration: 2s"), "scenarios/x.yaml:2:31: load[0].rate: must be <= 100000, got 1e15"},
      {phase("executor: constant-arrival-rate, rate: 1e9, duration: 2s"),
       "scenarios/x.yaml:2:45: load[0].rate: must be <= 100000, got 1e9"},
      {phase("executor: poisson, rate: 0, duration: 2s"), "scenarios/x.yaml:2:31: load[0].rate: must be >= 1e-06, got 0"},
      {phase("executor: poisson, rate: 1e-300, duration: 2s"),
       "scenarios/x.yaml:2:31: load[0].rate: must be >= 1e-06, got 1e-300"},
  });
  EXPECT_DOUBLE_EQ(load_ok(phase("executor: poisson, rate: 100000, duration: 2s")).phases[0].rate_per_s, 100000);
}

TEST(ScenarioBounds, TimeScaleIsBetweenOneMillionthAndOneMillion) {
  expect_errors({
      {std::string(k_load) + "time_scale: 1e300\n", "scenarios/x.yaml:5:13: time_scale: must be <= 1000000, got 1e300"},
      {std::string(k_load) + "time_scale: 1e-300\n", "scenarios/x.yaml:5:13: time_scale: must be >= 1e-06, got 1e-300"},
      {std::string(k_load) + "time_scale: 0\n", "scenarios/x.yaml:5:13: time_scale: must be >= 1e-06, got 0"},
  });
}

TEST(ScenarioBounds, DurationsStopAtThirtyDays) {
  expect_errors({
      {phase("executor: constant-vus, vus: 1, duration: 721h"),
       "scenarios/x.yaml:2:48: load[0].duration: must be <= 720h, got \"721h\""},
      {phase("executor: constant-vus, vus: 1, duration: 1s, graceful_stop: 800h"),
       "scenarios/x.yaml:2:67: load[0].graceful_stop: must be <= 720h, got \"800h\""},
      {std::string(k_load) + "target: {request_timeout: 800h}\n",
       "scenarios/x.yaml:5:27: target.request_timeout: must be <= 720h, got \"800h\""},
  });
}

// Each key is within its bound, but the phase ends after 30 days: as written, or once scaled.
TEST(ScenarioBounds, APhaseEndsWithinThirtyDaysAsWrittenAndScaled) {
  EXPECT_EQ(load_error(phase("executor: constant-vus, vus: 1, start_time: 700h, duration: 30h")),
            "scenarios/x.yaml:2:5: phase \"load[0]\": ends 730h30s after the run starts (start_time 700h + 30h + "
            "graceful_stop 30s); a phase must end within 720h (30 days)");
  EXPECT_EQ(load_error(phase("executor: constant-vus, vus: 1, duration: 1h") + "time_scale: 1000\n"),
            "scenarios/x.yaml:3:13: time_scale: 1000 makes phase \"load[0]\" (scenarios/x.yaml:2:5) end 1008h20m after "
            "the run starts (start_time 0s + 1h + graceful_stop 30s, each x 1000); scaled, a phase must end within 720h "
            "(30 days): lower the time scale");
  EXPECT_EQ(load_error(phase("executor: constant-vus, vus: 1, duration: 100ns") + "time_scale: 0.000001\n"),
            "scenarios/x.yaml:3:13: time_scale: 1e-06 makes phase \"load[0]\" (scenarios/x.yaml:2:5) last 0s (100ns x "
            "1e-06 is under 1ns); raise the time scale or lengthen the phase");
  EXPECT_EQ(load_error("warmup: {executor: iterations, iterations: 1, max_duration: 720h}\n" + phase("executor: "
                                                                                                        "constant-vus, "
                                                                                                        "vus: 1, "
                                                                                                        "duration: 1s")),
            "scenarios/x.yaml:1:9: phase \"warmup\": ends 720h30s after the run starts (start_time 0s + 720h + "
            "graceful_stop 30s); a phase must end within 720h (30 days)");
}

TEST(ScenarioBounds, ListsOfPhasesAndStagesStopAtOneThousand) {
  std::string stages = "load:\n  - executor: ramping-vus\n    stages:\n";
  for (int i = 0; i < 1001; ++i) {
    stages += "      - {duration: 1s, target: 1}\n";
  }
  EXPECT_EQ(load_error(stages), "scenarios/x.yaml:4:7: load[0].stages: lists 1001 stages; at most 1000");
  std::string phases = "load:\n";
  for (int i = 0; i < 1001; ++i) {
    phases += "  - {executor: constant-vus, vus: 1, duration: 1s}\n";
  }
  EXPECT_EQ(load_error(phases), "scenarios/x.yaml:2:3: load: lists 1001 phases; at most 1000");
}

TEST(ScenarioBounds, PhasesRunningAtTheSameTimeShareTheConcurrencyLimit) {
  const std::string two = "load:\n"
                          "  - {name: a, executor: constant-vus, vus: 60000, duration: 1m, start_time: 0s}\n"
                          "  - {name: b, executor: poisson, rate: 10, max_in_flight: 60000, duration: 1m, start_time: 30s}\n";
  EXPECT_EQ(load_error(two), "scenarios/x.yaml:3:5: phase \"b\": 120000 requests could be in flight at once with the "
                             "phases running then (a, b); at most 100000: lower vus or max_in_flight, or give the phases "
                             "start times that do not overlap");
  std::string twelve = "load:\n";  // 12 x 10,000 at once: the message names ten phases
  for (int i = 0; i < 12; ++i) {
    twelve += "  - {name: p" + std::to_string(i) + ", executor: constant-vus, vus: 10000, duration: 1m, start_time: 0s}\n";
  }
  EXPECT_EQ(load_error(twelve), "scenarios/x.yaml:2:5: phase \"p0\": 120000 requests could be in flight at once with "
                                "the phases running then (p0, p1, p2, p3, p4, p5, p6, p7, p8, p9 and 2 more); at most "
                                "100000: lower vus or max_in_flight, or give the phases start times that do not overlap");
  // One after the other (the default start times), they never run together.
  load_ok("load:\n  - {executor: constant-vus, vus: 60000, duration: 1m}\n"
          "  - {executor: constant-vus, vus: 60000, duration: 1m}\n");
}

TEST(ScenarioBounds, PromptTextInFlightStaysUnderOneGibibyte) {
  EXPECT_EQ(load_error("requests:\n  prompt: {kind: shared-prefix, prefix_tokens: 1048576}\n" +
                       phase("executor: constant-vus, vus: 1000, duration: 1s")),
            "scenarios/x.yaml:2:3: requests.prompt: 1000 requests in flight at once with prompts of up to 9.0 MiB would "
            "hold 8.8 GiB of prompt text; at most 1 GiB: shorten the prompts or lower the concurrency (vus, "
            "max_in_flight)");
  EXPECT_EQ(load_error("requests:\n  prompt: {kind: per-session, prefix_tokens: 100000, suffix_tokens: 0}\n" +
                       phase("executor: constant-vus, vus: 1000, duration: 1s")),
            "scenarios/x.yaml:2:3: requests.prompt: 1000 requests in flight at once with prompts of up to 0.9 MiB and "
            "1000 per-session prefixes of 0.9 MiB would hold 1.7 GiB of prompt text; at most 1 GiB: shorten the prompts "
            "or lower the concurrency (vus, max_in_flight)");
  // 100,000 users with the default 1,016-token prompts: ~0.85 GiB.
  load_ok(phase("executor: constant-vus, vus: 100000, duration: 1s"));
}

TEST(ScenarioBounds, OtherNumbersHaveBoundsToo) {
  expect_errors({
      {std::string(k_load) + "requests: {temperature: 1000}\n",
       "scenarios/x.yaml:5:25: requests.temperature: must be <= 100, got 1000"},
      {std::string(k_load) + "cache: {max_parallel_scrapes: 5000}\n",
       "scenarios/x.yaml:5:31: cache.max_parallel_scrapes: must be <= 1024, got 5000"},
      {std::string(k_load) + "cache: {allow_missing_pods: 1000001}\n",
       "scenarios/x.yaml:5:29: cache.allow_missing_pods: must be <= 1000000, got 1000001"},
      {std::string(k_load) + "cache: {urls: [\"http://p:8000/metrics\"], scrape_timeout: 1000h}\n",
       "scenarios/x.yaml:5:58: cache.scrape_timeout: must be <= 720h, got \"1000h\""},
  });
}

TEST(ScenarioBounds, SimKeysShareTheFlagsBounds) {
  expect_errors({
      {std::string(k_load) + "sim: {kv_blocks: 1000000000}\n",
       "scenarios/x.yaml:5:18: sim.kv_blocks: must be <= 1048576, got 1000000000"},
      {std::string(k_load) + "sim: {pods: 2000}\n", "scenarios/x.yaml:5:13: sim.pods: must be <= 1024, got 2000"},
      {std::string(k_load) + "sim: {block_size: 5000}\n", "scenarios/x.yaml:5:19: sim.block_size: must be <= 4096, got 5000"},
      {std::string(k_load) + "sim: {prefix_index_blocks: 100000000}\n",
       "scenarios/x.yaml:5:28: sim.prefix_index_blocks: must be <= 4194304, got 100000000"},
      {std::string(k_load) + "sim: {max_num_seqs: 100001}\n",
       "scenarios/x.yaml:5:21: sim.max_num_seqs: must be <= 100000, got 100001"},
      {std::string(k_load) + "sim: {max_model_len: 2000000}\n",
       "scenarios/x.yaml:5:22: sim.max_model_len: must be <= 1048576, got 2000000"},
      {std::string(k_load) + "sim: {default_max_tokens: 2000000}\n",
       "scenarios/x.yaml:5:27: sim.default_max_tokens: must be <= 1048576, got 2000000"},
      {std::string(k_load) + "sim: {gateway_port: 70000}\n",
       "scenarios/x.yaml:5:21: sim.gateway_port: must be <= 65535, got 70000"},
      {std::string(k_load) + "sim: {error_rate: 2}\n", "scenarios/x.yaml:5:19: sim.error_rate: must be <= 1, got 2"},
      {std::string(k_load) + "sim: {session_timeout: 721h}\n",
       "scenarios/x.yaml:5:24: sim.session_timeout: must be <= 720h, got \"721h\""},
      {std::string(k_load) + "sim: {restart_downtime: 2h}\n",
       "scenarios/x.yaml:5:25: sim.restart_downtime: must be <= 1h, got \"2h\""},
      {std::string(k_load) + "sim: {timing: {prefill_per_token: 2s}}\n",
       "scenarios/x.yaml:5:35: sim.timing.prefill_per_token: must be <= 1s, got \"2s\""},
      {std::string(k_load) + "sim: {timing: {inter_token: 2h}}\n",
       "scenarios/x.yaml:5:29: sim.timing.inter_token: must be <= 1h, got \"2h\""},
      {std::string(k_load) + "sim: {timing: {time_scale: 1e6}}\n",
       "scenarios/x.yaml:5:28: sim.timing.time_scale: must be <= 1000, got 1e6"},
      {std::string(k_load) + "sim: {pods: 1024, kv_blocks: 1048576}\n",
       "scenarios/x.yaml:5:6: sim: pods 1024 x kv_blocks 1048576 = 1073741824 KV blocks in all; at most 16777216 "
       "(640 MiB of simulator memory before any block is cached): lower one of them"},
  });
  load_ok(std::string(k_load) + "sim: {pods: 1024, kv_blocks: 16384}\n");
}

std::string override_error(const std::string& text, const Overrides& overrides) {
  Scenario scenario = load_ok(text);
  auto applied = apply_overrides(scenario, overrides);
  EXPECT_FALSE(applied);
  return applied ? std::string() : applied.error();
}

TEST(ScenarioBounds, FlagsAreBoundedLikeTheKeysTheyReplace) {
  Overrides time_scale;
  time_scale.time_scale = 1e300;
  EXPECT_EQ(override_error(std::string(k_load), time_scale), "--time-scale: must be <= 1000000, got 1e+300");
  time_scale.time_scale = 1e-300;
  EXPECT_EQ(override_error(std::string(k_load), time_scale), "--time-scale: must be >= 1e-06, got 1e-300");
  time_scale.time_scale = 1e6;  // within the bound, but the 1 s phase would end 11.6 days later
  EXPECT_EQ(override_error(phase("executor: constant-vus, vus: 1, duration: 1h"), time_scale),
            "--time-scale: 1000000 makes phase \"load[0]\" (scenarios/x.yaml:2:5) end 4.2e+04 days after the run starts "
            "(start_time 0s + 1h + graceful_stop 30s, each x 1000000); scaled, a phase must end within 720h (30 days): "
            "lower the time scale");
  Overrides max_tokens;
  max_tokens.max_tokens = 1u << 21;
  EXPECT_EQ(override_error(std::string(k_load), max_tokens), "--max-tokens: must be <= 1048576, got 2097152");
  Overrides missing;
  missing.allow_missing_pods = 2'000'000;
  EXPECT_EQ(override_error(std::string(k_load), missing), "--allow-missing-pods: must be <= 1000000, got 2000000");
}

}  // namespace
}  // namespace llmd::scenario
