// A buffering proxy between llmd-bench and the server must not go unnoticed: Debian's real HAProxy
// (2.6), started by each test on 127.0.0.1 with a config the test writes, in front of an external
// `llmd-bench sim` pod sending a token every 5 ms (--time-scale 0.5; 64 tokens, ~320 ms per answer).
// Measured on the 2-core CI machine, 3 runs of 4 concurrent streams each:
//   direct, or HAProxy with `option http-no-delay`: TTFT p50 2.4-9.5 ms, ITL p50 5 ms: streamed;
//   HAProxy defaults (no http-no-delay: it sends with MSG_MORE, the kernel holds the bytes up to
//     ~200 ms): TTFT p50 88 ms, ITL p50 0 us: every stream in bursts;
//   `http-response wait-for-body`: TTFT = end-to-end = 320 ms, ITL 0 us: every stream at the end.
// The scenario gates on `stream_buffered: ["rate<0.1"]`: direct passes, the buffered paths fail.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/run_test_support.hpp"
#include "support/child_process.hpp"
#include "support/haproxy_process.hpp"
#include "support/sim_process.hpp"

using llmd::test::HaproxyProcess;
using llmd::test::k_haproxy;
using llmd::test::phase_total;
using llmd::test::read_json;
using llmd::test::scratch_dir;
using llmd::test::SimProcess;
using llmd::test::write_file;
using nlohmann::json;
using testing::HasSubstr;

namespace {

class ProxyBufferingTiming : public testing::Test {
 protected:
  void SetUp() override {
    if (::access(k_haproxy, X_OK) != 0) {
      GTEST_SKIP() << k_haproxy << " is not installed: the buffering-proxy tests need Debian's haproxy "
                   << "(scripts/setup.sh installs it)";
    }
    m_dir = scratch_dir();
    m_sim = std::make_unique<SimProcess>(std::vector<std::string>{"--pods", "1", "--time-scale", "0.5"});
  }

  // The sim gateway as HAProxy's server address, "127.0.0.1:PORT".
  std::string sim_address() const { return m_sim->gateway().substr(std::string("http://").size()); }

  struct Result {
    llmd::test::RunOutput out;
    json result;
  };

  // 4 concurrent streams of 64 tokens through `target`, gated on stream_buffered.
  Result run(const std::string& target) {
    const auto scenario = write_file(m_dir / "s.yaml", R"(
requests: {max_tokens: 64}
load:
  - {name: loop, executor: iterations, iterations: 4, vus: 4}
thresholds:
  stream_buffered: ["rate<0.1"]
)");
    Result r;
    r.out = llmd::test::run_bench({scenario.string(), "--target", target, "-q", "--out", "json=" + (m_dir / "r.json").string()});
    r.result = read_json(m_dir / "r.json");
    const auto& metrics = phase_total(r.result)["metrics"];
    RecordProperty("ttft_p50_ns", metrics["ttft_ns"]["summary"]["p50"].dump());
    RecordProperty("itl_p50_ns", metrics["inter_token_latency_ns"]["summary"]["p50"].dump());
    return r;
  }

  static bool has_diagnostic(const json& result, const std::string& code) {
    for (const auto& d : result["diagnostics"]) {
      if (d["code"] == code) {
        return true;
      }
    }
    return false;
  }

  std::filesystem::path m_dir;
  std::unique_ptr<SimProcess> m_sim;
};

}  // namespace

TEST_F(ProxyBufferingTiming, DirectStreamsAreNotBuffered) {
  const auto r = run(m_sim->gateway());
  EXPECT_EQ(r.out.exit_code, 0) << r.out.out << r.out.err;
  const auto& total = phase_total(r.result);
  EXPECT_EQ(total["counts"]["ok"], 4);
  EXPECT_EQ(total["stream_delivery"], json::parse(R"({"judged":4,"in_bursts":0,"at_end":0})"));
  EXPECT_EQ(total["rates"]["stream_buffered"], 0.0);
  EXPECT_FALSE(has_diagnostic(r.result, "stream_buffered")) << r.result["diagnostics"].dump();
}

TEST_F(ProxyBufferingTiming, HaproxyWithHttpNoDelayIsNotBuffered) {
  HaproxyProcess proxy(m_dir, sim_address(), "  option http-no-delay\n", "");
  const auto r = run(proxy.url());
  EXPECT_EQ(r.out.exit_code, 0) << r.out.out << r.out.err;
  EXPECT_EQ(phase_total(r.result)["stream_delivery"]["judged"], 4);
  EXPECT_EQ(phase_total(r.result)["rates"]["stream_buffered"], 0.0);
  EXPECT_FALSE(has_diagnostic(r.result, "stream_buffered")) << r.result["diagnostics"].dump();
}

TEST_F(ProxyBufferingTiming, HaproxyDefaultsDeliverInBurstsAndTheRunSaysSo) {
  HaproxyProcess proxy(m_dir, sim_address(), "", "");
  const auto r = run(proxy.url());
  EXPECT_EQ(r.out.exit_code, 1) << r.out.out << r.out.err;
  const auto& total = phase_total(r.result);
  EXPECT_EQ(total["counts"]["ok"], 4);
  EXPECT_EQ(total["stream_delivery"]["judged"], 4);
  EXPECT_GE(total["rates"]["stream_buffered"].get<double>(), 0.75) << total["stream_delivery"].dump();
  EXPECT_TRUE(has_diagnostic(r.result, "stream_buffered")) << r.result["diagnostics"].dump();
  EXPECT_THAT(r.out.out, HasSubstr("! [stream_buffered] "));
  EXPECT_THAT(r.out.out, HasSubstr("option http-no-delay"));
  EXPECT_THAT(r.out.out, HasSubstr("✗ stream_buffered"));
}

TEST_F(ProxyBufferingTiming, WaitForBodyDeliversEverythingAtTheEnd) {
  HaproxyProcess proxy(m_dir, sim_address(), "", "  http-response wait-for-body time 10s\n");
  const auto r = run(proxy.url());
  EXPECT_EQ(r.out.exit_code, 1) << r.out.out << r.out.err;
  const auto& total = phase_total(r.result);
  EXPECT_EQ(total["stream_delivery"], json::parse(R"({"judged":4,"in_bursts":0,"at_end":4})"));
  const auto& metrics = total["metrics"];
  EXPECT_GE(metrics["ttft_ns"]["summary"]["p50"].get<double>(),
            0.9 * metrics["http_req_duration_ns"]["summary"]["p50"].get<double>());
  EXPECT_TRUE(has_diagnostic(r.result, "stream_buffered")) << r.result["diagnostics"].dump();
  EXPECT_THAT(r.out.out, HasSubstr("4 all at the end"));
}
