#include "scrape/snapshot.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "scrape/scrape_test_support.hpp"

namespace llmd::scrape {
namespace {

using testing::read_fixture;
using testing::sample_pod_metrics;
using testing::snapshot_of_text;
using ::testing::ElementsAre;
using ::testing::Optional;

PodSnapshot snapshot_of_sim(const sim::PodMetrics& metrics, sim::MetricsFlavor flavor) {
  return snapshot_of_text(sim::render_metrics(metrics, flavor));
}

TEST(ExtractCounters, ReadsVllm011FromTheSimulator) {
  const PodSnapshot s = snapshot_of_sim(sample_pod_metrics(), sim::MetricsFlavor::v0_11);
  EXPECT_EQ(s.flavor, CounterFlavor::v1_new_names);
  EXPECT_EQ(s.flavor_text, "vLLM >= 0.11 (vllm:prefix_cache_*)");
  EXPECT_EQ(s.unit, CounterUnit::tokens);
  EXPECT_THAT(s.queries, Optional(1234.0));
  EXPECT_THAT(s.hits, Optional(567.0));
  EXPECT_EQ(s.queries_metric, "vllm:prefix_cache_queries_total");
  EXPECT_EQ(s.hits_metric, "vllm:prefix_cache_hits_total");
  EXPECT_THAT(s.requests_success, Optional(9.0));  // stop 7 + length 2 + abort 0
  EXPECT_THAT(s.prefix_caching_enabled, Optional(true));
  EXPECT_EQ(s.prefix_caching_label, "True");
  EXPECT_THAT(s.block_size_tokens, Optional(16u));
  EXPECT_THAT(s.counters_created_unix_seconds, Optional(1753795326.5));
  EXPECT_FALSE(s.hit_rate_gauge);
  EXPECT_FALSE(s.external.queries_tokens);
  EXPECT_THAT(s.model_names_seen, ElementsAre("meta-llama/Llama-3.1-8B"));
}

TEST(ExtractCounters, Vllm010BothNamesAreNotDoubleCounted) {
  const PodSnapshot s = snapshot_of_sim(sample_pod_metrics(), sim::MetricsFlavor::v0_10);
  EXPECT_EQ(s.flavor, CounterFlavor::v1_both_names);
  EXPECT_EQ(s.flavor_text, "vLLM 0.9.2-0.10.x (both names)");
  EXPECT_THAT(s.queries, Optional(1234.0));  // not 2468
  EXPECT_THAT(s.hits, Optional(567.0));
  EXPECT_EQ(s.queries_metric, "vllm:prefix_cache_queries_total");
  EXPECT_EQ(s.unit, CounterUnit::tokens);
}

TEST(ExtractCounters, VllmV0HasOnlyTheHitRateGauge) {
  const PodSnapshot s = snapshot_of_sim(sample_pod_metrics(), sim::MetricsFlavor::v0);
  EXPECT_EQ(s.flavor, CounterFlavor::v0_gauge);
  EXPECT_EQ(s.flavor_text, "vLLM V0 (hit-rate gauge only)");
  EXPECT_EQ(s.unit, CounterUnit::none);
  EXPECT_FALSE(s.queries);
  EXPECT_FALSE(s.hits);
  EXPECT_THAT(s.hit_rate_gauge, Optional(0.25));  // 20 of 80 blocks
  EXPECT_THAT(s.prefix_caching_enabled, Optional(true));
  EXPECT_THAT(s.requests_success, Optional(9.0));
  EXPECT_FALSE(s.counters_created_unix_seconds);
}

TEST(ExtractCounters, VllmV0CachingOffShowsInConfigAndGauge) {
  sim::PodMetrics m = sample_pod_metrics();
  m.enable_prefix_caching = false;
  const PodSnapshot s = snapshot_of_sim(m, sim::MetricsFlavor::v0);
  EXPECT_THAT(s.hit_rate_gauge, Optional(-1.0));
  EXPECT_THAT(s.prefix_caching_enabled, Optional(false));
  EXPECT_EQ(s.prefix_caching_label, "False");
}

TEST(ExtractCounters, GaugeAtMinusOneMeansCachingOffWithoutCacheConfig) {
  const PodSnapshot s = snapshot_of_text(
      "# TYPE vllm:gpu_prefix_cache_hit_rate gauge\nvllm:gpu_prefix_cache_hit_rate{model_name=\"m\"} -1.0\n");
  EXPECT_THAT(s.prefix_caching_enabled, Optional(false));
  EXPECT_EQ(s.prefix_caching_label, "");
}

TEST(ExtractCounters, RealVllm010ExcerptPrefersNewNamePerCounter) {
  // The excerpt has the new queries counter and only the old hits counter (plus `_created` gauges).
  const PodSnapshot s = snapshot_of_text(read_fixture("vllm-v0.10.0-V1-production-stack-issue617-EXCERPT.txt"));
  EXPECT_EQ(s.flavor, CounterFlavor::v1_both_names);
  EXPECT_THAT(s.queries, Optional(32.0));
  EXPECT_THAT(s.hits, Optional(0.0));
  EXPECT_EQ(s.queries_metric, "vllm:prefix_cache_queries_total");
  EXPECT_EQ(s.hits_metric, "vllm:gpu_prefix_cache_hits_total");
  EXPECT_THAT(s.model_names_seen, ElementsAre("zai-org/GLM-4.5"));
}

TEST(ExtractCounters, RealVllm011CacheConfig) {
  const PodSnapshot s = snapshot_of_text(read_fixture("vllm-v0.11.0-V1-issue28924-cache_config_info.txt"));
  EXPECT_THAT(s.prefix_caching_enabled, Optional(true));
  EXPECT_THAT(s.block_size_tokens, Optional(16u));
  EXPECT_EQ(s.flavor, CounterFlavor::none);
  EXPECT_FALSE(s.queries);
}

TEST(ExtractCounters, RealVllm043HasCachingOffAndNoCounters) {
  const PodSnapshot s = snapshot_of_text(read_fixture("vllm-v0.4.3-V0engine-datadog-fixture.txt"));
  EXPECT_EQ(s.flavor, CounterFlavor::none);
  EXPECT_EQ(s.flavor_text, "no prefix-cache metrics");
  EXPECT_THAT(s.prefix_caching_enabled, Optional(false));
  EXPECT_THAT(s.block_size_tokens, Optional(16u));
  EXPECT_THAT(s.requests_success, Optional(1.0));
  EXPECT_THAT(s.process_start_unix_seconds, Optional(1.7181405583e+09));
}

constexpr char k_two_engines[] = R"(# HELP vllm:prefix_cache_queries_total Prefix cache queries, in terms of number of queried tokens.
# TYPE vllm:prefix_cache_queries_total counter
vllm:prefix_cache_queries_total{engine="0",model_name="m"} 1000.0
vllm:prefix_cache_queries_total{engine="1",model_name="m"} 3000.0
# HELP vllm:prefix_cache_hits_total Prefix cache hits, in terms of number of cached tokens.
# TYPE vllm:prefix_cache_hits_total counter
vllm:prefix_cache_hits_total{engine="0",model_name="m"} 400.0
vllm:prefix_cache_hits_total{engine="1",model_name="m"} 2000.0
# TYPE vllm:request_success_total counter
vllm:request_success_total{engine="0",finished_reason="stop",model_name="m"} 5.0
vllm:request_success_total{engine="1",finished_reason="stop",model_name="m"} 6.0
vllm:request_success_total{engine="1",finished_reason="length",model_name="m"} 1.0
# TYPE vllm:cache_config_info gauge
vllm:cache_config_info{block_size="16",enable_prefix_caching="True",engine="0"} 1.0
vllm:cache_config_info{block_size="16",enable_prefix_caching="False",engine="1"} 1.0
)";

TEST(ExtractCounters, SumsOverEngineLabel) {
  const PodSnapshot s = snapshot_of_text(k_two_engines);
  EXPECT_THAT(s.queries, Optional(4000.0));
  EXPECT_THAT(s.hits, Optional(2400.0));
  EXPECT_THAT(s.requests_success, Optional(12.0));
}

TEST(ExtractCounters, AnyEngineWithCachingOffMakesThePodCachingOff) {
  const PodSnapshot s = snapshot_of_text(k_two_engines);
  EXPECT_THAT(s.prefix_caching_enabled, Optional(false));
  EXPECT_EQ(s.prefix_caching_label, "False");
}

constexpr char k_two_models[] = R"(# TYPE vllm:prefix_cache_queries_total counter
vllm:prefix_cache_queries_total{engine="0",model_name="llama"} 100.0
vllm:prefix_cache_queries_total{engine="0",model_name="qwen"} 900.0
# TYPE vllm:prefix_cache_hits_total counter
vllm:prefix_cache_hits_total{engine="0",model_name="llama"} 10.0
vllm:prefix_cache_hits_total{engine="0",model_name="qwen"} 90.0
# TYPE vllm:cache_config_info gauge
vllm:cache_config_info{block_size="32",enable_prefix_caching="True",engine="0"} 1.0
)";

