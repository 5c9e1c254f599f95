// The cache-state stages (run/cache_state.hpp): reset, prime and verify against the real embedded
// simulator on loopback, one at a time, and their pure parts.
#include "run/cache_state.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "stages_test_support.hpp"

namespace {

using namespace llmd::run_test;
using testing::HasSubstr;

TEST(CacheStatePure, PodApiBaseIsTheMetricsUrlWithoutItsPath) {
  EXPECT_EQ(run::pod_api_base("http://10.0.0.5:8000/metrics"), "http://10.0.0.5:8000");
  EXPECT_EQ(run::pod_api_base("https://u:p@pod.ns.svc:8443/metrics/"), "https://u:p@pod.ns.svc:8443");
  EXPECT_EQ(run::pod_api_base("http://10.0.0.5:8000"), "http://10.0.0.5:8000");
}

TEST(CacheStatePure, ExpectedHitsAreTheFullBlocksBelowTheLastToken) {
  EXPECT_EQ(run::expected_hit_tokens(1000, 16), 992u);
  EXPECT_EQ(run::expected_hit_tokens(1008, 16), 992u);  // 63 full blocks, but the last token is always recomputed
  EXPECT_EQ(run::expected_hit_tokens(1009, 16), 1008u);
  EXPECT_EQ(run::expected_hit_tokens(15, 16), 0u);
  EXPECT_EQ(run::expected_hit_tokens(0, 16), 0u);
}

TEST(CacheStatePure, ResetAnswersAreJudgedAsVllmGivesThem) {
  const auto answer = [](long status, std::string body) {
    return run::PodAnswer{"POST http://p:8000/reset_prefix_cache", status, std::move(body), status == 0 ? "refused" : ""};
  };
  EXPECT_EQ(run::judge_reset_answer(answer(200, "")), "");  // vLLM: 200, no body
  EXPECT_EQ(run::judge_reset_answer(answer(200, R"({"success":true})")), "");
  EXPECT_THAT(run::judge_reset_answer(answer(200, R"({"success":false})")), HasSubstr("refused the reset while blocks"));
  EXPECT_TRUE(run::reset_endpoint_missing(answer(404, R"({"detail":"Not Found"})")));
  EXPECT_THAT(run::judge_reset_answer(answer(404, "")), HasSubstr("answered HTTP 404"));
  EXPECT_THAT(run::judge_reset_answer(answer(500, "boom")), HasSubstr("answered HTTP 500 boom"));
  EXPECT_THAT(run::judge_reset_answer(answer(0, "")), HasSubstr("no answer: refused"));
}

TEST(CacheStatePure, MaxSessionsIsTheMostUsersOfAMeasuredPhase) {
  scenario::Phase ramp;
  ramp.executor = scenario::ExecutorKind::ramping_vus;
  ramp.start_vus = 2;
  ramp.stages = {{std::chrono::seconds(1), 7}, {std::chrono::seconds(1), 3}};
  EXPECT_EQ(run::max_sessions({iterations(5), ramp}), 7u);
  EXPECT_EQ(run::max_sessions({}), 0u);
}

TEST(CacheStateStages, ResetClearsEveryPodAndVerifiesItCold) {
  Fixture f;
  f.scenario.cache_state.reset = scenario::CacheStateSpec::Reset::api;
  f.up_to_cache_source();
  ASSERT_EQ(run::reset_cache(f.state), run::Next::go_on) << testing::PrintToString(f.report.errors);
  EXPECT_EQ(f.state.detail, "4 pods, cold verified");
  ASSERT_TRUE(f.report.cache_state);
  ASSERT_EQ(f.report.cache_state->reset_pods.size(), 4u);
  for (const auto& pod : f.report.cache_state->reset_pods) {
    EXPECT_EQ(pod.status, 200);
    EXPECT_TRUE(pod.cold) << pod.pod << ": " << pod.problem;
    EXPECT_EQ(pod.probe_hit_tokens, 0u);
    EXPECT_EQ(pod.probe_query_tokens, 38u);  // "llmd cold probe podN" + 34 words: 2 full blocks of 16
  }
  // The reset really cleared what each pod's seed probe had cached (the sim's thread is idle now).
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(f.state.sim->fleet().pod(i).prefix_cache_resets(), 1u);
  }
}

