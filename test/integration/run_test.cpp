// `llmd-bench run` end to end: the real binary, the real simulator (embedded, or as a separate
// `llmd-bench sim` process), scenario files written by the test.
#include <signal.h>

#include <thread>

#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/run_test_support.hpp"
#include "support/child_process.hpp"
#include "support/http_client.hpp"
#include "support/sim_process.hpp"

using llmd::test::ChildProcess;
using llmd::test::phase_total;
using llmd::test::read_json;
using llmd::test::run_argv_scraping_every_pod;
using llmd::test::RunOutput;
using llmd::test::scratch_dir;
using llmd::test::shared_prefix_scenario;
using llmd::test::SimProcess;
using llmd::test::write_file;
using nlohmann::json;
using testing::HasSubstr;

namespace {

RunOutput run(std::vector<std::string> args) { return llmd::test::run_bench(std::move(args)); }


}  // namespace

TEST(Run, CacheHitScenarioPassesWithPrefixRoutingAndMatchesThePodsOwnCounters) {
  const auto dir = scratch_dir();
  auto out = run({std::string(LLMD_SOURCE_DIR) + "/scenarios/cache-hit.yaml", "--out", "json=" + (dir / "r.json").string()});
  EXPECT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("verdict: PASS"));
  const auto result = read_json(dir / "r.json");
  EXPECT_EQ(result["schema"], "llmd-bench/result");
  EXPECT_EQ(result["verdict"], "pass");
  const auto& totals = result["cache"]["totals"];
  // 20 prompts of 1,008 tokens on one pod; 19 hit the 992-token prefix blocks.
  EXPECT_EQ(totals["queries_tokens"], 20 * 1008);
  EXPECT_EQ(totals["hits_tokens"], 19 * 992);
  EXPECT_DOUBLE_EQ(totals["hit_rate"].get<double>(), 19.0 * 992 / (20 * 1008));
  EXPECT_EQ(totals["max_pod_share"], 1.0);
  EXPECT_EQ(phase_total(result)["counts"]["ok"], 20);
}

TEST(Run, CacheHitScenarioFailsTheGateWithRoundRobin) {
  auto out = run({std::string(LLMD_SOURCE_DIR) + "/scenarios/cache-hit.yaml", "--sim-route", "round-robin", "-q"});
  EXPECT_EQ(out.exit_code, 1) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("cache_hit_rate = 0.7873; required >= 0.9"));
  EXPECT_THAT(out.out, HasSubstr("verdict: FAIL"));
}

TEST(Run, HitRateEqualsTheSimulatorsCountersOfAnExternalSim) {
  SimProcess sim({"--pods", "3", "--route", "random", "--time-scale", "0.01"});
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", R"(
requests:
  prompt: {kind: shared-prefix, prefix_tokens: 300, suffix_tokens: 5}
  max_tokens: 4
load:
  - {name: loop, executor: iterations, iterations: 30, vus: 3}
thresholds:
  cache_hit_rate: [">=0.0"]
)");
  // No preflight request: the pods' totals are then exactly the run's.
  std::vector<std::string> args = {scenario.string(), "--target", sim.gateway(), "-q", "--no-preflight", "--out",
                                   "json=" + (dir / "r.json").string()};
  for (std::size_t i = 0; i < sim.pods(); ++i) {
    args.insert(args.end(), {"--cache-url", sim.pod_url(i) + "/metrics"});
  }
  auto out = run(args);
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  double queries = 0;
  double hits = 0;
  for (std::size_t i = 0; i < sim.pods(); ++i) {
    const auto counters = sim.counters(i);  // the sim started at zero: its totals are the run's deltas
    queries += counters.queries_tokens;
    hits += counters.hits_tokens;
  }
  const auto result = read_json(dir / "r.json");
  EXPECT_EQ(result["cache"]["totals"]["queries_tokens"].get<double>(), queries);
  EXPECT_EQ(result["cache"]["totals"]["hits_tokens"].get<double>(), hits);
  EXPECT_DOUBLE_EQ(result["cache"]["totals"]["hit_rate"].get<double>(), hits / queries);
}

