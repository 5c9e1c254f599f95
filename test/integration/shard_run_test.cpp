// `run --shard i/N` and `--start-at` (issue 16): shards of one scenario against one shared simulator,
// started together, each writing a shard result that judges nothing.
#include <chrono>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/run_test_support.hpp"
#include "util/instant.hpp"

namespace llmd::test {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

// 10 iterations shared by 4 users, a threshold that would fail (no request may succeed).
std::filesystem::path shardable_scenario(const std::filesystem::path& dir) {
  return write_file(dir / "shards.yaml", R"(
requests:
  prompt: {kind: shared-prefix, prefix_tokens: 100, suffix_tokens: 4}
  max_tokens: 4
load:
  - {name: loop, executor: iterations, iterations: 10, vus: 4}
thresholds:
  http_req_failed: ["rate>0.5"]
)");
}

TEST(ShardRun, TwoShardsStartTogetherRunTheirSlicesAndJudgeNothing) {
  const auto dir = scratch_dir();
  SimProcess sim({"--pods", "2", "--time-scale", "0.05"});
  const auto scenario = shardable_scenario(dir);
  const auto start = std::chrono::system_clock::now() + 2s;
  const std::string start_at =
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(start.time_since_epoch()).count() / 1000.0);
  std::vector<std::unique_ptr<ChildProcess>> shards;
  for (int i = 0; i < 2; ++i) {
    shards.push_back(std::make_unique<ChildProcess>(std::vector<std::string>{
        LLMD_BENCH_BINARY, "run", scenario.string(), "--target", sim.gateway(), "-q", "--shard", std::to_string(i) + "/2",
        "--start-at", start_at, "--out", "json=" + (dir / ("shard" + std::to_string(i) + ".json")).string()}));
  }
  std::uint64_t ok = 0;
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(shards[i]->wait(60s), 0) << shards[i]->stderr_text();
    EXPECT_THAT(shards[i]->stdout_text() + shards[i]->stderr_text(),
                HasSubstr("verdict: NOT JUDGED (shard " + std::to_string(i) + "/2: `llmd-bench merge` judges"));
    const auto result = read_json(dir / ("shard" + std::to_string(i) + ".json"));
    EXPECT_EQ(result["verdict"], "not_judged");
    EXPECT_EQ(result["exit_code"], 0);
    EXPECT_EQ(result["shard"]["index"], i);
    EXPECT_EQ(result["shard"]["count"], 2);
    EXPECT_EQ(result["shard"]["origin"], "--shard");
    EXPECT_TRUE(result["thresholds"].empty());
    EXPECT_GT(result["start_at"]["waited_s"].get<double>(), 0.3);  // both were ready well before the instant
    EXPECT_LT(result["start_at"]["late_s"].get<double>(), 0.5);
    const auto& phase = result["run"]["phases"][0];
    EXPECT_EQ(phase["summary"]["iterations_target"], 5);  // 10 iterations, 5 each
    ok += phase_total(result)["counts"]["ok"].get<std::uint64_t>();
    // The measured loop started at the instant (the run's clock starts with its load).
    const auto started = util::parse_instant(result["run"]["started_at"].get<std::string>());
    ASSERT_TRUE(started) << started.error();
    EXPECT_LT(std::chrono::abs(*started - start), 300ms) << result["run"]["started_at"];
  }
  EXPECT_EQ(ok, 10u);
}

TEST(ShardRun, AnIndexedJobPodFindsItsShardAndAPastStartIsAWarning) {
  const auto dir = scratch_dir();
  SimProcess sim({"--pods", "2", "--time-scale", "0.05"});
  const auto json = dir / "job.json";
  ::setenv("JOB_COMPLETION_INDEX", "1", 1);
  auto out = run_bench({shardable_scenario(dir).string(), "--target", sim.gateway(), "-q", "--shards", "2", "--start-at",
                        "2020-01-01T00:00:00Z", "--out", "json=" + json.string()});
  ::unsetenv("JOB_COMPLETION_INDEX");
  ASSERT_EQ(out.exit_code, 0) << out.err;
  const auto result = read_json(json);
  EXPECT_EQ(result["shard"]["index"], 1);
  EXPECT_EQ(result["shard"]["origin"], "JOB_COMPLETION_INDEX with --shards");
  EXPECT_EQ(result["start_at"]["at"], "2020-01-01T00:00:00.000Z");
  ASSERT_FALSE(result["diagnostics"].empty());
  EXPECT_EQ(result["diagnostics"][0]["code"], "start_at_late");
}

TEST(ShardRun, WhatAShardCannotDoIsAUsageErrorBeforeAnythingStarts) {
  const auto dir = scratch_dir();
  const auto scenario = shardable_scenario(dir);
  auto no_target = run_bench({scenario.string(), "-q", "--shard", "0/2"});
  EXPECT_EQ(no_target.exit_code, 2);
  EXPECT_THAT(no_target.err, HasSubstr("shard 0/2: no target (--target or target.base_url)"));
  auto too_many = run_bench({scenario.string(), "-q", "--target", "http://127.0.0.1:1", "--shard", "5/8"});
  EXPECT_EQ(too_many.exit_code, 2);
  EXPECT_THAT(too_many.err, HasSubstr("iterations with vus 4 cannot be split 8 ways: slice 5/8 would have iterations and no user"));
  auto bad = run_bench({scenario.string(), "-q", "--target", "http://127.0.0.1:1", "--shard", "2/2"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("--shard: \"2/2\": INDEX must be below COUNT"));
  auto start = run_bench({scenario.string(), "-q", "--start-at", "tomorrow"});
  EXPECT_EQ(start.exit_code, 2);
  EXPECT_THAT(start.err, HasSubstr("--start-at: \"tomorrow\" is not an instant"));
}

TEST(ShardRun, NoGatesJudgesNothingWithoutAShard) {
  const auto dir = scratch_dir();
  const auto json = dir / "r.json";
  auto out = run_bench({shardable_scenario(dir).string(), "-q", "--no-gates", "--out", "json=" + json.string()});
  ASSERT_EQ(out.exit_code, 0) << out.err;  // the threshold would fail the run
  EXPECT_THAT(out.out + out.err, HasSubstr("verdict: NOT JUDGED (--no-gates)"));
  const auto result = read_json(json);
  EXPECT_EQ(result["verdict"], "not_judged");
  EXPECT_TRUE(result["shard"].is_null());
}

}  // namespace
}  // namespace llmd::test