TEST(CacheStateStages, AResetEndpointThatIsMissingIsTheFindingWithTheFixAndTheRunsError) {
  Fixture f;
  f.scenario.sim.pod.dev_mode = false;
  f.scenario.cache_state.reset = scenario::CacheStateSpec::Reset::api;
  f.up_to_cache_source();
  EXPECT_EQ(run::reset_cache(f.state), run::Next::stop);
  EXPECT_EQ(f.state.detail, "4 of 4 pods without the reset endpoint (404)");
  ASSERT_EQ(f.report.diagnostics.size(), 1u);
  EXPECT_EQ(f.report.diagnostics[0].code, "reset_endpoint_missing");
  EXPECT_THAT(f.report.diagnostics[0].message, HasSubstr("vLLM serves /reset_prefix_cache only with VLLM_SERVER_DEV_MODE=1"));
  EXPECT_EQ(f.report.diagnostics[0].fix, "set VLLM_SERVER_DEV_MODE=1 on the vLLM container, or use cache_state.reset: restart");
  ASSERT_EQ(f.report.errors.size(), 1u);
  EXPECT_THAT(f.report.errors[0], HasSubstr("answered 404 on 4 of 4 pods (sim-pod-0, sim-pod-1, sim-pod-2, sim-pod-3)"));
  EXPECT_EQ(run::judge_run(f.state), run::Next::go_on);
  EXPECT_EQ(f.report.verdict, run::Verdict::error);  // exit 3: the run could not be carried out as asked
}

TEST(CacheStateStages, PrimeThenVerifyFindsEachSessionsPrefixResidentOnItsPod) {
  Fixture f;
  f.scenario.request.prompt = scenario::PromptKind::per_session;
  f.scenario.request.prefix_tokens = 100;
  f.scenario.phases = {iterations(3)};
  f.scenario.phases[0].vus = 3;
  f.scenario.sim.route = llmd::sim::RoutePolicy::session;
  f.scenario.cache_state.prime = true;
  f.scenario.cache_state.verify = true;
  f.up_to_cache_source();
  ASSERT_EQ(run::prime_cache(f.state), run::Next::go_on) << testing::PrintToString(f.report.errors);
  EXPECT_EQ(f.state.detail, "3 of 3 prefixes");
  ASSERT_EQ(run::verify_cache(f.state), run::Next::go_on);
  const auto& state = *f.report.cache_state;
  ASSERT_EQ(state.residency.size(), 3u);
  for (const auto& row : state.residency) {
    EXPECT_TRUE(row.resident) << row.prefix << ": " << row.problem;
    EXPECT_EQ(row.probe_tokens, 100u);
    EXPECT_EQ(row.expected_hit_tokens, 96u);
    EXPECT_EQ(row.hit_tokens, 96u);
    EXPECT_THAT(row.pod, testing::StartsWith("sim-pod-"));
  }
  EXPECT_EQ(state.residency[1].prefix, "session 1");
  EXPECT_EQ(state.block_size_tokens, 16u);
  EXPECT_EQ(state.block_size_source, "vllm:cache_config_info");
  EXPECT_THAT(f.state.detail, testing::MatchesRegex("3 of 3 prefixes resident on [1-3] pods?"));
  EXPECT_TRUE(f.report.diagnostics.empty());
}

