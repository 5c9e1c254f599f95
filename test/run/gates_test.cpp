#include "run/gates.hpp"

#include <gtest/gtest.h>

#include "cli/exit_codes.hpp"

using llmd::run::judge;
using llmd::run::RunReport;
using llmd::run::Verdict;
namespace scenario = llmd::scenario;
namespace engine = llmd::engine;

namespace {

scenario::Threshold threshold(const std::string& metric, const std::string& source) {
  auto parsed = scenario::parse_threshold(metric, source);
  EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error());
  return *parsed;
}

// A run of `ok` successful requests with TTFT 100 ms each, plus `failed` HTTP 500s.
engine::RunResult make_run(std::uint64_t ok, std::uint64_t failed) {
  engine::RunResult run;
  run.started_at = std::chrono::system_clock::time_point{};
  run.ended_at = run.started_at + std::chrono::seconds(10);
  auto& t = run.total;
  t.ok = ok;
  t.failed = failed;
  t.completed = ok + failed;
  t.started = ok + failed;
  t.failures_by_class[static_cast<std::size_t>(engine::FailureClass::http_status)] = failed;
  for (std::uint64_t i = 0; i < ok; ++i) {
    t.histograms.ttft_ns.record(100'000'000);
  }
  t.checks = {scenario::CheckKind::status_200};
  t.check_counts[0] = {ok, failed};
  return run;
}

llmd::scrape::CacheReport cache_with_hit_rate(double rate) {
  llmd::scrape::CacheReport cache;
  cache.totals.queries = 1000;
  cache.totals.hits = rate * 1000;
  cache.totals.hit_rate = rate;
  cache.totals.max_pod_share = 1.0;
  return cache;
}

struct Fixture {
  scenario::Scenario s;
  RunReport report;
  Fixture() { report.scenario = &s; }
};

}  // namespace

TEST(Gates, AllPassingGatesGiveExit0) {
  Fixture f;
  f.s.thresholds = {threshold("ttft", "p(95)<150ms"), threshold("http_reqs", "count==20"),
                    threshold("http_reqs", "rate==2"), threshold("cache_hit_rate", ">=0.90")};
  f.report.run = make_run(20, 0);
  f.report.cache = cache_with_hit_rate(0.95);
  judge(f.report);
  for (const auto& t : f.report.thresholds) {
    EXPECT_TRUE(t.result.passed) << t.threshold.source << ": " << t.result.reason;
  }
  EXPECT_EQ(f.report.verdict, Verdict::pass);
  EXPECT_EQ(llmd::cli::exit_code(f.report.verdict), 0);
}

TEST(Gates, AFailedThresholdGivesExit1WithTheObservedValue) {
  Fixture f;
  f.s.thresholds = {threshold("ttft", "p(95)<50ms"), threshold("cache_hit_rate", ">=0.90")};
  f.report.run = make_run(10, 0);
  f.report.cache = cache_with_hit_rate(0.5);
  judge(f.report);
  ASSERT_EQ(f.report.thresholds.size(), 2u);
  EXPECT_FALSE(f.report.thresholds[0].result.passed);
  EXPECT_NEAR(*f.report.thresholds[0].result.observed, 0.1, 0.001);
  EXPECT_FALSE(f.report.thresholds[1].result.passed);
  EXPECT_EQ(llmd::cli::exit_code(f.report.verdict), 1);
}

TEST(Gates, NoDataFailsInsteadOfPassingSilently) {
  Fixture f;
  f.s.thresholds = {threshold("cache_hit_rate", ">=0.90"), threshold("ttft", "p(95)<2s")};
  f.report.run = make_run(0, 0);  // nothing measured, no cache report
  judge(f.report);
  EXPECT_FALSE(f.report.thresholds[0].result.passed);
  EXPECT_EQ(f.report.thresholds[0].result.reason, "no data");
  EXPECT_FALSE(f.report.thresholds[1].result.passed);
  EXPECT_EQ(llmd::cli::exit_code(f.report.verdict), 1);
}

