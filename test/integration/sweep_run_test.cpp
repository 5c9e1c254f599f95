// `llmd-bench sweep` (issue 17) with the real binary against the embedded simulator: 4 pods routed
// round-robin, 2 sequence slots each, 8 tokens of 10 ms after a 20 ms prefill (~90 ms a request):
// ~89 req/s fit, beyond that requests queue and TTFT grows past a knee. The search finds a capacity
// whose step passes and whose next failing step fails on TTFT, twice within one resolution step; a
// client that cannot offer the load (max_in_flight 1) is client-limited, not a server capacity; and
// usage errors are exit 2.
#include <csignal>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/browser_support.hpp"
#include "integration/run_test_support.hpp"

namespace {

using llmd::test::read_json;
using llmd::test::scratch_dir;
using llmd::test::write_file;
using testing::HasSubstr;

constexpr const char* k_fleet = R"(
thresholds:
  ttft: ["p(95)<100ms"]
sim:
  pods: 4
  route: round-robin
  max_num_seqs: 2
  timing: {prefill_base: 20ms, prefill_per_token: 0us, inter_token: 10ms}
)";

std::filesystem::path capacity_scenario(const std::filesystem::path& dir, const std::string& phase,
                                        const std::string& extra = "") {
  return write_file(dir / "capacity.yaml",
                    "name: capacity\nrequests: {prompt: {kind: shared-prefix, prefix_tokens: 32, suffix_tokens: 8}, "
                    "max_tokens: 8}\nload: [" + phase + "]\n" + extra + k_fleet);
}

llmd::test::RunOutput sweep(std::vector<std::string> args) {
  std::vector<std::string> argv = {LLMD_BENCH_BINARY, "sweep"};
  argv.insert(argv.end(), args.begin(), args.end());
  return llmd::test::run_to_completion(argv, std::chrono::seconds(240));
}