// --sim-prompt-tokens-details: every ok response reports its cached prompt tokens (vLLM
// --enable-prompt-tokens-details), and their sum is exactly the pods' ΣΔhits: the report puts them
// side by side. With a third of the streams cut, the pod counted hits the client never summed (the
// client sums ok responses only), and the report flags the difference.
TEST(Run, ClientReportedCachedTokensStandNextToThePodsHits) {
  const auto dir = scratch_dir();
  auto out = run({std::string(LLMD_SOURCE_DIR) + "/scenarios/cache-hit.yaml", "-q", "--sim-prompt-tokens-details",
                  "--out", "json=" + (dir / "r.json").string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  auto result = read_json(dir / "r.json");
  EXPECT_EQ(phase_total(result)["cached_tokens"], json::parse(R"({"total":18848,"responses":20})"));  // 19 x 992
  EXPECT_EQ(result["cache"]["totals"]["hits_tokens"], 18848);
  std::vector<std::string> codes;
  for (const auto& d : result["diagnostics"]) {
    codes.push_back(d["code"].get<std::string>());
  }
  EXPECT_EQ(codes, std::vector<std::string>{"cached_tokens"});
  EXPECT_THAT(out.out, HasSubstr("[cached_tokens] the server reported 18848 cached prompt tokens"));
  EXPECT_THAT(out.out, HasSubstr("hits grew by 18848 tokens (ΣΔhits)"));

  const auto scenario = write_file(dir / "s.yaml", R"(
requests:
  prompt: {kind: shared-prefix, prefix_tokens: 200, suffix_tokens: 4}
  max_tokens: 4
load:
  - {name: loop, executor: iterations, iterations: 30, vus: 1}
sim: {pods: 1, timing: {time_scale: 0.01}}
)");
  out = run({scenario.string(), "-q", "--sim-prompt-tokens-details", "--sim-abort-rate", "0.3", "--out",
             "json=" + (dir / "a.json").string()});
  result = read_json(dir / "a.json");
  const auto& total = phase_total(result);
  ASSERT_GT(total["failures"]["stream_cut"].get<int>(), 0) << total.dump();
  EXPECT_LT(total["cached_tokens"]["total"].get<double>(), result["cache"]["totals"]["hits_tokens"].get<double>());
  EXPECT_THAT(out.out, HasSubstr("[cached_tokens_mismatch] the ok responses reported "));
  EXPECT_THAT(out.out, HasSubstr("the pods' is larger"));
}

TEST(RunTiming, TtftAgainstAFixedPrefillDelayIsThatDelay) {
  // Every prompt is 50 uncached tokens x 1 ms + 20 ms base = 70 ms of prefill, one pod, no queue.
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", R"(
requests:
  prompt: {kind: random, length: 50}
  max_tokens: 2
load:
  - {name: loop, executor: iterations, iterations: 10, vus: 1}
sim:
  pods: 1
  prefix_caching: false
  timing: {prefill_base: 20ms, prefill_per_token: 1ms, inter_token: 5ms}
)");
  auto out = run({scenario.string(), "-q", "--out", "json=" + (dir / "r.json").string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  const auto ttft = phase_total(read_json(dir / "r.json"))["metrics"]["ttft_ns"]["summary"];
  EXPECT_GE(ttft["p50"].get<double>(), 70e6);
  EXPECT_LT(ttft["p50"].get<double>(), 70e6 + 15e6) << "client-added TTFT error should be a few ms at most";
  EXPECT_LT(ttft["max"].get<double>(), 70e6 + 50e6);
}

TEST(Run, AFailingThresholdExits1AndSaysWhich) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", R"(
requests: {max_tokens: 4}
load:
  - {name: loop, executor: iterations, iterations: 5, vus: 1}
thresholds:
  ttft: ["p(95)<1us"]
  http_req_failed: ["rate<0.01"]
sim: {timing: {time_scale: 0.05}}
)");
  auto out = run({scenario.string(), "-q"});
  EXPECT_EQ(out.exit_code, 1) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("✗ ttft"));
  EXPECT_THAT(out.out, HasSubstr("✓ http_req_failed"));
}

TEST(Run, ABadScenarioExits2NamingFileAndLine) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "bad.yaml", "load:\n  - name: x\n    executor: constant_vus\n    vus: 2\n    duration: 1s\n");
  auto out = run({scenario.string()});
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.err, HasSubstr(scenario.string() + ":3:15: load[0].executor: unknown executor \"constant_vus\""));
  auto missing = run({(dir / "nope.yaml").string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("nope.yaml"));
  auto bad_flag = run({scenario.string(), "--out", "xml=r.xml"});
  EXPECT_EQ(bad_flag.exit_code, 2);
}

