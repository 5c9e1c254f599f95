// The ready scenario files in scenarios/ load, and baseline.yaml says what seed 004 says.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "scenario/loader.hpp"
#include "scenario/thresholds.hpp"

namespace llmd::scenario {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const fs::path k_scenarios = fs::path(LLMD_TEST_FIXTURES) / ".." / ".." / "scenarios";

Scenario load_ready(std::string_view file) {
  auto scenario = load_scenario(k_scenarios / file);
  EXPECT_TRUE(scenario) << (scenario ? "" : scenario.error());
  return scenario ? *scenario : Scenario{};
}

std::set<std::string> threshold_sources(const Scenario& scenario, std::string_view metric) {
  std::set<std::string> sources;
  for (const Threshold& threshold : scenario.thresholds) {
    if (threshold.metric == metric) {
      sources.insert(threshold.source);
    }
  }
  return sources;
}

TEST(ReadyScenarios, EveryFileLoads) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(k_scenarios)) {
    const auto extension = entry.path().extension();
    if (extension == ".yaml" || extension == ".yml" || extension == ".json") {
      auto scenario = load_scenario(entry.path());
      EXPECT_TRUE(scenario) << (scenario ? "" : scenario.error());
      names.insert(entry.path().filename().string());
    }
  }
  for (const char* expected : {"smoke.yaml", "cache-hit.yaml", "baseline.yaml", "concentration.yaml", "trace-replay.yaml",
                               "prefix-groups.yaml", "capacity.yaml"}) {
    EXPECT_EQ(names.count(expected), 1u) << expected;
  }
}

TEST(ReadyScenarios, PrefixGroupsIsEightGroupsOfSixteenWithBlockAlignedSystemPrompts) {
  const Scenario scenario = load_ready("prefix-groups.yaml");
  EXPECT_EQ(scenario.request.prompt, PromptKind::prefix_groups);
  const PrefixGroupsSpec& groups = scenario.request.prefix_groups;
  EXPECT_EQ(groups.groups, 8u);
  EXPECT_EQ(groups.prompts_per_group, 16u);
  EXPECT_EQ(groups.system_prompt_tokens.a, 2000);
  EXPECT_EQ(static_cast<std::size_t>(groups.system_prompt_tokens.a) % scenario.sim.pod.block_size_tokens, 0u);
  EXPECT_EQ(groups.question_tokens.a, 32);
  ASSERT_EQ(scenario.phases.size(), 1u);
  EXPECT_EQ(scenario.phases[0].iterations, 128u);  // one pass
  EXPECT_EQ(scenario.sim.route, sim::RoutePolicy::prefix);
  EXPECT_EQ(threshold_sources(scenario, "cache_hit_rate"), std::set<std::string>{">=0.95"});
  // reset -> prime -> verify -> measure: the ideal starts from the primed system prompts.
  EXPECT_EQ(scenario.cache_state.reset, scenario::CacheStateSpec::Reset::api);
  EXPECT_TRUE(scenario.cache_state.prime);
  EXPECT_TRUE(scenario.cache_state.verify);
}

TEST(ReadyScenarios, SmokeIsSecondsAgainstTheEmbeddedSimulator) {
  const Scenario scenario = load_ready("smoke.yaml");
  EXPECT_EQ(scenario.target.base_url, "");
  ASSERT_EQ(scenario.phases.size(), 1u);
  EXPECT_EQ(scenario.phases[0].executor, ExecutorKind::constant_vus);
  EXPECT_EQ(scenario.phases[0].vus, 2u);
  EXPECT_EQ(scenario.phases[0].duration, 3s);
  EXPECT_FALSE(scenario.thresholds.empty());
}

TEST(ReadyScenarios, CacheHitIsTheIdenticalPrefixLoop) {
  const Scenario scenario = load_ready("cache-hit.yaml");
  EXPECT_EQ(scenario.request.prompt, PromptKind::shared_prefix);
  EXPECT_EQ(scenario.request.prefix_tokens, 1000u);
  ASSERT_EQ(scenario.phases.size(), 1u);
  EXPECT_EQ(scenario.phases[0].executor, ExecutorKind::iterations);
  EXPECT_EQ(scenario.phases[0].iterations, 20u);
  EXPECT_EQ(scenario.sim.pods, 4u);
  EXPECT_EQ(scenario.sim.route, sim::RoutePolicy::prefix);
  EXPECT_EQ(threshold_sources(scenario, "cache_hit_rate"), (std::set<std::string>{">=0.90"}));
  EXPECT_EQ(threshold_sources(scenario, "http_req_failed"), (std::set<std::string>{"rate<0.01"}));
}