// The sweep JSON files in `folder` validate against schema/sweep-v1.schema.json.
void expect_valid_sweeps(const std::filesystem::path& folder) {
  const auto check = llmd::test::run_to_completion({LLMD_PYTHON3, std::string(LLMD_SOURCE_DIR) + "/test/tools/validate_results.py",
                                                    std::string(LLMD_SOURCE_DIR) + "/schema/sweep-v1.schema.json",
                                                    folder.string(), "--min", "1"},
                                                   std::chrono::seconds(60));
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

struct Found {
  double capacity = 0;
  double failing = 0;
  std::string steps;  // "80 req/s pass (ttft p95 22.7 ms); ...", for a failure message
};

Found search_once(const std::filesystem::path& dir, const std::string& name) {
  const auto scenario = capacity_scenario(dir, "{name: steady, executor: constant-arrival-rate, rate: 10, duration: 10s}");
  const auto json_path = dir / (name + ".json");
  const auto junit_path = dir / (name + ".xml");
  // --max-client-lag 250ms: this test is about the server's knee. Under AddressSanitizer with other tests
  // on the same 2 cores the client's schedule lag p99 reached 25.1 ms at 100 req/s, and the sweep rightly
  // called that step client-limited (the default limit is 25ms); client limits have their own tests.
  const auto out = sweep({scenario.string(), "-q", "--search", "rate", "--min", "10", "--max", "320", "--resolution", "10",
                          "--step-duration", "1500ms", "--max-client-lag", "250ms", "--out", "json=" + json_path.string(),
                          "--out", "junit=" + junit_path.string()});
  EXPECT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("answer: capacity "));
  const auto result = read_json(json_path);
  // Every step's figures beside any failure below (a CI log is all there is of a failure on a loaded machine).
  SCOPED_TRACE(name + " search: " + result.dump() + "\nstderr: " + out.err);
  EXPECT_EQ(result["schema"], "llmd-bench/sweep");
  const auto& answer = result["answer"];
  EXPECT_EQ(answer["limit"], "server") << result.dump(2);
  Found found;
  if (!answer["capacity"].is_number() || !answer["failing_step"].is_number()) {
    ADD_FAILURE() << result.dump(2);
    return found;
  }
  found.capacity = answer["capacity"].get<double>();
  const auto& steps = result["steps"];
  const auto& failing = steps.at(answer["failing_step"].get<std::size_t>());
  found.failing = failing["load"].get<double>();
  // The step at the capacity passed; the lowest failing one above it failed on TTFT, within the resolution.
  bool capacity_step_passed = false;
  for (const auto& step : steps) {
    const double load = step["load"].get<double>();
    found.steps += fmt::format("{} req/s {} (ttft p95 {:.1f} ms); ", load, step["verdict"].get<std::string>(),
                               step["ttft_seconds"]["p95"].is_number() ? step["ttft_seconds"]["p95"].get<double>() * 1e3 : -1.0);
    if (step["verdict"] == "pass") {
      EXPECT_LT(step["ttft_seconds"]["p95"].get<double>(), 0.1) << step.dump();
      capacity_step_passed = capacity_step_passed || load == found.capacity;
      EXPECT_NEAR(step["achieved_rate_per_second"].get<double>(), load, load * 0.05) << step.dump();
      // Round-robin over 4 pods: every pod served a quarter of the step's requests.
      EXPECT_EQ(step["pods"].size(), 4u);
      EXPECT_LE(step["max_pod_share"].get<double>(), 0.3);
    } else {
      EXPECT_EQ(step["verdict"], "fail") << step.dump();
      EXPECT_GT(load, found.capacity);
    }
  }
  EXPECT_TRUE(capacity_step_passed);
  EXPECT_EQ(failing["verdict"], "fail");
  EXPECT_THAT(failing["reasons"][0].get<std::string>(), HasSubstr("ttft p(95)<100ms"));
  EXPECT_GE(failing["ttft_seconds"]["p95"].get<double>(), 0.1);
  EXPECT_LE(found.failing - found.capacity, 10.0);
  // The knee: ~89 req/s fit in 8 slots of ~90 ms.
  EXPECT_GE(found.capacity, 40.0);
  EXPECT_LE(found.capacity, 120.0);
  std::ifstream junit(junit_path);
  const std::string xml((std::istreambuf_iterator<char>(junit)), std::istreambuf_iterator<char>());
  EXPECT_THAT(xml, HasSubstr("tests=\"" + std::to_string(steps.size()) + "\""));
  return found;
}

// SweepRunTiming (RUN_SERIAL): the knee is a latency bound. In a parallel ASan run on 2 cores another
// test beside it pushed the 80 req/s step's TTFT p95 past 100 ms once (the search said 70, then 90);
// alone, the same build passes 80 req/s at 23 ms and fails 100 req/s at 194 ms.
TEST(SweepRunTiming, TheSearchFindsTheKneeTwiceWithinOneResolutionStep) {
  const auto dir = scratch_dir();
  const Found first = search_once(dir, "first");
  const Found second = search_once(dir, "second");
  EXPECT_LE(std::abs(first.capacity - second.capacity), 10.0)
      << "first " << first.capacity << " req/s: " << first.steps << "\nsecond " << second.capacity
      << " req/s: " << second.steps;
  expect_valid_sweeps(dir);
}

TEST(SweepRun, AClientThatCannotOfferTheLoadIsClientLimitedNotACapacity) {
  const auto dir = scratch_dir();
  // With an slo: the dropped arrivals are not counted against the server's good fraction.
  const auto scenario = capacity_scenario(
      dir, "{name: steady, executor: constant-arrival-rate, rate: 10, duration: 10s, max_in_flight: 1}",
      "slo: {ttft: 100ms}\n");
  const auto out = sweep({scenario.string(), "-q", "--rates", "20,40", "--step-duration", "1s", "--require-rate", "10",
                          "--out", "json=" + (dir / "s.json").string()});
  EXPECT_EQ(out.exit_code, 1) << out.out << out.err;  // no capacity to meet --require-rate with
  EXPECT_THAT(out.out, HasSubstr("answer: client-limited at 20 req/s: "));
  EXPECT_THAT(out.out, HasSubstr("arrivals dropped at max_in_flight 1"));
  EXPECT_THAT(out.out, HasSubstr("require: capacity >= 10 req/s: NOT met (no load passed)"));
  const auto result = read_json(dir / "s.json");
  EXPECT_EQ(result["answer"]["limit"], "client");
  EXPECT_TRUE(result["answer"]["capacity"].is_null());
  ASSERT_EQ(result["steps"].size(), 1u);  // a client-limited step ends the sweep
  EXPECT_EQ(result["steps"][0]["verdict"], "client-limited");
  EXPECT_GT(result["steps"][0]["counts"]["dropped"].get<int>(), 0);
  EXPECT_EQ(result["exit_code"], 1);
  expect_valid_sweeps(dir);
}