TEST(Run, AnUnreachableTargetExits3AndStillWritesTheJson) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", R"(
target: {base_url: "http://127.0.0.1:1", connect_timeout: 1s, preflight: false}
model: m
load:
  - {name: loop, executor: iterations, iterations: 3, vus: 1}
)");
  auto out = run({scenario.string(), "-q", "--out", "json=" + (dir / "r.json").string()});
  EXPECT_EQ(out.exit_code, 3) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("no request reached the target http://127.0.0.1:1"));
  const auto result = read_json(dir / "r.json");
  EXPECT_EQ(result["verdict"], "error");
  EXPECT_EQ(result["partial"], true);
  EXPECT_EQ(phase_total(result)["failures"]["connect"], 3);
}

TEST(Run, InjectedErrorsAndAbortsAreCountedByClass) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", R"(
requests: {max_tokens: 6}
load:
  - {name: loop, executor: iterations, iterations: 40, vus: 4}
sim: {timing: {time_scale: 0.02}}
)");
  auto errors = run({scenario.string(), "-q", "--sim-error-rate", "1", "--out", "json=" + (dir / "e.json").string()});
  EXPECT_EQ(errors.exit_code, 1) << "no request succeeded (no_successful_request)";
  const auto e = phase_total(read_json(dir / "e.json"));
  EXPECT_EQ(e["failures"]["http_status"], 40);
  EXPECT_EQ(e["failures_by_status"]["500"], 40);
  auto aborts = run({scenario.string(), "-q", "--sim-abort-rate", "1", "--out", "json=" + (dir / "a.json").string()});
  const auto a = phase_total(read_json(dir / "a.json"));
  EXPECT_EQ(a["failures"]["stream_cut"], 40);
  EXPECT_EQ(a["counts"]["ok"], 0);
}

// A wrong Host: the preflight request gets the gateway's empty 404 and the run stops before the
// warm-up with the Host named (exit 3); without the preflight the 404s are measured and counted.
TEST(Run, WrongHostHeaderGets404sCountedAsFailures) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", R"(
target: {host: wrong.example}
model: meta-llama/Llama-3.2-3B-Instruct
requests: {max_tokens: 2}
warmup: {name: warm, executor: iterations, iterations: 2, vus: 1}
load:
  - {name: loop, executor: iterations, iterations: 6, vus: 2}
sim: {host: llm-d.demo.local, timing: {time_scale: 0.05}}
thresholds:
  http_req_failed: ["rate<0.5"]
)");
  auto stopped = run({scenario.string(), "-q", "--out", "json=" + (dir / "p.json").string()});
  EXPECT_EQ(stopped.exit_code, 3) << stopped.out << stopped.err;
  EXPECT_THAT(stopped.out, HasSubstr("answered HTTP 404 with an empty body: wrong Host?"));
  EXPECT_THAT(stopped.out, HasSubstr("the Host header sent was \"wrong.example\" (target.host / --host)"));
  const auto preflighted = read_json(dir / "p.json");
  EXPECT_EQ(preflighted["verdict"], "error");
  EXPECT_TRUE(preflighted["warmup"].is_null()) << "stopped before the warm-up";
  EXPECT_TRUE(preflighted["run"].is_null());

  auto out = run({scenario.string(), "-q", "--no-preflight", "--out", "json=" + (dir / "r.json").string()});
  EXPECT_EQ(out.exit_code, 1) << out.out << out.err;
  const auto result = read_json(dir / "r.json");
  EXPECT_EQ(phase_total(result)["failures_by_status"]["404"], 6);
  auto right = run({scenario.string(), "-q", "--host", "llm-d.demo.local"});
  EXPECT_EQ(right.exit_code, 0) << right.out << right.err;
}

