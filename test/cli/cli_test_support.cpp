#include "cli/cli_test_support.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace llmd::test {

namespace fs = std::filesystem;

fs::path write_text(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string metrics_dump(const DumpCounters& counters, sim::MetricsFlavor flavor) {
  sim::PodMetrics m;
  m.model_name = "meta-llama/Llama-3.2-3B-Instruct";
  m.process_start_unix_seconds = 1700000000;
  m.enable_prefix_caching = counters.prefix_caching;
  m.block_size_tokens = counters.block_size_tokens;
  m.num_gpu_blocks = 4096;
  m.prefix_cache_queries_tokens = counters.queries_tokens;
  m.prefix_cache_hits_tokens = counters.hits_tokens;
  m.prefix_cache_queried_blocks = counters.queries_tokens / counters.block_size_tokens;
  m.prefix_cache_hit_blocks = counters.hits_tokens / counters.block_size_tokens;
  m.request_success_by_reason["stop"] = counters.requests;
  return sim::render_metrics(m, flavor);
}

fs::path write_dump(const fs::path& dir, const std::string& pod, const DumpCounters& counters, sim::MetricsFlavor flavor) {
  return write_text(dir / (pod + ".prom"), metrics_dump(counters, flavor));
}

RunOutput bench(std::vector<std::string> args) {
  args.insert(args.begin(), LLMD_BENCH_BINARY);
  return run_to_completion(args, std::chrono::seconds(60));
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace llmd::test
