// `llmd-bench scrape`: the real binary on saved dumps of every vLLM metrics flavor, on a live
// `llmd-bench sim`, and its usage errors and exit codes.
#include <set>

#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "run/cache_source.hpp"
#include "cli/cli_test_support.hpp"
#include "cli/scrape_command.hpp"
#include "support/http_client.hpp"
#include "support/sim_process.hpp"

namespace fs = std::filesystem;
using llmd::sim::MetricsFlavor;
using llmd::test::bench;
using llmd::test::DumpCounters;
using llmd::test::scratch_dir;
using llmd::test::write_dump;
using nlohmann::json;
using testing::HasSubstr;

namespace {

const json& pod_named(const json& result, const std::string& pod) {
  for (const auto& row : result["pods"]) {
    if (row["pod"] == pod) {
      return row;
    }
  }
  ADD_FAILURE() << "no pod " << pod << " in " << result.dump();
  static const json k_null;
  return k_null;
}

}  // namespace

TEST(ScrapeCommand, ReadsSavedDumpsOfEveryFlavorAsJson) {
  const auto dir = scratch_dir();
  write_dump(dir, "pod-v0", {1600, 800, 10}, MetricsFlavor::v0);
  write_dump(dir, "pod-v0-10", {2000, 1500, 20}, MetricsFlavor::v0_10);
  write_dump(dir, "pod-v0-11", {4000, 3000, 40, true, 32}, MetricsFlavor::v0_11);
  auto out = bench({"scrape", "--files", dir.string(), "--json"});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  const auto result = json::parse(out.out);
  EXPECT_EQ(result["schema"], "llmd-bench/scrape");
  EXPECT_EQ(result["pods"].size(), 3u);

  const auto& v0 = pod_named(result, "pod-v0");
  EXPECT_EQ(v0["flavor"], "v0_gauge");
  EXPECT_EQ(v0["flavor_text"], "vLLM V0 (hit-rate gauge only)");
  EXPECT_EQ(v0["unit"], "none");
  EXPECT_TRUE(v0["queries_tokens"].is_null());
  EXPECT_DOUBLE_EQ(v0["hit_rate_gauge"].get<double>(), 0.5);  // 50 of 100 blocks
  EXPECT_DOUBLE_EQ(v0["hit_rate"].get<double>(), 0.5);
  EXPECT_EQ(v0["status"], "ok");

  const auto& v10 = pod_named(result, "pod-v0-10");
  EXPECT_EQ(v10["flavor"], "v1_both_names");
  EXPECT_EQ(v10["unit"], "tokens");
  EXPECT_EQ(v10["queries_tokens"], 2000);
  EXPECT_EQ(v10["hits_tokens"], 1500);
  EXPECT_EQ(v10["queries_metric"], "vllm:prefix_cache_queries_total");  // the new name is read, never summed
  EXPECT_DOUBLE_EQ(v10["hit_rate"].get<double>(), 0.75);
  EXPECT_EQ(v10["requests_success"], 20);

  const auto& v11 = pod_named(result, "pod-v0-11");
  EXPECT_EQ(v11["flavor"], "v1_new_names");
  EXPECT_EQ(v11["queries_tokens"], 4000);
  EXPECT_EQ(v11["hits_tokens"], 3000);
  EXPECT_EQ(v11["block_size_tokens"], 32);
  EXPECT_EQ(v11["prefix_caching_enabled"], true);
  EXPECT_EQ(v11["prefix_caching_label"], "True");
}