TEST(Gates, TheFailureRateIsAGate) {
  Fixture f;
  f.s.thresholds = {threshold("http_req_failed", "rate<0.05")};
  f.report.run = make_run(9, 1);
  judge(f.report);
  EXPECT_FALSE(f.report.thresholds[0].result.passed);
  EXPECT_DOUBLE_EQ(*f.report.thresholds[0].result.observed, 0.1);
  ASSERT_EQ(f.report.checks.size(), 1u);
  EXPECT_EQ(f.report.checks[0].failed, 1u);
  EXPECT_EQ(f.report.verdict, Verdict::fail);
}

// Requests the engine aborted (graceful_stop elapsed) did not succeed: they count as failed, and
// with the streams the server cut they make http_req_cut.
TEST(Gates, AbortedRequestsCountAsFailedAndCut) {
  Fixture f;
  f.s.thresholds = {threshold("http_req_failed", "rate<0.05"), threshold("http_req_cut", "rate<0.05"),
                    threshold("http_req_cut", "rate<0.5")};
  f.report.run = make_run(8, 2);
  auto& total = f.report.run->total;
  total.failures_by_class[static_cast<std::size_t>(engine::FailureClass::http_status)] = 1;
  total.failures_by_class[static_cast<std::size_t>(engine::FailureClass::stream_cut)] = 1;
  total.aborted = 2;
  judge(f.report);
  ASSERT_EQ(f.report.thresholds.size(), 3u);
  EXPECT_DOUBLE_EQ(*f.report.thresholds[0].result.observed, 4.0 / 12);  // (2 failed + 2 aborted) / 12
  EXPECT_FALSE(f.report.thresholds[0].result.passed);
  EXPECT_DOUBLE_EQ(*f.report.thresholds[1].result.observed, 3.0 / 12);  // (1 stream_cut + 2 aborted) / 12
  EXPECT_FALSE(f.report.thresholds[1].result.passed);
  EXPECT_TRUE(f.report.thresholds[2].result.passed);
  EXPECT_EQ(llmd::cli::exit_code(f.report.verdict), 1);
  f.report.run = make_run(0, 0);
  judge(f.report);
  EXPECT_EQ(f.report.thresholds[1].result.reason, "no data");
}

// k6 semantics: a check is counted and shown, never a gate on its own. Failed checks with every
// threshold passing pass the run; a check evaluated on no request is "no data", not a failure.
TEST(Gates, ChecksAreCountedButNeverGateOnTheirOwn) {
  Fixture f;
  f.s.thresholds = {threshold("http_req_failed", "rate<0.2")};
  f.report.run = make_run(9, 1);  // status_200: 9 passed, 1 failed
  judge(f.report);
  ASSERT_EQ(f.report.checks.size(), 1u);
  EXPECT_EQ(f.report.checks[0].name, "status_200");  // a default check: canonical name
  EXPECT_EQ(f.report.checks[0].failed, 1u);
  EXPECT_FALSE(f.report.checks[0].all_passed());
  EXPECT_DOUBLE_EQ(*f.report.checks[0].rate(), 0.9);
  EXPECT_EQ(f.report.verdict, Verdict::pass);
  EXPECT_EQ(llmd::cli::exit_code(f.report.verdict), 0);

  f.report.run = make_run(0, 0);
  f.report.run->total.aborted = 4;  // every request aborted: the check saw nothing
  f.s.thresholds.clear();
  judge(f.report);
  EXPECT_TRUE(f.report.checks[0].no_data());
  EXPECT_FALSE(f.report.checks[0].rate());
  EXPECT_EQ(f.report.verdict, Verdict::pass);  // (the run's no_successful_request finding fails it in a real run)
}

