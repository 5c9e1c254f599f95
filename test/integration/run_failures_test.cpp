// `llmd-bench run` end to end, failed and cut requests: the real binary against the embedded
// simulator with injected faults, or a canned server replaying a stream that ends in an error event.
// They must reach the gates: http_req_failed, http_req_cut, and no latency from a failed request.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/run_test_support.hpp"
#include "support/canned_server.hpp"

using llmd::test::CannedServer;
using llmd::test::phase_total;
using llmd::test::read_json;
using llmd::test::scratch_dir;
using llmd::test::sse_response;
using llmd::test::write_file;
using testing::HasSubstr;

namespace {

llmd::test::RunOutput run(std::vector<std::string> args) { return llmd::test::run_bench(std::move(args)); }

}  // namespace

// Every stream delivers three tokens, then an in-band error event (an engine that died mid-answer).
// No request succeeded: latency histograms hold ok requests only, so the TTFT threshold has no data
// and fails, and the run exits 1 (the failed requests' TTFT used to pass it). The failures keep
// their own time to failure.
std::string tokens_then_error_event() {
  std::string events;
  for (const char* text : {" The", " answer", " is"}) {
    events += std::string(R"(data: {"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":")") +
              text + R"(","logprobs":null,"finish_reason":null}]})" + "\n\n";
  }
  events += R"(data: {"error":{"message":"EngineCore encountered an issue","type":"InternalServerError","param":null,"code":500}})"
            "\n\ndata: [DONE]\n\n";
  return events;
}

TEST(RunFailures, StreamsThatAllEndInAnErrorEventCannotPassATtftThreshold) {
  CannedServer server(sse_response(tokens_then_error_event()));
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", "target: {base_url: \"" + server.url() + R"("}
model: m
requests: {max_tokens: 3}
load:
  - {name: loop, executor: iterations, iterations: 10, vus: 2}
thresholds:
  ttft: ["p(95)<500ms"]
)");
  auto out = run({scenario.string(), "-q", "--out", "json=" + (dir / "r.json").string()});
  EXPECT_EQ(out.exit_code, 1) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("✗ ttft                 p(95)<500ms    no data"));
  EXPECT_THAT(out.out, HasSubstr("server_error_event 10"));
  EXPECT_THAT(out.out, HasSubstr("verdict: FAIL"));
  const auto total = phase_total(read_json(dir / "r.json"));
  EXPECT_EQ(total["counts"]["ok"], 0);
  EXPECT_EQ(total["failures"]["server_error_event"], 10);
  for (const char* metric : {"ttft_ns", "first_byte_ns", "first_event_ns", "inter_token_latency_ns"}) {
    EXPECT_EQ(total["metrics"][metric]["summary"]["count"], 0) << metric;
  }
  EXPECT_EQ(total["failed_metrics"]["time_to_failure_ns"]["server_error_event"]["summary"]["count"], 10);
}

// The same server, no threshold at all: the default checks look at each response on its own (200,
// some content, SSE) and pass (checks are not gates anyway), but a run in which not one request
// succeeded fails.
TEST(RunFailures, ARunWithoutOneSuccessfulRequestFailsEvenWithoutThresholds) {
  CannedServer server(sse_response(tokens_then_error_event()));
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", "target: {base_url: \"" + server.url() + R"("}
model: m
requests: {max_tokens: 3}
load:
  - {name: loop, executor: iterations, iterations: 6, vus: 2}
)");
  auto out = run({scenario.string(), "-q", "--out", "json=" + (dir / "r.json").string()});
  EXPECT_EQ(out.exit_code, 1) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("! [no_successful_request] not one of the 6 requests that ended succeeded "
                                 "(server_error_event 6)"));
  EXPECT_THAT(out.out, HasSubstr("verdict: FAIL (0 of 0 gates failed; error finding: no_successful_request)"));
  const auto result = read_json(dir / "r.json");
  EXPECT_EQ(result["verdict"], "fail");
  EXPECT_EQ(result["diagnostics"][0]["code"], "no_successful_request");
  EXPECT_EQ(result["diagnostics"][0]["severity"], "error");
}