TEST(Run, APodRestartMidRunIsReportedAsAResetWithoutNegativeCounts) {
  SimProcess sim({"--pods", "2", "--route", "round-robin", "--time-scale", "0.05"});
  const auto dir = scratch_dir();
  ChildProcess child(run_argv_scraping_every_pod(sim, shared_prefix_scenario(dir, "3s"), dir / "r.json"));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ASSERT_EQ(llmd::test::http_request("POST", sim.gateway() + "/admin/pods/1/restart").status, 200);
  ASSERT_TRUE(child.wait(std::chrono::seconds(60)));
  const auto result = read_json(dir / "r.json");
  bool saw_reset = false;
  for (const auto& pod : result["cache"]["pods"]) {
    EXPECT_GE(pod["queries_tokens"]["delta"].get<double>(), 0) << pod.dump();
    EXPECT_GE(pod["hits_tokens"]["delta"].get<double>(), 0) << pod.dump();
    saw_reset = saw_reset || pod["reset"].get<bool>();
  }
  EXPECT_TRUE(saw_reset) << result["cache"].dump();
  EXPECT_THAT(child.stdout_text(), HasSubstr("reset"));
  // The requests the restarted pod finished before its restart are lost from its count: blamed on
  // the restart, never on "pods outside the scraped set".
  EXPECT_THAT(child.stdout_text(), testing::Not(HasSubstr("outside the scraped set")));
  for (const auto& d : result["diagnostics"]) {
    if (d["code"] == "pod_requests_mismatch") {
      EXPECT_THAT(d["message"].get<std::string>(), HasSubstr("restarted during the run")) << d.dump();
    }
  }
}

TEST(Run, AFailedAfterScrapeOfOnePodFailsTheCacheGatesUnlessAllowed) {
  // Pod 1 restarts mid-run and stays down (503, /metrics included) past the end of the run.
  SimProcess sim({"--pods", "2", "--route", "round-robin", "--time-scale", "0.05", "--restart-downtime", "1200"});
  const auto dir = scratch_dir();
  const auto scenario =
      shared_prefix_scenario(dir, "2s", "thresholds:\n  cache_hit_rate: [\">=0\"]\n  max_pod_share: [\"<=1\"]\n");
  auto run_with = [&](std::vector<std::string> extra, const std::string& file, int exit_code) {
    std::vector<std::string> argv = run_argv_scraping_every_pod(sim, scenario, dir / file);
    argv.insert(argv.end(), extra.begin(), extra.end());
    ChildProcess child(argv);
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    EXPECT_EQ(llmd::test::http_request("POST", sim.pod_url(1) + "/admin/restart").status, 200);
    EXPECT_EQ(child.wait(std::chrono::seconds(60)), exit_code) << child.stdout_text() << child.stderr_text();
    return std::make_pair(read_json(dir / file), child.stdout_text());
  };
  const auto [strict, text] = run_with({}, "strict.json", 1);
  EXPECT_EQ(strict["cache"]["totals"]["pods_failed"], 1);
  EXPECT_EQ(strict["cache"]["totals"]["missing_pods"][0], sim.pod_url(1).substr(7) + " (scrape failed)");
  ASSERT_EQ(strict["thresholds"].size(), 2u);
  for (const auto& t : strict["thresholds"]) {
    EXPECT_FALSE(t["passed"].get<bool>()) << t.dump();
    EXPECT_THAT(t["reason"].get<std::string>(), HasSubstr("not trusted: judged on partial data: 1 pod missing"));
  }
  EXPECT_THAT(text, HasSubstr("✗ cache_hit_rate"));
  // Allowed: the same figures over the pod that answered are judged, and pass (the 503s fail checks,
  // which are counted, not gates).
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto [allowed, text2] = run_with({"--allow-missing-pods", "1"}, "allowed.json", 0);
  for (const auto& t : allowed["thresholds"]) {
    EXPECT_TRUE(t["passed"].get<bool>()) << t.dump() << text2;
  }
}

