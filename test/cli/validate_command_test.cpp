// `llmd-bench validate` and the run flags that change the load (--vus, --duration, --rate,
// --iterations): the real binary. validate prints the resolved plan and exits 0, or exits 2 with the
// error `run` would print; every ready scenario in scenarios/ validates.
#include <algorithm>
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/cli_test_support.hpp"

using llmd::test::bench;
using llmd::test::read_text;
using llmd::test::scratch_dir;
using llmd::test::write_text;
using testing::HasSubstr;
using testing::Not;

namespace {

constexpr const char* k_scenario = R"(name: plan
requests: {max_tokens: 4}
warmup: {name: warm, executor: iterations, iterations: 2, vus: 1}
load:
  - {name: loop, executor: constant-vus, vus: 2, duration: 10s}
  - {name: arrivals, executor: constant-arrival-rate, rate: 20, duration: 5m, max_in_flight: 200, start_time: 2m30s}
thresholds:
  http_req_failed: ["rate<0.01"]
)";

}  // namespace

TEST(Validate, PrintsTheResolvedPlanAndSendsNothing) {
  const auto dir = scratch_dir();
  const auto file = write_text(dir / "s.yaml", k_scenario);
  const auto out = bench({"validate", file.string(), "--time-scale", "0.01", "--out", "json=" + (dir / "r.json").string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("scenario:   plan (" + file.string() + ")\n"));
  EXPECT_THAT(out.out, HasSubstr("target:     embedded simulator: 4 pods, route prefix, metrics v0.11"));
  EXPECT_THAT(out.out, HasSubstr("request:    completions, model "));
  EXPECT_THAT(out.out, HasSubstr("time scale: 0.01 (the durations below are scaled)\n"));
  EXPECT_THAT(out.out, HasSubstr("warm-up:    warm: iterations, 2 iterations by 1 VUs (max_duration 6s)"));
  EXPECT_THAT(out.out, HasSubstr("  load[0] loop: constant-vus, 2 VUs for 100ms, graceful_stop 300ms\n"));
  EXPECT_THAT(out.out, HasSubstr("  load[1] arrivals: constant-arrival-rate, 20/s for 3s (at most 200 in flight, the "
                                 "rest dropped), start at 1.5s, graceful_stop 300ms\n"));
  EXPECT_THAT(out.out, HasSubstr("cache:      the embedded simulator's pods (direct scrape)\n"));
  EXPECT_THAT(out.out, HasSubstr("tokens:     prefixes calibrated via POST /tokenize when the target answers it "
                                 "(calibrate: auto)\n"));
  EXPECT_THAT(out.out, HasSubstr("  http_req_failed rate<0.01\n"));
  EXPECT_THAT(out.out, HasSubstr("outputs:    json=" + (dir / "r.json").string() + "\n"));
  EXPECT_FALSE(std::filesystem::exists(dir / "r.json"));
}

TEST(Validate, SaysHowManyEventLoopsAndRefusesAPhaseThatCannotBeSplit) {
  const auto dir = scratch_dir();
  const auto file = write_text(dir / "s.yaml", "load: [{executor: constant-vus, vus: 4, duration: 1s}]\n"
                                               "warmup: {executor: iterations, iterations: 3, vus: 1}\n");
  auto out = bench({"validate", file.string(), "--threads", "3"});
  EXPECT_EQ(out.exit_code, 2) << out.out << out.err;
  EXPECT_THAT(out.err, HasSubstr("--threads: threads 3: warm-up phase \""));
  EXPECT_THAT(out.err, HasSubstr("with vus 1 cannot be split 3 ways"));
  const auto plain = write_text(dir / "p.yaml", "load: [{executor: constant-vus, vus: 4, duration: 1s}]\n"
                                                "engine: {threads: 3}\n");
  out = bench({"validate", plain.string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("threads:    3 event loops (user, arrival and iteration k on loop k mod 3)\n"));
  out = bench({"validate", plain.string(), "--threads", "1"});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_THAT(out.out, Not(HasSubstr("threads:")));
}

TEST(Validate, SaysHowTokenCountsAreMadeAndWhichTokenizerTheSimulatorUses) {
  const auto dir = scratch_dir();
  const auto file = write_text(dir / "s.yaml", "load: [{executor: iterations, iterations: 1, vus: 1}]\n"
                                               "requests: {token_counts: {calibrate: on, align_to_block: true}}\n"
                                               "sim: {tokenizer_piece_bytes: 3}\n");
  const auto out = bench({"validate", file.string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr(", tokenizer pieces of 3 bytes\n"));
  EXPECT_THAT(out.out, HasSubstr("tokens:     prefixes calibrated to exactly prefix_tokens server tokens via POST "
                                 "/tokenize (calibrate: on, required), rounded up to a multiple of the block size\n"));
}

// Each ad-hoc flag changes the FIRST measured phase: seen in the plan, and in a tiny real run.
TEST(Validate, SaysWhatTheCacheStateStagesWillDo) {
  const auto dir = scratch_dir();
  const auto file = write_text(dir / "s.yaml", "load: [{executor: iterations, iterations: 1, vus: 1}]\n"
                                               "cache_state: {reset: api, prime: true, verify: true}\n");
  const auto out = bench({"validate", file.string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("cache state: reset (POST /reset_prefix_cache on every pod, verified cold), then prime "
                                 "each prefix once, then verify each prefix resident\n"));
  const auto bad = write_text(dir / "b.yaml", "load: [{executor: iterations, iterations: 1, vus: 1}]\n"
                                              "cache_state: {reset: restart}\n");
  const auto refused = bench({"validate", bad.string()});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.err, HasSubstr("b.yaml:2:14: cache_state.reset: restart restarts the pods with kubectl"));
}

TEST(Validate, AdHocLoadFlagsChangeTheFirstPhase) {
  const auto dir = scratch_dir();
  const auto file = write_text(dir / "s.yaml", k_scenario);
  const auto closed = bench({"validate", file.string(), "--vus", "3", "--duration", "1m"});
  ASSERT_EQ(closed.exit_code, 0) << closed.err;
  EXPECT_THAT(closed.out, HasSubstr("  load[0] loop: constant-vus, 3 VUs for 1m,"));
  EXPECT_THAT(closed.out, HasSubstr("  load[1] arrivals: constant-arrival-rate, 20/s for 5m"));  // unchanged

  const auto open_file = write_text(dir / "open.yaml", "load:\n  - {name: arrivals, executor: poisson, rate: 5, duration: 1m}\n");
  const auto open = bench({"validate", open_file.string(), "--rate", "12.5", "--duration", "2s"});
  ASSERT_EQ(open.exit_code, 0) << open.err;
  EXPECT_THAT(open.out, HasSubstr("  load[0] arrivals: poisson, 12.5/s for 2s (at most 1000 in flight"));

  const auto fixed_file = write_text(dir / "fixed.yaml", R"(requests: {max_tokens: 2}
load:
  - {name: fixed, executor: iterations, iterations: 100, vus: 1}
sim: {timing: {time_scale: 0.01}}
)");
  const auto fixed = bench({"validate", fixed_file.string(), "--iterations", "6", "--vus", "2"});
  ASSERT_EQ(fixed.exit_code, 0) << fixed.err;
  EXPECT_THAT(fixed.out, HasSubstr("  load[0] fixed: iterations, 6 iterations by 2 VUs"));
  // The same flags on a real run: exactly 6 requests by at most 2 users.
  const auto json_path = dir / "r.json";
  const auto run = bench({"run", fixed_file.string(), "-q", "--iterations", "6", "--vus", "2", "--out", "json=" + json_path.string()});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const auto result = nlohmann::json::parse(read_text(json_path));
  EXPECT_EQ(result["run"]["phases"][0]["counts"]["started"], 6);
  EXPECT_LE(result["run"]["phases"][0]["peak_in_flight"].get<int>(), 2);
  EXPECT_EQ(result["scenario"]["phases"][0]["iterations"], 6);
  // --rate on a real open-loop run: 40/s for 250 ms on a fixed schedule is 10 arrivals.
  const auto rate_file = write_text(dir / "rate.yaml", R"(requests: {max_tokens: 2}
load:
  - {name: arrivals, executor: constant-arrival-rate, rate: 5, duration: 1m}
sim: {timing: {time_scale: 0.01}}
)");
  const auto rate_run = bench({"run", rate_file.string(), "-q", "--rate", "40", "--duration", "250ms", "--out",
                               "json=" + json_path.string()});
  ASSERT_EQ(rate_run.exit_code, 0) << rate_run.out << rate_run.err;
  const auto rate_result = nlohmann::json::parse(read_text(json_path));
  EXPECT_EQ(rate_result["run"]["phases"][0]["counts"]["started"].get<int>() +
                rate_result["run"]["phases"][0]["counts"]["dropped"].get<int>(),
            10);
  EXPECT_DOUBLE_EQ(rate_result["run"]["phases"][0]["summary"]["target_rate_per_second"].get<double>(), 40.0);
}

// A flag that does not fit the first phase's executor: exit 2 naming the flag and the phase, the
// same from `validate` and from `run` (which then sends nothing).
TEST(Validate, AFlagThatDoesNotFitThePhaseExits2LikeRun) {
  const auto dir = scratch_dir();
  const auto file = write_text(dir / "s.yaml", k_scenario);
  const auto validate = bench({"validate", file.string(), "--rate", "10"});
  EXPECT_EQ(validate.exit_code, 2);
  EXPECT_THAT(validate.err, HasSubstr("--rate: does not fit phase \"loop\" (" + file.string() +
                                      ":5:5), the first measured phase: its executor constant-vus takes --vus and --duration"));
  const auto run = bench({"run", file.string(), "-q", "--rate", "10"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err, validate.err);
  EXPECT_THAT(run.out, Not(HasSubstr("verdict")));
}

TEST(Validate, EveryReadyScenarioValidates) {
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(LLMD_SOURCE_DIR) + "/scenarios")) {
    if (entry.path().extension() != ".yaml" && entry.path().extension() != ".json") {
      continue;
    }
    ++files;
    const auto out = bench({"validate", entry.path().string()});
    EXPECT_EQ(out.exit_code, 0) << entry.path() << ": " << out.err;
    EXPECT_THAT(out.out, HasSubstr("valid: nothing was sent")) << entry.path();
  }
  EXPECT_GE(files, 4u);
}

TEST(Validate, ABrokenFileExits2WithFileAndLine) {
  const auto dir = scratch_dir();
  const auto file = write_text(dir / "broken.yaml", "load:\n  - executor: constant_vus\n    vus: 2\n");
  const auto out = bench({"validate", file.string()});
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.err, HasSubstr(file.string() + ":2:"));
  EXPECT_THAT(out.err, HasSubstr("unknown executor \"constant_vus\""));
  EXPECT_EQ(out.out, "");
  const auto token = write_text(dir / "token.yaml",
                                "target: {base_url: \"http://127.0.0.1:1\", api_key_env: LLMD_VALIDATE_UNSET_TOKEN}\n"
                                "load:\n  - {executor: constant-vus, vus: 1, duration: 1s}\n");
  const auto unset = bench({"validate", token.string()});
  EXPECT_EQ(unset.exit_code, 2);
  EXPECT_THAT(unset.err, HasSubstr("LLMD_VALIDATE_UNSET_TOKEN, which is not set"));
}

// `run --help`: every option in a group (Target, Load, Cache, Outputs, Simulator, Kubernetes; only
// --help left under "Options"), the defaults a flag replaces, and examples in the footer.
TEST(RunHelp, GroupsDefaultsAndExamples) {
  const auto out = bench({"run", "--help"});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  for (const char* group : {"\nTarget:\n", "\nLoad:\n", "\nCache:\n", "\nKubernetes:\n", "\nOutputs:\n", "\nSimulator:\n"}) {
    EXPECT_NE(out.out.find(group), std::string::npos) << group << " in\n" << out.out;
  }
  const auto options = out.out.find("\nOptions:\n");
  ASSERT_NE(options, std::string::npos);
  const auto end = out.out.find("\n\n", options + 1);
  const std::string ungrouped = out.out.substr(options, end - options);
  EXPECT_THAT(ungrouped, HasSubstr("--help"));
  EXPECT_EQ(std::count(ungrouped.begin(), ungrouped.end(), '\n'), 2) << "options without a group:" << ungrouped;
  const auto load = out.out.substr(out.out.find("\nLoad:\n"), out.out.find("\nCache:\n") - out.out.find("\nLoad:\n"));
  for (const char* flag : {"--vus", "--duration", "--rate", "--iterations", "--time-scale"}) {
    EXPECT_THAT(load, HasSubstr(flag));
  }
  EXPECT_THAT(out.out, HasSubstr("--max-tokens UINT=64"));
  EXPECT_THAT(out.out, HasSubstr("--sim-pods UINT=4"));
  EXPECT_THAT(out.out, HasSubstr("--sim-route TEXT=prefix"));
  EXPECT_THAT(out.out, HasSubstr("Examples:\n  llmd-bench run scenarios/cache-hit.yaml"));
  EXPECT_THAT(out.out, HasSubstr("llmd-bench validate scenarios/baseline.yaml --vus 50"));
  const auto validate = bench({"validate", "--help"});
  ASSERT_EQ(validate.exit_code, 0);
  EXPECT_THAT(validate.out, HasSubstr("\nLoad:\n"));
  EXPECT_THAT(validate.out, HasSubstr("Examples:\n  llmd-bench validate scenarios/baseline.yaml --time-scale 0.01"));
}

// The prefix-groups prompt and the gamma executor in the plan, as configured.
TEST(Validate, ShowsPrefixGroupsAndGammaArrivals) {
  const auto dir = scratch_dir();
  const auto file = write_text(dir / "g.yaml", R"(requests:
  prompt:
    kind: prefix-groups
    groups: 8
    prompts_per_group: 16
    system_prompt_tokens: 2000
    question_tokens: {distribution: uniform, min: 16, max: 64}
    output_tokens: {distribution: normal, mean: 128, stddev: 32, max: 512}
    order: random
    seed: 7
load:
  - {name: bursts, executor: gamma, rate: 10, burstiness: 0.5, duration: 1m}
)");
  const auto out = bench({"validate", file.string(), "--rate", "20"});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("prompt prefix-groups (8 groups x 16 prompts, system prompt 2000 tokens, question "
                                 "uniform 16..64 tokens, order random, output normal mean 128 stddev 32 in 1..512 "
                                 "tokens, seed 7)"));
  EXPECT_THAT(out.out, HasSubstr("  load[0] bursts: gamma, 20/s for 1m, burstiness 0.5 (at most 1000 in flight"));
}
