// scenarios/prefix-groups.yaml against the embedded simulator: the measured hit rate next to what
// the workload allows (the ideal), with prefix-aware and with random routing.
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

struct Rates {
  double ideal = 0;
  double measured = 0;
};

Rates run_prefix_groups(const std::string& route, int expected_exit) {
  const auto dir = scratch_dir();
  const auto out = llmd::test::run_bench({std::string(LLMD_SOURCE_DIR) + "/scenarios/prefix-groups.yaml", "-q",
                                          "--sim-time-scale", "0.1", "--sim-route", route, "--out",
                                          "json=" + (dir / "r.json").string()});
  EXPECT_EQ(out.exit_code, expected_exit) << out.out << out.err;
  const json result = read_json(dir / "r.json");
  const json& ideal = result["ideal_hit_rate"];
  EXPECT_EQ(ideal["requests"], 128);
  EXPECT_EQ(ideal["prompt_tokens"], 128 * 2032);
  EXPECT_EQ(ideal["hit_tokens"], 120 * 2000);  // 8 first requests miss, 120 reuse 125 blocks
  EXPECT_EQ(ideal["block_size_source"], "sim.block_size");
  Rates rates{ideal["rate"].get<double>(), result["cache"]["totals"]["hit_rate"].get<double>()};
  EXPECT_THAT(out.out, HasSubstr(fmt::format("workload allows {:.1f}%, measured {:.1f}%", rates.ideal * 100,
                                             rates.measured * 100)));
  std::printf("route %s: workload allows %.2f%%, measured %.2f%%\n", route.c_str(), rates.ideal * 100,
              rates.measured * 100);
  return rates;
}

TEST(PrefixGroupsRun, PrefixRoutingReachesTheIdealHitRateAndRandomRoutingClearlyDoesNot) {
  const Rates prefix = run_prefix_groups("prefix", 0);
  EXPECT_DOUBLE_EQ(prefix.ideal, 120.0 * 2000 / (128 * 2032));  // 92.27%
  EXPECT_NEAR(prefix.measured, prefix.ideal, 0.01);
  const Rates random = run_prefix_groups("random", 1);
  EXPECT_DOUBLE_EQ(random.ideal, prefix.ideal);  // the workload does not depend on the routing
  EXPECT_LT(random.measured, random.ideal - 0.05);
}

}  // namespace