TEST(Run, SigintWritesAPartialReportAndExits130) {
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", R"(
requests: {max_tokens: 4}
load:
  - {name: long, executor: constant-vus, vus: 2, duration: 60s}
sim: {timing: {time_scale: 0.05}}
)");
  ChildProcess child({LLMD_BENCH_BINARY, "run", scenario.string(), "-q", "--out", "json=" + (dir / "r.json").string()});
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  child.send_signal(SIGINT);
  const auto code = child.wait(std::chrono::seconds(30));
  EXPECT_EQ(code, 130) << child.stdout_text() << child.stderr_text();
  EXPECT_THAT(child.stdout_text(), HasSubstr("verdict: INTERRUPTED"));
  const auto result = read_json(dir / "r.json");
  EXPECT_EQ(result["interrupted"], true);
  EXPECT_EQ(result["partial"], true);
  EXPECT_GT(phase_total(result)["counts"]["ok"].get<int>(), 0);
}

TEST(Run, APodWithPrefixCachingOffIsNamedWithTheCauseAndTheGateFails) {
  const auto dir = scratch_dir();
  auto out = run({std::string(LLMD_SOURCE_DIR) + "/scenarios/cache-hit.yaml", "-q", "--sim-route", "round-robin",
                  "--sim-no-prefix-caching-pod", "2", "--out", "json=" + (dir / "r.json").string()});
  EXPECT_EQ(out.exit_code, 1) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("sim-pod-2: prefix caching is disabled on pod sim-pod-2"));
  EXPECT_THAT(out.out, HasSubstr("--enable-prefix-caching"));
  const auto result = read_json(dir / "r.json");
  bool named = false;
  for (const auto& pod : result["cache"]["pods"]) {
    if (pod["pod"] == "sim-pod-2") {
      named = true;
      EXPECT_EQ(pod["status"], "caching_disabled");
      EXPECT_EQ(pod["requests_success"]["delta"], 5);
    }
  }
  EXPECT_TRUE(named);
  auto bad = run({std::string(LLMD_SOURCE_DIR) + "/scenarios/cache-hit.yaml", "--sim-no-prefix-caching-pod", "9"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("embedded simulator: --sim-no-prefix-caching-pod 9 is not a pod: pods are numbered 0..3"));
  // A bad --sim-* value is named by the run flag that set it, not by `llmd-bench sim`'s flag.
  auto frozen = run({std::string(LLMD_SOURCE_DIR) + "/scenarios/cache-hit.yaml", "--sim-time-scale", "0"});
  EXPECT_EQ(frozen.exit_code, 2);
  EXPECT_THAT(frozen.err, HasSubstr("embedded simulator: --sim-time-scale: must be >= 1e-06, got 0"));
  EXPECT_THAT(frozen.err, testing::Not(HasSubstr("--time-scale:")));
}

TEST(Run, TrafficOnPodsOutsideTheScrapedSetIsReported) {
  SimProcess sim({"--pods", "3", "--route", "round-robin", "--time-scale", "0.01"});
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "s.yaml", R"(
requests: {max_tokens: 2}
load:
  - {name: loop, executor: iterations, iterations: 9, vus: 1}
)");
  auto out = run({scenario.string(), "--target", sim.gateway(), "-q", "--cache-url", sim.pod_url(0) + "/metrics",
                  "--cache-url", sim.pod_url(1) + "/metrics"});
  EXPECT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("[pod_requests_mismatch] 9 requests succeeded but the scraped pods finished only 6: 3 "
                                 "went to pods outside the scraped set"));
}
