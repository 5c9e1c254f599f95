// sim::validate: every setting against its range (shared with the scenario's `sim` keys), and the
// rules across settings. Messages name the flag and the bound.
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
      {[](SimConfig& c) { c.pod.kv_blocks = 1'000'000'000; }, "--kv-blocks: must be <= 1048576, got 1000000000"},
      {[](SimConfig& c) { c.pod.kv_blocks = 0; }, "--kv-blocks: must be >= 1, got 0"},
      {[](SimConfig& c) { c.pods = 1025; }, "--pods: must be <= 1024, got 1025"},
      {[](SimConfig& c) { c.pod.block_size_tokens = 4097; }, "--block-size: must be <= 4096, got 4097"},
      {[](SimConfig& c) { c.pod.max_num_seqs = 100'001; }, "--max-num-seqs: must be <= 100000, got 100001"},
      {[](SimConfig& c) { c.pod.default_max_tokens = 0; }, "--default-max-tokens: must be >= 1, got 0"},
      {[](SimConfig& c) { c.prefix_index_blocks = 1u << 23; }, "--prefix-index-blocks: must be <= 4194304, got 8388608"},
  });
}

TEST(SimConfig, PodsTimesKvBlocksIsBounded) {
  SimConfig config;
  config.pods = 1024;
  config.pod.kv_blocks = 16384;  // the default, on the most pods: exactly the limit
  EXPECT_TRUE(validate(config));
  config.pod.kv_blocks = 16385;
  EXPECT_EQ(error_of(config), "--pods 1024 x --kv-blocks 16385 = 16778240 KV blocks in all; at most 16777216 (640 MiB "
                              "of simulator memory before any block is cached): lower one of them");
}

TEST(SimConfig, DelaysAndFractionsHaveBounds) {
  expect_errors({
      {[](SimConfig& c) { c.pod.timing.time_scale = 1e-300; }, "--time-scale: must be >= 1e-06, got 1e-300"},
      {[](SimConfig& c) { c.pod.timing.prefill_per_token_us = 2e6; },
       "--prefill-per-token-us: must be <= 1000000, got 2000000"},
      {[](SimConfig& c) { c.pod.timing.prefill_base_ms = -1; }, "--prefill-base-ms: must be >= 0, got -1"},
      {[](SimConfig& c) { c.session_timeout_s = 1e9; }, "--session-timeout: must be <= 2592000, got 1000000000"},
      {[](SimConfig& c) { c.pod.abort_rate = 1.5; }, "--abort-rate: must be <= 1, got 1.5"},
      {[](SimConfig& c) { c.pod.restart_downtime_s = std::numeric_limits<double>::infinity(); },
       "--restart-downtime: must be a finite number, got inf"},
  });
}

}  // namespace
}  // namespace llmd::sim