TEST(ScrapeCommand, PrintsATableWithFlavorSourceCachingAndBlockSize) {
  const auto dir = scratch_dir();
  const auto on = write_dump(dir, "decode-0", {4000, 3000, 40}, MetricsFlavor::v0_11);
  const auto off = write_dump(dir, "decode-1", {0, 0, 7, false}, MetricsFlavor::v0_10);
  auto out = bench({"scrape", "--files", on.string(), "--files", off.string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_THAT(out.out, HasSubstr("prefix cache counters since each pod started (saved metrics dumps of 2 pods"));
  EXPECT_THAT(out.out, testing::ContainsRegex("decode-0 +4000 +3000 +75.0% +40 +on +16 tokens +ok\n"));
  EXPECT_THAT(out.out, HasSubstr("vLLM >= 0.11 (vllm:prefix_cache_*) from " + on.string()));
  EXPECT_THAT(out.out, testing::ContainsRegex("decode-1 +0 +0 +- +7 +off +16 tokens +caching_disabled\n"));
  EXPECT_THAT(out.out, HasSubstr("vLLM 0.9.2-0.10.x (both names) from " + off.string()));
}

TEST(ScrapeCommand, ReadsTheCacheSectionOfAScenario) {
  const auto dir = scratch_dir();
  write_dump(dir / "dumps", "decode-0", {100, 50, 1}, MetricsFlavor::v0_11);
  const auto scenario = llmd::test::write_text(dir / "s.yaml", R"(
target: {base_url: "http://127.0.0.1:1"}
load:
  - {name: loop, executor: iterations, iterations: 1, vus: 1}
cache:
  files: [dumps/decode-0.prom]
)");
  auto out = bench({"scrape", "--scenario", scenario.string(), "--json"});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_EQ(pod_named(json::parse(out.out), "decode-0")["queries_tokens"], 100);
}

TEST(ScrapeCommand, AScenarioWithoutPodsIsAUsageError) {
  const auto dir = scratch_dir();
  const auto scenario = llmd::test::write_text(dir / "s.yaml", R"(
load:
  - {name: loop, executor: iterations, iterations: 1, vus: 1}
)");
  auto out = bench({"scrape", "--scenario", scenario.string()});
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.err, HasSubstr("llmd-bench: error: scenario " + scenario.string() +
                                 " names no pods to scrape: expected cache.urls or cache.files"));
}

TEST(ScrapeCommand, UsageErrorsExitTwo) {
  auto none = bench({"scrape"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_THAT(none.err, HasSubstr("llmd-bench: error: no pods given: expected --url URL, --files PATH, --scenario FILE or Kubernetes flags (--namespace, --selector)"));
  auto both = bench({"scrape", "--url", "http://127.0.0.1:1/metrics", "--files", "x.prom"});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_THAT(both.err, HasSubstr("excludes"));
  auto missing = bench({"scrape", "--files", "/nonexistent/decode-0.prom"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("metrics dump \"/nonexistent/decode-0.prom\" does not exist"));
}

TEST(ScrapeCommand, ExitsThreeWhenNoPodCouldBeRead) {
  const auto dir = scratch_dir();
  auto out = bench({"scrape", "--url", "http://127.0.0.1:1/metrics", "--save-dir", (dir / "saved").string()});
  EXPECT_EQ(out.exit_code, 3) << out.out << out.err;
  EXPECT_THAT(out.out, testing::ContainsRegex("127.0.0.1:1 +- +- .* scrape_failed\n      error: "));
  EXPECT_THAT(out.err, HasSubstr("llmd-bench: error: no pod could be scraped"));
  EXPECT_FALSE(fs::exists(dir / "saved" / "127.0.0.1:1.prom"));
}

TEST(ScrapeCommand, NotPrometheusTextIsReportedPerPod) {
  const auto dir = scratch_dir();
  const auto bad = llmd::test::write_text(dir / "bad.prom", "<html>not metrics</html>\n");
  const auto good = write_dump(dir, "good", {10, 5, 1}, MetricsFlavor::v0_11);
  auto out = bench({"scrape", "--files", bad.string(), "--files", good.string(), "--json"});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  const auto result = json::parse(out.out);
  EXPECT_EQ(pod_named(result, "bad")["status"], "scrape_failed");
  EXPECT_THAT(pod_named(result, "bad")["error"].get<std::string>(), HasSubstr("not Prometheus text"));
  EXPECT_EQ(pod_named(result, "good")["status"], "ok");
}

TEST(ScrapeCommand, ReadsALiveSimulatorAndSavesDumpsThatDiffReads) {
  llmd::test::SimProcess sim({"--pods", "2", "--route", "round-robin", "--time-scale", "0.01"});
  const auto dir = scratch_dir();
  const std::vector<std::string> urls = {"--url", sim.pod_url(0) + "/metrics", "--url", sim.pod_url(1) + "/metrics"};
  auto scrape = [&](const std::string& save) {
    std::vector<std::string> args = {"scrape"};
    args.insert(args.end(), urls.begin(), urls.end());
    args.insert(args.end(), {"--save-dir", (dir / save).string(), "--json"});
    return bench(args);
  };
  auto before = scrape("before");
  ASSERT_EQ(before.exit_code, 0) << before.out << before.err;
  const std::string pod0 = sim.pod_url(0).substr(std::string("http://").size());
  EXPECT_EQ(pod_named(json::parse(before.out), pod0)["source"], sim.pod_url(0) + "/metrics");
  // "127.0.0.1:PORT" is saved without its ':' (artifact stores, Windows, scp HOST:PATH refuse it).
  std::string file0 = pod0;
  file0[file0.find(':')] = '_';
  ASSERT_TRUE(fs::exists(dir / "before" / (file0 + ".prom")));
  for (const auto& entry : fs::directory_iterator(dir / "before")) {
    EXPECT_EQ(entry.path().filename().string().find(':'), std::string::npos) << entry.path();
  }

  const std::string prompt = llmd::test::words(64);
  for (int i = 0; i < 4; ++i) {
    auto response = llmd::test::http_post(sim.gateway() + "/v1/completions",
                                          json{{"model", "meta-llama/Llama-3.2-3B-Instruct"}, {"prompt", prompt}, {"max_tokens", 2}}.dump(),
                                          {"Content-Type: application/json"});
    ASSERT_EQ(response.status, 200) << response.body;
  }
  auto after = scrape("after");
  ASSERT_EQ(after.exit_code, 0) << after.out << after.err;

  auto diff = bench({"diff", (dir / "before").string(), (dir / "after").string(), "--json"});
  ASSERT_EQ(diff.exit_code, 0) << diff.out << diff.err;
  const auto report = json::parse(diff.out);
  const auto c0 = sim.counters(0);
  const auto c1 = sim.counters(1);
  EXPECT_EQ(report["totals"]["queries_tokens"].get<double>(), c0.queries_tokens + c1.queries_tokens);
  EXPECT_EQ(report["totals"]["queries_tokens"], 4 * 64);
  EXPECT_EQ(report["totals"]["hits_tokens"].get<double>(), c0.hits_tokens + c1.hits_tokens);
  EXPECT_EQ(report["totals"]["requests_success"], 4);
}

TEST(DumpFileName, HasNoColonSlashOrControlCharacter) {
  EXPECT_EQ(llmd::cli::dump_file_name("10.0.0.5:8200"), "10.0.0.5_8200.prom");
  EXPECT_EQ(llmd::cli::dump_file_name("decode-0"), "decode-0.prom");
  EXPECT_EQ(llmd::cli::dump_file_name("a/b\\c:d*e?f\"g<h>i|j\tk"), "a_b_c_d_e_f_g_h_i_j_k.prom");
  EXPECT_EQ(llmd::cli::dump_file_name(""), "pod.prom");
}

TEST(ScrapeCommand, PodsWhoseFileNamesWouldCollideAreBothSaved) {
  // "h:1" and "h_1" both map to h_1.prom: the second is saved as h_1-2.prom, nothing is overwritten.
  const auto dir = scratch_dir();
  const auto a = write_dump(dir / "in", "a", {10, 5, 1}, MetricsFlavor::v0_11);
  const auto b = write_dump(dir / "in", "b", {20, 5, 1}, MetricsFlavor::v0_11);
  fs::rename(a, dir / "in" / "h:1.prom");
  fs::rename(b, dir / "in" / "h_1.prom");
  auto out = bench({"scrape", "--files", (dir / "in" / "h:1.prom").string(), "--files", (dir / "in" / "h_1.prom").string(),
                    "--save-dir", (dir / "saved").string()});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir / "saved")) {
    names.insert(entry.path().filename().string());
  }
  EXPECT_EQ(names.size(), 2u) << ::testing::PrintToString(names);
  EXPECT_EQ(names.count("h_1.prom"), 1u);
  auto diff = bench({"diff", (dir / "saved").string(), (dir / "saved").string(), "--json"});
  ASSERT_EQ(diff.exit_code, 0) << diff.out << diff.err;
  EXPECT_EQ(json::parse(diff.out)["pods"].size(), 2u);
}

TEST(PodNameFromUrl, IsTheAuthorityWithoutCredentials) {
  EXPECT_EQ(llmd::run::pod_name_from_url("http://10.0.0.5:8200/metrics"), "10.0.0.5:8200");
  EXPECT_EQ(llmd::run::pod_name_from_url("http://alice:pw@10.0.0.5:8200/metrics"), "10.0.0.5:8200");
  EXPECT_EQ(llmd::run::pod_name_from_url("10.0.0.6:8000/metrics"), "10.0.0.6:8000");
}

// Issue 10.14: --save-dir was checked only after the scrape (exit 3, the dumps lost).
TEST(ScrapeCommand, ASaveDirThatCannotBeCreatedIsExit2BeforeScraping) {
  const auto dir = scratch_dir();
  const auto dump = write_dump(dir, "pod-0", {10, 5, 1}, MetricsFlavor::v0_11);
  llmd::test::write_text(dir / "file", "x");
  const auto save = (dir / "file" / "saved").string();
  auto out = bench({"scrape", "--files", dump.string(), "--save-dir", save});
  EXPECT_EQ(out.exit_code, 2) << out.out << out.err;
  EXPECT_THAT(out.err, HasSubstr("llmd-bench: error: --save-dir " + save + ": cannot create the folder " + save));
  EXPECT_EQ(out.out, "");  // nothing scraped
}

TEST(ScrapeCommand, StaleTemporariesInTheSaveDirAreRemoved) {
  const auto dir = scratch_dir();
  const auto dump = write_dump(dir, "pod-0", {10, 5, 1}, MetricsFlavor::v0_11);
  const auto stale = llmd::test::write_text(dir / "saved" / ".pod-0.prom.llmd-tmp.4242.AbC123", "# half");
  fs::last_write_time(stale, fs::file_time_type::clock::now() - std::chrono::minutes(5));
  auto out = bench({"scrape", "--files", dump.string(), "--save-dir", (dir / "saved").string()});
  EXPECT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_THAT(out.err, HasSubstr("llmd-bench: note: removed " + stale.string()));
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(dir / "saved" / "pod-0.prom"));
}