TEST(ExtractCounters, FiltersByModelNameButNotCacheConfig) {
  const PodSnapshot s = snapshot_of_text(k_two_models, "qwen");
  EXPECT_THAT(s.queries, Optional(900.0));
  EXPECT_THAT(s.hits, Optional(90.0));
  EXPECT_THAT(s.prefix_caching_enabled, Optional(true));  // cache_config_info has no model_name
  EXPECT_THAT(s.block_size_tokens, Optional(32u));
  EXPECT_THAT(s.model_names_seen, ElementsAre("llama", "qwen"));
}

TEST(ExtractCounters, NoFilterSumsEveryModel) {
  const PodSnapshot s = snapshot_of_text(k_two_models);
  EXPECT_THAT(s.queries, Optional(1000.0));
}

TEST(ExtractCounters, FilterMatchingNothingLeavesCountersUnknownNotZero) {
  const PodSnapshot s = snapshot_of_text(k_two_models, "mistral");
  EXPECT_FALSE(s.queries);
  EXPECT_FALSE(s.hits);
  EXPECT_EQ(s.flavor, CounterFlavor::v1_new_names);  // presence still tells the vLLM version
  EXPECT_EQ(s.queries_metric, "vllm:prefix_cache_queries_total");
  EXPECT_THAT(s.model_names_seen, ElementsAre("llama", "qwen"));
}

