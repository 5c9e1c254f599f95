// `llmd-bench compare` on real results of `llmd-bench run` against the embedded simulator: a
// prefix-aware run against a round-robin one of scenarios/cache-hit.yaml is a hit-rate regression
// (exit 1, a JUnit failure); two runs of one scenario compare as within noise (exit 0); bad input
// is a usage error (exit 2) that names the file or the expression.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/run_test_support.hpp"
#include "util/atomic_file.hpp"

using llmd::test::read_json;
using llmd::test::scratch_dir;
using llmd::test::write_file;
using nlohmann::json;
using testing::HasSubstr;

namespace {

const std::string k_cache_hit = std::string(LLMD_SOURCE_DIR) + "/scenarios/cache-hit.yaml";

// `llmd-bench compare ARGS...`
llmd::test::RunOutput compare(std::vector<std::string> args) {
  std::vector<std::string> argv = {LLMD_BENCH_BINARY, "compare"};
  argv.insert(argv.end(), args.begin(), args.end());
  return llmd::test::run_to_completion(argv, std::chrono::seconds(60));
}

// One run to `out`; `extra` flags after the scenario. Also makes the folder "compared" next to `out` for
// the comparison JSON (validated alone there).
void run_to(const std::string& scenario, const std::filesystem::path& out, std::vector<std::string> extra) {
  std::vector<std::string> args = {scenario, "-q", "--out", "json=" + out.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto run = llmd::test::run_bench(args);
  ASSERT_TRUE(run.exit_code == 0 || run.exit_code == 1) << run.out << run.err;
  ASSERT_TRUE(std::filesystem::exists(out)) << run.err;
  std::filesystem::create_directories(out.parent_path() / "compared");
}

// The comparison JSON files in `folder` validate against schema/comparison-v1.schema.json.
void expect_valid_comparisons(const std::filesystem::path& folder) {
  const auto check = llmd::test::run_to_completion({LLMD_PYTHON3, std::string(LLMD_SOURCE_DIR) + "/test/tools/validate_results.py",
                                                    std::string(LLMD_SOURCE_DIR) + "/schema/comparison-v1.schema.json",
                                                    folder.string()},
                                                   std::chrono::seconds(60));
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

const json& row(const json& comparison, const std::string& metric) {
  for (const auto& r : comparison["sections"][0]["rows"]) {
    if (r["metric"] == metric) {
      return r;
    }
  }
  throw std::runtime_error("no row " + metric);
}

}  // namespace

TEST(CompareRun, RoundRobinAgainstPrefixRoutingIsAHitRateRegression) {
  const auto dir = scratch_dir();
  run_to(k_cache_hit, dir / "prefix.json", {});
  run_to(k_cache_hit, dir / "rr.json", {"--sim-route", "round-robin"});
  const auto out = compare({(dir / "prefix.json").string(), (dir / "rr.json").string(), "--fail-on", "cache_hit_rate<-2pp",
                            "--fail-on", "http_req_failed>+0.5pp", "--out", "junit=" + (dir / "c.xml").string(), "--out",
                            "json=" + (dir / "compared" / "c.json").string(), "--out", "html=" + (dir / "c.html").string()});
  std::printf("%s", out.out.c_str());
  EXPECT_EQ(out.exit_code, 1) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("\u2717 cache_hit_rate<-2pp: cache_hit_rate -"));
  EXPECT_THAT(out.out, HasSubstr("\u2713 http_req_failed>+0.5pp"));
  EXPECT_THAT(out.out, HasSubstr("compare: REGRESSION (1 of 2 gates failed)"));
  const json comparison = read_json(dir / "compared" / "c.json");
  expect_valid_comparisons(dir / "compared");
  const json& hit = row(comparison, "cache_hit_rate");
  EXPECT_GT(hit["baseline"].get<double>(), 0.9);
  EXPECT_LT(hit["current"].get<double>(), 0.85);
  EXPECT_LT(hit["change"].get<double>(), -0.05);
  const auto junit = llmd::util::read_file(dir / "c.xml").value();
  EXPECT_THAT(junit, HasSubstr("tests=\"2\" failures=\"1\""));
  EXPECT_THAT(junit, HasSubstr("<testcase classname=\"llmd-bench.compare\" name=\"gate: cache_hit_rate&lt;-2pp\">\n    <failure"));
  // --out html: both runs overlaid (baseline and current series in each chart), the regression named.
  const auto html = llmd::util::read_file(dir / "c.html").value();
  EXPECT_THAT(html, HasSubstr("id=\"verdict\" class=\"verdict fail\" data-verdict=\"regression\">REGRESSION<"));
  EXPECT_THAT(html, HasSubstr("cache_hit_rate&lt;-2pp"));
  for (const char* chart : {"requests", "ttft", "cdf-ttft_ns", "cdf-http_req_duration_ns"}) {
    const auto at = html.find(std::string("data-chart=\"") + chart + "\"");
    ASSERT_NE(at, std::string::npos) << chart;
    const auto end = html.find("</svg>", at);
    const std::string svg = html.substr(at, end - at);
    EXPECT_THAT(svg, HasSubstr("data-series=\"baseline\"")) << chart;
    EXPECT_THAT(svg, HasSubstr("data-series=\"current\"")) << chart;
  }
  EXPECT_THAT(html, HasSubstr("data-chart=\"cache-pods\""));
  EXPECT_THAT(html, testing::Not(HasSubstr(" src=")));
}

// Questions of 10 to 200 tokens at 0.5 ms a prefill token spread the TTFT over ~5..100 ms, as a real
// server's varied prompts would: what differs between two runs on a loaded machine (the client's own
// overhead) is then inside the percentiles' confidence intervals. (Against a simulator whose every TTFT is
// the same 3 ms, a 0.3 ms shift of the machine's overhead between two runs is a real, significant change
// of ttft.p50, and the hint says so: the intervals hold sampling noise, not a drifting machine.)
TEST(CompareRun, TwoRunsOfOneScenarioAreWithinNoise) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", R"(
requests:
  prompt:
    kind: prefix-groups
    groups: 4
    prompts_per_group: 20
    system_prompt_tokens: 64
    question_tokens: {distribution: uniform, min: 10, max: 200}
  max_tokens: 4
load:
  - {name: loop, executor: iterations, iterations: 80, vus: 8}
sim: {pods: 2, timing: {prefill_per_token: 500us, inter_token: 10ms}}
)");
  run_to(scenario.string(), dir / "a.json", {});
  run_to(scenario.string(), dir / "b.json", {});
  const auto out = compare({(dir / "a.json").string(), (dir / "b.json").string(), "--fail-on", "ttft.p95>+50%", "--out",
                            "json=" + (dir / "compared" / "c.json").string()});
  std::printf("%s", out.out.c_str());
  EXPECT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("\u2713 ttft.p95>+50%"));
  EXPECT_THAT(out.out, HasSubstr("compare: OK"));
  const json comparison = read_json(dir / "compared" / "c.json");
  expect_valid_comparisons(dir / "compared");
  for (const char* metric : {"ttft.p50", "ttft.p90", "ttft.p95", "ttft.avg", "http_req_duration.p50",
                             "http_req_duration.p90", "http_req_duration.p95", "http_req_duration.avg"}) {
    EXPECT_EQ(row(comparison, metric)["hint"], "within noise") << row(comparison, metric);
  }
  EXPECT_EQ(row(comparison, "http_req_failed")["hint"], "within noise");
  EXPECT_EQ(row(comparison, "counts.ok")["change"], 0);
}

