// report/compare.*: rows, significance hints, gates and renderers on small hand-made run results.
#include "report/compare.hpp"

#include <cstdint>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "stats/histogram.hpp"

namespace llmd::report {
namespace {

using nlohmann::json;
using testing::HasSubstr;

// n latencies spread evenly over [low_ms, high_ms], in ns.
json latencies(std::uint64_t n, double low_ms, double high_ms) {
  stats::LogLinearHistogram h;
  for (std::uint64_t i = 0; i < n; ++i) {
    h.record(static_cast<std::uint64_t>((low_ms + (high_ms - low_ms) * static_cast<double>(i) / static_cast<double>(n)) * 1e6));
  }
  return {{"histogram", h.to_json()}};
}

json phase(const std::string& name, std::uint64_t ok, std::uint64_t failed, json ttft) {
  const std::uint64_t ended = ok + failed;
  return {{"name", name},
          {"counts", {{"started", ended}, {"completed", ended}, {"ok", ok}, {"failed", failed}, {"dropped", 0}, {"aborted", 0}}},
          {"rates", {{"http_req_failed", ended ? json(static_cast<double>(failed) / static_cast<double>(ended)) : json(nullptr)},
                     {"http_req_cut", ended ? json(0.0) : json(nullptr)}}},
          {"metrics", {{"ttft_ns", std::move(ttft)}}},
          {"checks", {{"status_200", {{"passed", ok}, {"failed", failed}}}}},
          {"summary", {{"output_tokens_per_second", 100.0}}},
          {"wall_duration_ns", 10'000'000'000}};
}

json result(json total, json phases = json::array(), json cache = nullptr) {
  return {{"schema", "llmd-bench/result"}, {"version", 1}, {"run", {{"total", std::move(total)}, {"phases", std::move(phases)}}},
          {"cache", std::move(cache)}, {"routing", nullptr}, {"verdict", "pass"}};
}

json cache_with_rate(double rate) { return {{"totals", {{"hit_rate", rate}, {"max_pod_share", 0.25}}}}; }

Comparison compare(const json& b, const json& c, std::vector<std::string> gates = {}, std::optional<std::string> phase = {}) {
  CompareOptions options{"base.json", "cur.json", std::move(phase), {}};
  for (const auto& source : gates) {
    options.gates.push_back(parse_gate(source).value());
  }
  return compare_results(b, c, options).value();
}

const MetricRow& row(const Comparison& c, const std::string& key, std::size_t section = 0) {
  for (const auto& r : c.sections.at(section).rows) {
    if (r.key == key) {
      return r;
    }
  }
  throw std::runtime_error("no row " + key);
}

TEST(Compare, SameDistributionIsWithinNoise) {
  const auto c = compare(result(phase("p", 1000, 0, latencies(1000, 100, 200))), result(phase("p", 1000, 0, latencies(1000, 101, 201))),
                         {"ttft.p95>+50%"});
  for (const char* key : {"ttft.p50", "ttft.p95", "ttft.p99", "ttft.avg"}) {
    EXPECT_EQ(row(c, key).significance, Significance::no_change) << key << " " << row(c, key).detail;
    EXPECT_EQ(significance_text(row(c, key)), "within noise");
  }
  EXPECT_NEAR(*row(c, "ttft.p50").baseline, 0.150, 0.002);
  EXPECT_FALSE(c.regression());
  EXPECT_THAT(render_comparison_text(c), HasSubstr("compare: OK\n"));
}

TEST(Compare, SlowerLatencyIsUpAndWorse) {
  const auto c = compare(result(phase("p", 1000, 0, latencies(1000, 100, 200))), result(phase("p", 1000, 0, latencies(1000, 150, 300))),
                         {"ttft.p95>+10%", "http_req_duration.p99>+50ms"});
  EXPECT_EQ(row(c, "ttft.p95").significance, Significance::up);
  EXPECT_EQ(significance_text(row(c, "ttft.p95")), "up (worse)");
  EXPECT_NEAR(*row(c, "ttft.p95").change, 0.5, 0.01);
  EXPECT_EQ(significance_text(row(c, "ttft.avg")), "up (worse)");
  ASSERT_EQ(c.gates.size(), 2u);
  EXPECT_FALSE(c.gates[0].passed);
  EXPECT_THAT(c.gates[0].reason, HasSubstr("fails when > +10.0%"));
  EXPECT_FALSE(c.gates[1].passed);  // no http_req_duration in either run
  EXPECT_THAT(c.gates[1].reason, HasSubstr("no data"));
  EXPECT_THAT(render_comparison_text(c), HasSubstr("compare: REGRESSION (2 of 2 gates failed)"));
}

TEST(Compare, HitRateDropIsDownAndWorseInPoints) {
  const auto c = compare(result(phase("p", 100, 0, latencies(100, 1, 2)), {}, cache_with_rate(0.935)),
                         result(phase("p", 100, 0, latencies(100, 1, 2)), {}, cache_with_rate(0.787)),
                         {"cache_hit_rate<-2pp", "cache_hit_rate<-20pp"});
  const auto& hit = row(c, "cache_hit_rate");
  EXPECT_EQ(significance_text(hit), "down (worse)");
  EXPECT_NEAR(*hit.change, -0.148, 1e-9);
  EXPECT_FALSE(c.gates[0].passed);
  EXPECT_THAT(c.gates[0].reason, HasSubstr("-14.80pp (93.50% -> 78.70%)"));
  EXPECT_TRUE(c.gates[1].passed);
  EXPECT_EQ(c.gates_failed(), 1u);
}

TEST(Compare, RatesUseATwoProportionZTest) {
  const auto noise = compare(result(phase("p", 999, 1, latencies(10, 1, 2))), result(phase("p", 998, 2, latencies(10, 1, 2))));
  EXPECT_EQ(row(noise, "http_req_failed").significance, Significance::no_change);
  const auto worse = compare(result(phase("p", 1000, 0, latencies(10, 1, 2))), result(phase("p", 900, 100, latencies(10, 1, 2))),
                             {"http_req_failed>+0.5pp"});
  EXPECT_EQ(significance_text(row(worse, "http_req_failed")), "up (worse)");
  EXPECT_EQ(significance_text(row(worse, "checks")), "down (worse)");
  EXPECT_EQ(row(worse, "counts.failed").change, 100.0);
  EXPECT_FALSE(worse.gates[0].passed);
}

TEST(Compare, MissingCacheReportIsNotAvailableAndItsGateHasNoData) {
  const auto c = compare(result(phase("p", 10, 0, latencies(10, 1, 2))), result(phase("p", 10, 0, latencies(10, 1, 2)), {}, cache_with_rate(0.9)),
                         {"cache_hit_rate<-2pp"});
  EXPECT_EQ(significance_text(row(c, "cache_hit_rate")), "n/a: baseline has no cache report");
  EXPECT_FALSE(c.gates[0].passed);
  EXPECT_EQ(c.gates[0].reason, "no data: baseline has no cache report");
}

// The client's own CPU per ended request (run.client_cpu): a neutral run-wide row, "n/a" for a side
// that did not record it, and no row when neither did; a gate can bound it.
TEST(Compare, ClientCpuPerRequestIsANeutralRunWideRow) {
  auto with_cpu = [](std::uint64_t ok, std::uint64_t failed, std::int64_t user_ns, std::int64_t system_ns) {
    json r = result(phase("p", ok, failed, latencies(10, 1, 2)));
    r["run"]["client_cpu"] = {{"user_ns", user_ns}, {"system_ns", system_ns}};
    return r;
  };
  const auto c = compare(with_cpu(90, 10, 150'000'000, 50'000'000), with_cpu(100, 0, 300'000'000, 100'000'000),
                         {"client_cpu_per_request>+50%"});
  const auto& cpu = row(c, "client_cpu_per_request");
  EXPECT_DOUBLE_EQ(*cpu.baseline, 0.002);  // 200 ms over 100 ended requests
  EXPECT_DOUBLE_EQ(*cpu.current, 0.004);
  EXPECT_EQ(cpu.direction, Direction::neutral);
  EXPECT_EQ(cpu.unit, CompareUnit::seconds);
  ASSERT_EQ(c.gates.size(), 1u);
  EXPECT_FALSE(c.gates[0].passed);  // +100%
  const auto one_side = compare(result(phase("p", 10, 0, latencies(10, 1, 2))), with_cpu(10, 0, 1'000'000, 0));
  EXPECT_EQ(significance_text(row(one_side, "client_cpu_per_request")),
            "n/a: baseline has no client CPU (run.client_cpu) or no ended request");
  const auto neither = compare(result(phase("p", 10, 0, latencies(10, 1, 2))), result(phase("p", 10, 0, latencies(10, 1, 2))));
  EXPECT_THROW(row(neither, "client_cpu_per_request"), std::runtime_error);
}

TEST(Compare, RelativeGateOnAZeroBaselineHasNoData) {
  const auto c = compare(result(phase("p", 10, 0, latencies(10, 1, 2))), result(phase("p", 9, 1, latencies(10, 1, 2))),
                         {"counts.failed>+10%", "counts.failed>+3"});
  EXPECT_FALSE(c.gates[0].passed);
  EXPECT_THAT(c.gates[0].reason, HasSubstr("baseline counts.failed is 0"));
  EXPECT_TRUE(c.gates[1].passed);
}

TEST(Compare, PhasesMatchByNameAndPhaseSelectsTheGatedOne) {
  const json b = result(phase("total", 20, 0, latencies(20, 1, 2)),
                        json::array({phase("warm", 10, 0, latencies(10, 1, 2)), phase("load", 10, 0, latencies(10, 1, 2))}));
  const json c = result(phase("total", 20, 0, latencies(20, 1, 2)),
                        json::array({phase("load", 5, 5, latencies(10, 1, 2)), phase("spike", 10, 0, latencies(10, 1, 2))}));
  const auto all = compare(b, c);
  ASSERT_EQ(all.sections.size(), 2u);
  EXPECT_EQ(all.sections[1].name, "load");
  EXPECT_EQ(all.phases_only_in_baseline, std::vector<std::string>{"warm"});
  EXPECT_EQ(all.phases_only_in_current, std::vector<std::string>{"spike"});
  EXPECT_THAT(render_comparison_text(all), HasSubstr("phases only in baseline: warm"));
  const auto load = compare(b, c, {"counts.failed>+2"}, "load");
  EXPECT_FALSE(load.gates[0].passed);  // judged on the phase: 0 -> 5
  CompareOptions missing{"base.json", "cur.json", "warm", {}};
  const auto error = compare_results(b, c, missing);
  ASSERT_FALSE(error);
  EXPECT_EQ(error.error(), "--phase warm: no such phase in cur.json (its phases: load, spike)");
}

TEST(CompareGate, ParsesChangesInPercentPointsAndDurations) {
  const auto relative = parse_gate("ttft.p95>+10%").value();
  EXPECT_EQ(relative.metric, "ttft.p95");
  EXPECT_TRUE(relative.greater);
  EXPECT_EQ(relative.kind, Gate::ChangeKind::relative);
  EXPECT_DOUBLE_EQ(relative.limit, 0.10);
  const auto points = parse_gate("cache_hit_rate<-2pp").value();
  EXPECT_FALSE(points.greater);
  EXPECT_EQ(points.kind, Gate::ChangeKind::points);
  EXPECT_DOUBLE_EQ(points.limit, -0.02);
  const auto duration = parse_gate("http_req_duration.p99>+50ms").value();
  EXPECT_EQ(duration.kind, Gate::ChangeKind::absolute);
  EXPECT_DOUBLE_EQ(duration.limit, 0.05);
  const auto itl = parse_gate("itl.p(99) >= 5%").value();
  EXPECT_EQ(itl.metric, "inter_token_latency.p99");
  EXPECT_TRUE(itl.inclusive);
  EXPECT_EQ(parse_gate("output_tokens_per_second<-5%").value().limit, -0.05);
  EXPECT_EQ(parse_gate("http_reqs<-10").value().metric, "counts.completed");
  EXPECT_EQ(parse_gate("ttft.mean>+1%").value().metric, "ttft.avg");
}

TEST(CompareGate, ErrorsNameTheExpressionAndWhatToWrite) {
  const auto error = [](const char* source) { return parse_gate(source).error(); };
  EXPECT_EQ(error("ttft>+10%"), "--fail-on \"ttft>+10%\": ttft needs one of the statistics p50, p90, p95, p99, avg (e.g. \"ttft.p95>+10%\")");
  EXPECT_THAT(error("ttft.p999>+10%"), HasSubstr("ttft needs one of the statistics"));
  EXPECT_THAT(error("latency.p95>+10%"), HasSubstr("unknown metric \"latency.p95\"; valid: ttft.pNN|avg"));
  EXPECT_THAT(error("ttft.p95+10%"), HasSubstr("expected METRIC OP CHANGE, e.g. \"ttft.p95>+10%\""));
  EXPECT_THAT(error("ttft.p95>+10"), HasSubstr("ttft.p95 is a time: write a relative change (\"+10%\") or a duration with its unit (\"+50ms\")"));
  EXPECT_THAT(error("ttft.p95>+2pp"), HasSubstr("pp (percentage points) is for rates and ratios"));
  EXPECT_THAT(error("cache_hit_rate<-2"), HasSubstr("cache_hit_rate takes a change in % or pp"));
  EXPECT_THAT(error("cache_hit_rate<lots"), HasSubstr("must be a number with %, pp or a duration unit"));
}

TEST(CompareInput, RejectsWhatIsNoRunResult) {
  EXPECT_THAT(check_run_result(json::array()).error(), HasSubstr("is not an llmd-bench run result (a JSON array"));
  EXPECT_EQ(check_run_result(json{{"schema", "llmd-bench/histogram"}}).error(),
            "is not an llmd-bench run result (schema \"llmd-bench/histogram\"; expected \"llmd-bench/result\", written by "
            "`llmd-bench run --out json=FILE`)");
  EXPECT_THAT(check_run_result(json{{"a", 1}}).error(), HasSubstr("(schema missing;"));
  EXPECT_THAT(check_run_result(json{{"schema", "llmd-bench/result"}, {"run", nullptr}}).error(), HasSubstr("\"run\" is null"));
  EXPECT_TRUE(check_run_result(result(phase("p", 1, 0, latencies(1, 1, 2)))));
  EXPECT_THAT(check_run_result(json{{"schema", "llmd-bench/result"}, {"run", {{"total", json::object()}, {"phases", {1, 2}}}}}).error(),
              HasSubstr("\"phases\" must be an array of objects"));
}

TEST(CompareInput, ToleratesFieldsOfTheWrongTypeAsMissing) {
  json odd = result(phase("p", 10, 0, latencies(10, 1, 2)), json::array({json{{"name", 7}}}));
  odd["verdict"] = 3;
  odd["run"]["total"]["metrics"]["ttft_ns"] = "broken";
  odd["run"]["total"]["counts"]["ok"] = "ten";
  const auto c = compare(odd, result(phase("p", 10, 0, latencies(10, 1, 2))), {"counts.ok<-1"});
  EXPECT_EQ(c.baseline_verdict, "?");
  EXPECT_EQ(significance_text(row(c, "ttft.p50")), "n/a: baseline has no ttft samples");
  EXPECT_EQ(c.gates[0].reason, "no data: baseline has no counts");
}

TEST(CompareOutput, JsonAndJUnitCarryTheGates) {
  const auto c = compare(result(phase("p", 100, 0, latencies(100, 1, 2)), {}, cache_with_rate(0.9)),
                         result(phase("p", 100, 0, latencies(100, 1, 2)), {}, cache_with_rate(0.5)),
                         {"cache_hit_rate<-2pp", "ttft.p95>+50%"});
  const json out = comparison_to_json(c);
  EXPECT_EQ(out["schema"], "llmd-bench/comparison");
  EXPECT_EQ(out["gates_failed"], 1);
  EXPECT_EQ(out["regression"], true);
  EXPECT_EQ(out["sections"][0]["name"], "total");
  const std::string junit = render_comparison_junit(c);
  EXPECT_THAT(junit, HasSubstr("tests=\"2\" failures=\"1\""));
  EXPECT_THAT(junit, HasSubstr("name=\"gate: cache_hit_rate&lt;-2pp\">\n    <failure message=\"cache_hit_rate -40.00pp"));
  EXPECT_THAT(junit, HasSubstr("name=\"gate: ttft.p95&gt;+50%\">\n    <system-out>"));
  EXPECT_THAT(render_comparison_text(c), HasSubstr("\u2717 cache_hit_rate<-2pp: cache_hit_rate -40.00pp (90.00% -> 50.00%); fails when < -2.00pp"));
}

}  // namespace
}  // namespace llmd::report
