// `requests.prompt: {kind: prefix-groups}` and the `gamma` executor: values, defaults, and every
// new key's error with its file:line:column.
#include <string>

#include <gtest/gtest.h>

#include "scenario_test_support.hpp"

namespace llmd::scenario {
namespace {

using test::k_load;
using test::load_error;
using test::load_ok;
using Kind = LengthDistribution::Kind;
using Order = PrefixGroupsSpec::Order;

// The prompt mapping starts on line 7 ("    kind: prefix-groups"); `extra` lines follow from line 8.
std::string groups(std::string_view extra) {
  return std::string(k_load) + "requests:\n  prompt:\n    kind: prefix-groups\n" + std::string(extra);
}

constexpr std::string_view k_required = "    groups: 8\n    prompts_per_group: 16\n    system_prompt_tokens: 2000\n"
                                        "    question_tokens: 32\n";  // lines 8-11

TEST(ScenarioPrefixGroups, FixedCountsAndDefaults) {
  const RequestSpec request = load_ok(groups(k_required)).request;
  EXPECT_EQ(request.prompt, PromptKind::prefix_groups);
  const PrefixGroupsSpec& g = request.prefix_groups;
  EXPECT_EQ(g.groups, 8u);
  EXPECT_EQ(g.prompts_per_group, 16u);
  EXPECT_EQ(g.system_prompt_tokens.kind, Kind::constant);
  EXPECT_EQ(g.system_prompt_tokens.a, 2000);
  EXPECT_EQ(g.question_tokens.a, 32);
  EXPECT_FALSE(g.output_tokens.has_value());
  EXPECT_EQ(g.order, Order::round_robin);
  EXPECT_EQ(request.seed, 1u);
}

TEST(ScenarioPrefixGroups, DistributionsOrderSeedAndOutputTokens) {
  const RequestSpec request =
      load_ok(groups("    groups: 2\n    prompts_per_group: 3\n"
                     "    system_prompt_tokens: {distribution: uniform, min: 100, max: 200}\n"
                     "    question_tokens: {distribution: normal, mean: 40, stddev: 10, min: 8, max: 80}\n"
                     "    output_tokens: {distribution: constant, value: 12}\n    order: random\n    seed: 42\n"))
          .request;
  const PrefixGroupsSpec& g = request.prefix_groups;
  EXPECT_EQ(g.system_prompt_tokens.kind, Kind::uniform);
  EXPECT_EQ(g.system_prompt_tokens.min_tokens, 100u);
  EXPECT_EQ(g.system_prompt_tokens.max_tokens, 200u);
  EXPECT_EQ(g.question_tokens.kind, Kind::normal);
  EXPECT_EQ(g.question_tokens.a, 40);
  EXPECT_EQ(g.question_tokens.max_tokens, 80u);
  ASSERT_TRUE(g.output_tokens.has_value());
  EXPECT_EQ(g.output_tokens->a, 12);
  EXPECT_EQ(g.order, Order::random);
  EXPECT_EQ(request.seed, 42u);
  EXPECT_EQ(load_ok(groups(std::string(k_required) + "    order: grouped\n")).request.prefix_groups.order, Order::grouped);
}

TEST(ScenarioPrefixGroups, RequiredKeys) {
  EXPECT_EQ(load_error(groups("    prompts_per_group: 16\n    system_prompt_tokens: 2000\n    question_tokens: 32\n")),
            "scenarios/x.yaml:7:5: requests.prompt: missing required key \"groups\"");
  EXPECT_EQ(load_error(groups("    groups: 8\n    prompts_per_group: 16\n    question_tokens: 32\n")),
            "scenarios/x.yaml:7:5: requests.prompt: missing required key \"system_prompt_tokens\"");
  EXPECT_EQ(load_error(groups("    groups: 8\n    prompts_per_group: 16\n    system_prompt_tokens: 20\n")),
            "scenarios/x.yaml:7:5: requests.prompt: missing required key \"question_tokens\"");
}

TEST(ScenarioPrefixGroups, UnknownKeyListsTheValidOnes) {
  EXPECT_EQ(load_error(groups(std::string(k_required) + "    num_groups: 3\n")),
            "scenarios/x.yaml:12:5: requests.prompt: unknown key \"num_groups\" for prompt kind prefix-groups; valid "
            "keys: kind, groups, prompts_per_group, system_prompt_tokens, question_tokens, output_tokens, order, seed");
  EXPECT_EQ(load_error(groups(std::string(k_required) + "    output_tokens: {distribution: uniform, mean: 3}\n")),
            "scenarios/x.yaml:12:44: requests.prompt.output_tokens: unknown key \"mean\" for distribution uniform; "
            "valid keys: distribution, min, max");
}

TEST(ScenarioPrefixGroups, WrongTypes) {
  EXPECT_EQ(load_error(groups("    groups: \"8\"\n    prompts_per_group: 16\n    system_prompt_tokens: 2000\n"
                              "    question_tokens: 32\n")),
            "scenarios/x.yaml:8:13: requests.prompt.groups: expected a whole number, got the string \"8\"");
  EXPECT_EQ(load_error(groups("    groups: 8\n    prompts_per_group: [16]\n    system_prompt_tokens: 2000\n"
                              "    question_tokens: 32\n")),
            "scenarios/x.yaml:9:24: requests.prompt.prompts_per_group: expected a whole number, got a list");
  EXPECT_EQ(load_error(groups("    groups: 8\n    prompts_per_group: 16\n    system_prompt_tokens: lots\n"
                              "    question_tokens: 32\n")),
            "scenarios/x.yaml:10:27: requests.prompt.system_prompt_tokens: expected a whole number, got \"lots\"");
  EXPECT_EQ(load_error(groups(std::string(k_required) + "    order: shuffled\n")),
            "scenarios/x.yaml:12:12: requests.prompt.order: unknown order \"shuffled\"; expected one of round-robin, "
            "random, grouped");
  EXPECT_EQ(load_error(groups(std::string(k_required) + "    seed: -1\n")),
            "scenarios/x.yaml:12:11: requests.prompt.seed: must be >= 0, got -1");
}

TEST(ScenarioPrefixGroups, OutOfRange) {
  EXPECT_EQ(load_error(groups("    groups: 0\n    prompts_per_group: 16\n    system_prompt_tokens: 2000\n"
                              "    question_tokens: 32\n")),
            "scenarios/x.yaml:8:13: requests.prompt.groups: must be >= 1, got 0");
  EXPECT_EQ(load_error(groups("    groups: 100001\n    prompts_per_group: 16\n    system_prompt_tokens: 20\n"
                              "    question_tokens: 32\n")),
            "scenarios/x.yaml:8:13: requests.prompt.groups: must be <= 100000, got 100001");
  EXPECT_EQ(load_error(groups("    groups: 8\n    prompts_per_group: 1000001\n    system_prompt_tokens: 20\n"
                              "    question_tokens: 32\n")),
            "scenarios/x.yaml:9:24: requests.prompt.prompts_per_group: must be <= 1000000, got 1000001");
  EXPECT_EQ(load_error(groups("    groups: 8\n    prompts_per_group: 16\n    system_prompt_tokens: 0\n"
                              "    question_tokens: 32\n")),
            "scenarios/x.yaml:10:27: requests.prompt.system_prompt_tokens: must be >= 1, got 0");
  EXPECT_EQ(load_error(groups("    groups: 8\n    prompts_per_group: 16\n    system_prompt_tokens: 2000\n"
                              "    question_tokens: 1048577\n")),
            "scenarios/x.yaml:11:22: requests.prompt.question_tokens: must be <= 1048576, got 1048577");
  EXPECT_EQ(load_error(groups(std::string(k_required) + "    output_tokens: {distribution: uniform, min: 9, max: 3}\n")),
            "scenarios/x.yaml:12:57: requests.prompt.output_tokens.max: must be >= min (9), got 3");
  // 1,000 groups of up to 1M-token system prompts: 9 GiB of text kept for the run.
  EXPECT_EQ(load_error(groups("    groups: 1000\n    prompts_per_group: 1\n    system_prompt_tokens: 1048576\n"
                              "    question_tokens: 1\n")),
            "scenarios/x.yaml:8:13: requests.prompt.groups: 1000 groups with system prompts of up to 1048576 tokens "
            "would hold 9000.0 MiB of system prompts; at most 1024 MiB: use fewer groups or shorter system prompts");
}

TEST(ScenarioGamma, BurstinessAndItsErrors) {
  const Phase phase =
      load_ok("load:\n  - executor: gamma\n    rate: 20\n    duration: 1m\n    burstiness: 0.5\n").phases.at(0);
  EXPECT_EQ(phase.executor, ExecutorKind::gamma);
  EXPECT_EQ(phase.rate_per_s, 20);
  EXPECT_EQ(phase.burstiness, 0.5);
  EXPECT_EQ(phase.max_in_flight, 1000u);
  EXPECT_EQ(load_error("load:\n  - executor: gamma\n    rate: 20\n    duration: 1m\n"),
            "scenarios/x.yaml:2:5: load[0]: missing required key \"burstiness\"");
  EXPECT_EQ(load_error("load:\n  - executor: gamma\n    rate: 20\n    duration: 1m\n    burstiness: 0\n"),
            "scenarios/x.yaml:5:17: load[0].burstiness: must be >= 0.01, got 0");
  EXPECT_EQ(load_error("load:\n  - executor: gamma\n    rate: 20\n    duration: 1m\n    burstiness: 1001\n"),
            "scenarios/x.yaml:5:17: load[0].burstiness: must be <= 1000, got 1001");
  EXPECT_EQ(load_error("load:\n  - executor: gamma\n    rate: 20\n    duration: 1m\n    burstiness: \"2\"\n"),
            "scenarios/x.yaml:5:17: load[0].burstiness: expected a number, got the string \"2\"");
  EXPECT_EQ(load_error("load:\n  - executor: poisson\n    rate: 20\n    duration: 1m\n    burstiness: 2\n"),
            "scenarios/x.yaml:5:5: load[0]: unknown key \"burstiness\" for executor poisson; valid keys: name, "
            "executor, start_time, rate, duration, max_in_flight, graceful_stop");
}

}  // namespace
}  // namespace llmd::scenario
