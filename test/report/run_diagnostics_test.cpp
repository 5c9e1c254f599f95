#include "report/run_diagnostics.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "report/gates.hpp"

using testing::HasSubstr;
namespace engine = llmd::engine;
namespace report = llmd::report;
namespace scenario = llmd::scenario;

namespace {

struct Fixture {
  scenario::Scenario s;
  report::RunReport report;
  Fixture() {
    report.scenario = &s;
    report.run.emplace();
  }
  engine::PhaseResult& total() { return report.run->total; }
  const report::RunDiagnostic* find(const std::string& code) const {
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
  report::add_run_diagnostics(f.report);
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

TEST(RunDiagnostics, HalfOrFewerBufferedStreamsOrNoneJudgedIsNoFinding) {
  Fixture f;
  record_bursty_streams(f.total());
  f.total().streams_judged = 16;  // 8 of 16: not "most"
  report::add_run_diagnostics(f.report);
  EXPECT_EQ(f.find("stream_buffered"), nullptr);
  f.total().streams_judged = f.total().streams_in_bursts = 0;
  report::add_run_diagnostics(f.report);
  EXPECT_TRUE(f.report.diagnostics.empty());
  report::RunReport never_ran;  // no measured run: nothing to say
  report::add_run_diagnostics(never_ran);
  EXPECT_TRUE(never_ran.diagnostics.empty());
}

// The threshold metric is the same fraction, and without judged streams it has no data.
TEST(RunDiagnostics, StreamBufferedThresholdGatesOnTheFraction) {
  Fixture f;
  f.s.thresholds = {*scenario::parse_threshold("stream_buffered", "rate<0.1")};
  record_bursty_streams(f.total());
  f.total().streams_judged = 10;
  report::judge(f.report);
  ASSERT_EQ(f.report.thresholds.size(), 1u);
  EXPECT_DOUBLE_EQ(*f.report.thresholds[0].result.observed, 0.8);
  EXPECT_FALSE(f.report.thresholds[0].result.passed);
  f.total().streams_in_bursts = 0;
  report::judge(f.report);
  EXPECT_TRUE(f.report.thresholds[0].result.passed);
  f.total().streams_judged = 0;
  report::judge(f.report);
  EXPECT_EQ(f.report.thresholds[0].result.reason, "no data");
}
