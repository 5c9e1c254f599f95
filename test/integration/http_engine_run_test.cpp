// `run --http-engine auto|curl` / scenario `engine.http` with the real binary against the embedded
// simulator: the report and the JSON result say which HTTP client ran the requests and why, the flag
// overrides the scenario, both clients count the same run alike, and a bad value is a usage error.
#include <string>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/run_test_support.hpp"
#include "support/canned_server.hpp"
#include "support/scoped_env.hpp"

namespace llmd::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(HttpEngineRun, TheReportAndTheResultNameTheClient) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", R"(
requests: {prompt: {kind: shared-prefix, prefix_tokens: 64, suffix_tokens: 4}, max_tokens: 6}
load:
  - {name: loop, executor: iterations, iterations: 12, vus: 3}
)");
  auto out = run_bench({scenario.string(), "--out", "json=" + (dir / "auto.json").string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("client:   built-in HTTP/1.1 (http:// target, HTTP/1.1, no proxy); receive times: "
                                 "the kernel's arrival stamps ("));
  const auto fast = read_json(dir / "auto.json");
  EXPECT_EQ(fast["run"]["http_client"]["name"], "built-in HTTP/1.1");
  // Every data read carried the kernel's stamp (12 responses: at least one read each).
  EXPECT_GE(fast["run"]["http_client"]["reads"].get<int>(), 12);
  EXPECT_EQ(fast["run"]["http_client"]["kernel_stamped_reads"], fast["run"]["http_client"]["reads"]);
  EXPECT_EQ(fast["scenario"]["engine"]["http"], "auto");

  out = run_bench({scenario.string(), "--http-engine", "curl", "--out", "json=" + (dir / "curl.json").string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("client:   libcurl (--http-engine curl); receive times: the clock after each read"));
  const auto curl = read_json(dir / "curl.json");
  EXPECT_EQ(curl["run"]["http_client"]["name"], "libcurl");
  EXPECT_EQ(curl["run"]["http_client"]["reads"], 0);
  EXPECT_EQ(curl["scenario"]["engine"]["http"], "curl");
  for (const char* count : {"started", "ok", "failed"}) {
    EXPECT_EQ(phase_total(fast)["counts"][count], phase_total(curl)["counts"][count]) << count;
  }
  EXPECT_EQ(phase_total(fast)["output_tokens_total"], phase_total(curl)["output_tokens_total"]);
  EXPECT_EQ(phase_total(fast)["counts"]["ok"], 12);
}

TEST(HttpEngineRun, TheScenarioKeyAndTheFlagOverridingIt) {
  const auto dir = scratch_dir();
  const auto scenario = shared_prefix_scenario(dir, "200ms", "engine: {http: curl}\n");
  auto out = run_bench({scenario.string(), "-q", "--out", "json=" + (dir / "a.json").string()});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(read_json(dir / "a.json")["run"]["http_client"]["name"], "libcurl");
  out = run_bench({scenario.string(), "-q", "--http-engine", "auto", "--out", "json=" + (dir / "b.json").string()});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(read_json(dir / "b.json")["run"]["http_client"]["name"], "built-in HTTP/1.1");
}

TEST(HttpEngineRun, BadValuesAreUsageErrorsNamingTheChoices) {
  const auto dir = scratch_dir();
  auto out = run_bench({shared_prefix_scenario(dir, "200ms").string(), "-q", "--http-engine", "fast"});
  EXPECT_EQ(out.exit_code, 2) << out.out << out.err;
  EXPECT_THAT(out.err, HasSubstr("--http-engine"));
  EXPECT_THAT(out.err, HasSubstr("auto"));
  const auto bad = shared_prefix_scenario(dir, "200ms", "engine: {http: h3}\n");
  out = run_bench({bad.string(), "-q"});
  EXPECT_EQ(out.exit_code, 2) << out.out << out.err;
  EXPECT_THAT(out.err, HasSubstr("s.yaml:7"));
  EXPECT_THAT(out.err, HasSubstr("unknown engine.http \"h3\"; expected one of auto, curl"));
}

// --coalesce / engine.coalesce: the client line says how many waits paused and for how long at most,
// the JSON counts them and echoes the setting; `off` pauses never; a window over 5 ms is a usage error.
TEST(HttpEngineRun, CoalescedWakeUpsAreCountedAndNamed) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", R"(
requests: {prompt: {kind: shared-prefix, prefix_tokens: 64, suffix_tokens: 4}, max_tokens: 12}
load:
  - {name: loop, executor: iterations, iterations: 12, vus: 4}
)");
  auto out = run_bench({scenario.string(), "--coalesce", "2ms", "--out", "json=" + (dir / "on.json").string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  const auto on = read_json(dir / "on.json");
  EXPECT_EQ(on["scenario"]["engine"]["coalesce"], "2ms");
  const auto& counts = on["run"]["http_client"];
  EXPECT_GT(counts["coalesced_waits"].get<int>(), 0);
  EXPECT_GE(counts["waits"].get<int>(), counts["coalesced_waits"].get<int>());
  EXPECT_GT(counts["longest_pause_ns"].get<int>(), 0);
  EXPECT_LE(counts["longest_pause_ns"].get<int>(), 2'000'000);
  EXPECT_THAT(out.out, HasSubstr(fmt::format("; wake-ups coalesced: {} of {} waits paused first, up to ",
                                             counts["coalesced_waits"].get<int>(), counts["waits"].get<int>())));

  out = run_bench({scenario.string(), "--coalesce", "off", "--out", "json=" + (dir / "off.json").string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  const auto off = read_json(dir / "off.json");
  EXPECT_EQ(off["scenario"]["engine"]["coalesce"], "off");
  EXPECT_EQ(off["run"]["http_client"]["coalesced_waits"], 0);
  EXPECT_GT(off["run"]["http_client"]["waits"].get<int>(), 0);
  EXPECT_THAT(out.out, Not(HasSubstr("wake-ups coalesced")));
  EXPECT_EQ(phase_total(on)["counts"]["ok"], 12);
  EXPECT_EQ(phase_total(off)["counts"]["ok"], 12);

  out = run_bench({scenario.string(), "-q", "--coalesce", "9ms"});
  EXPECT_EQ(out.exit_code, 2) << out.out << out.err;
  EXPECT_THAT(out.err, HasSubstr("--coalesce: got \"9ms\", expected auto, off or a duration in (0, 5ms]"));
}


// http_proxy names a port nobody listens on. Where no_proxy exempts the target, libcurl would not proxy it
// and the built-in client runs (the run passes); where it does not, libcurl runs the requests through the
// dead proxy and the run cannot be carried out, and says it was the proxy: the built-in client never bypasses
// a proxy libcurl would use.
TEST(HttpEngineRun, NoProxyExemptingTheTargetKeepsTheBuiltInClient) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", R"(
requests: {prompt: {kind: fixed, text: "through no proxy"}, max_tokens: 4}
cache: {source: none}
load:
  - {name: loop, executor: iterations, iterations: 6, vus: 2}
)");
  const std::string dead_proxy = fmt::format("http://127.0.0.1:{}", closed_port());
  {
    const ScopedEnv proxy("http_proxy", dead_proxy);
    const ScopedEnv no_proxy("no_proxy", "localhost, 127.0.0.0/8");
    const auto out = run_bench({scenario.string(), "--out", "json=" + (dir / "exempt.json").string()});
    ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
    EXPECT_THAT(out.out, HasSubstr("client:   built-in HTTP/1.1 (http:// target, HTTP/1.1, $http_proxy is set but "
                                   "$no_proxy exempts 127.0.0.1 (libcurl would not proxy it))"));
    const auto result = read_json(dir / "exempt.json");
    EXPECT_EQ(result["run"]["http_client"]["name"], "built-in HTTP/1.1");
    EXPECT_EQ(phase_total(result)["counts"]["ok"], 6);
  }
  {
    const ScopedEnv proxy("http_proxy", dead_proxy);
    const ScopedEnv no_proxy("no_proxy", "localhost,.svc.cluster.local");
    const auto out = run_bench({scenario.string(), "-q"});
    EXPECT_EQ(out.exit_code, 3) << out.out << out.err;
    EXPECT_THAT(out.out + out.err, Not(HasSubstr("built-in HTTP/1.1")));
    // The error says the request went through the proxy, naming the variable and never its value.
    EXPECT_THAT(out.out + out.err, HasSubstr("libcurl sent it through the proxy in $http_proxy (no_proxy does not "
                                             "exempt 127.0.0.1): check that proxy, or add the host to no_proxy"));
    EXPECT_THAT(out.out + out.err, Not(HasSubstr(dead_proxy)));
  }
}

}  // namespace
}  // namespace llmd::test