// --sim-abort-rate 0.1: a tenth of the streams are cut mid-way (no [DONE]). They are failures, so a
// 5% failure budget fails the run, and http_req_cut is exactly their share. One pod: its seeded
// fault injection cuts the same streams every run.
TEST(RunFailures, CutStreamsCountInHttpReqFailedAndHttpReqCut) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", R"(
requests: {max_tokens: 6}
load:
  - {name: loop, executor: iterations, iterations: 300, vus: 6}
sim: {pods: 1, timing: {time_scale: 0.01}}
thresholds:
  http_req_failed: ["rate<0.05"]
  http_req_cut: ["rate<0.5"]
)");
  auto out = run({scenario.string(), "-q", "--sim-abort-rate", "0.1", "--out", "json=" + (dir / "r.json").string()});
  EXPECT_EQ(out.exit_code, 1) << out.out << out.err;
  const auto result = read_json(dir / "r.json");
  const auto& total = phase_total(result);
  const double cut = total["failures"]["stream_cut"].get<double>();
  EXPECT_EQ(total["counts"]["failed"].get<double>(), cut) << "only cut streams fail";
  EXPECT_GE(cut, 300 * 0.05) << total.dump();
  EXPECT_LE(cut, 300 * 0.2);
  EXPECT_DOUBLE_EQ(total["rates"]["http_req_failed"].get<double>(), cut / 300);
  EXPECT_DOUBLE_EQ(total["rates"]["http_req_cut"].get<double>(), cut / 300);
  ASSERT_EQ(result["thresholds"].size(), 2u);
  EXPECT_EQ(result["thresholds"][0]["metric"], "http_req_failed");
  EXPECT_FALSE(result["thresholds"][0]["passed"].get<bool>());
  EXPECT_DOUBLE_EQ(result["thresholds"][0]["observed"].get<double>(), cut / 300);
  EXPECT_EQ(result["thresholds"][1]["metric"], "http_req_cut");
  EXPECT_TRUE(result["thresholds"][1]["passed"].get<bool>());
  EXPECT_DOUBLE_EQ(result["thresholds"][1]["observed"].get<double>(), cut / 300);
  EXPECT_THAT(out.out, HasSubstr("http_req_cut ....: "));
  EXPECT_THAT(out.out, HasSubstr(" cut before their end + 0 aborted by llmd-bench of 300 requests)"));
}

// Tokens every 100 ms, 10 per answer (~1 s), for a 1.5 s phase with graceful_stop 20ms: each user
// finishes its first request and is cut off in its second, which the engine aborts. The aborted
// requests count as failed and as cut, and an http_req_cut budget of 0 fails.
TEST(RunFailures, RequestsAbortedAtGracefulStopCountAsFailedAndCut) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", R"(
requests: {max_tokens: 10}
load:
  - {name: short, executor: constant-vus, vus: 2, duration: 1500ms, graceful_stop: 20ms}
sim: {pods: 1, timing: {inter_token: 100ms}}
thresholds:
  http_req_cut: ["rate==0"]
)");
  auto out = run({scenario.string(), "-q", "--out", "json=" + (dir / "r.json").string()});
  EXPECT_EQ(out.exit_code, 1) << out.out << out.err;
  const auto result = read_json(dir / "r.json");
  const auto& total = phase_total(result);
  const double ok = total["counts"]["ok"].get<double>();
  const double failed = total["counts"]["failed"].get<double>();
  const double aborted = total["counts"]["aborted"].get<double>();
  EXPECT_GE(aborted, 1) << total["counts"].dump();
  EXPECT_GE(ok, 1) << total["counts"].dump();
  EXPECT_EQ(failed, 0);
  EXPECT_DOUBLE_EQ(total["rates"]["http_req_failed"].get<double>(), aborted / (ok + aborted));
  EXPECT_DOUBLE_EQ(total["rates"]["http_req_cut"].get<double>(), aborted / (ok + aborted));
  EXPECT_DOUBLE_EQ(result["thresholds"][0]["observed"].get<double>(), aborted / (ok + aborted));
  EXPECT_FALSE(result["thresholds"][0]["passed"].get<bool>());
  EXPECT_EQ(result["interrupted"], false) << "graceful_stop elapsing is not an interruption";
  EXPECT_THAT(out.out, HasSubstr("http_req_failed .: "));
  EXPECT_THAT(out.out, HasSubstr("aborted by llmd-bench of"));
}

// Issue 10 item 11: `time_scale: 1e-300` ran its phase for 0 ns and PASSED with 0 requests. The
// bound now rejects it, but a phase that starts no request still can: here a poisson phase of 1/s
// scaled to 1 us (seeded: its first arrival is ~1 s after the start). With `checks: []` and no
// threshold there is no gate, and the run must still fail (exit 1) with the no_request finding.
TEST(RunFailures, ARunInWhichNoRequestStartedFailsWithTheNoRequestFinding) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", R"(
checks: []
time_scale: 0.000001
load:
  - {name: nothing, executor: poisson, rate: 1, duration: 1s}
)");
  auto out = run({scenario.string(), "-q", "--out", "json=" + (dir / "r.json").string()});
  EXPECT_EQ(out.exit_code, 1) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("! [no_request] no request ended in the 1 measured phase (0 started, 0 dropped"));
  EXPECT_THAT(out.out, HasSubstr("verdict: FAIL (0 of 0 gates failed; error finding: no_request)"));
  EXPECT_THAT(out.out, testing::Not(HasSubstr("completed in -")));
  const auto result = read_json(dir / "r.json");
  EXPECT_EQ(result["verdict"], "fail");
  ASSERT_EQ(result["diagnostics"].size(), 1u) << result["diagnostics"];
  EXPECT_EQ(result["diagnostics"][0]["code"], "no_request");
  EXPECT_EQ(phase_total(result)["counts"]["started"], 0);
}
