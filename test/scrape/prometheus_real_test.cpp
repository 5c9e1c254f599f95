// PrometheusSource against Debian's real Prometheus (test/support/prometheus_process.hpp) scraping
// canned vLLM expositions served on 127.0.0.1: the HELP texts that tell blocks from tokens come
// through the metadata API both for a target answering the text format and for one answering
// OpenMetrics (whose metadata Prometheus keys by the family name, without `_total`).
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "scrape/http_test_server.hpp"
#include "scrape/prometheus_source.hpp"
#include "support/prometheus_process.hpp"

namespace llmd::scrape {
namespace {

using testing::CannedResponse;
using testing::HttpTestServer;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// vLLM V1 0.8.5 (text format, as prometheus_client serves it): the old names count BLOCKS.
constexpr char k_v085[] = R"(# HELP vllm:gpu_prefix_cache_queries_total GPU prefix cache queries, in terms of number of queried blocks.
# TYPE vllm:gpu_prefix_cache_queries_total counter
vllm:gpu_prefix_cache_queries_total{engine="0",model_name="m"} 80.0
# HELP vllm:gpu_prefix_cache_queries_created GPU prefix cache queries, in terms of number of queried blocks.
# TYPE vllm:gpu_prefix_cache_queries_created gauge
vllm:gpu_prefix_cache_queries_created{engine="0",model_name="m"} 1.7537953265e+09
# HELP vllm:gpu_prefix_cache_hits_total GPU prefix cache hits, in terms of number of cached blocks.
# TYPE vllm:gpu_prefix_cache_hits_total counter
vllm:gpu_prefix_cache_hits_total{engine="0",model_name="m"} 20.0
)";

// vLLM 0.9.0 answering in OpenMetrics: the same names, in tokens.
constexpr char k_v090_openmetrics[] = R"(# HELP vllm:gpu_prefix_cache_queries GPU prefix cache queries, in terms of number of queried tokens.
# TYPE vllm:gpu_prefix_cache_queries counter
vllm:gpu_prefix_cache_queries_total{engine="0",model_name="m"} 800.0
vllm:gpu_prefix_cache_queries_created{engine="0",model_name="m"} 1.7537953265e+09
# HELP vllm:gpu_prefix_cache_hits GPU prefix cache hits, in terms of number of cached tokens.
# TYPE vllm:gpu_prefix_cache_hits counter
vllm:gpu_prefix_cache_hits_total{engine="0",model_name="m"} 200.0
vllm:gpu_prefix_cache_hits_created{engine="0",model_name="m"} 1.7537953265e+09
# EOF
)";

std::string address_of(const HttpTestServer& server) { return "127.0.0.1:" + std::to_string(server.port()); }

TEST(PrometheusReal, HelpFromTheMetadataApiTellsBlocksFromTokensInTextAndOpenMetrics) {
  HttpTestServer v085({{"/metrics", CannedResponse{200, "OK", "text/plain; version=0.0.4; charset=utf-8", k_v085, {}, {}}}});
  HttpTestServer v090({{"/metrics", CannedResponse{200, "OK", "application/openmetrics-text; version=1.0.0; charset=utf-8",
                                                   k_v090_openmetrics, {}, {}}}});
  const auto dir = std::filesystem::temp_directory_path() / ("llmd-prom-real-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  test::PrometheusProcess prometheus(dir, {{address_of(v085), "vllm-085"}, {address_of(v090), "vllm-090"}},
                                     std::chrono::seconds(1));
  ASSERT_EQ(prometheus.error(), "");

  PrometheusSourceOptions options;
  options.base_url = prometheus.url();
  options.matcher = "job=\"llmd\"";
  options.scrape_interval = std::chrono::seconds(1);
  auto source = PrometheusSource::create(options);
  ASSERT_TRUE(source) << source.error();
  const auto scrapes = source->scrape_all();
  ASSERT_EQ(scrapes.size(), 2u);
  const auto snapshots = snapshot_pods(scrapes, "");
  ASSERT_TRUE(snapshots[0].snapshot) << snapshots[0].snapshot.error();
  ASSERT_TRUE(snapshots[1].snapshot) << snapshots[1].snapshot.error();

  EXPECT_EQ(snapshots[0].pod, "vllm-085");
  EXPECT_THAT(*scrapes[0].text, HasSubstr("# HELP vllm:gpu_prefix_cache_queries_total GPU prefix cache queries, in "
                                          "terms of number of queried blocks.\n"));
  EXPECT_EQ(snapshots[0].snapshot->flavor, CounterFlavor::v1_blocks);
  EXPECT_EQ(snapshots[0].snapshot->unit, CounterUnit::blocks);
  EXPECT_EQ(snapshots[0].snapshot->queries, 80.0);

  EXPECT_EQ(snapshots[1].pod, "vllm-090");
  EXPECT_THAT(*scrapes[1].text, HasSubstr("# HELP vllm:gpu_prefix_cache_queries_total GPU prefix cache queries, in "
                                          "terms of number of queried tokens.\n"));
  EXPECT_EQ(snapshots[1].snapshot->flavor, CounterFlavor::v1_old_names);
  EXPECT_EQ(snapshots[1].snapshot->unit, CounterUnit::tokens);
  EXPECT_TRUE(snapshots[1].snapshot->unit_verified);
  EXPECT_EQ(snapshots[1].snapshot->queries, 800.0);

  ASSERT_EQ(source->snapshots().size(), 1u);
  EXPECT_THAT(source->snapshots()[0].help_problems, IsEmpty());
  EXPECT_EQ(source->snapshots()[0].marker_clock_error, "");
  EXPECT_EQ(source->snapshots()[0].pods_fresh, 2u);
  EXPECT_LE(source->snapshots()[0].waited, std::chrono::milliseconds(2 * 1000 + 5000));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace llmd::scrape