// `checks: ["rate>0.99"]` gates on every evaluation of every check; `checks{check:NAME}` on one.
TEST(Gates, ChecksThresholdsGateOnTheirRates) {
  Fixture f;
  f.s.checks = {scenario::CheckKind::status_200, scenario::CheckKind::non_empty_content};
  f.s.check_spellings[scenario::CheckKind::status_200] = "status-200";
  f.report.run = make_run(99, 1);
  auto& total = f.report.run->total;
  total.checks = f.s.checks;
  total.check_counts[1] = {80, 20};  // non_empty_content: 80%
  auto by_name = threshold("checks", "rate>0.95");
  by_name.check = "status-200";
  auto canonical = threshold("checks", "rate>0.95");
  canonical.check = "status_200";
  auto other = threshold("checks", "rate>0.95");
  other.check = "non-empty-content";
  f.s.thresholds = {threshold("checks", "rate>0.85"), threshold("checks", "rate>0.95"), by_name, canonical, other};
  judge(f.report);
  ASSERT_EQ(f.report.thresholds.size(), 5u);
  EXPECT_DOUBLE_EQ(*f.report.thresholds[0].result.observed, 179.0 / 200);
  EXPECT_TRUE(f.report.thresholds[0].result.passed);
  EXPECT_FALSE(f.report.thresholds[1].result.passed);
  EXPECT_DOUBLE_EQ(*f.report.thresholds[2].result.observed, 0.99);
  EXPECT_TRUE(f.report.thresholds[2].result.passed);
  EXPECT_TRUE(f.report.thresholds[3].result.passed);
  EXPECT_DOUBLE_EQ(*f.report.thresholds[4].result.observed, 0.8);
  EXPECT_EQ(f.report.thresholds[4].result.reason, "checks{check:non-empty-content} rate = 0.8; required > 0.95");
  EXPECT_EQ(f.report.checks[0].name, "status-200");  // as the scenario wrote it
  EXPECT_EQ(f.report.checks[1].name, "non_empty_content");
  EXPECT_EQ(f.report.verdict, Verdict::fail);

  f.report.run = make_run(0, 0);  // no check evaluated: a threshold naming checks fails "no data"
  f.report.run->total.aborted = 2;
  f.report.run->total.checks = f.s.checks;
  judge(f.report);
  EXPECT_EQ(f.report.thresholds[0].result.reason, "no data");
  EXPECT_EQ(f.report.thresholds[2].result.reason, "no data");
  EXPECT_EQ(llmd::cli::exit_code(f.report.verdict), 1);
}

// severity: warn turns a failed threshold into a warning: reported, exit 0. The band logic: 0.78
// with ">=0.90" as warn and ">=0.70" as fail passes with a warning; under 0.70 it fails.
TEST(Gates, AWarnThresholdThatFailsIsAWarningAndTheRunPasses) {
  Fixture f;
  auto warn = threshold("cache_hit_rate", ">=0.90");
  warn.severity = scenario::ThresholdSeverity::warn;
  f.s.thresholds = {warn, threshold("cache_hit_rate", ">=0.70")};
  f.report.run = make_run(20, 0);
  f.report.cache = cache_with_hit_rate(0.78);
  judge(f.report);
  ASSERT_EQ(f.report.thresholds.size(), 2u);
  EXPECT_FALSE(f.report.thresholds[0].result.passed);
  EXPECT_TRUE(f.report.thresholds[0].warning());
  EXPECT_FALSE(f.report.thresholds[0].gate_failed());
  EXPECT_TRUE(f.report.thresholds[1].result.passed);
  EXPECT_EQ(f.report.verdict, Verdict::pass);
  EXPECT_EQ(llmd::cli::exit_code(f.report.verdict), 0);

  f.report.cache = cache_with_hit_rate(0.65);
  judge(f.report);
  EXPECT_TRUE(f.report.thresholds[0].warning());
  EXPECT_TRUE(f.report.thresholds[1].gate_failed());
  EXPECT_EQ(llmd::cli::exit_code(f.report.verdict), 1);

  f.report.cache = cache_with_hit_rate(0.95);
  judge(f.report);
  EXPECT_FALSE(f.report.thresholds[0].warning());
  EXPECT_EQ(llmd::cli::exit_code(f.report.verdict), 0);
}