// scenarios/capacity.yaml at 40 and 160 req/s: the HTML page (`--out html=`) loads in headless Chromium
// offline without a console message, draws both charts and shows the JSON's capacity and steps.
TEST(SweepRun, TheHtmlPageShowsTheJsonsAnswerAndDrawsItsCharts) {
  const auto dir = scratch_dir();
  // --max-client-lag 250ms: in a parallel ctest the client's schedule lag p99 reached 28.4 ms at 40 req/s
  // once and the step was rightly client-limited; this test is about the page.
  const auto out = sweep({std::string(LLMD_SOURCE_DIR) + "/scenarios/capacity.yaml", "-q", "--rates", "40,160",
                          "--step-duration", "1s", "--max-client-lag", "250ms", "--out", "json=" + (dir / "s.json").string(),
                          "--out", "html=" + (dir / "s.html").string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  const auto result = read_json(dir / "s.json");
  ASSERT_EQ(result["answer"]["capacity"], 40) << result.dump(2);
  ASSERT_EQ(result["steps"].size(), 2u);
  EXPECT_EQ(result["steps"][1]["verdict"], "fail");
  // With the scenario's slo, each step has its goodput, and the failing step's good fraction is low.
  EXPECT_TRUE(result["steps"][0]["goodput_per_second"].is_number());
  EXPECT_LT(result["steps"][1]["good_fraction"].get<double>(), 0.95);
  const auto dom = llmd::test::chromium(dir / "s.html", dir / "profile", {"--dump-dom"});
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  EXPECT_THAT(llmd::test::console_lines(dom.err), testing::IsEmpty()) << dom.err;
  EXPECT_EQ(llmd::test::attribute(dom.out, "id=\"answer\"", "data-capacity"), result["answer"]["capacity"].dump());
  EXPECT_EQ(llmd::test::attribute(dom.out, "id=\"answer\"", "data-limit"), "server");
  EXPECT_EQ(llmd::test::attribute(dom.out, "<body", "data-charts"), "2");
  EXPECT_EQ(llmd::test::attribute(dom.out, "data-chart=\"sweep-latency\"", "data-drawn"), "yes");
  EXPECT_EQ(llmd::test::attribute(dom.out, "data-chart=\"sweep-goodput\"", "data-drawn"), "yes");
  EXPECT_THAT(dom.out, HasSubstr("data-verdict=\"fail\""));
  EXPECT_THAT(dom.out, HasSubstr("ttft p(95)&lt;100ms"));
}

// Ctrl-C in the middle of a step: that step ends as `run` ends (in-flight requests finish), no step
// follows, the JSON says "interrupted" with the steps so far, and the exit code is 130.
TEST(SweepRun, AnInterruptedSweepWritesTheStepsSoFarAndExits130) {
  const auto dir = scratch_dir();
  llmd::test::ChildProcess child({LLMD_BENCH_BINARY, "sweep", std::string(LLMD_SOURCE_DIR) + "/scenarios/capacity.yaml", "-q",
                                  "--rates", "20,40,80", "--step-duration", "1m", "--out", "json=" + (dir / "s.json").string()});
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));  // into the first 1-minute step, even on a loaded machine
  child.send_signal(SIGINT);
  const auto code = child.wait(std::chrono::seconds(60));
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 130) << child.stderr_text();
  const auto result = read_json(dir / "s.json");
  EXPECT_EQ(result["answer"]["limit"], "interrupted") << result.dump(2);
  ASSERT_EQ(result["steps"].size(), 1u);
  EXPECT_EQ(result["steps"][0]["verdict"], "interrupted");
  EXPECT_GT(result["steps"][0]["counts"]["ok"].get<int>(), 0);
  EXPECT_EQ(result["exit_code"], 130);
  expect_valid_sweeps(dir);
}

