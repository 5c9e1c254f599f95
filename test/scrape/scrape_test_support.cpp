#include "scrape/scrape_test_support.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "prom/text_parser.hpp"

namespace llmd::scrape::testing {

sim::PodMetrics sample_pod_metrics() {
  sim::PodMetrics m;
  m.model_name = "meta-llama/Llama-3.1-8B";
  m.process_start_unix_seconds = 1753795326.5;
  m.block_size_tokens = 16;
  m.num_gpu_blocks = 9271;
  m.prefix_cache_queries_tokens = 1234;
  m.prefix_cache_hits_tokens = 567;
  m.prefix_cache_queried_blocks = 80;
  m.prefix_cache_hit_blocks = 20;
  m.request_success_by_reason = {{"stop", 7}, {"length", 2}};
  return m;
}

std::string read_fixture(std::string_view name) {
  const std::string path = std::string(LLMD_TEST_FIXTURES) + "/metrics/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open fixture " << path;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

PodSnapshot snapshot_of_text(std::string_view text, std::string_view model_filter) {
  auto parsed = prom::parse_text(text);
  if (!parsed) {
    ADD_FAILURE() << prom::format_error(parsed.error(), "test exposition");
    return {};
  }
  return extract_counters(*parsed, model_filter);
}

PodSnapshotResult result_of_text(const std::string& pod, const std::string& text, std::string_view model_filter) {
  PodScrape scrape{pod, "http://" + pod + ":8000/metrics", text, {}, {}};
  PodSnapshotResult result = snapshot_pod(scrape, model_filter);
  EXPECT_TRUE(result.snapshot.has_value()) << (result.snapshot ? "" : result.snapshot.error());
  return result;
}

PodSnapshotResult result_of_sim(const std::string& pod, const sim::PodMetrics& metrics, sim::MetricsFlavor flavor) {
  return result_of_text(pod, sim::render_metrics(metrics, flavor));
}

PodSnapshotResult failed_result(const std::string& pod, const std::string& error) {
  return {pod, "http://" + pod + ":8000/metrics", util::fail(error), {}};
}

}  // namespace llmd::scrape::testing
