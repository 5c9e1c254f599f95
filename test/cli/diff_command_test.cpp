// `llmd-bench diff BEFORE AFTER`: the real binary on saved dumps of every vLLM metrics flavor,
// with and without counter resets, and the --gate exit codes.
#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/cli_test_support.hpp"

namespace fs = std::filesystem;
using llmd::sim::MetricsFlavor;
using llmd::test::bench;
using llmd::test::scratch_dir;
using llmd::test::write_dump;
using nlohmann::json;
using testing::HasSubstr;

namespace {

struct Snapshots {
  fs::path before;
  fs::path after;
};

// decode-0 (v0.11): 1000/600 -> 3000/2400; decode-1 (v0.10): 500/100 -> 1500/600. Run: 3000 queries,
// 2300 hits (76.7%); decode-0 holds 2000 of them (66.7%).
Snapshots two_v1_pods(const fs::path& dir) {
  write_dump(dir / "before", "decode-0", {1000, 600, 10}, MetricsFlavor::v0_11);
  write_dump(dir / "before", "decode-1", {500, 100, 5}, MetricsFlavor::v0_10);
  write_dump(dir / "after", "decode-0", {3000, 2400, 30}, MetricsFlavor::v0_11);
  write_dump(dir / "after", "decode-1", {1500, 600, 15}, MetricsFlavor::v0_10);
  return {dir / "before", dir / "after"};
}

const json& row(const json& report, const std::string& pod) {
  for (const auto& r : report["pods"]) {
    if (r["pod"] == pod) {
      return r;
    }
  }
  ADD_FAILURE() << "no pod " << pod;
  static const json k_null;
  return k_null;
}

}  // namespace

TEST(DiffCommand, ComputesTheReportOfTwoFoldersOfV1Dumps) {
  const auto s = two_v1_pods(scratch_dir());
  auto out = bench({"diff", s.before.string(), s.after.string(), "--json"});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  const auto report = json::parse(out.out);
  EXPECT_EQ(report["totals"]["queries_tokens"], 3000);
  EXPECT_EQ(report["totals"]["hits_tokens"], 2300);
  EXPECT_DOUBLE_EQ(report["totals"]["hit_rate"].get<double>(), 2300.0 / 3000);
  EXPECT_DOUBLE_EQ(report["totals"]["max_pod_share"].get<double>(), 2000.0 / 3000);
  EXPECT_EQ(report["totals"]["max_share_pod"], "decode-0");
  EXPECT_EQ(row(report, "decode-0")["flavor"], "v1_new_names");
  EXPECT_EQ(row(report, "decode-1")["flavor"], "v1_both_names");
  EXPECT_EQ(row(report, "decode-1")["hits_tokens"]["delta"], 500);
  EXPECT_EQ(row(report, "decode-1")["requests_success"]["delta"], 10);
  EXPECT_FALSE(report.contains("gate"));
}