TEST(CacheStateStages, VerifyNamesThePrefixesAndPodsThatAreNotResidentAndFailsTheRun) {
  Fixture f;
  f.scenario.cache_state.verify = true;  // nothing primed: the shared prefix is nowhere
  f.up_to_cache_source();
  ASSERT_EQ(run::verify_cache(f.state), run::Next::go_on);
  EXPECT_EQ(f.state.detail, "1 of 1 prefixes not resident");
  const auto& row = f.report.cache_state->residency.at(0);
  EXPECT_FALSE(row.resident);
  EXPECT_EQ(row.hit_tokens, 0u);
  EXPECT_EQ(row.expected_hit_tokens, 992u);  // the default 1,000-token prefix
  ASSERT_EQ(f.report.diagnostics.size(), 1u);
  EXPECT_EQ(f.report.diagnostics[0].code, "prefix_not_resident");
  EXPECT_THAT(f.report.diagnostics[0].message,
              testing::MatchesRegex(".*1 of 1 primed prefixes are not resident: shared prefix \\(0 of the expected 992 "
                                    "tokens hit on sim-pod-[0-3]\\).*"));
  EXPECT_EQ(run::judge_run(f.state), run::Next::go_on);
  EXPECT_EQ(f.report.verdict, run::Verdict::fail);  // exit 1
}

TEST(CacheStateStages, PrimeThenVerifyFindsEachPrefixGroupsSystemPromptResident) {
  Fixture f;
  f.scenario.request.prompt = scenario::PromptKind::prefix_groups;
  f.scenario.request.prefix_groups.groups = 3;
  f.scenario.request.prefix_groups.prompts_per_group = 4;
  f.scenario.request.prefix_groups.system_prompt_tokens = scenario::fixed_length(64, 64);
  f.scenario.sim.route = llmd::sim::RoutePolicy::prefix;
  f.scenario.cache_state.prime = true;
  f.scenario.cache_state.verify = true;
  f.up_to_cache_source();
  ASSERT_EQ(run::prime_cache(f.state), run::Next::go_on) << testing::PrintToString(f.report.errors);
  EXPECT_EQ(f.state.detail, "3 of 3 prefixes");
  ASSERT_EQ(f.state.primed.size(), 3u);  // kept for the ideal
  EXPECT_EQ(f.state.primed[2].label, "group 2");
  ASSERT_EQ(run::verify_cache(f.state), run::Next::go_on);
  const auto& state = *f.report.cache_state;
  ASSERT_EQ(state.residency.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& row = state.residency[i];
    EXPECT_EQ(row.prefix, "group " + std::to_string(i));
    EXPECT_TRUE(row.resident) << row.prefix << ": " << row.problem;
    EXPECT_EQ(row.probe_tokens, 64u);
    EXPECT_EQ(row.hit_tokens, 48u);  // 3 full blocks below the last token
  }
  EXPECT_THAT(f.state.detail, testing::MatchesRegex("3 of 3 prefixes resident on [1-3] pods?"));
}

TEST(CacheStateStages, MultiTurnSystemPromptIsNotPrimedAndTheNoteSaysWhy) {
  Fixture f;
  f.scenario.request.api = scenario::ApiKind::chat;
  f.scenario.request.prompt = scenario::PromptKind::multi_turn;
  f.scenario.request.multi_turn.system_prompt_tokens = 100;
  f.scenario.cache_state.prime = true;
  f.up_to_cache_source();
  EXPECT_EQ(run::prime_cache(f.state), run::Next::go_on);
  EXPECT_EQ(f.state.detail, "nothing to prime");
  EXPECT_THAT(f.report.cache_state->prime_note, HasSubstr("its chat system message"));
  EXPECT_TRUE(f.state.primed.empty());
}

TEST(CacheStateStages, KindsWithoutASharedPrefixHaveNothingToPrime) {
  Fixture f;
  f.scenario.request.prompt = scenario::PromptKind::random;
  f.scenario.cache_state.prime = true;
  f.up_to_cache_source();
  EXPECT_EQ(run::prime_cache(f.state), run::Next::go_on);
  EXPECT_EQ(f.state.detail, "nothing to prime");
  EXPECT_EQ(f.report.cache_state->prefixes, 0u);
}

}  // namespace