// A threshold that stopped the run (abortOnFail) fails even when its value recovered by the end.
TEST(Gates, TheThresholdThatAbortedTheRunFailsWhateverItsFinalValue) {
  Fixture f;
  auto aborting = threshold("http_req_failed", "rate<0.2");
  aborting.abort_on_fail = true;
  f.s.thresholds = {threshold("ttft", "p(95)<1s"), aborting};
  f.report.run = make_run(9, 1);  // 0.1 at the end: would pass
  f.report.threshold_abort = llmd::run::ThresholdAbort{1, std::chrono::milliseconds(1500), "http_req_failed rate = 0.5; required < 0.2"};
  judge(f.report);
  EXPECT_TRUE(f.report.thresholds[0].result.passed);
  EXPECT_FALSE(f.report.thresholds[1].result.passed);
  EXPECT_EQ(f.report.thresholds[1].result.reason,
            "crossed at t=1.5s during the run (http_req_failed rate = 0.5; required < 0.2), which abortOnFail stopped; "
            "at the end: http_req_failed rate = 0.1; required < 0.2");
  EXPECT_EQ(f.report.verdict, Verdict::fail);
  EXPECT_EQ(llmd::cli::exit_code(f.report.verdict), 1);
}

// No request at all in the measured phases (issue 10 item 11: time_scale: 1e-300 ran nothing and
// passed): with no threshold and no check there is no gate to fail, yet nothing was measured, so
// the run fails (exit 1); the no_request finding (run_diagnostics.hpp) says why.
TEST(Gates, ARunInWhichNoRequestEndedNeverPasses) {
  Fixture f;
  f.report.run = make_run(0, 0);
  f.report.run->total.checks = {};
  judge(f.report);
  EXPECT_TRUE(f.report.thresholds.empty());
  EXPECT_TRUE(f.report.checks.empty());
  EXPECT_EQ(f.report.verdict, Verdict::fail);
  EXPECT_EQ(llmd::cli::exit_code(f.report.verdict), 1);
  f.report.interrupted = true;  // Ctrl-C before the first request: interrupted, not failed
  judge(f.report);
  EXPECT_EQ(f.report.verdict, Verdict::interrupted);
  f.report.interrupted = false;
  f.report.run->total.aborted = 1;  // one request ended (aborted at graceful_stop): judged as usual
  judge(f.report);
  EXPECT_EQ(f.report.verdict, Verdict::pass);
}

TEST(Gates, ErrorsWinOverInterruptionWhichWinsOverGates) {
  Fixture f;
  f.s.thresholds = {threshold("ttft", "p(95)<1ms")};
  f.report.run = make_run(5, 0);
  f.report.interrupted = true;
  judge(f.report);
  EXPECT_EQ(f.report.verdict, Verdict::interrupted);
  EXPECT_EQ(llmd::cli::exit_code(f.report.verdict), 130);
  f.report.errors.push_back("no request reached the target");
  judge(f.report);
  EXPECT_EQ(f.report.verdict, Verdict::error);
  EXPECT_EQ(llmd::cli::exit_code(f.report.verdict), 3);
}