TEST(CompareRun, BadInputIsAUsageErrorNamingTheFileOrExpression) {
  const auto dir = scratch_dir();
  const auto not_json = write_file(dir / "not.json", "{\"schema\": ");
  const auto histogram = write_file(dir / "h.json", R"({"schema": "llmd-bench/histogram", "version": 1})");
  const auto result = write_file(dir / "r.json", R"({"schema": "llmd-bench/result", "version": 1, "run": {"total": {}, "phases": []}})");
  const auto missing = (dir / "missing.json").string();

  auto out = compare({result.string(), missing});
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.err, HasSubstr(missing));
  out = compare({not_json.string(), result.string()});
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.err, HasSubstr(not_json.string() + ": is not JSON"));
  out = compare({result.string(), histogram.string()});
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.err, HasSubstr(histogram.string() + ": is not an llmd-bench run result (schema \"llmd-bench/histogram\""));
  out = compare({result.string(), result.string(), "--fail-on", "ttft>+10%"});
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.err, HasSubstr("--fail-on \"ttft>+10%\": ttft needs one of the statistics p50, p90, p95, p99, avg"));
  out = compare({result.string(), result.string(), "--out", "xml=x"});
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.err, HasSubstr("--out \"xml=x\""));
  out = compare({result.string(), result.string(), "--phase", "nope"});
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.err, HasSubstr("--phase nope: no such phase"));
  out = compare({result.string(), result.string(), "--out", "json=" + (dir / "no-such-dir" / "c.json").string()});
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.err, HasSubstr("--out json=" + (dir / "no-such-dir" / "c.json").string() + ": "));
  out = compare({result.string(), result.string(), "--fail-on", "counts.ok<-1"});
  EXPECT_EQ(out.exit_code, 1);  // a result without counts: the gate has no data
  EXPECT_THAT(out.out, HasSubstr("\u2717 counts.ok<-1: no data"));
}
