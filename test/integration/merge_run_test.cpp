// `llmd-bench merge` on real shard results (`llmd-bench run --shard I/2` against one shared
// simulator, each recording its scenario file's sha256): merged counts are the sums, the merged TTFT
// p95 is the p95 of the shards' histograms merged here, the scenario's thresholds are judged on the
// merged data (a failing one: exit 1 and a JUnit failure), and shards that do not belong together
// are a usage error (exit 2) naming the files. Also: every result file of a real run reads back
// into the same JSON (engine::run_result_from_json).
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/run_result.hpp"
#include "integration/run_test_support.hpp"
#include "scenario/scenario.hpp"
#include "stats/histogram.hpp"
#include "util/atomic_file.hpp"
#include "util/sha256.hpp"

using llmd::test::read_json;
using llmd::test::scratch_dir;
using llmd::test::write_file;
using nlohmann::json;
using testing::HasSubstr;

namespace {

namespace fs = std::filesystem;

// `llmd-bench merge ARGS...`
llmd::test::RunOutput merge(std::vector<std::string> args) {
  std::vector<std::string> argv = {LLMD_BENCH_BINARY, "merge"};
  argv.insert(argv.end(), args.begin(), args.end());
  return llmd::test::run_to_completion(argv, std::chrono::seconds(60));
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A small constant-vus scenario (2 users: one per shard), with `thresholds` lines.
fs::path scenario_with(const fs::path& dir, const std::string& name, const std::string& thresholds) {
  return write_file(dir / name, R"(
requests:
  prompt: {kind: shared-prefix, prefix_tokens: 64, suffix_tokens: 4}
  max_tokens: 8
load:
  - {name: loop, executor: constant-vus, vus: 2, duration: 400ms}
thresholds:
)" + thresholds);
}

// `llmd-bench run SCENARIO --shard INDEX/COUNT` against `target`, its shard result written to `out`
// with the sha256 of the scenario file's bytes.
void run_shard(const std::string& target, const fs::path& scenario, std::size_t index, std::size_t count,
               const fs::path& out, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {scenario.string(), "-q", "--target", target, "--shard",
                                   std::to_string(index) + "/" + std::to_string(count), "--out", "json=" + out.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto run = llmd::test::run_bench(args);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const json result = read_json(out);
  EXPECT_EQ(result["verdict"], "not_judged");
  EXPECT_EQ(result["shard"]["index"], index);
  EXPECT_EQ(result["scenario"]["sha256"], llmd::util::sha256_hex(read_text(scenario)));
}

const json& metric(const json& phase, const std::string& name) { return phase["metrics"][name]; }

// The shards' `name` histograms of the run total, merged here.
llmd::stats::LogLinearHistogram merged_histogram(const std::vector<fs::path>& shards, const std::string& name) {
  auto merged = llmd::engine::make_engine_histogram();
  for (const auto& shard : shards) {
    auto histogram = llmd::stats::LogLinearHistogram::from_json(metric(read_json(shard)["run"]["total"], name)["histogram"]);
    EXPECT_TRUE(histogram) << histogram.error();
    EXPECT_TRUE(merged.merge(*histogram));
  }
  return merged;
}

class MergeRun : public testing::Test {
 protected:
  // One simulator and two shards of one passing scenario, made once per process (ctest runs each
  // test in its own).
  static void SetUpTestSuite() {
    s_dir = new fs::path(fs::temp_directory_path() / ("llmd-MergeRun-shards-" + std::to_string(::getpid())));
    fs::remove_all(*s_dir);
    fs::create_directories(*s_dir);
    s_sim = new llmd::test::SimProcess({"--pods", "2", "--time-scale", "0.01"});
    s_scenario = new fs::path(scenario_with(*s_dir, "s.yaml", "  ttft: [\"p(95)<10s\"]\n  http_req_failed: [\"rate<0.5\"]\n"));
    run_shard(s_sim->gateway(), *s_scenario, 0, 2, *s_dir / "shard-0.json");
    run_shard(s_sim->gateway(), *s_scenario, 1, 2, *s_dir / "shard-1.json");
  }
  static void TearDownTestSuite() {
    fs::remove_all(*s_dir);
    delete s_dir;
    delete s_scenario;
    delete s_sim;
  }
  static std::string shard(int i) { return (*s_dir / ("shard-" + std::to_string(i) + ".json")).string(); }

  static fs::path* s_dir;
  static fs::path* s_scenario;
  static llmd::test::SimProcess* s_sim;
};
fs::path* MergeRun::s_dir = nullptr;
fs::path* MergeRun::s_scenario = nullptr;
llmd::test::SimProcess* MergeRun::s_sim = nullptr;

TEST_F(MergeRun, MergesTwoShardsExactlyAndJudgesTheThresholds) {
  const fs::path out = *s_dir / "merged.json";
  const auto merged = merge({shard(0), shard(1), "--out", "json=" + out.string(), "--out", "junit=" + (*s_dir / "merged.xml").string()});
  ASSERT_EQ(merged.exit_code, 0) << merged.out << merged.err;
  EXPECT_THAT(merged.out, HasSubstr("ttft"));  // the text summary, as run prints it
  const json result = read_json(out);
  const json a = read_json(shard(0));
  const json b = read_json(shard(1));
  const json& total = result["run"]["total"];
  EXPECT_EQ(total["counts"]["ok"], a["run"]["total"]["counts"]["ok"].get<std::uint64_t>() +
                                        b["run"]["total"]["counts"]["ok"].get<std::uint64_t>());
  EXPECT_EQ(total["counts"]["started"], a["run"]["total"]["counts"]["started"].get<std::uint64_t>() +
                                             b["run"]["total"]["counts"]["started"].get<std::uint64_t>());
  const auto ttft = merged_histogram({shard(0), shard(1)}, "ttft_ns");
  ASSERT_GT(ttft.count(), 0u);
  EXPECT_EQ(metric(total, "ttft_ns")["summary"]["p95"].get<double>(), *ttft.percentile(95));
  EXPECT_EQ(metric(total, "ttft_ns")["summary"]["count"], ttft.count());
  EXPECT_EQ(result["verdict"], "pass");
  EXPECT_EQ(result["exit_code"], 0);
  ASSERT_EQ(result["thresholds"].size(), 2u);
  EXPECT_TRUE(result["shard"].is_null());
  ASSERT_EQ(result["merged_from"].size(), 2u);
  EXPECT_EQ(result["merged_from"][1]["file"], shard(1));
  EXPECT_EQ(result["merged_from"][1]["index"], 1);
  EXPECT_EQ(result["merged_from"][0]["started_at"], a["run"]["started_at"]);
  EXPECT_THAT(result["notes"].dump(), HasSubstr("upper bound"));
  EXPECT_THAT(read_text(*s_dir / "merged.xml"), testing::Not(HasSubstr("<failure")));
  // Each one-loop shard's event loop, named by its shard.
  const json& loops = result["run"]["threads"];
  ASSERT_EQ(loops.size(), 2u) << loops.dump();
  EXPECT_EQ(loops[1]["shard"], 1);
  EXPECT_EQ(loops[1]["thread"], 0);
  EXPECT_EQ(loops[1]["started"], b["run"]["total"]["counts"]["started"]);
  EXPECT_THAT(merged.out, HasSubstr("event loops (2 across the shards)"));
  EXPECT_THAT(merged.out, HasSubstr("    shard 1 thread 0 : "));
}

TEST_F(MergeRun, AFailingThresholdExitsOneWithAJUnitFailure) {
  const fs::path dir = scratch_dir();
  // No request fails, so a rate above 0.5 never holds.
  const auto scenario = scenario_with(dir, "f.yaml", "  http_req_failed: [\"rate>0.5\"]\n");
  run_shard(s_sim->gateway(), scenario, 0, 2, dir / "a.json");
  run_shard(s_sim->gateway(), scenario, 1, 2, dir / "b.json");
  const auto merged = merge({(dir / "a.json").string(), (dir / "b.json").string(), "--out",
                             "json=" + (dir / "m.json").string(), "--out", "junit=" + (dir / "m.xml").string()});
  EXPECT_EQ(merged.exit_code, 1) << merged.out << merged.err;
  EXPECT_EQ(read_json(dir / "m.json")["verdict"], "fail");
  EXPECT_THAT(read_text(dir / "m.xml"), HasSubstr("<failure"));
}

TEST_F(MergeRun, RefusesShardsOfDifferentScenariosNamingBothFiles) {
  json other = read_json(shard(1));
  other["scenario"]["sha256"] = std::string(64, 'f');
  const fs::path path = *s_dir / "other.json";
  std::ofstream(path) << other.dump();
  const auto merged = merge({shard(0), path.string()});
  EXPECT_EQ(merged.exit_code, 2);
  EXPECT_THAT(merged.err, HasSubstr(shard(0) + " and " + path.string() + " ran different scenario files"));
  EXPECT_THAT(merged.err, HasSubstr(std::string(64, 'f')));
}

TEST_F(MergeRun, RefusesTheSameIndexTwiceNamingBothFiles) {
  const fs::path copy = *s_dir / "copy-of-0.json";
  fs::copy_file(shard(0), copy, fs::copy_options::overwrite_existing);
  const auto merged = merge({shard(0), copy.string(), shard(1)});
  EXPECT_EQ(merged.exit_code, 2);
  EXPECT_THAT(merged.err, HasSubstr(shard(0) + " and " + copy.string() + " are both shard 0/2"));
}

TEST_F(MergeRun, RefusesAMissingShardUnlessAllowed) {
  const auto refused = merge({shard(1)});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.err, HasSubstr("shard 0 of 2 missing (given: " + shard(1) + ")"));
  const fs::path out = *s_dir / "partial.json";
  const auto allowed = merge({shard(1), "--allow-missing-shards", "-q", "--out", "json=" + out.string()});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.err;
  EXPECT_THAT(read_json(out)["diagnostics"].dump(), HasSubstr("missing_shards"));
}

TEST_F(MergeRun, RefusesAScenarioFileChangedSinceTheShardsRanAndNonShards) {
  const fs::path dir = scratch_dir();
  const fs::path changed = write_file(dir / "s.yaml", read_text(*s_scenario) + "# edited\n");
  const auto merged = merge({shard(0), shard(1), "--scenario", changed.string()});
  EXPECT_EQ(merged.exit_code, 2);
  EXPECT_THAT(merged.err, HasSubstr("the scenario file changed since the shards ran"));
  json unsharded = read_json(shard(0));
  unsharded["shard"] = nullptr;  // as `run` without --shard writes it
  const fs::path plain = write_file(dir / "plain.json", unsharded.dump());
  const auto refused = merge({plain.string()});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.err, HasSubstr(plain.string() + ": not a shard result"));
}

// `llmd-bench scrape` of every pod of `sim` into `dir` (the coordinator's snapshot).
void save_snapshot(const llmd::test::SimProcess& sim, const fs::path& dir) {
  std::vector<std::string> argv = {LLMD_BENCH_BINARY, "scrape", "--save-dir", dir.string()};
  for (std::size_t i = 0; i < sim.pods(); ++i) {
    argv.insert(argv.end(), {"--url", sim.pod_url(i) + "/metrics"});
  }
  const auto scrape = llmd::test::run_to_completion(argv, std::chrono::seconds(30));
  ASSERT_EQ(scrape.exit_code, 0) << scrape.out << scrape.err;
}

// Shards against one shared simulator, scraped once before and once after by the coordinator: the
// cache gate is judged on the whole fleet's counters.
TEST(MergeRunCache, JudgesCacheGatesOnTheCoordinatorsSnapshots) {
  const fs::path dir = scratch_dir();
  llmd::test::SimProcess sim({"--pods", "2", "--route", "prefix", "--time-scale", "0.01"});
  const auto scenario = write_file(dir / "c.yaml", R"(
requests:
  prompt: {kind: shared-prefix, prefix_tokens: 256, suffix_tokens: 4}
  max_tokens: 4
load:
  - {name: loop, executor: iterations, iterations: 10, vus: 2}
thresholds:
  cache_hit_rate: [">=0.5"]
)");
  save_snapshot(sim, dir / "before");
  // `run --shard` still asks for per-pod metrics when the scenario has a cache threshold, though a
  // shard neither scrapes nor judges: give it the pods (the coordinator's snapshots are what count).
  std::vector<std::string> pods;
  for (std::size_t i = 0; i < sim.pods(); ++i) {
    pods.insert(pods.end(), {"--cache-url", sim.pod_url(i) + "/metrics"});
  }
  for (std::size_t i = 0; i < 2; ++i) {
    run_shard(sim.gateway(), scenario, i, 2, dir / ("s" + std::to_string(i) + ".json"), pods);
  }
  save_snapshot(sim, dir / "after");
  const std::vector<std::string> shards = {(dir / "s0.json").string(), (dir / "s1.json").string()};
  auto args = shards;
  args.insert(args.end(), {"--cache-before", (dir / "before").string(), "--cache-after", (dir / "after").string(), "-q",
                           "--out", "json=" + (dir / "m.json").string()});
  const auto merged = merge(args);
  ASSERT_EQ(merged.exit_code, 0) << merged.out << merged.err;
  const json result = read_json(dir / "m.json");
  ASSERT_EQ(result["thresholds"].size(), 1u);
  EXPECT_EQ(result["thresholds"][0]["metric"], "cache_hit_rate");
  EXPECT_TRUE(result["thresholds"][0]["passed"]);
  EXPECT_EQ(result["cache"]["totals"]["pods_ok"], 2) << result["cache"].dump();
  EXPECT_GT(result["cache"]["totals"]["hit_rate"].get<double>(), 0.5);
  auto lone = shards;
  lone.insert(lone.end(), {"--cache-before", (dir / "before").string()});
  const auto refused = merge(lone);
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.err, HasSubstr("--cache-before and --cache-after go together"));
}