TEST(Gates, CacheGatesFailWhileAPodIsMissingFromTheTotalsUnlessAllowed) {
  Fixture f;
  f.s.thresholds = {threshold("cache_hit_rate", ">=0.90"), threshold("max_pod_share", "<=1"),
                    threshold("max_pod_query_share", "<=1"), threshold("ttft", "p(95)<150ms")};
  f.report.run = make_run(20, 0);
  f.report.cache = cache_with_hit_rate(0.95);  // a fine value over the pods that answered...
  f.report.cache->totals.max_pod_query_share = 1.0;
  f.report.cache->totals.missing_pods = {"pod-b (scrape failed)"};  // ...but pod-b's after-scrape failed
  judge(f.report);
  EXPECT_EQ(f.report.verdict, Verdict::fail);
  EXPECT_EQ(llmd::cli::exit_code(f.report.verdict), 1);
  ASSERT_EQ(f.report.thresholds.size(), 4u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_FALSE(f.report.thresholds[i].result.passed) << f.report.thresholds[i].threshold.metric;
    ASSERT_TRUE(f.report.thresholds[i].result.observed);  // the value is shown, and why it is not trusted
  }
  EXPECT_EQ(f.report.thresholds[0].result.reason,
            "cache_hit_rate = 0.95, not trusted: judged on partial data: 1 pod missing from the cache totals (pod-b "
            "(scrape failed)); allow with cache.allow_missing_pods");
  EXPECT_TRUE(f.report.thresholds[3].result.passed);  // request metrics do not depend on the pods

  f.s.cache.allow_missing_pods = 1;
  judge(f.report);
  EXPECT_EQ(f.report.verdict, Verdict::pass);
  EXPECT_TRUE(f.report.thresholds[0].result.passed);
}

// The report holds a verdict; the cli alone maps it to the process's (and the JSON result's) exit code.
TEST(Gates, TheCliMapsEachVerdictToItsDocumentedExitCode) {
  EXPECT_EQ(llmd::cli::exit_code(Verdict::pass), 0);
  EXPECT_EQ(llmd::cli::exit_code(Verdict::fail), 1);
  EXPECT_EQ(llmd::cli::exit_code(Verdict::error), 3);
  EXPECT_EQ(llmd::cli::exit_code(Verdict::interrupted), 130);
  RunReport never_judged;  // a report nobody judged is an error, never a pass
  EXPECT_EQ(llmd::cli::exit_code(never_judged.verdict), 3);
}

// Goodput (issue 17 item 1): `goodput` is a counter of good requests (count, or rate per second of the
// run) and `good_fraction` the share of the requests asked for that were good.
TEST(Gates, GoodputAndTheGoodFractionAreGates) {
  Fixture f;
  f.s.thresholds = {threshold("goodput", "count==12"), threshold("goodput", "rate>=1.2"),
                    threshold("good_fraction", "rate>=0.6"), threshold("good_fraction", "rate>=0.61")};
  f.report.run = make_run(16, 2);
  auto& total = f.report.run->total;
  total.slo = scenario::Slo{};
  total.slo->ttft = std::chrono::seconds(2);
  total.goodput.good = 12;
  total.dropped = 2;  // 12 good of 16 ok + 2 failed + 2 dropped = 0.6
  judge(f.report);
  ASSERT_EQ(f.report.thresholds.size(), 4u);
  EXPECT_TRUE(f.report.thresholds[0].result.passed) << f.report.thresholds[0].result.reason;
  EXPECT_TRUE(f.report.thresholds[1].result.passed) << f.report.thresholds[1].result.reason;
  EXPECT_NEAR(*f.report.thresholds[1].result.observed, 1.2, 1e-9);
  EXPECT_TRUE(f.report.thresholds[2].result.passed) << f.report.thresholds[2].result.reason;
  EXPECT_NEAR(*f.report.thresholds[2].result.observed, 0.6, 1e-9);
  EXPECT_FALSE(f.report.thresholds[3].result.passed);
  EXPECT_EQ(f.report.verdict, Verdict::fail);
  // Without an SLO there is nothing to judge: no data, never a pass.
  f.report.run->total.slo.reset();
  judge(f.report);
  EXPECT_EQ(f.report.thresholds[0].result.reason, "no data");
  EXPECT_EQ(f.report.thresholds[2].result.reason, "no data");
}
