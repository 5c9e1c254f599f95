// scenarios/routing.yaml against the embedded simulator: the gateway names the serving pod in
// x-gateway-destination-endpoint-served, and the run's routing report turns that into affinity,
// pod switches, load imbalance and routing efficiency. Prefix-aware routing keeps every group on
// one pod; round-robin spreads each group over the fleet; a gateway that does not tell leaves the
// per-request figures uncomputed, with the reason, instead of inventing them.
#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/run_test_support.hpp"

using llmd::test::read_json;
using llmd::test::scratch_dir;
using nlohmann::json;
using testing::HasSubstr;

namespace {

struct Routed {
  json result;
  std::string out;
  int exit_code = -1;
};

Routed run_routing(const std::vector<std::string>& extra, const std::string& scenario = "") {
  // A scenario written by the test lives in its scratch dir already (scratch_dir() would empty it).
  const auto dir = scenario.empty() ? scratch_dir() : std::filesystem::path(scenario).parent_path();
  std::vector<std::string> args = {scenario.empty() ? std::string(LLMD_SOURCE_DIR) + "/scenarios/routing.yaml" : scenario,
                                    "-q", "--sim-time-scale", "0.1", "--out", "json=" + (dir / "r.json").string()};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto out = llmd::test::run_bench(args);
  Routed routed{read_json(dir / "r.json"), out.out + out.err, out.exit_code};
  return routed;
}

// Every group's requests counted by hand from the JSON: they add up to the requests, and each
// group's affinity is its top pod's share.
void expect_consistent(const json& routing, std::uint64_t requests) {
  std::uint64_t grouped = 0;
  std::uint64_t per_pod = 0;
  for (const auto& group : routing["groups"]) {
    grouped += group["requests"].get<std::uint64_t>();
    EXPECT_GE(group["affinity"].get<double>(), 1.0 / 4 - 1e-9) << group;  // at most 4 pods
  }
  for (const auto& pod : routing["pods"]) {
    per_pod += pod["requests"].get<std::uint64_t>();
    EXPECT_TRUE(pod["mapped"].get<bool>()) << pod;  // 127.0.0.1:port is a cache URL's host:port
    EXPECT_THAT(pod["pod"].get<std::string>(), testing::StartsWith("sim-pod-"));
  }
  EXPECT_EQ(grouped, requests);
  EXPECT_EQ(per_pod, requests);
  EXPECT_EQ(routing["attributed"], requests);
  EXPECT_EQ(routing["unattributed"], 0);
  EXPECT_EQ(routing["headers_seen"]["x-gateway-destination-endpoint-served"], requests);
}

// A small prefix-groups run (16 requests, 4 groups) on 2 pods, with these thresholds and sim keys.
std::string small_scenario(const std::string& thresholds, const std::string& sim) {
  return "requests:\n"
         "  prompt: {kind: prefix-groups, groups: 4, prompts_per_group: 4, system_prompt_tokens: 64, question_tokens: 8}\n"
         "  max_tokens: 4\n"
         "load:\n"
         "  - {executor: iterations, iterations: 16, vus: 4}\n"
         "thresholds:\n" + thresholds + "sim: {pods: 2, " + sim + "}\n";
}

void print_table(const char* route, const Routed& run) {
  const auto start = run.out.find("\nrouting (");
  const auto end = run.out.find("\n\n", start + 1);
  std::printf("route %s:%s\n", route, run.out.substr(start, end - start).c_str());
}

}  // namespace

TEST(RoutingRun, PrefixRoutingKeepsEveryGroupOnOnePodAndReachesTheIdeal) {
  const Routed run = run_routing({});
  ASSERT_EQ(run.exit_code, 0) << run.out;
  print_table("prefix", run);
  const json& routing = run.result["routing"];
  expect_consistent(routing, 128);
  ASSERT_EQ(routing["groups"].size(), 8u);
  for (const auto& group : routing["groups"]) {
    EXPECT_GE(group["affinity"].get<double>(), 0.95) << group;
  }
  EXPECT_GE(routing["affinity"]["p10"].get<double>(), 0.95);
  EXPECT_GE(routing["efficiency"]["ratio"].get<double>(), 0.95);
  EXPECT_DOUBLE_EQ(routing["efficiency"]["measured_hit_rate"].get<double>(),
                   run.result["cache"]["totals"]["hit_rate"].get<double>());
  EXPECT_DOUBLE_EQ(routing["efficiency"]["ideal_hit_rate"].get<double>(), run.result["ideal_hit_rate"]["rate"].get<double>());
  EXPECT_EQ(routing["pods"].size(), 4u);  // every scraped pod has a row, idle or not
  EXPECT_THAT(run.out, HasSubstr("affinity: p10 1.00"));
  EXPECT_THAT(run.out, HasSubstr("routing efficiency: "));
  // Per-pod latencies are real numbers from the attributed requests.
  for (const auto& pod : routing["pods"]) {
    if (pod["requests"].get<int>() > 0) {
      EXPECT_GT(pod["ttft_seconds"]["p50"].get<double>(), 0) << pod;
      EXPECT_GT(pod["output_tokens_per_second"].get<double>(), 0) << pod;
    }
  }
  for (const auto& threshold : run.result["thresholds"]) {
    if (threshold["metric"] == "affinity" || threshold["metric"] == "routing_efficiency") {
      EXPECT_EQ(threshold["passed"], true) << threshold;
    }
  }
}

