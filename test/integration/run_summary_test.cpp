// The summary's figures end to end: the real binary against the embedded simulator, checked in the
// JSON result and in the text summary (input / total tokens, TPOT, ITL p99, peak concurrency, the
// rate an open-loop phase achieved, an iterations phase cut by max_duration, the warm-up's result).
#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/run_test_support.hpp"

using llmd::test::read_json;
using llmd::test::run_bench;
using llmd::test::scratch_dir;
using llmd::test::write_file;
using testing::ContainsRegex;
using testing::HasSubstr;

namespace {

// The simulator's chat-less completions: 6 output tokens, 10 ms apart scaled by 0.2 (2 ms).
constexpr const char* k_scenario = R"(
requests:
  prompt: {kind: shared-prefix, prefix_tokens: 64, suffix_tokens: 4}
  max_tokens: 6
warmup: {name: warm, executor: iterations, iterations: 3, vus: 1}
load:
  - {name: arrivals, executor: constant-arrival-rate, rate: 20, duration: 1s, max_in_flight: 10}
  - {name: capped, executor: iterations, iterations: 500, vus: 1, max_duration: 300ms, start_time: 1s}
sim: {timing: {time_scale: 0.2}}
)";

}  // namespace

TEST(RunSummary, JsonAndTextCarryTheVllmFiguresRateIterationsAndWarmup) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", k_scenario);
  auto out = run_bench({scenario.string(), "-q", "--out", "json=" + (dir / "r.json").string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  const auto result = read_json(dir / "r.json");
  const auto& arrivals = result["run"]["phases"][0];
  const auto& capped = result["run"]["phases"][1];
  const auto& s = arrivals["summary"];
  // 20/s for 1 s: 20 arrivals, none dropped (10 may be in flight, a request takes ~15 ms).
  EXPECT_EQ(arrivals["counts"]["started"], 20);
  EXPECT_DOUBLE_EQ(s["target_rate_per_second"].get<double>(), 20.0);
  EXPECT_DOUBLE_EQ(s["achieved_rate_per_second"].get<double>(), 20.0);
  EXPECT_TRUE(s["iterations_target"].is_null());
  // usage.prompt_tokens of each of the 20 responses: 64 + 4 prompt tokens (the sim's tokenizer).
  EXPECT_EQ(s["input_tokens_responses"], 20);
  EXPECT_EQ(s["input_tokens_total"], arrivals["counts"]["ok"].get<int>() * 68);
  const double wall = arrivals["wall_duration_ns"].get<double>() * 1e-9;
  EXPECT_NEAR(s["total_tokens_per_second"].get<double>(), (20 * 68 + 20 * 6) / wall, 0.01);
  EXPECT_NEAR(s["output_tokens_per_second"].get<double>(), 20 * 6 / wall, 0.01);
  // TPOT of 6-token streams: (e2e - ttft) / 5, one per request, mean/p50/p90/p99 in seconds.
  EXPECT_EQ(arrivals["metrics"]["tpot_ns"]["summary"]["count"], 20);
  for (const char* key : {"mean", "p50", "p90", "p99"}) {
    EXPECT_GT(s["tpot_seconds"][key].get<double>(), 0.0) << key;
    EXPECT_LT(s["tpot_seconds"][key].get<double>(), 1.0) << key;
  }
  EXPECT_GT(s["itl_p99_seconds"].get<double>(), 0.0);
  EXPECT_GE(s["peak_concurrency_requests"].get<int>(), 1);
  EXPECT_LE(s["peak_concurrency_requests"].get<int>(), 10);
  // One user, ~15 ms a request, 300 ms: far fewer than 500 iterations.
  const int capped_started = capped["counts"]["started"].get<int>();
  EXPECT_GT(capped_started, 0);
  EXPECT_LT(capped_started, 500);
  EXPECT_EQ(capped["summary"]["iterations_target"], 500);
  EXPECT_EQ(capped["summary"]["max_duration_reached"], true);
  EXPECT_TRUE(capped["summary"]["target_rate_per_second"].is_null());
  EXPECT_EQ(result["warmup"]["phases"][0]["counts"]["ok"], 3);

  EXPECT_THAT(out.out, HasSubstr("warm-up warm (not measured): 3 requests, ok 3, failed 0\n"));
  EXPECT_THAT(out.out, HasSubstr("rate ............: 20.0/s target, 20.0/s achieved, 0 dropped\n"));
  EXPECT_THAT(out.out, HasSubstr("iterations ......: " + std::to_string(capped_started) +
                                 "/500 iterations, max_duration reached\n"));
  EXPECT_THAT(out.out, ContainsRegex("tpot \\.+: p50 +[0-9.]+ms  p90 +[0-9.]+ms  p99 +[0-9.]+ms  avg"));
  EXPECT_THAT(out.out, ContainsRegex("inter-token \\.+: p50 .* p90 .* p95 .* p99 .* avg"));
  EXPECT_THAT(out.out, HasSubstr("input tokens ....: 1360 total (usage.prompt_tokens of 20 ok responses)\n"));
  EXPECT_THAT(out.out, ContainsRegex("total tokens \\.+: 1480 \\(input \\+ output\\), [0-9.]+ tokens/s"));
  EXPECT_THAT(out.out, ContainsRegex("concurrency \\.+: peak [0-9]+ in flight"));
}

// Every warm-up request failed (the server answers 500): the warm-up line says so with the top
// failure class, and a warmup_failed warning is in the diagnostics of both outputs.
TEST(RunSummary, AWarmupInWhichEveryRequestFailedIsShownAndWarned) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", k_scenario);
  auto out = run_bench({scenario.string(), "-q", "--sim-error-rate", "1", "--out", "json=" + (dir / "r.json").string()});
  EXPECT_EQ(out.exit_code, 1) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("warm-up warm (not measured): 3 requests, ok 0, failed 3 (most: http_status 3)\n"));
  EXPECT_THAT(out.out, HasSubstr("! [warmup_failed] every one of the 3 warm-up requests failed"));
  const auto result = read_json(dir / "r.json");
  bool warned = false;
  for (const auto& d : result["diagnostics"]) {
    warned = warned || (d["code"] == "warmup_failed" && d["severity"] == "warning");
  }
  EXPECT_TRUE(warned) << result["diagnostics"].dump();
}
