#pragma once
// Test support for test/cli: scratch folders, saved /metrics dumps of each simulated vLLM flavor,
// and the real binary.
#include <filesystem>
#include <string>
#include <vector>

#include "sim/metrics_exporter.hpp"
#include "support/child_process.hpp"
#include "support/scratch_dir.hpp"

namespace llmd::test {

// Writes `text` to `path` (creating parent folders) and returns `path`.
std::filesystem::path write_text(const std::filesystem::path& path, const std::string& text);

// Counters of one simulated pod at one instant.
struct DumpCounters {
  std::uint64_t queries_tokens = 0;
  std::uint64_t hits_tokens = 0;
  std::uint64_t requests = 0;       // request_success_total{finished_reason="stop"}
  bool prefix_caching = true;
  std::size_t block_size_tokens = 16;
};

// sim::render_metrics of a pod with `counters` in `flavor` (blocks = tokens / block size, for V0).
std::string metrics_dump(const DumpCounters& counters, sim::MetricsFlavor flavor);

// Writes metrics_dump() as DIR/<pod>.prom and returns the path.
std::filesystem::path write_dump(const std::filesystem::path& dir, const std::string& pod, const DumpCounters& counters,
                                 sim::MetricsFlavor flavor);

// `llmd-bench ARGS...` to completion (60 s limit).
RunOutput bench(std::vector<std::string> args);

// Reads a whole file ("" when missing).
std::string read_text(const std::filesystem::path& path);

}  // namespace llmd::test
