#pragma once
// Helpers of the `llmd-bench run` end-to-end tests: a scratch folder per test, scenario files
// written by the test, the real binary run to completion, its JSON result.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "support/child_process.hpp"
#include "support/scratch_dir.hpp"
#include "support/sim_process.hpp"

namespace llmd::test {

inline std::filesystem::path write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

// `llmd-bench run ARGS...`
inline RunOutput run_bench(std::vector<std::string> args, std::chrono::seconds timeout = std::chrono::seconds(120)) {
  std::vector<std::string> argv = {LLMD_BENCH_BINARY, "run"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_to_completion(argv, timeout);
}

inline nlohmann::json read_json(const std::filesystem::path& path) { return nlohmann::json::parse(std::ifstream(path)); }

// The rows of `--out csv=FILE` by column name (the run's rows need no RFC 4180 quoting); a row whose
// field count differs from the header's is a test failure.
inline std::vector<std::map<std::string, std::string>> read_csv(const std::filesystem::path& path) {
  const auto split = [](const std::string& line) {
    std::vector<std::string> fields;
    std::stringstream in(line);
    for (std::string field; std::getline(in, field, ',');) {
      fields.push_back(field);
    }
    if (!line.empty() && line.back() == ',') {
      fields.emplace_back();
    }
    return fields;
  };
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  const auto header = split(line);
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    const auto fields = split(line);
    EXPECT_EQ(fields.size(), header.size()) << line;
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < header.size() && i < fields.size(); ++i) {
      row[header[i]] = fields[i];
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// The JSON result's merged statistics of every measured phase.
inline const nlohmann::json& phase_total(const nlohmann::json& result) { return result["run"]["total"]; }

// `llmd-bench run SCENARIO --target <sim gateway> -q --out json=JSON --cache-url <each pod>`.
inline std::vector<std::string> run_argv_scraping_every_pod(const SimProcess& sim, const std::filesystem::path& scenario, const std::filesystem::path& json_out) {
  std::vector<std::string> argv = {LLMD_BENCH_BINARY, "run", scenario.string(), "--target", sim.gateway(), "-q",
                                   "--out", "json=" + json_out.string()};
  for (std::size_t i = 0; i < sim.pods(); ++i) {
    argv.insert(argv.end(), {"--cache-url", sim.pod_url(i) + "/metrics"});
  }
  return argv;
}

// A 200-token shared prefix, 4 output tokens, 2 VUs for `duration`.
inline std::filesystem::path shared_prefix_scenario(const std::filesystem::path& dir, const std::string& duration, const std::string& extra = "") {
  return write_file(dir / "s.yaml", R"(
requests:
  prompt: {kind: shared-prefix, prefix_tokens: 200, suffix_tokens: 4}
  max_tokens: 4
load:
  - {name: loop, executor: constant-vus, vus: 2, duration: )" + duration + "}\n" + extra);
}

}  // namespace llmd::test