// The engine's canonical check names (result files use the scenario's spelling).
json canonical_checks(json run) {
  for (auto* phase : {&run["total"]}) {
    json renamed = json::object();
    for (const auto& [name, counts] : (*phase)["checks"].items()) {
      renamed[std::string(llmd::scenario::canonical_name(*llmd::scenario::find_check(name)))] = counts;
    }
    (*phase)["checks"] = renamed;
  }
  for (auto& phase : run["phases"]) {
    json renamed = json::object();
    for (const auto& [name, counts] : phase["checks"].items()) {
      renamed[std::string(llmd::scenario::canonical_name(*llmd::scenario::find_check(name)))] = counts;
    }
    phase["checks"] = renamed;
  }
  return run;
}

// Every `run` object written by real runs reads back into the same JSON.
TEST(RunResultFromJson, RoundTripsResultFilesOfRealRuns) {
  const fs::path dir = scratch_dir();
  const std::string scenarios = std::string(LLMD_SOURCE_DIR) + "/scenarios/";
  const std::vector<std::vector<std::string>> runs = {
      {scenarios + "cache-hit.yaml", "--sim-time-scale", "0.01"},
      {scenarios + "baseline.yaml", "--time-scale", "0.01", "--sim-time-scale", "0.01"},
      {scenarios + "multi-turn.yaml", "--time-scale", "0.01", "--sim-time-scale", "0.01"},
  };
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const fs::path out = dir / ("r" + std::to_string(i) + ".json");
    std::vector<std::string> args = runs[i];
    args.insert(args.end(), {"-q", "--out", "json=" + out.string()});
    const auto run = llmd::test::run_bench(args);
    ASSERT_TRUE(run.exit_code == 0 || run.exit_code == 1) << runs[i][0] << run.err;
    const json written = canonical_checks(read_json(out)["run"]);
    auto read = llmd::engine::run_result_from_json(written);
    ASSERT_TRUE(read) << runs[i][0] << ": " << read.error();
    EXPECT_EQ(llmd::engine::to_json(*read), written) << runs[i][0];
    EXPECT_GT(read->total.started, 0u) << runs[i][0];
  }
}

}  // namespace
