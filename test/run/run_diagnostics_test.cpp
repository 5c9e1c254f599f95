#include "run/run_diagnostics.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/exit_codes.hpp"
#include "run/gates.hpp"

using testing::HasSubstr;
namespace engine = llmd::engine;
namespace run = llmd::run;
namespace scenario = llmd::scenario;

namespace {

struct Fixture {
  scenario::Scenario s;
  run::RunReport report;
  Fixture() {
    report.scenario = &s;
    report.run.emplace();
  }
  engine::PhaseResult& total() { return report.run->total; }
  const run::RunDiagnostic* find(const std::string& code) const {
    for (const auto& d : report.diagnostics) {
      if (d.code == code) {
        return &d;
      }
    }
    return nullptr;
  }
};

// 8 streams of 64 tokens as HAProxy without http-no-delay delivered them: TTFT 213 ms of 635 ms,
// most gaps ~0, a few of ~200 ms.
void record_bursty_streams(engine::PhaseResult& total) {
  auto& h = total.histograms;
  for (int stream = 0; stream < 8; ++stream) {
    h.ttft_ns.record(213'000'000);
    h.http_req_duration_ns.record(635'000'000);
    h.inter_token_latency_ns.record_n(1'000, 60);
    h.inter_token_latency_ns.record_n(140'000'000, 3);
  }
  total.ok = 8;
  total.streams_judged = 8;
  total.streams_in_bursts = 8;
}

}  // namespace

TEST(RunDiagnostics, MostStreamsBufferedIsAWarningWithTheNumbersAndTheFix) {
  Fixture f;
  record_bursty_streams(f.total());
  run::add_run_diagnostics(f.report);
  const auto* d = f.find("stream_buffered");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, llmd::scrape::Severity::warning);
  EXPECT_THAT(d->message, HasSubstr("8 of 8 streamed responses with >= 4 tokens arrived buffered (8 in bursts, 0 all at "
                                    "the end): inter-token latency p50 1us against a mean of 6.67ms per token, TTFT p50 "
                                    "213.00ms of end-to-end p50 635.00ms"));
  EXPECT_THAT(d->message, HasSubstr("measure that proxy, not the server"));
  EXPECT_THAT(d->fix, HasSubstr("option http-no-delay"));
  EXPECT_THAT(d->fix, HasSubstr("X-Accel-Buffering: no"));
  EXPECT_THAT(d->fix, HasSubstr("envoy.filters.http.buffer"));
}

// The one event loop used 1.9 s of CPU over a 2 s loop: 95% of a core, busy.
TEST(RunDiagnostics, AnEventLoopUsingNearlyACoreIsAWarningNamingItsShare) {
  using namespace std::chrono_literals;
  Fixture f;
  f.total().ok = 10;
  f.total().wall_duration = 2s;
  f.total().histograms.event_loop_lag_ns.record(4'200'000);
  f.report.run->client_cpu = engine::CpuTime{1500ms, 400ms};
  run::add_run_diagnostics(f.report);
  const auto* d = f.find("client_busy");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, llmd::scrape::Severity::warning);
  EXPECT_THAT(d->message, HasSubstr("over the 2s measured loop (the event loop 95% of a core; >= 90% is busy)"));
  EXPECT_THAT(d->message, HasSubstr("include client time (event loop lag p99 4.20ms)"));
  EXPECT_THAT(d->fix, HasSubstr("--threads N"));
  EXPECT_THAT(d->fix, HasSubstr("--shard i/N"));
}