TEST(DiffCommand, PrintsTheSameCacheTableAsRun) {
  const auto s = two_v1_pods(scratch_dir());
  auto out = bench({"diff", s.before.string(), s.after.string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("prefix cache from saved metrics dumps of 2 pods (" + s.before.string() +
                                 ") to saved metrics dumps of 2 pods (" + s.after.string() + ")\n"));
  EXPECT_THAT(out.out, HasSubstr("  pod                    Δqueries        Δhits  hit rate Δrequests req share qry share  status\n"));
  EXPECT_THAT(out.out, testing::ContainsRegex("decode-0 +2000 +1800 +90.0% +20 +66.7% +66.7%  ok\n"));
  EXPECT_THAT(out.out, testing::ContainsRegex("total +3000 +2300 +76.7% +30   max pod share 66.7% of requests "
                                              "\\(decode-0\\), 66.7% of queries \\(decode-0\\)\n"));
}

TEST(DiffCommand, ARestartedPodIsCountedFromZero) {
  const auto dir = scratch_dir();
  write_dump(dir / "before", "decode-0", {5000, 4000, 50}, MetricsFlavor::v0_11);
  write_dump(dir / "after", "decode-0", {800, 600, 8}, MetricsFlavor::v0_11);  // went down: restarted
  auto out = bench({"diff", (dir / "before").string(), (dir / "after").string(), "--json"});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  const auto report = json::parse(out.out);
  const auto& r = row(report, "decode-0");
  EXPECT_EQ(r["status"], "reset");
  EXPECT_EQ(r["reset"], true);
  EXPECT_EQ(r["queries_tokens"]["delta"], 800);
  EXPECT_EQ(r["hits_tokens"]["delta"], 600);
  EXPECT_DOUBLE_EQ(report["totals"]["hit_rate"].get<double>(), 0.75);
  auto text = bench({"diff", (dir / "before").string(), (dir / "after").string()});
  EXPECT_THAT(text.out, testing::ContainsRegex("decode-0 +800 +600 +75.0% +8 +100.0% +100.0%  reset\n"));
}

TEST(DiffCommand, AV0PodHasNoCountsAndSaysSo) {
  const auto dir = scratch_dir();
  write_dump(dir / "before", "v0-pod", {160, 80, 1}, MetricsFlavor::v0);
  write_dump(dir / "after", "v0-pod", {1600, 1200, 10}, MetricsFlavor::v0);
  auto out = bench({"diff", (dir / "before").string(), (dir / "after").string(), "--json", "--gate", ">=0.5"});
  EXPECT_EQ(out.exit_code, 1) << out.out << out.err;  // no counts: the gate has no data
  const auto report = json::parse(out.out);
  EXPECT_EQ(row(report, "v0-pod")["flavor"], "v0_gauge");
  EXPECT_EQ(row(report, "v0-pod")["status"], "no_counters");
  EXPECT_DOUBLE_EQ(row(report, "v0-pod")["hit_rate_gauge_after"].get<double>(), 0.75);
  EXPECT_TRUE(report["totals"]["hit_rate"].is_null());
  EXPECT_EQ(report["gate"]["passed"], false);
  EXPECT_EQ(report["gate"]["reason"], "no data");
}

TEST(DiffCommand, GatePassesAndFailsWithExitCodes) {
  const auto s = two_v1_pods(scratch_dir());
  auto pass = bench({"diff", s.before.string(), s.after.string(), "--gate", ">=0.75"});
  EXPECT_EQ(pass.exit_code, 0) << pass.out << pass.err;
  EXPECT_THAT(pass.out, HasSubstr("gate: PASS cache_hit_rate >=0.75 (observed 0.7667)\n"));
  auto fail = bench({"diff", s.before.string(), s.after.string(), "--gate", ">=0.90"});
  EXPECT_EQ(fail.exit_code, 1) << fail.out << fail.err;
  EXPECT_THAT(fail.out, HasSubstr("gate: FAIL cache_hit_rate >=0.90: cache_hit_rate = 0.7667; required >= 0.9\n"));
  auto json_fail = bench({"diff", s.before.string(), s.after.string(), "--gate", ">=0.90", "--json"});
  EXPECT_EQ(json_fail.exit_code, 1);
  EXPECT_EQ(json::parse(json_fail.out)["gate"]["source"], ">=0.90");
}

TEST(DiffCommand, GateFailsWhileAPodIsMissingUnlessAllowed) {
  const auto dir = scratch_dir();
  write_dump(dir / "before", "decode-0", {1000, 600, 10}, MetricsFlavor::v0_11);
  write_dump(dir / "before", "decode-1", {500, 100, 5}, MetricsFlavor::v0_11);
  write_dump(dir / "after", "decode-0", {3000, 2400, 30}, MetricsFlavor::v0_11);  // decode-1 gone
  auto strict = bench({"diff", (dir / "before").string(), (dir / "after").string(), "--gate", ">=0.5"});
  EXPECT_EQ(strict.exit_code, 1) << strict.out << strict.err;
  EXPECT_THAT(strict.out, HasSubstr("gate: FAIL cache_hit_rate >=0.5: cache_hit_rate = 0.9, not trusted: judged on "
                                    "partial data: 1 pod missing from the cache totals (decode-1 (vanished during the "
                                    "run))"));
  auto allowed = bench({"diff", (dir / "before").string(), (dir / "after").string(), "--gate", ">=0.5",
                        "--allow-missing-pods", "1"});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.out << allowed.err;
}

TEST(DiffCommand, UsageErrorsExitTwo) {
  const auto s = two_v1_pods(scratch_dir());
  auto bad_gate = bench({"diff", s.before.string(), s.after.string(), "--gate", "about 0.9"});
  EXPECT_EQ(bad_gate.exit_code, 2);
  EXPECT_THAT(bad_gate.err, HasSubstr("llmd-bench: error: --gate: "));
  EXPECT_THAT(bad_gate.err, HasSubstr("\"about 0.9\""));
  auto missing = bench({"diff", s.before.string(), "/nonexistent/after"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("metrics dump \"/nonexistent/after\" does not exist"));
  auto one = bench({"diff", s.before.string()});
  EXPECT_EQ(one.exit_code, 2);
  EXPECT_THAT(one.err, HasSubstr("after is required"));
}

TEST(DiffCommand, NothingReadableExitsThree) {
  const auto dir = scratch_dir();
  const auto before = llmd::test::write_text(dir / "before" / "p.prom", "garbage {\n");
  const auto after = llmd::test::write_text(dir / "after" / "p.prom", "garbage {\n");
  auto out = bench({"diff", before.string(), after.string()});
  EXPECT_EQ(out.exit_code, 3) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("scrape_failed"));
  EXPECT_THAT(out.err, HasSubstr("llmd-bench: error: no pod could be read in both snapshots"));
}
