// `run --threads N` / scenario `engine.threads` (issue 16 item 1) with the real binary against the
// embedded simulator: the cache-hit job on two event loops gives the same counts, gates and
// per-request log as on one, the report shows each loop, and a phase that cannot be split that
// many ways is a usage error before anything starts.
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/run_test_support.hpp"

namespace llmd::test {
namespace {

using ::testing::HasSubstr;

std::size_t lines_of(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::size_t lines = 0;
  for (std::string line; std::getline(in, line);) {
    ++lines;
  }
  return lines;
}

TEST(ThreadsRun, TheCacheHitJobOnTwoLoopsCountsAndJudgesAsOnOne) {
  const auto dir = scratch_dir();
  const auto out = run_bench({std::string(LLMD_SOURCE_DIR) + "/scenarios/cache-hit.yaml", "--threads", "2", "--out",
                              "json=" + (dir / "r.json").string(), "--out", "csv=" + (dir / "r.csv").string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("event loops (2 threads)"));
  EXPECT_THAT(out.out, HasSubstr("thread 0"));
  EXPECT_THAT(out.out, HasSubstr("thread 1"));
  EXPECT_THAT(out.out, HasSubstr("worst loop ......: thread "));
  const auto result = read_json(dir / "r.json");
  EXPECT_EQ(result["verdict"], "pass");
  EXPECT_EQ(result["scenario"]["engine"]["threads"], 2);
  const auto& total = phase_total(result);
  EXPECT_EQ(total["counts"]["started"], 20);
  EXPECT_EQ(total["counts"]["ok"], 20);
  EXPECT_EQ(result["run"]["phases"][0]["summary"]["iterations_target"], 20);
  const auto& threads = result["run"]["threads"];
  ASSERT_EQ(threads.size(), 2u);
  EXPECT_EQ(threads[0]["started"], 10);  // user k on loop k mod 2: 10 iterations each
  EXPECT_EQ(threads[1]["started"], 10);
  EXPECT_GT(threads[0]["event_loop_lag_ns"]["summary"]["count"].get<std::uint64_t>(), 0u);
  // The client's CPU: each loop's, and the run's (the loops' plus the coordinating thread's), on the
  // summary's cpu line; never more than the threads could have used over the run's wall time.
  const auto cpu_ns = [](const nlohmann::json& cpu) {
    return cpu["user_ns"].get<std::int64_t>() + cpu["system_ns"].get<std::int64_t>();
  };
  const std::int64_t loops = cpu_ns(threads[0]["cpu"]) + cpu_ns(threads[1]["cpu"]);
  const std::int64_t client = cpu_ns(result["run"]["client_cpu"]);
  EXPECT_GT(cpu_ns(threads[0]["cpu"]), 0);
  EXPECT_GT(cpu_ns(threads[1]["cpu"]), 0);
  EXPECT_GE(client, loops);
  EXPECT_LE(client, 3 * total["wall_duration_ns"].get<std::int64_t>());
  EXPECT_THAT(out.out, HasSubstr("cpu:      the client used "));
  EXPECT_THAT(out.out, HasSubstr(" per request, "));
  EXPECT_THAT(out.out, testing::ContainsRegex("thread 1 [.]+: 10 requests started, 10 ended; loop lag [^\n]*; CPU [0-9.]+(us|ms|s)\n"));
  // The routing report attributes every request of both loops to a pod.
  std::uint64_t routed = 0;
  for (const auto& pod : result["routing"]["pods"]) {
    routed += pod["requests"].get<std::uint64_t>();
  }
  EXPECT_EQ(routed, 20u) << result["routing"].dump();
  EXPECT_EQ(lines_of(dir / "r.csv"), 21u) << "a header and one row per request, from both loops";
}

TEST(ThreadsRun, TheScenarioKeyAndTheFlagOverridingIt) {
  const auto dir = scratch_dir();
  const auto scenario = shared_prefix_scenario(dir, "300ms", "engine: {threads: 2}\n");
  auto out = run_bench({scenario.string(), "-q", "--out", "json=" + (dir / "two.json").string()});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(read_json(dir / "two.json")["run"]["threads"].size(), 2u);
  out = run_bench({scenario.string(), "-q", "--threads", "1", "--out", "json=" + (dir / "one.json").string()});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  const auto one = read_json(dir / "one.json");
  EXPECT_TRUE(one["run"]["threads"].empty());
  EXPECT_EQ(one["scenario"]["engine"]["threads"], 1);
}

TEST(ThreadsRun, APhaseThatCannotBeSplitIsAUsageErrorBeforeAnythingStarts) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", R"(
requests: {prompt: {kind: fixed, text: "hello"}, max_tokens: 4}
load:
  - {name: one-user, executor: iterations, iterations: 10, vus: 1}
)");
  auto out = run_bench({scenario.string(), "-q", "--threads", "2"});
  EXPECT_EQ(out.exit_code, 2) << out.out << out.err;
  EXPECT_THAT(out.err, HasSubstr("--threads: threads 2: phase \"one-user\""));
  EXPECT_THAT(out.err, HasSubstr("use vus >= 2 or fewer shards/threads"));
  EXPECT_THAT(out.err, ::testing::Not(HasSubstr("simulator started")));
  out = run_bench({scenario.string(), "-q", "--threads", "0"});
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.err, HasSubstr("--threads: must be >= 1, got 0"));
}

}  // namespace
}  // namespace llmd::test
