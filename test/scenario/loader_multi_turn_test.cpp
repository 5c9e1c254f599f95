// `requests.prompt: {kind: multi-turn}`: every key, its defaults and its error paths, and the rules
// that span sections (chat API, closed-loop phases, the size of a conversation's history).
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "scenario/overrides.hpp"
#include "scenario_test_support.hpp"

namespace llmd::scenario {
namespace {

using test::k_load;
using test::load_error;
using test::load_ok;
using ::testing::HasSubstr;
using Kind = LengthDistribution::Kind;

// Lines 1-4 load, 5 api, 6 requests, 7 prompt, 8 kind, 9.. the given keys.
std::string multi_turn(std::string_view keys, std::string_view api = "chat") {
  return std::string(k_load) + "api: " + std::string(api) + "\nrequests:\n  prompt:\n    kind: multi-turn\n" +
         std::string(keys);
}

TEST(ScenarioMultiTurn, Defaults) {
  const RequestSpec request = load_ok(multi_turn("")).request;
  EXPECT_EQ(request.prompt, PromptKind::multi_turn);
  const MultiTurnSpec& spec = request.multi_turn;
  EXPECT_EQ(spec.turns.kind, Kind::constant);
  EXPECT_EQ(max_value(spec.turns), 5u);
  EXPECT_EQ(max_value(spec.user_tokens), 64u);
  EXPECT_FALSE(spec.output_tokens.has_value());
  EXPECT_EQ(spec.system_prompt_tokens, 0u);
  EXPECT_EQ(spec.think_time.count(), 0);
  EXPECT_EQ(request.session_header, "x-session-id");
  EXPECT_EQ(request.seed, 1u);
  EXPECT_EQ(spec.where.line, 8);  // the prompt mapping starts at its first key
}

TEST(ScenarioMultiTurn, EveryKey) {
  const RequestSpec request = load_ok(multi_turn("    turns: {distribution: uniform, min: 2, max: 8}\n"
                                                 "    user_tokens: {distribution: normal, mean: 100, stddev: 20}\n"
                                                 "    output_tokens: 48\n"
                                                 "    system_prompt_tokens: 500\n"
                                                 "    think_time: 1500ms\n"
                                                 "    seed: 42\n"
                                                 "    session_header: x-user\n"))
                                  .request;
  const MultiTurnSpec& spec = request.multi_turn;
  EXPECT_EQ(spec.turns.kind, Kind::uniform);
  EXPECT_EQ(spec.turns.min_tokens, 2u);
  EXPECT_EQ(max_value(spec.turns), 8u);
  EXPECT_EQ(spec.user_tokens.kind, Kind::normal);
  EXPECT_DOUBLE_EQ(spec.user_tokens.a, 100);
  EXPECT_EQ(spec.user_tokens.max_tokens, 32768u);  // the default clamp
  ASSERT_TRUE(spec.output_tokens.has_value());
  EXPECT_EQ(max_value(*spec.output_tokens), 48u);
  EXPECT_EQ(spec.system_prompt_tokens, 500u);
  EXPECT_EQ(spec.think_time, std::chrono::milliseconds(1500));
  EXPECT_EQ(request.seed, 42u);
  EXPECT_EQ(request.session_header, "x-user");
  EXPECT_EQ(describe(spec, request.max_tokens, request.session_header),
            "multi-turn (turns uniform 2..8, user_tokens normal mean 100 stddev 20 in 1..32768, output_tokens 48, "
            "system prompt 500 tokens, think time 1.5s, session header x-user)");
}

TEST(ScenarioMultiTurn, TurnsDistributionsStayWithinTheTurnLimit) {
  // A normal distribution's default upper clamp is 32768 tokens, but at most 1000 turns.
  const MultiTurnSpec spec = load_ok(multi_turn("    turns: {distribution: normal, mean: 5, stddev: 2}\n")).request.multi_turn;
  EXPECT_EQ(spec.turns.max_tokens, 1000u);
  EXPECT_EQ(load_error(multi_turn("    turns: 1001\n")),
            "scenarios/x.yaml:9:12: requests.prompt.turns: must be <= 1000, got 1001");
  EXPECT_EQ(load_error(multi_turn("    turns: {distribution: uniform, min: 2, max: 5000}\n")),
            "scenarios/x.yaml:9:49: requests.prompt.turns.max: must be <= 1000, got 5000");
  EXPECT_EQ(load_error(multi_turn("    turns: {distribution: normal, mean: 2000, stddev: 1}\n")),
            "scenarios/x.yaml:9:41: requests.prompt.turns.mean: must be <= 1000, got 2000");
}

TEST(ScenarioMultiTurn, ErrorPathOfEveryKey) {
  EXPECT_EQ(load_error(multi_turn("    turns: 0\n")), "scenarios/x.yaml:9:12: requests.prompt.turns: must be >= 1, got 0");
  EXPECT_THAT(load_error(multi_turn("    turns: \"5\"\n")), HasSubstr("scenarios/x.yaml:9:12: requests.prompt.turns:"));
  EXPECT_EQ(load_error(multi_turn("    turns: {distribution: zipf}\n")),
            "scenarios/x.yaml:9:27: requests.prompt.turns.distribution: unknown distribution \"zipf\"; expected one of "
            "constant, uniform, normal, lognormal");
  EXPECT_EQ(load_error(multi_turn("    user_tokens: 0\n")),
            "scenarios/x.yaml:9:18: requests.prompt.user_tokens: must be >= 1, got 0");
  EXPECT_EQ(load_error(multi_turn("    user_tokens: 1048577\n")),
            "scenarios/x.yaml:9:18: requests.prompt.user_tokens: must be <= 1048576, got 1048577");
  EXPECT_EQ(load_error(multi_turn("    output_tokens: 0\n")),
            "scenarios/x.yaml:9:20: requests.prompt.output_tokens: must be >= 1, got 0");
  EXPECT_THAT(load_error(multi_turn("    output_tokens: [1]\n")),
              HasSubstr("scenarios/x.yaml:9:20: requests.prompt.output_tokens: expected a token count or a mapping"));
  EXPECT_EQ(load_error(multi_turn("    system_prompt_tokens: 1048577\n")),
            "scenarios/x.yaml:9:27: requests.prompt.system_prompt_tokens: must be <= 1048576, got 1048577");
  EXPECT_THAT(load_error(multi_turn("    system_prompt_tokens: -1\n")),
              HasSubstr("scenarios/x.yaml:9:27: requests.prompt.system_prompt_tokens:"));
  EXPECT_THAT(load_error(multi_turn("    think_time: 5\n")),
              HasSubstr("scenarios/x.yaml:9:17: requests.prompt.think_time:"));
  EXPECT_THAT(load_error(multi_turn("    think_time: 721h\n")),
              HasSubstr("scenarios/x.yaml:9:17: requests.prompt.think_time: must be <= 720h"));
  EXPECT_THAT(load_error(multi_turn("    seed: -3\n")), HasSubstr("scenarios/x.yaml:9:11: requests.prompt.seed:"));
  EXPECT_THAT(load_error(multi_turn("    session_header: x user\n")),
              HasSubstr("scenarios/x.yaml:9:21: requests.prompt.session_header:"));
  EXPECT_EQ(load_error(multi_turn("    prefix_tokens: 100\n")),
            "scenarios/x.yaml:9:5: requests.prompt: unknown key \"prefix_tokens\" for prompt kind multi-turn; valid keys: "
            "kind, turns, user_tokens, output_tokens, system_prompt_tokens, think_time, seed, session_header");
}

TEST(ScenarioMultiTurn, NeedsTheChatApi) {
  EXPECT_EQ(load_error(multi_turn("", "completions")),
            "scenarios/x.yaml:8:5: requests.prompt: kind multi-turn resends each conversation as chat messages, so it "
            "needs the chat API; set `api: chat` (or pass --api chat)");
  // The default API is completions too.
  EXPECT_THAT(load_error(std::string(k_load) + "requests:\n  prompt: {kind: multi-turn}\n"),
              HasSubstr("scenarios/x.yaml:6:11: requests.prompt: kind multi-turn resends each conversation as chat"));
  // A flag that turns the API to completions fails the same way.
  Scenario scenario = load_ok(multi_turn(""));
  Overrides overrides;
  overrides.api = "completions";
  auto applied = apply_overrides(scenario, overrides);
  ASSERT_FALSE(applied);
  EXPECT_THAT(applied.error(), HasSubstr("scenarios/x.yaml:8:5: requests.prompt: kind multi-turn"));
}

TEST(ScenarioMultiTurn, NeedsClosedLoopPhases) {
  EXPECT_EQ(load_error("api: chat\nrequests:\n  prompt: {kind: multi-turn}\n"
                       "load:\n  - {executor: constant-vus, vus: 1, duration: 1s}\n"
                       "  - {executor: poisson, rate: 1, duration: 1s, start_time: 2s}\n"),
            "scenarios/x.yaml:6:5: phase \"load[1]\": prompt kind multi-turn needs virtual users to hold the "
            "conversations (a turn waits for the previous answer), but executor poisson is open loop; use "
            "constant-vus, ramping-vus or iterations");
  EXPECT_THAT(load_error("api: chat\nrequests:\n  prompt: {kind: multi-turn}\n"
                         "warmup: {executor: constant-arrival-rate, rate: 1, duration: 1s}\n" + std::string(k_load)),
              HasSubstr("phase \"warmup\": prompt kind multi-turn needs virtual users"));
  EXPECT_EQ(load_ok("api: chat\nrequests:\n  prompt: {kind: multi-turn}\n"
                    "load:\n  - {executor: ramping-vus, stages: [{duration: 1s, target: 2}]}\n"
                    "  - {executor: iterations, iterations: 10, start_time: 2s}\n")
                .phases.size(),
            2u);
}

TEST(ScenarioMultiTurn, HistoryIsBounded) {
  // 1000 turns x (1000 user + 64 output tokens) = 1,064,000 tokens > 1,048,576.
  EXPECT_EQ(load_error(multi_turn("    turns: 1000\n    user_tokens: 1000\n")),
            "scenarios/x.yaml:8:5: requests.prompt: a conversation can reach 1064000 tokens (system_prompt_tokens 0 + "
            "1000 turns x (1000 user + 64 output tokens)); at most 1048576: fewer turns, or shorter user_tokens or "
            "output_tokens");
  // output_tokens overrides max_tokens; without it the history counts max_tokens.
  EXPECT_THAT(load_error(multi_turn("    turns: 100\n    user_tokens: 10\n    output_tokens: 20000\n")),
              HasSubstr("(system_prompt_tokens 0 + 100 turns x (10 user + 20000 output tokens))"));
  EXPECT_THAT(load_error(multi_turn("    turns: 100\n    user_tokens: 10\n") + "  max_tokens: 20000\n"),
              HasSubstr("(10 user + 20000 output tokens)"));
  // The history held by every user counts in the prompt-memory bound: 2000 users x 2 conversations' worth.
  EXPECT_THAT(load_error("api: chat\nrequests:\n  prompt: {kind: multi-turn, turns: 100, user_tokens: 10000, "
                         "output_tokens: 400}\nload:\n  - {executor: constant-vus, vus: 1000, duration: 1s}\n"),
              HasSubstr("1000 requests in flight at once with prompts of up to 8.9 MiB and 1000 per-session "
                        "conversations of 8.9 MiB"));
}

}  // namespace
}  // namespace llmd::scenario