TEST(ExtractCounters, OldNamesWithBlocksInHelpCountBlocks) {
  const PodSnapshot s = snapshot_of_text(R"(# HELP vllm:gpu_prefix_cache_queries_total GPU prefix cache queries, in terms of number of queried blocks.
# TYPE vllm:gpu_prefix_cache_queries_total counter
vllm:gpu_prefix_cache_queries_total{engine="0",model_name="m"} 80.0
# HELP vllm:gpu_prefix_cache_hits_total GPU prefix cache hits, in terms of number of cached blocks.
# TYPE vllm:gpu_prefix_cache_hits_total counter
vllm:gpu_prefix_cache_hits_total{engine="0",model_name="m"} 20.0
)");
  EXPECT_EQ(s.flavor, CounterFlavor::v1_blocks);
  EXPECT_EQ(s.flavor_text, "vLLM V1 <= 0.8 (blocks!)");
  EXPECT_EQ(s.unit, CounterUnit::blocks);
  EXPECT_THAT(s.queries, Optional(80.0));
  EXPECT_THAT(s.hits, Optional(20.0));
}

TEST(ExtractCounters, OldNamesWithTokensInHelpAreVllm090) {
  const PodSnapshot s = snapshot_of_text(R"(# HELP vllm:gpu_prefix_cache_queries_total GPU prefix cache queries, in terms of number of queried tokens.
# TYPE vllm:gpu_prefix_cache_queries_total counter
vllm:gpu_prefix_cache_queries_total{engine="0",model_name="m"} 800.0
# HELP vllm:gpu_prefix_cache_hits_total GPU prefix cache hits, in terms of number of cached tokens.
# TYPE vllm:gpu_prefix_cache_hits_total counter
vllm:gpu_prefix_cache_hits_total{engine="0",model_name="m"} 200.0
)");
  EXPECT_EQ(s.flavor, CounterFlavor::v1_old_names);
  EXPECT_EQ(s.unit, CounterUnit::tokens);
  EXPECT_TRUE(s.unit_verified);
  EXPECT_THAT(s.queries, Optional(800.0));
}

TEST(ExtractCounters, OldNamesWithoutHelpAreTokensButUnverified) {
  const PodSnapshot s = snapshot_of_text(R"(# TYPE vllm:gpu_prefix_cache_queries_total counter
vllm:gpu_prefix_cache_queries_total{engine="0",model_name="m"} 800.0
# TYPE vllm:gpu_prefix_cache_hits_total counter
vllm:gpu_prefix_cache_hits_total{engine="0",model_name="m"} 200.0
)");
  EXPECT_EQ(s.flavor, CounterFlavor::v1_old_names);
  EXPECT_EQ(s.unit, CounterUnit::tokens);
  EXPECT_FALSE(s.unit_verified);
  EXPECT_EQ(s.flavor_text,
            "vLLM 0.9.0-0.9.1 (vllm:gpu_prefix_cache_*), no HELP text: tokens assumed (BLOCKS if vLLM V1 <= 0.8.5)");
}

TEST(ExtractCounters, InferenceSimCountersWithoutTotal) {
  const PodSnapshot s = snapshot_of_text(R"(# HELP vllm:prefix_cache_queries Prefix cache queries.
# TYPE vllm:prefix_cache_queries counter
vllm:prefix_cache_queries{model_name="sim-model"} 500
# HELP vllm:prefix_cache_hits Prefix cache hits.
# TYPE vllm:prefix_cache_hits counter
vllm:prefix_cache_hits{model_name="sim-model"} 125
# TYPE vllm:request_success counter
vllm:request_success{finish_reason="stop",model_name="sim-model"} 4
vllm:request_success{finish_reason="length",model_name="sim-model"} 1
# TYPE vllm:cache_config_info gauge
vllm:cache_config_info{block_size="16",num_gpu_blocks="1024"} 1
)");
  EXPECT_EQ(s.flavor, CounterFlavor::inference_sim);
  EXPECT_EQ(s.flavor_text, "llm-d-inference-sim");
  EXPECT_THAT(s.queries, Optional(500.0));
  EXPECT_THAT(s.hits, Optional(125.0));
  EXPECT_THAT(s.requests_success, Optional(5.0));
  EXPECT_FALSE(s.prefix_caching_enabled);  // the Go simulator has no enable_prefix_caching label
  EXPECT_THAT(s.block_size_tokens, Optional(16u));
}

