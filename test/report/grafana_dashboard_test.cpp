// scripts/grafana/llmd-bench.json: every metric name a panel query or template variable names is
// one that exists: llmd_bench_* ones among the sample names report/prometheus_push renders for a
// run with every optional family present, vllm:* ones among the sample names of the simulator's
// vLLM 0.11 /metrics (sim/metrics_exporter, the names of ../shared/VLLM-METRICS.md).
#include <fstream>
#include <regex>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "prom/text_parser.hpp"
#include "report/prometheus_push.hpp"
#include "sim/metrics_exporter.hpp"

namespace {

namespace report = llmd::report;
using nlohmann::json;
using testing::ElementsAre;
using testing::IsEmpty;

const std::string k_dashboard = std::string(LLMD_SOURCE_DIR) + "/scripts/grafana/llmd-bench.json";

std::set<std::string> sample_names(const std::string& exposition) {
  std::set<std::string> names;
  auto parsed = llmd::prom::parse_text(exposition);
  EXPECT_TRUE(parsed);
  if (parsed) {
    for (const auto& family : parsed->families) {
      for (const auto& sample : family.samples) {
        names.insert(sample.name);
      }
    }
  }
  return names;
}

// What llmd-bench pushes for a run with phases, a cache report, routing efficiency and a threshold.
std::set<std::string> pushed_names() {
  static llmd::scenario::Scenario scenario;
  scenario.name = "s";
  llmd::run::RunReport r;
  r.scenario = &scenario;
  r.run.emplace();
  r.run->total.name = "total";
  r.run->total.wall_duration = std::chrono::seconds(1);
  r.run->total.ok = 1;
  r.cache.emplace();
  r.cache->totals.hit_rate = 0.5;
  r.routing.emplace();
  r.routing->efficiency = 0.9;
  auto threshold = llmd::scenario::parse_threshold("ttft", "p(95)<2s");
  EXPECT_TRUE(threshold);
  r.thresholds.push_back({*threshold, {true, 1.0, ""}});
  r.verdict = llmd::run::Verdict::pass;
  return sample_names(report::render_prometheus_push(r));
}

std::set<std::string> simulator_names() {
  llmd::sim::PodMetrics metrics;
  metrics.model_name = "m";
  return sample_names(llmd::sim::render_metrics(metrics, llmd::sim::MetricsFlavor::v0_11));
}

// Every PromQL text of the dashboard: panel target exprs and the query variables.
std::vector<std::string> queries(const json& dashboard) {
  std::vector<std::string> texts;
  for (const auto& panel : dashboard.at("panels")) {
    for (const auto& target : panel.value("targets", json::array())) {
      texts.push_back(target.at("expr").get<std::string>());
    }
  }
  for (const auto& variable : dashboard.at("templating").at("list")) {
    if (variable.value("type", "") == "query") {
      texts.push_back(variable.at("definition").get<std::string>());
    }
  }
  return texts;
}

// The llmd_bench_* and vllm:* names in the dashboard's queries that neither list holds.
std::vector<std::string> unknown_names(const json& dashboard, const std::set<std::string>& known) {
  static const std::regex k_name(R"((llmd_bench_[A-Za-z0-9_]+|vllm:[A-Za-z0-9_:]+))");
  std::vector<std::string> unknown;
  for (const auto& text : queries(dashboard)) {
    for (std::sregex_iterator it(text.begin(), text.end(), k_name), end; it != end; ++it) {
      if (!known.contains(it->str())) {
        unknown.push_back(it->str());
      }
    }
  }
  return unknown;
}

json load_dashboard() {
  std::ifstream in(k_dashboard);
  EXPECT_TRUE(in) << k_dashboard;
  return json::parse(in);
}

std::set<std::string> known_names() {
  auto known = pushed_names();
  known.merge(simulator_names());
  return known;
}

}  // namespace

TEST(GrafanaDashboard, EveryQueryNamesAMetricThatExists) {
  const json dashboard = load_dashboard();
  EXPECT_GE(dashboard.at("schemaVersion").get<int>(), 36);
  const auto known = known_names();
  EXPECT_TRUE(known.contains("llmd_bench_ttft_seconds_bucket"));
  EXPECT_TRUE(known.contains("vllm:prefix_cache_hits_total"));
  EXPECT_THAT(unknown_names(dashboard, known), IsEmpty());
  std::size_t llmd = 0;
  std::size_t vllm = 0;
  for (const auto& text : queries(dashboard)) {
    llmd += text.find("llmd_bench_") != std::string::npos;
    vllm += text.find("vllm:") != std::string::npos;
  }
  EXPECT_GE(llmd, 10u);
  EXPECT_GE(vllm, 2u);
}

TEST(GrafanaDashboard, UsesTheDatasourceAndScenarioVariables) {
  const json dashboard = load_dashboard();
  std::set<std::string> variables;
  for (const auto& variable : dashboard.at("templating").at("list")) {
    variables.insert(variable.at("name").get<std::string>());
  }
  EXPECT_THAT(variables, testing::UnorderedElementsAre("datasource", "scenario"));
  for (const auto& panel : dashboard.at("panels")) {
    EXPECT_EQ(panel.at("datasource").at("uid"), "${datasource}") << panel.at("title");
    for (const auto& target : panel.at("targets")) {
      const auto expr = target.at("expr").get<std::string>();
      if (expr.find("llmd_bench_") != std::string::npos) {
        EXPECT_NE(expr.find("scenario=~\"$scenario\""), std::string::npos) << expr;
      }
    }
  }
}

TEST(GrafanaDashboard, ACheckThatFailsOnAnUnknownName) {
  json dashboard = load_dashboard();
  json planted = dashboard.at("panels").at(0);
  planted["targets"] = json::array({{{"refId", "A"},
                                     {"expr", "histogram_quantile(0.95, sum by (le) (llmd_bench_ttft_secs_bucket)) + "
                                              "rate(vllm:prefix_cache_hit_total[5m])"}}});
  dashboard["panels"].push_back(planted);
  EXPECT_THAT(unknown_names(dashboard, known_names()),
              ElementsAre("llmd_bench_ttft_secs_bucket", "vllm:prefix_cache_hit_total"));
}
