// Multi-turn conversations end to end: scenarios/multi-turn.yaml run by the real binary against its
// embedded simulator (delays scaled down). With session routing every turn lands on the pod that
// holds its history, so the client-side hit rate (usage cached_tokens / prompt_tokens) rises with
// the turn number; spread round-robin it collapses.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/run_test_support.hpp"
#include "support/child_process.hpp"

using llmd::test::phase_total;
using llmd::test::read_json;
using llmd::test::RunOutput;
using llmd::test::scratch_dir;
using llmd::test::write_file;
using nlohmann::json;
using testing::HasSubstr;

namespace {

const std::string k_scenario = std::string(LLMD_SOURCE_DIR) + "/scenarios/multi-turn.yaml";

RunOutput run_fast(std::vector<std::string> args) {
  args.insert(args.end(), {"--time-scale", "0.01", "--sim-time-scale", "0.01"});
  return llmd::test::run_bench(std::move(args));
}

// The per-turn hit rates of a result.
std::vector<double> hit_rates(const json& result) {
  std::vector<double> rates;
  for (const auto& turn : phase_total(result)["turns"]) {
    rates.push_back(turn["hit_rate"].is_number() ? turn["hit_rate"].get<double>() : -1);
  }
  return rates;
}

}  // namespace

TEST(MultiTurnRun, SessionRoutingHitRateRisesWithTheTurnNumber) {
  const auto dir = scratch_dir();
  auto out = run_fast({k_scenario, "--out", "json=" + (dir / "r.json").string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("turns (multi-turn conversations"));
  const json result = read_json(dir / "r.json");
  const auto& echo = result["scenario"]["request"]["multi_turn"];
  EXPECT_EQ(echo["turns"], (json{{"distribution", "constant"}, {"value", 5}}));
  EXPECT_EQ(echo["session_header"], "x-session-id");
  const auto& turns = phase_total(result)["turns"];
  ASSERT_EQ(turns.size(), 5u) << turns.dump();
  std::uint64_t requests = 0;
  for (const auto& turn : turns) {
    EXPECT_EQ(turn["failed"], 0);
    requests += turn["requests"].get<std::uint64_t>();
  }
  EXPECT_EQ(requests, 70u);
  const auto rates = hit_rates(result);
  for (std::size_t i = 1; i < rates.size(); ++i) {
    EXPECT_GT(rates[i], rates[i - 1]) << "turn " << i + 1 << ": " << turns.dump();
  }
  EXPECT_LT(rates.front(), 0.35);
  EXPECT_GT(rates.back(), 0.75);
  std::cout << "session routing, per-turn hit rate:";
  for (const double rate : rates) {
    std::cout << ' ' << rate;
  }
  std::cout << '\n';
}

TEST(MultiTurnRun, RoundRobinCollapsesTheLaterTurnsHitRate) {
  const auto dir = scratch_dir();
  auto session = run_fast({k_scenario, "-q", "--out", "json=" + (dir / "session.json").string()});
  ASSERT_EQ(session.exit_code, 0) << session.out << session.err;
  auto spread = run_fast({k_scenario, "-q", "--sim-route", "round-robin", "--out", "json=" + (dir / "rr.json").string()});
  ASSERT_EQ(spread.exit_code, 0) << spread.out << spread.err;
  const auto sticky = hit_rates(read_json(dir / "session.json"));
  const auto round_robin = hit_rates(read_json(dir / "rr.json"));
  ASSERT_EQ(sticky.size(), 5u);
  ASSERT_EQ(round_robin.size(), 5u);
  std::cout << "round-robin, per-turn hit rate:";
  for (const double rate : round_robin) {
    std::cout << ' ' << rate;
  }
  std::cout << '\n';
  // Turn 1 shares only the system prompt either way; turns 2..4 lose most of their history's hits
  // (measured: session 48.5%, 64.6%, 72.7%, 77.6%; round-robin 8%..25% each, varying with the order).
  // Turn 5 is not compared turn by turn: with 4 pods its request can land back on the pod that
  // served turn 4 (the order of 7 users' requests varies with timing; one loaded run measured 65.6%).
  // Turn 4 can too: a full ctest run on 2 cores measured round-robin 23.1%, 22.3%, 51.9% for turns
  // 2..4, 0.52 of the session's sum, so both sums are bounded at 0.6 of the session's (a router that
  // kept sessions together would be at ~1.0).
  double sticky_sum = 0;
  double spread_sum = 0;
  for (std::size_t turn = 1; turn < 4; ++turn) {
    sticky_sum += sticky[turn];
    spread_sum += round_robin[turn];
    EXPECT_LT(round_robin[turn], sticky[turn]) << "turn " << turn + 1;
  }
  EXPECT_LT(spread_sum, sticky_sum * 0.6);
  EXPECT_LT(round_robin[1] + round_robin[2] + round_robin[3] + round_robin[4],
            (sticky[1] + sticky[2] + sticky[3] + sticky[4]) * 0.6);
}

TEST(MultiTurnRun, TheEmbeddedGatewayKeysSessionsOnTheScenariosHeader) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", R"(api: chat
requests:
  prompt: {kind: multi-turn, turns: 4, user_tokens: 48, output_tokens: 16, session_header: x-conversation}
load:
  - {executor: iterations, iterations: 32, vus: 4}
sim: {pods: 4, route: session, prompt_tokens_details: true}
)");
  auto out = run_fast({scenario.string(), "-q", "--out", "json=" + (dir / "r.json").string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  const auto rates = hit_rates(read_json(dir / "r.json"));
  ASSERT_EQ(rates.size(), 4u);
  // All from 127.0.0.1: keyed on the client address instead, every conversation would stick to one
  // pod and still hit; keyed on x-conversation each conversation gets its own pod. Both rise, so
  // check the spread over the pods too.
  for (std::size_t i = 1; i < rates.size(); ++i) {
    EXPECT_GT(rates[i], rates[i - 1]);
  }
  const json result = read_json(dir / "r.json");
  std::size_t pods_used = 0;
  for (const auto& pod : result["cache"]["pods"]) {
    pods_used += pod["requests_success"]["delta"].get<double>() > 0 ? 1 : 0;
  }
  EXPECT_GT(pods_used, 1u) << result["cache"].dump();
}

TEST(MultiTurnRun, ValidateShowsThePlanAndCompletionsIsRefused) {
  auto plan = llmd::test::run_to_completion({LLMD_BENCH_BINARY, "validate", k_scenario}, std::chrono::seconds(30));
  EXPECT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  EXPECT_THAT(plan.out, HasSubstr("prompt multi-turn (turns 5, user_tokens 64, output_tokens 32, system prompt 32 "
                                  "tokens, think time 100ms, session header x-session-id)"));
  auto refused = llmd::test::run_bench({k_scenario, "--api", "completions", "-q"});
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("multi-turn.yaml:17:5: requests.prompt: kind multi-turn resends each conversation "
                                     "as chat messages, so it needs the chat API"));
}