TEST(ExtractCounters, RayServePrefix) {
  const PodSnapshot s = snapshot_of_text(R"(# TYPE ray_vllm:prefix_cache_queries_total counter
ray_vllm:prefix_cache_queries_total{Component="core_worker",WorkerId="ab12",engine="0",model_name="m"} 300.0
# TYPE ray_vllm:prefix_cache_hits_total counter
ray_vllm:prefix_cache_hits_total{Component="core_worker",WorkerId="ab12",engine="0",model_name="m"} 150.0
)");
  EXPECT_EQ(s.metric_namespace, "ray_vllm:");
  EXPECT_EQ(s.flavor, CounterFlavor::v1_new_names);
  EXPECT_EQ(s.flavor_text, "vLLM >= 0.11 (vllm:prefix_cache_*) under Ray Serve (ray_vllm:)");
  EXPECT_THAT(s.queries, Optional(300.0));
  EXPECT_EQ(s.queries_metric, "ray_vllm:prefix_cache_queries_total");
}

TEST(ExtractCounters, ExternalCacheIsReportedApartNeverAdded) {
  const PodSnapshot s = snapshot_of_text(R"(# TYPE vllm:prefix_cache_queries_total counter
vllm:prefix_cache_queries_total{engine="0",model_name="m"} 1000.0
# TYPE vllm:prefix_cache_hits_total counter
vllm:prefix_cache_hits_total{engine="0",model_name="m"} 100.0
# TYPE vllm:external_prefix_cache_queries_total counter
vllm:external_prefix_cache_queries_total{engine="0",model_name="m"} 900.0
# TYPE vllm:external_prefix_cache_hits_total counter
vllm:external_prefix_cache_hits_total{engine="0",model_name="m"} 600.0
)");
  EXPECT_THAT(s.hits, Optional(100.0));
  EXPECT_THAT(s.queries, Optional(1000.0));
  EXPECT_THAT(s.external.queries_tokens, Optional(900.0));
  EXPECT_THAT(s.external.hits_tokens, Optional(600.0));
}

TEST(ExtractCounters, CacheConfigNoneIsUnknown) {
  const PodSnapshot s = snapshot_of_text(
      "vllm:cache_config_info{block_size=\"1568\",enable_prefix_caching=\"None\",engine=\"0\"} 1.0\n");
  EXPECT_FALSE(s.prefix_caching_enabled);
  EXPECT_EQ(s.prefix_caching_label, "None");
  EXPECT_THAT(s.block_size_tokens, Optional(1568u));
}

TEST(ExtractCounters, EmptyExpositionHasNothing) {
  const PodSnapshot s = snapshot_of_text("");
  EXPECT_EQ(s.flavor, CounterFlavor::none);
  EXPECT_EQ(s.unit, CounterUnit::none);
  EXPECT_FALSE(s.queries);
  EXPECT_FALSE(s.requests_success);
  EXPECT_FALSE(s.prefix_caching_enabled);
}

TEST(SnapshotPod, ParseErrorNamesPodSourceAndLine) {
  const PodScrape scrape{"decode-1", "http://10.0.0.7:8200/metrics", std::string("vllm:x{a=1} 2\n"), {}, {}};
  const PodSnapshotResult result = snapshot_pod(scrape, "");
  ASSERT_FALSE(result.snapshot);
  EXPECT_EQ(result.snapshot.error(),
            "pod decode-1 (http://10.0.0.7:8200/metrics): not Prometheus text: http://10.0.0.7:8200/metrics:1: " +
                prom::parse_text("vllm:x{a=1} 2\n").error().message);
  EXPECT_EQ(result.pod, "decode-1");
}

TEST(SnapshotPod, ScrapeErrorIsKept) {
  const PodScrape scrape{"decode-1", "http://x/metrics", util::fail("pod decode-1 (http://x/metrics): HTTP 500"), {}, {}};
  const std::vector<PodSnapshotResult> results = snapshot_pods({scrape}, "");
  ASSERT_EQ(results.size(), 1u);
  ASSERT_FALSE(results[0].snapshot);
  EXPECT_EQ(results[0].snapshot.error(), "pod decode-1 (http://x/metrics): HTTP 500");
}

}  // namespace
}  // namespace llmd::scrape