TEST(RunDiagnostics, ClientBusyNamesEachBusyThreadAndSkipsIdleShortAndMergedRuns) {
  using namespace std::chrono_literals;
  Fixture f;
  f.total().ok = 10;
  f.total().wall_duration = 2s;
  f.report.run->client_cpu = engine::CpuTime{2s, 100ms};  // coordinator + loops: not one loop's share
  engine::EngineThread idle;
  idle.index = 0;
  idle.cpu = engine::CpuTime{300ms, 0ms};
  engine::EngineThread busy;
  busy.index = 1;
  busy.cpu = engine::CpuTime{1700ms, 100ms};  // 90%
  f.report.run->threads = {idle, busy};
  run::add_run_diagnostics(f.report);
  const auto* d = f.find("client_busy");
  ASSERT_NE(d, nullptr);
  EXPECT_THAT(d->message, HasSubstr("(thread 1 90% of a core;"));
  EXPECT_THAT(d->message, testing::Not(HasSubstr("thread 0")));
  f.report.diagnostics.clear();
  f.report.run->threads[1].cpu = engine::CpuTime{1700ms, 0ms};  // 85%: not busy
  run::add_run_diagnostics(f.report);
  EXPECT_EQ(f.find("client_busy"), nullptr);
  f.report.run->threads.clear();  // one loop, 2.1 s of 2 s
  f.total().wall_duration = 900ms;  // under a second: not judged
  run::add_run_diagnostics(f.report);
  EXPECT_EQ(f.find("client_busy"), nullptr);
  f.total().wall_duration = 2s;
  f.report.run->client_cpu.reset();  // not recorded: nothing to judge
  run::add_run_diagnostics(f.report);
  EXPECT_EQ(f.find("client_busy"), nullptr);
  busy.shard = 1;  // a merged run's loop: its own wall time is not the merged one
  f.report.run->threads = {busy};
  run::add_run_diagnostics(f.report);
  EXPECT_EQ(f.find("client_busy"), nullptr);
}

TEST(RunDiagnostics, HalfOrFewerBufferedStreamsOrNoneJudgedIsNoFinding) {
  Fixture f;
  record_bursty_streams(f.total());
  f.total().streams_judged = 16;  // 8 of 16: not "most"
  run::add_run_diagnostics(f.report);
  EXPECT_EQ(f.find("stream_buffered"), nullptr);
  f.total().streams_judged = f.total().streams_in_bursts = 0;
  run::add_run_diagnostics(f.report);
  EXPECT_TRUE(f.report.diagnostics.empty());
  run::RunReport never_ran;  // no measured run: nothing to say
  run::add_run_diagnostics(never_ran);
  EXPECT_TRUE(never_ran.diagnostics.empty());
}

// The threshold metric is the same fraction, and without judged streams it has no data.
TEST(RunDiagnostics, StreamBufferedThresholdGatesOnTheFraction) {
  Fixture f;
  f.s.thresholds = {*scenario::parse_threshold("stream_buffered", "rate<0.1")};
  record_bursty_streams(f.total());
  f.total().streams_judged = 10;
  run::judge(f.report);
  ASSERT_EQ(f.report.thresholds.size(), 1u);
  EXPECT_DOUBLE_EQ(*f.report.thresholds[0].result.observed, 0.8);
  EXPECT_FALSE(f.report.thresholds[0].result.passed);
  f.total().streams_in_bursts = 0;
  run::judge(f.report);
  EXPECT_TRUE(f.report.thresholds[0].result.passed);
  f.total().streams_judged = 0;
  run::judge(f.report);
  EXPECT_EQ(f.report.thresholds[0].result.reason, "no data");
}

namespace {

// One pod read twice without restart, counting tokens, whose hits grew by `hits`.
llmd::scrape::CacheReport pods_with_hits(double hits) {
  llmd::scrape::CacheReport cache;
  llmd::scrape::PodCacheRow row;
  row.pod = "decode-0";
  row.unit = llmd::scrape::CounterUnit::tokens;
  row.queries.delta = 2 * hits;
  row.hits.delta = hits;
  row.in_totals = true;
  cache.pods.push_back(row);
  cache.totals.queries = 2 * hits;
  cache.totals.hits = hits;
  return cache;
}

void ok_responses_with_cached_tokens(engine::PhaseResult& total, std::uint64_t ok, std::uint64_t cached) {
  total.ok = ok;
  total.responses_with_cached_tokens = ok;
  total.cached_tokens_total = cached;
}

}  // namespace