// --sim-* flags configure the embedded simulator only: a sweep against a target says so once, not
// once per step, and the steps run against the target.
TEST(SweepRun, SimFlagsWithATargetWarnOnceForTheWholeSweep) {
  llmd::test::SimProcess sim({"--pods", "1", "--time-scale", "0.01"});
  const auto dir = scratch_dir();
  const auto scenario = write_file(dir / "target.yaml",
                                   "name: target\nrequests: {prompt: {kind: fixed, text: hi}, max_tokens: 4}\n"
                                   "cache: {source: none}\nthresholds:\n  ttft: [\"p(95)<5s\"]\n"
                                   "load: [{name: steady, executor: constant-arrival-rate, rate: 5, duration: 10s}]\n");
  const auto out = sweep({scenario.string(), "--target", sim.gateway(), "--sim-pods", "3", "--sim-error-rate", "1",
                          "--rates", "5,10", "--step-duration", "600ms", "-q", "--out", "json=" + (dir / "s.json").string()});
  EXPECT_EQ(out.exit_code, 0) << out.out << out.err;
  const std::string warning = "llmd-bench: warning: --sim-pods has no effect with --target: the embedded simulator is not started";
  std::size_t count = 0;
  for (auto at = out.err.find(warning); at != std::string::npos; at = out.err.find(warning, at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 1u) << out.err;
  EXPECT_THAT(out.err, HasSubstr("llmd-bench: warning: --sim-error-rate has no effect with --target"));
  const auto result = read_json(dir / "s.json");
  ASSERT_EQ(result["steps"].size(), 2u) << result.dump(2);
  for (const auto& step : result["steps"]) {
    EXPECT_EQ(step["verdict"], "pass") << step.dump();  // --sim-error-rate 1 changed nothing
    EXPECT_GT(step["counts"]["ok"].get<int>(), 0) << step.dump();
    EXPECT_EQ(step["counts"]["failed"], 0) << step.dump();
  }
}

TEST(SweepRun, UsageErrorsAreExit2AndNameTheFlagOrFile) {
  const auto dir = scratch_dir();
  const auto scenario = capacity_scenario(dir, "{name: steady, executor: constant-arrival-rate, rate: 10, duration: 10s}");
  const auto no_mode = sweep({scenario.string()});
  EXPECT_EQ(no_mode.exit_code, 2);
  EXPECT_THAT(no_mode.err, HasSubstr("give exactly one of --rates LIST, --concurrency LIST or --search rate"));
  const auto bad_list = sweep({scenario.string(), "--rates", "5,x"});
  EXPECT_EQ(bad_list.exit_code, 2);
  EXPECT_THAT(bad_list.err, HasSubstr("--rates: \"x\" is not a number"));
  const auto no_bounds = sweep({scenario.string(), "--search", "rate"});
  EXPECT_EQ(no_bounds.exit_code, 2);
  EXPECT_THAT(no_bounds.err, HasSubstr("--search rate needs --min R and --max R"));
  const auto no_gates = write_file(dir / "nogates.yaml",
                                   "load: [{executor: constant-arrival-rate, rate: 1, duration: 1s}]\n");
  const auto no_criterion = sweep({no_gates.string(), "--rates", "1"});
  EXPECT_EQ(no_criterion.exit_code, 2);
  EXPECT_THAT(no_criterion.err, HasSubstr("a sweep needs a pass/fail criterion per step"));
  const auto csv = sweep({scenario.string(), "--rates", "1", "--out", "csv=" + (dir / "x.csv").string()});
  EXPECT_EQ(csv.exit_code, 2);
  EXPECT_THAT(csv.err, HasSubstr("sweep writes json, junit or html"));
}

}  // namespace