TEST(ReadyScenarios, TraceReplayReplaysTheSampleTraceOnItsClock) {
  const Scenario scenario = load_ready("trace-replay.yaml");
  EXPECT_EQ(scenario.request.prompt, PromptKind::trace);
  EXPECT_EQ(fs::path(scenario.request.dataset_path).filename(), "mooncake-sample.jsonl");
  EXPECT_TRUE(fs::exists(scenario.request.dataset_path));
  EXPECT_EQ(scenario.request.trace.block_size, 16u);
  EXPECT_TRUE(scenario.request.ignore_eos);
  ASSERT_EQ(scenario.phases.size(), 1u);
  EXPECT_EQ(scenario.phases[0].executor, ExecutorKind::trace);
  EXPECT_DOUBLE_EQ(scenario.phases[0].speedup, 1);
  EXPECT_EQ(scenario.sim.route, sim::RoutePolicy::prefix);
  EXPECT_EQ(threshold_sources(scenario, "cache_hit_rate"), (std::set<std::string>{">=0.75"}));
}

TEST(ReadyScenarios, BaselineIsSeed004AsWritten) {
  const Scenario scenario = load_ready("baseline.yaml");
  ASSERT_EQ(scenario.phases.size(), 3u);
  const Duration starts[] = {0s, 150s, 5min};
  const std::size_t vus[] = {10, 50, 100};
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(scenario.phases[i].executor, ExecutorKind::constant_vus);
    EXPECT_EQ(scenario.phases[i].start_time, starts[i]) << i;
    EXPECT_EQ(scenario.phases[i].duration, 2min) << i;
    EXPECT_EQ(scenario.phases[i].vus, vus[i]) << i;
  }
  EXPECT_EQ(threshold_sources(scenario, "http_req_duration"), (std::set<std::string>{"p(95)<5s", "p(99)<10s"}));
  EXPECT_EQ(threshold_sources(scenario, "ttft"), (std::set<std::string>{"p(95)<2s", "p(99)<3s"}));
  EXPECT_EQ(threshold_sources(scenario, "tokens_per_second"), (std::set<std::string>{"avg>30"}));
  EXPECT_EQ(threshold_sources(scenario, "http_req_failed"), (std::set<std::string>{"rate<0.05"}));
  EXPECT_EQ(scenario.checks,
            (std::vector<CheckKind>{CheckKind::status_200, CheckKind::non_empty_content, CheckKind::sse_content_type}));
  EXPECT_TRUE(scenario.request.stream);
}

TEST(ReadyScenarios, ConcentrationGatesOnMaxPodShare) {
  const Scenario scenario = load_ready("concentration.yaml");
  EXPECT_EQ(scenario.request.prompt, PromptKind::per_session);
  EXPECT_EQ(threshold_sources(scenario, "max_pod_share"), (std::set<std::string>{">=0.8"}));
  for (const Phase& phase : scenario.phases) {
    EXPECT_NE(phase.executor, ExecutorKind::poisson);
    EXPECT_NE(phase.executor, ExecutorKind::constant_arrival_rate);
  }
}

TEST(ReadyScenarios, ReadmeDocumentsEveryThresholdMetric) {
  std::ifstream in(k_scenarios / "README.md");
  ASSERT_TRUE(in);
  std::stringstream readme;
  readme << in.rdbuf();
  for (const MetricInfo& metric : metric_table()) {
    EXPECT_NE(readme.str().find("| `" + std::string(metric.name) + "`"), std::string::npos) << metric.name;
  }
}

}  // namespace
// capacity.yaml: the fleet with the knee the README documents, and the SLO a sweep step is judged on.
TEST(ReadyScenarios, CapacityHasAKnownKneeAndAnSlo) {
  const Scenario scenario = load_ready("capacity.yaml");
  ASSERT_TRUE(scenario.slo);
  EXPECT_EQ(scenario.slo->ttft, std::chrono::milliseconds(100));
  EXPECT_EQ(scenario.sim.pods, 4u);
  EXPECT_EQ(scenario.sim.pod.max_num_seqs, 2u);
  EXPECT_EQ(scenario.sim.route, sim::RoutePolicy::round_robin);
  ASSERT_EQ(scenario.phases.size(), 1u);
  EXPECT_EQ(scenario.phases[0].executor, ExecutorKind::constant_arrival_rate);
}

}  // namespace llmd::scenario