TEST(RoutingRun, RoundRobinSpreadsEachGroupAndLowersAffinityAndEfficiency) {
  const Routed prefix = run_routing({});
  const Routed spread = run_routing({"--sim-route", "round-robin"});
  EXPECT_EQ(spread.exit_code, 1) << spread.out;  // the affinity and efficiency thresholds fail
  print_table("round-robin", spread);
  const json& routing = spread.result["routing"];
  expect_consistent(routing, 128);
  // 16 requests of a group over 4 pods in turn: a group's top pod holds well under half of them.
  EXPECT_LT(routing["affinity"]["mean"].get<double>(), 0.5);
  EXPECT_GT(routing["pod_switches"]["total"].get<int>(), 8 * 8);
  EXPECT_LT(routing["efficiency"]["ratio"].get<double>(), prefix.result["routing"]["efficiency"]["ratio"].get<double>() - 0.1);
  // Round-robin splits the requests evenly whatever the prompts: the imbalance is ~0.
  EXPECT_LT(routing["load_imbalance"]["cv"].get<double>(), 0.05);
  EXPECT_THAT(spread.out, HasSubstr("worst affinity: group "));
  bool affinity_failed = false;
  for (const auto& threshold : spread.result["thresholds"]) {
    affinity_failed = affinity_failed || (threshold["metric"] == "affinity" && threshold["passed"] == false);
  }
  EXPECT_TRUE(affinity_failed);
}

TEST(RoutingRun, WithoutTheHeaderItSaysWhatItCouldNotComputeAndTheThresholdsFailForNoData) {
  const auto dir = scratch_dir();
  const auto scenario = llmd::test::write_file(
      dir / "no-header.yaml",
      small_scenario("  affinity: [\"p(10)>=0.9\"]\n  'ttft{pod:sim-pod-0}': [\"p(95)<10s\"]\n", "endpoint_header: false"));
  const Routed run = run_routing({}, scenario.string());
  EXPECT_EQ(run.exit_code, 1) << run.out;
  const json& routing = run.result["routing"];
  EXPECT_EQ(routing["attributed"], 0);
  EXPECT_EQ(routing["unattributed"], 16);
  EXPECT_TRUE(routing["pods"].empty());
  EXPECT_TRUE(routing["groups"].empty());
  EXPECT_TRUE(routing["affinity"]["p10"].is_null());
  EXPECT_TRUE(routing["sent_away"].is_null());
  // The imbalance comes from the pods' request counters instead, and says so.
  EXPECT_EQ(routing["load_imbalance"]["source"], "pods' vllm:request_success_total");
  EXPECT_THAT(run.out, HasSubstr("not computed: per-pod latency, errors and tokens/s: none of the 16 responses carried a "
                                 "served-by header (tried: x-gateway-destination-endpoint-served, "
                                 "x-gateway-destination-endpoint, x-served-by)"));
  EXPECT_THAT(run.out, HasSubstr("not computed: affinity, pod switches and requests sent away"));
  for (const auto& threshold : run.result["thresholds"]) {
    EXPECT_EQ(threshold["passed"], false) << threshold;
    EXPECT_EQ(threshold["reason"], "no data") << threshold;
  }
}

TEST(RoutingRun, APodTagThresholdJudgesOnlyThatPodsRequests) {
  const auto dir = scratch_dir();
  const auto scenario = llmd::test::write_file(
      dir / "pod-tag.yaml",
      small_scenario("  'ttft{pod:sim-pod-0}': [\"p(95)<30s\"]\n  'ttft{pod:sim-pod-9}': [\"p(95)<30s\"]\n", "route: round-robin"));
  const Routed run = run_routing({}, scenario.string());
  EXPECT_EQ(run.exit_code, 1) << run.out;  // sim-pod-9 does not exist: no data
  ASSERT_EQ(run.result["thresholds"].size(), 2u);
  EXPECT_EQ(run.result["thresholds"][0]["name"], "ttft{pod:sim-pod-0}");
  EXPECT_EQ(run.result["thresholds"][0]["passed"], true) << run.result["thresholds"][0];
  EXPECT_GT(run.result["thresholds"][0]["observed"].get<double>(), 0);
  EXPECT_EQ(run.result["thresholds"][1]["reason"], "no data");
}