TEST(RunDiagnostics, CachedTokensStandNextToTheHitsAndAgree) {
  Fixture f;
  ok_responses_with_cached_tokens(f.total(), 20, 18'848);
  f.report.cache = pods_with_hits(18'848);
  run::add_run_diagnostics(f.report);
  const auto* info = f.find("cached_tokens");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->severity, llmd::scrape::Severity::info);
  EXPECT_EQ(info->message, "the server reported 18848 cached prompt tokens (usage.prompt_tokens_details.cached_tokens) "
                           "in 20 of 20 ok responses; the scraped pods' prefix-cache hits grew by 18848 tokens (ΣΔhits) "
                           "over the measured loop");
  EXPECT_EQ(f.find("cached_tokens_mismatch"), nullptr);
  // Within 1%: still no mismatch.
  f.report.diagnostics.clear();
  f.report.cache = pods_with_hits(18'848 * 1.009);
  run::add_run_diagnostics(f.report);
  EXPECT_EQ(f.find("cached_tokens_mismatch"), nullptr);
}

TEST(RunDiagnostics, CachedTokensMoreThanOnePercentOffTheHitsIsAMismatch) {
  Fixture f;
  ok_responses_with_cached_tokens(f.total(), 18, 16'864);
  f.total().failed = 2;
  f.report.cache = pods_with_hits(18'848);  // the pods also counted the 2 failed requests' hits
  run::add_run_diagnostics(f.report);
  ASSERT_NE(f.find("cached_tokens"), nullptr);
  const auto* mismatch = f.find("cached_tokens_mismatch");
  ASSERT_NE(mismatch, nullptr);
  EXPECT_EQ(mismatch->severity, llmd::scrape::Severity::warning);
  EXPECT_THAT(mismatch->message, HasSubstr("the ok responses reported 16864 cached prompt tokens but the scraped pods' "
                                           "prefix-cache hits grew by 18848 tokens: the pods' is larger by 10.5% (more "
                                           "than 1%)"));
  EXPECT_THAT(mismatch->message, HasSubstr("failed or were aborted after the lookup (2 here)"));
  EXPECT_THAT(mismatch->message, HasSubstr("pods outside the scraped set"));
  EXPECT_THAT(mismatch->fix, HasSubstr("scrape every pod behind the gateway"));
}

// Only a complete picture is compared: every ok response carried cached_tokens, and every pod's
// hits are known in tokens. Otherwise the client total is still reported, with why not compared.
TEST(RunDiagnostics, CachedTokensAreNotComparedOnAPartialPicture) {
  Fixture f;
  ok_responses_with_cached_tokens(f.total(), 20, 1'000);
  f.total().responses_with_cached_tokens = 19;
  f.report.cache = pods_with_hits(50'000);
  run::add_run_diagnostics(f.report);
  ASSERT_NE(f.find("cached_tokens"), nullptr);
  EXPECT_THAT(f.find("cached_tokens")->message, HasSubstr("in 19 of 20 ok responses; not compared with the pods' "
                                                          "prefix-cache hits: the other ok responses did not report it"));
  EXPECT_EQ(f.find("cached_tokens_mismatch"), nullptr);

  f.report.diagnostics.clear();
  f.total().responses_with_cached_tokens = 20;
  f.report.cache->pods[0].status = llmd::scrape::PodStatus::reset;
  run::add_run_diagnostics(f.report);
  EXPECT_THAT(f.find("cached_tokens")->message, HasSubstr("pod decode-0 is reset"));
  EXPECT_EQ(f.find("cached_tokens_mismatch"), nullptr);

  f.report.diagnostics.clear();
  f.report.cache->pods[0].status = llmd::scrape::PodStatus::ok;
  f.report.cache->pods[0].unit = llmd::scrape::CounterUnit::blocks;
  run::add_run_diagnostics(f.report);
  EXPECT_THAT(f.find("cached_tokens")->message, HasSubstr("pod decode-0 does not count prefix-cache hits in tokens"));

  f.report.diagnostics.clear();
  f.report.cache.reset();
  run::add_run_diagnostics(f.report);
  EXPECT_THAT(f.find("cached_tokens")->message, HasSubstr("no pod counters were read"));

  f.report.diagnostics.clear();
  f.total().responses_with_cached_tokens = 0;  // the server did not report it at all: nothing to say
  run::add_run_diagnostics(f.report);
  EXPECT_TRUE(f.report.diagnostics.empty());
}

TEST(RunDiagnostics, NoSuccessfulRequestIsAnErrorFindingThatFailsTheRun) {
  Fixture f;
  f.total().completed = 4;
  f.total().failed = 4;
  f.total().aborted = 1;
  f.total().failures_by_class[static_cast<std::size_t>(engine::FailureClass::http_status)] = 4;
  run::add_run_diagnostics(f.report);
  const auto* d = f.find("no_successful_request");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, llmd::scrape::Severity::error);
  EXPECT_THAT(d->message, HasSubstr("not one of the 5 requests that ended succeeded (http_status 4, aborted 1)"));
  run::judge(f.report);
  EXPECT_EQ(f.report.verdict, run::Verdict::fail);
  EXPECT_EQ(llmd::cli::exit_code(f.report.verdict), 1);
}

TEST(RunDiagnostics, OneSuccessOrNoRequestAtAllIsNoSuchFinding) {
  Fixture f;
  run::add_run_diagnostics(f.report);
  EXPECT_EQ(f.find("no_successful_request"), nullptr);
  f.total().completed = 5;
  f.total().failed = 4;
  f.total().ok = 1;
  run::add_run_diagnostics(f.report);
  EXPECT_EQ(f.find("no_successful_request"), nullptr);
}

// Not one request ended in the measured phases (a phase shorter than its first arrival, or scaled
// down by time_scale): an error finding, distinct from no_successful_request (requests ended, none ok).
TEST(RunDiagnostics, NoRequestAtAllIsAnErrorFindingWithWhatToCheck) {
  Fixture f;
  f.report.run->phases.resize(2);
  f.total().dropped = 3;
  f.total().wall_duration = std::chrono::milliseconds(12);
  run::add_run_diagnostics(f.report);
  const auto* d = f.find("no_request");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, llmd::scrape::Severity::error);
  EXPECT_EQ(d->message, "no request ended in the 2 measured phases (0 started, 3 dropped, over 12.00ms): there is no "
                        "latency, token, check or cache figure to judge, so the run fails whatever its thresholds say");
  EXPECT_THAT(d->fix, HasSubstr("time_scale"));
  EXPECT_EQ(f.find("no_successful_request"), nullptr);

  Fixture one;
  one.total().aborted = 1;  // one request ended: no_successful_request, not no_request
  run::add_run_diagnostics(one.report);
  EXPECT_EQ(one.find("no_request"), nullptr);
  EXPECT_NE(one.find("no_successful_request"), nullptr);
}

// A warm-up whose every request failed is a warning naming the top failure class and the server's
// message; one ok warm-up request, or a warm-up that ended nothing, is no finding.
TEST(RunDiagnostics, WarmupInWhichEveryRequestFailedIsAWarning) {
  Fixture f;
  f.total().completed = f.total().ok = 5;
  f.report.warmup.emplace();
  auto& warm = f.report.warmup->total;
  warm.completed = warm.failed = 4;
  const auto status = static_cast<std::size_t>(engine::FailureClass::http_status);
  warm.failures_by_class[status] = 3;
  warm.failures_by_class[static_cast<std::size_t>(engine::FailureClass::connect)] = 1;
  warm.failure_examples[status] = "HTTP 404: model not found";
  run::add_run_diagnostics(f.report);
  const auto* finding = f.find("warmup_failed");
  ASSERT_NE(finding, nullptr);
  EXPECT_EQ(finding->severity, llmd::scrape::Severity::warning);
  EXPECT_THAT(finding->message, HasSubstr("every one of the 4 warm-up requests failed (4 failed, 0 aborted; most: "
                                          "http_status 3: HTTP 404: model not found)"));
  EXPECT_EQ(f.report.diagnostics.size(), 1u);  // the only finding; a warning does not fail the run

  Fixture one_ok;
  one_ok.report.warmup.emplace();
  one_ok.report.warmup->total.completed = 2;
  one_ok.report.warmup->total.ok = one_ok.report.warmup->total.failed = 1;
  run::add_run_diagnostics(one_ok.report);
  EXPECT_EQ(one_ok.find("warmup_failed"), nullptr);
  Fixture none;
  none.report.warmup.emplace();
  run::add_run_diagnostics(none.report);
  EXPECT_EQ(none.find("warmup_failed"), nullptr);
}
