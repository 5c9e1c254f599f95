#include "scrape/vllm_metric_names.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

namespace llmd::scrape {
namespace {

using ::testing::ElementsAre;

std::vector<std::string_view> names_of(const std::vector<MetricNameRow>& rows) {
  std::vector<std::string_view> names;
  for (const MetricNameRow& row : rows) {
    names.push_back(row.name);
  }
  return names;
}

TEST(VllmMetricNames, QueriesPreferNewNamesThenOldThenInferenceSim) {
  EXPECT_THAT(names_of(rows_for(MetricRole::queries)),
              ElementsAre("prefix_cache_queries_total", "gpu_prefix_cache_queries_total", "prefix_cache_queries"));
  EXPECT_THAT(names_of(rows_for(MetricRole::hits)),
              ElementsAre("prefix_cache_hits_total", "gpu_prefix_cache_hits_total", "prefix_cache_hits"));
}

TEST(VllmMetricNames, EveryRowCitesWhereItComesFromAndNamesAreUnique) {
  std::set<std::string_view> names;
  for (const MetricNameRow& row : metric_name_rows()) {
    EXPECT_FALSE(row.since.empty()) << row.name;
    EXPECT_TRUE(names.insert(row.name).second) << "duplicate row " << row.name;
    EXPECT_EQ(row.name.find(':'), std::string_view::npos) << "names are stored without namespace: " << row.name;
  }
}

TEST(VllmMetricNames, ExternalCacheAndRequestNamesAreKnown) {
  ASSERT_NE(find_row(MetricRole::external_queries, NameGeneration::all_versions), nullptr);
  EXPECT_EQ(find_row(MetricRole::external_queries, NameGeneration::all_versions)->name,
            "external_prefix_cache_queries_total");
  EXPECT_THAT(names_of(rows_for(MetricRole::requests_success)), ElementsAre("request_success_total", "request_success"));
  EXPECT_EQ(find_row(MetricRole::hit_rate_gauge, NameGeneration::v0_gauge)->name, "gpu_prefix_cache_hit_rate");
  EXPECT_EQ(find_row(MetricRole::hits, NameGeneration::v0_gauge), nullptr);
}

TEST(VllmMetricNames, NamespacesAreVllmThenRay) {
  EXPECT_THAT(k_metric_namespaces, ElementsAre("vllm:", "ray_vllm:"));
}

TEST(VllmMetricNames, FlavorDescriptionsNameTheVersion) {
  EXPECT_EQ(describe(CounterFlavor::v1_new_names), "vLLM >= 0.11 (vllm:prefix_cache_*)");
  EXPECT_EQ(describe(CounterFlavor::v1_both_names), "vLLM 0.9.2-0.10.x (both names)");
  EXPECT_EQ(describe(CounterFlavor::v1_blocks), "vLLM V1 <= 0.8 (blocks!)");
  EXPECT_EQ(describe(CounterFlavor::v0_gauge), "vLLM V0 (hit-rate gauge only)");
  EXPECT_EQ(describe(CounterFlavor::inference_sim), "llm-d-inference-sim");
  EXPECT_EQ(to_string(CounterFlavor::v1_old_names), "v1_old_names");
  EXPECT_EQ(to_string(CounterUnit::blocks), "blocks");
}

TEST(VllmMetricNames, OnlyTheOldV1CountersNeedTheirHelpForTheUnit) {
  EXPECT_TRUE(unit_told_by_help("vllm:gpu_prefix_cache_queries_total"));
  EXPECT_TRUE(unit_told_by_help("vllm:gpu_prefix_cache_hits_total"));
  EXPECT_TRUE(unit_told_by_help("ray_vllm:gpu_prefix_cache_hits_total"));
  EXPECT_FALSE(unit_told_by_help("vllm:gpu_prefix_cache_queries_created"));
  EXPECT_FALSE(unit_told_by_help("vllm:prefix_cache_queries_total"));
  EXPECT_FALSE(unit_told_by_help("gpu_prefix_cache_queries_total"));  // no namespace: not a vLLM name
}

}  // namespace
}  // namespace llmd::scrape
