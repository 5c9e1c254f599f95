// `llmd-bench run` with `cache: {source: prometheus}` against Debian's real Prometheus (started by
// the test on 127.0.0.1) scraping an external `llmd-bench sim` of 4 pods with prefix routing, next
// to a direct-scrape run of the same scenario against the same simulator (issue 9): the warm-up and
// earlier runs must not leak into the measured counters at any scrape interval.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/child_process.hpp"
#include "support/prometheus_process.hpp"
#include "support/scratch_dir.hpp"
#include "support/sim_process.hpp"

namespace fs = std::filesystem;
using llmd::test::PrometheusProcess;
using llmd::test::scratch_dir;
using llmd::test::PrometheusTarget;
using llmd::test::run_to_completion;
using llmd::test::RunOutput;
using llmd::test::SimProcess;
using nlohmann::json;
using testing::AllOf;
using testing::Contains;
using testing::HasSubstr;
using testing::StartsWith;

namespace {

constexpr int k_measured = 40;
// shared-prefix prompts of 1,000 + 8 tokens: once the prefix is cached (warm-up), each request
// queries 1,008 tokens and hits 992 (62 whole blocks of 16; the last token is always recomputed).
constexpr double k_queries_per_request = 1008;
constexpr double k_hits_per_request = 992;

// "http://127.0.0.1:41234" -> "127.0.0.1:41234".
std::string authority(const std::string& url) { return url.substr(url.find("://") + 3); }

std::string scenario_text(bool warmup, const std::string& cache) {
  return std::string(R"(
requests:
  prompt: {kind: shared-prefix, prefix_tokens: 1000, suffix_tokens: 8}
  max_tokens: 4
)") + (warmup ? "warmup: {executor: iterations, iterations: 10, vus: 2}\n" : "") +
         "load:\n  - {name: measured, executor: iterations, iterations: 40, vus: 4}\n" + cache;
}

fs::path write_file(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

struct Run {
  RunOutput output;
  json result;
  std::chrono::milliseconds took{0};
};

Run run(std::vector<std::string> args) {
  std::vector<std::string> argv = {LLMD_BENCH_BINARY, "run"};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto started = std::chrono::steady_clock::now();
  Run out{run_to_completion(argv, std::chrono::seconds(120)), json(), {}};
  out.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  return out;
}

// Runs the scenario through Prometheus; checks the exact figures and returns the result.
json prometheus_run(const SimProcess& sim, const fs::path& scenario, const fs::path& out, const std::string& label) {
  Run r = run({scenario.string(), "--target", sim.gateway(), "-q", "--out", "json=" + out.string()});
  EXPECT_EQ(r.output.exit_code, 0) << r.output.out << r.output.err;
  const json result = json::parse(std::ifstream(out), nullptr, false);
  std::cout << "[" << label << "] took " << r.took.count() << " ms; stderr: " << r.output.err;
  if (result.is_discarded()) {
    ADD_FAILURE() << "no JSON result: " << r.output.out;
    return json();
  }
  const json& totals = result["cache"]["totals"];
  std::cout << "[" << label << "] ok " << result["run"]["total"]["counts"]["ok"] << ", requests "
            << totals["requests_success"] << ", queries " << totals["queries_tokens"] << ", hits " << totals["hits_tokens"]
            << ", hit rate " << totals["hit_rate"] << "\n";
  for (const auto& note : result["notes"]) {
    std::cout << "[" << label << "] note: " << note.get<std::string>() << "\n";
  }
  return result;
}

// Direct scrape vs Prometheus at `interval`: the same sim, back to back, with and without warm-up.
void compare_at(std::chrono::milliseconds interval, bool also_without_warmup) {
  const auto dir = scratch_dir();
  SimProcess sim({"--pods", "4", "--route", "prefix", "--time-scale", "0.01"});
  ASSERT_EQ(sim.pods(), 4u);
  std::vector<PrometheusTarget> targets;
  for (std::size_t i = 0; i < sim.pods(); ++i) {
    targets.push_back({authority(sim.pod_url(i)), "sim-pod-" + std::to_string(i)});
  }
  const auto prometheus_started = std::chrono::steady_clock::now();
  PrometheusProcess prometheus(dir / "prometheus", targets, interval);
  ASSERT_EQ(prometheus.error(), "");
  std::cout << "[prometheus] ready and every pod scraped after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                      prometheus_started)
                   .count()
            << " ms\n";

  // 1. Direct scrape of each pod: the reference.
  std::vector<std::string> direct_args = {
      write_file(dir / "direct.yaml", scenario_text(true, "")).string(), "--target", sim.gateway(), "-q", "--out",
      "json=" + (dir / "direct.json").string()};
  for (std::size_t i = 0; i < sim.pods(); ++i) {
    direct_args.insert(direct_args.end(), {"--cache-url", sim.pod_url(i) + "/metrics"});
  }
  const Run direct = run(direct_args);
  ASSERT_EQ(direct.output.exit_code, 0) << direct.output.out << direct.output.err;
  const json reference = json::parse(std::ifstream(dir / "direct.json"))["cache"]["totals"];
  EXPECT_EQ(reference["requests_success"].get<double>(), k_measured);
  EXPECT_EQ(reference["queries_tokens"].get<double>(), k_measured * k_queries_per_request);
  EXPECT_EQ(reference["hits_tokens"].get<double>(), k_measured * k_hits_per_request);

  // 2. The same scenario through Prometheus, right after (its traffic precedes this run's warm-up).
  const std::string cache = "cache:\n  source: prometheus\n  prometheus_url: " + prometheus.url() +
                            "\n  matcher: 'job=\"llmd\"'\n  scrape_interval: " + std::to_string(interval.count()) +
                            "ms\n";
  std::vector<std::pair<bool, std::string>> cases = {{true, "with warm-up"}};
  if (also_without_warmup) {
    cases.emplace_back(false, "no warm-up, back to back");
  }
  for (const auto& [warmup, label] : cases) {
    const auto scenario = write_file(dir / (warmup ? "prom.yaml" : "prom-nowarmup.yaml"), scenario_text(warmup, cache));
    const json result = prometheus_run(sim, scenario, dir / (warmup ? "prom.json" : "prom-nowarmup.json"), label);
    ASSERT_TRUE(result.is_object());
    const json& totals = result["cache"]["totals"];
    EXPECT_EQ(result["run"]["total"]["counts"]["ok"].get<double>(), k_measured) << label;
    EXPECT_EQ(totals["requests_success"].get<double>(), k_measured) << label << ": Δrequests = the client's successes";
    EXPECT_EQ(totals["queries_tokens"], reference["queries_tokens"]) << label;
    EXPECT_EQ(totals["hits_tokens"], reference["hits_tokens"]) << label;
    EXPECT_EQ(totals["hit_rate"], reference["hit_rate"]) << label;
    EXPECT_EQ(totals["pods_failed"], 0) << label;
    EXPECT_EQ(result["cache"]["pods"].size(), 4u) << label;
    for (const auto& pod : result["cache"]["pods"]) {
      EXPECT_THAT(pod["pod"].get<std::string>(), StartsWith("sim-pod-"));
      EXPECT_EQ(pod["unit_verified"], true) << pod.dump();
    }
    std::vector<std::string> notes = result["notes"].get<std::vector<std::string>>();
    EXPECT_THAT(notes, Contains(StartsWith("counters read through Prometheus (" + prometheus.url() + ")")));
    EXPECT_THAT(notes, Contains(StartsWith("Prometheus snapshot 1/2: requested at ")));
    EXPECT_THAT(notes, Contains(AllOf(StartsWith("Prometheus snapshot 2/2: requested at "),
                                      HasSubstr(" (Prometheus' clock); 4 pods read from their first scrape after it"))));
  }
  if (also_without_warmup) {
    // `scrape` through the same scenario: the counters as of the call, the notes saying so.
    const RunOutput scraped = run_to_completion(
        {LLMD_BENCH_BINARY, "scrape", "--scenario", (dir / "prom.yaml").string(), "--json"}, std::chrono::seconds(60));
    ASSERT_EQ(scraped.exit_code, 0) << scraped.out << scraped.err;
    const json document = json::parse(scraped.out);
    EXPECT_EQ(document["pods"].size(), 4u);
    double requests = 0;
    double queries = 0;
    for (const auto& pod : document["pods"]) {
      EXPECT_EQ(pod["unit_verified"], true) << pod.dump();
      requests += pod["requests_success"].get<double>();
      queries += pod["queries_tokens"].get<double>();
    }
    double direct_requests = 0;
    double direct_queries = 0;
    for (std::size_t i = 0; i < sim.pods(); ++i) {  // nothing ran since: the pods' own counters now
      direct_requests += sim.counters(i).requests;
      direct_queries += sim.counters(i).queries_tokens;
    }
    EXPECT_EQ(requests, 3 * (k_measured + 1) + 2 * 10);  // three runs, each with its preflight request; two warm-ups
    EXPECT_EQ(requests, direct_requests);
    EXPECT_EQ(queries, direct_queries);
    EXPECT_THAT(document["notes"].get<std::vector<std::string>>(),
                Contains(StartsWith("Prometheus snapshot 1/1: requested at ")));
  }
}

TEST(PrometheusRun, WarmupAndEarlierRunsNeverLeakAtA1sScrapeInterval) {
  compare_at(std::chrono::seconds(1), /*also_without_warmup=*/true);
}

TEST(PrometheusRun, WarmupNeverLeaksAtA5sScrapeInterval) {
  compare_at(std::chrono::seconds(5), /*also_without_warmup=*/false);
}

}  // namespace
