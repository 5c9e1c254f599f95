// `cache_state:` end to end: the real binary and its embedded simulator, reset -> prime -> verify ->
// measure, and the reset against pods without dev mode (vLLM without VLLM_SERVER_DEV_MODE=1).
#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "run_test_support.hpp"

using llmd::test::read_json;
using llmd::test::run_bench;
using llmd::test::scratch_dir;
using llmd::test::write_file;
using nlohmann::json;
using testing::HasSubstr;

namespace {

// cache-hit.yaml's workload (20 requests, a 1,000-token shared prefix, 8-token suffixes: 1,008
// tokens each) on 4 pods with prefix routing, after the cache-state stages.
std::string scenario_text(const std::string& sim_extra) {
  return R"(
name: cache-state
requests:
  prompt: {kind: shared-prefix, prefix_tokens: 1000, suffix_tokens: 8}
  max_tokens: 4
load:
  - {name: primed, executor: iterations, iterations: 20, vus: 2}
cache_state:
  reset: api
  prime: true
  verify: true
thresholds:
  cache_hit_rate: [">=0.98"]
sim:
  pods: 4
  route: prefix
  block_size: 16
  timing: {time_scale: 0.01}
)" + sim_extra;
}

}  // namespace

TEST(CacheStateRun, ResetPrimeVerifyThenMeasureGivesTheWorkloadsIdealHitRate) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", scenario_text(""));
  const auto out = run_bench({scenario.string(), "--out", "json=" + (dir / "r.json").string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  const auto result = read_json(dir / "r.json");
  const auto& state = result["cache_state"];
  EXPECT_EQ(state["reset"], "api");
  EXPECT_EQ(state["cold_verified"], true);
  ASSERT_EQ(state["reset_pods"].size(), 4u);
  for (const auto& pod : state["reset_pods"]) {
    EXPECT_EQ(pod["status"], 200) << pod;
    EXPECT_EQ(pod["probe_hit_tokens"], 0) << pod;
    EXPECT_GT(pod["probe_query_tokens"].get<int>(), 32) << pod;
  }
  EXPECT_EQ(state["primed"], 1);
  ASSERT_EQ(state["residency"].size(), 1u);
  const auto& shared = state["residency"][0];
  EXPECT_EQ(shared["prefix"], "shared prefix");
  EXPECT_EQ(shared["probe_tokens"], 1000);
  EXPECT_EQ(shared["expected_hit_tokens"], 992);  // 62 full blocks below the last token
  EXPECT_EQ(shared["hit_tokens"], 992);
  EXPECT_EQ(shared["resident"], true);
  EXPECT_EQ(state["block_size_source"], "vllm:cache_config_info");
  // The ideal for this workload on a primed cache: every request hits the prefix's 62 full blocks,
  // 992 of its 1,008 tokens (98.41%); unprimed, the first request misses and cache-hit.yaml measures 93.5%.
  const auto& totals = result["cache"]["totals"];
  EXPECT_EQ(totals["queries_tokens"], 20 * 1008);
  EXPECT_EQ(totals["hits_tokens"], 20 * 992);
  EXPECT_NEAR(totals["hit_rate"].get<double>(), 992.0 / 1008.0, 1e-9);
  // The ideal starts from the primed cache, so it is that figure too (from an empty cache: 19 x 992).
  const auto& ideal = result["ideal_hit_rate"];
  EXPECT_EQ(ideal["hit_tokens"], 20 * 992);
  EXPECT_EQ(ideal["initial_cache"]["state"], "primed");
  EXPECT_EQ(ideal["initial_cache"]["blocks"], 62);
  EXPECT_THAT(out.out, HasSubstr("workload allows 98.4%, measured 98.4% (ideal: 20 measured requests from a cache "
                                 "holding the 1 primed prefix (62 full blocks; reset: api before the priming)"));
  std::vector<std::string> stages;
  for (const auto& stage : result["stages"]) {
    stages.push_back(stage["name"]);
  }
  EXPECT_THAT(stages, testing::IsSupersetOf({"reset", "prime", "verify"}));
  EXPECT_THAT(out.out, HasSubstr("4 pods, cold verified"));
  EXPECT_THAT(out.out, HasSubstr("1 of 1 prefix resident on 1 pod"));
  EXPECT_THAT(out.out, HasSubstr("cache state before the measured loop (reset api, prime, verify)"));
}

TEST(CacheStateRun, AResetAgainstPodsWithoutDevModeIsTheFindingWithTheFixAndExit3) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", scenario_text("  dev_mode: false\n"));
  const auto out = run_bench({scenario.string(), "--out", "json=" + (dir / "r.json").string()});
  EXPECT_EQ(out.exit_code, 3) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("[reset_endpoint_missing]"));
  EXPECT_THAT(out.out, HasSubstr("answered 404 on 4 of 4 pods (sim-pod-0, sim-pod-1, sim-pod-2, sim-pod-3)"));
  EXPECT_THAT(out.out, HasSubstr("fix: set VLLM_SERVER_DEV_MODE=1 on the vLLM container, or use cache_state.reset: restart"));
  const auto result = read_json(dir / "r.json");
  EXPECT_EQ(result["verdict"], "error");
  EXPECT_EQ(result["exit_code"], 3);
  EXPECT_TRUE(result["run"].is_null()) << "nothing was measured";
  EXPECT_EQ(result["cache_state"]["cold_verified"], false);
  EXPECT_EQ(result["cache_state"]["reset_pods"][0]["status"], 404);
  EXPECT_EQ(result["diagnostics"][0]["code"], "reset_endpoint_missing");
}
