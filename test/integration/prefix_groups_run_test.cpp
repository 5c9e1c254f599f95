// scenarios/prefix-groups.yaml against the embedded simulator: reset -> prime -> verify -> measure,
// then the measured hit rate next to what the workload allows (the ideal) from the primed cache,
// with prefix-aware and with random routing. Both numbers are read from the printed summary line
// "workload allows X%, measured Y%" and checked against the JSON result and a count by hand.
#include <cstdio>
#include <regex>

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

struct Rates {
  double ideal = 0;     // printed, in percent
  double measured = 0;  // printed, in percent
  json result;
  std::string out;
};

Rates run_prefix_groups(const std::string& route, int expected_exit) {
  const auto dir = scratch_dir();
  const auto out = llmd::test::run_bench({std::string(LLMD_SOURCE_DIR) + "/scenarios/prefix-groups.yaml", "-q",
                                          "--sim-time-scale", "0.1", "--sim-route", route, "--out",
                                          "json=" + (dir / "r.json").string()});
  EXPECT_EQ(out.exit_code, expected_exit) << out.out << out.err;
  Rates rates;
  rates.out = out.out;
  rates.result = read_json(dir / "r.json");
  std::smatch line;
  static const std::regex k_line(R"(workload allows ([0-9.]+)%, measured ([0-9.]+)% \(ideal: ([^\n]*))");
  EXPECT_TRUE(std::regex_search(out.out, line, k_line)) << out.out;
  if (line.size() == 4) {
    rates.ideal = std::stod(line[1]);
    rates.measured = std::stod(line[2]);
    EXPECT_THAT(line[3].str(), testing::StartsWith("128 measured requests from a cache holding the 8 primed prefixes "
                                                   "(1000 full blocks; reset: api before the priming)"));
  }
  std::printf("route %s: workload allows %.1f%%, measured %.1f%%\n", route.c_str(), rates.ideal, rates.measured);
  return rates;
}

void expect_primed_ideal(const Rates& rates) {
  // Every request (2,000 system + 32 question tokens) hits its primed group's 125 blocks: 98.43%.
  const json& ideal = rates.result["ideal_hit_rate"];
  EXPECT_EQ(ideal["requests"], 128);
  EXPECT_EQ(ideal["prompt_tokens"], 128 * 2032);
  EXPECT_EQ(ideal["hit_tokens"], 128 * 2000);
  EXPECT_DOUBLE_EQ(ideal["rate"].get<double>(), 2000.0 / 2032);
  EXPECT_EQ(ideal["initial_cache"], (json{{"state", "primed"}, {"primed_prefixes", 8}, {"blocks", 1000}, {"reset", "api"}}));
  EXPECT_NEAR(rates.ideal, 100.0 * 2000 / 2032, 0.05);  // printed with one decimal
  EXPECT_NEAR(rates.measured, rates.result["cache"]["totals"]["hit_rate"].get<double>() * 100, 0.05);
  const json& state = rates.result["cache_state"];
  EXPECT_EQ(state["cold_verified"], true);
  EXPECT_EQ(state["primed"], 8);
  EXPECT_EQ(state["prefixes"], 8);
  EXPECT_EQ(state["residency"].size(), 8u);
}

}  // namespace

TEST(PrefixGroupsRun, PrimedPrefixRoutingReachesTheIdealHitRateAndRandomRoutingClearlyDoesNot) {
  const Rates prefix = run_prefix_groups("prefix", 0);
  expect_primed_ideal(prefix);
  EXPECT_NEAR(prefix.measured, prefix.ideal, 1.0);  // within 1 percentage point
  for (const auto& row : prefix.result["cache_state"]["residency"]) {
    EXPECT_EQ(row["resident"], true) << row;
    EXPECT_EQ(row["hit_tokens"], 1984) << row;  // 124 full blocks below the probe's last token
  }
  EXPECT_THAT(prefix.out, HasSubstr("4 pods, cold verified"));

  const Rates random = run_prefix_groups("random", 1);
  expect_primed_ideal(random);                             // the workload does not depend on the routing
  EXPECT_LT(random.measured, random.ideal - 5.0);          // clearly lower: at least 5 pp below
  EXPECT_THAT(random.out, HasSubstr("verdict: FAIL"));
  EXPECT_THAT(random.out, HasSubstr("failed: cache_hit_rate >=0.95"));
}
