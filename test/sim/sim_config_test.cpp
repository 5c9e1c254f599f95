// sim::validate: every setting against its range (shared with the scenario's `sim` keys), and the
// rules across settings. Messages name the setting (its key in the scenario's sim: section, or as the caller
// names it) and the bound.
#include "sim/sim_config.hpp"

#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace llmd::sim {
namespace {

std::string error_of(const SimConfig& config) {
  auto valid = validate(config);
  EXPECT_FALSE(valid);
  return valid ? std::string() : valid.error();
}

TEST(SimConfig, DefaultsAreValid) { EXPECT_TRUE(validate(SimConfig{})); }

// One setting changed from the defaults, and the error it must give.
struct Case {
  void (*change)(SimConfig&);
  std::string error;
};

void expect_errors(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SimConfig config;
    c.change(config);
    EXPECT_EQ(error_of(config), c.error);
  }
}

TEST(SimConfig, CountsHaveUpperBounds) {
  expect_errors({
      {[](SimConfig& c) { c.pod.kv_blocks = 1'000'000'000; }, "kv_blocks: must be <= 1048576, got 1000000000"},
      {[](SimConfig& c) { c.pod.kv_blocks = 0; }, "kv_blocks: must be >= 1, got 0"},
      {[](SimConfig& c) { c.pods = 1025; }, "pods: must be <= 1024, got 1025"},
      {[](SimConfig& c) { c.pod.block_size_tokens = 4097; }, "block_size: must be <= 4096, got 4097"},
      {[](SimConfig& c) { c.pod.max_num_seqs = 100'001; }, "max_num_seqs: must be <= 100000, got 100001"},
      {[](SimConfig& c) { c.pod.default_max_tokens = 0; }, "default_max_tokens: must be >= 1, got 0"},
      {[](SimConfig& c) { c.prefix_index_blocks = 1u << 23; }, "prefix_index_blocks: must be <= 4194304, got 8388608"},
  });
}

TEST(SimConfig, PodsTimesKvBlocksIsBounded) {
  SimConfig config;
  config.pods = 1024;
  config.pod.kv_blocks = 16384;  // the default, on the most pods: exactly the limit
  EXPECT_TRUE(validate(config));
  config.pod.kv_blocks = 16385;
  EXPECT_EQ(error_of(config), "pods 1024 x kv_blocks 16385 = 16778240 KV blocks in all; at most 16777216 (640 MiB "
                              "of simulator memory before any block is cached): lower one of them");
}

TEST(SimConfig, DelaysAndFractionsHaveBounds) {
  expect_errors({
      {[](SimConfig& c) { c.pod.timing.time_scale = 1e-300; }, "timing.time_scale: must be >= 1e-06, got 1e-300"},
      {[](SimConfig& c) { c.pod.timing.prefill_per_token_us = 2e6; },
       "timing.prefill_per_token: must be <= 1000000, got 2000000"},
      {[](SimConfig& c) { c.pod.timing.prefill_base_ms = -1; }, "timing.prefill_base: must be >= 0, got -1"},
      {[](SimConfig& c) { c.session_timeout_s = 1e9; }, "session_timeout: must be <= 2592000, got 1000000000"},
      {[](SimConfig& c) { c.pod.abort_rate = 1.5; }, "abort_rate: must be <= 1, got 1.5"},
      {[](SimConfig& c) { c.pod.restart_downtime_s = std::numeric_limits<double>::infinity(); },
       "restart_downtime: must be a finite number, got inf"},
  });
}

// sim names a setting by its key; the caller that knows the flag (or file:line) names it its own way.
TEST(SimConfig, TheCallerNamesTheSetting) {
  SimConfig config;
  config.pods = 4;
  config.pods_without_prefix_caching = {9};
  EXPECT_EQ(error_of(config), "no_prefix_caching_pods 9 is not a pod: pods are numbered 0..3");
  const auto flagged = validate(config, [](Setting setting) { return "<" + std::string(setting_key(setting)) + ">"; });
  ASSERT_FALSE(flagged);
  EXPECT_EQ(flagged.error(), "<no_prefix_caching_pods> 9 is not a pod: pods are numbered 0..3");
  config.pods_without_prefix_caching.clear();
  config.pod.timing.time_scale = 0;
  const auto scaled = validate(config, [](Setting setting) {
    return setting == Setting::time_scale ? std::string("--sim-time-scale") : std::string(setting_key(setting));
  });
  ASSERT_FALSE(scaled);
  EXPECT_EQ(scaled.error(), "--sim-time-scale: must be >= 1e-06, got 0");
}

}  // namespace
}  // namespace llmd::sim
