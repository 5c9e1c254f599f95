// The engine's promise: nothing is allocated per token. Counts operator new calls made on the
// engine's thread (the simulator's thread allocates freely and is not counted) for streams of
// different lengths: the per-request count must not grow with the number of tokens.
#include <gtest/gtest.h>

#include "engine/engine.hpp"
#include "engine/engine_test_support.hpp"
#include "support/allocation_counter.hpp"

namespace llmd::engine {
namespace {

// Allocations on this thread during one run of `requests` requests of `tokens` tokens each.
std::size_t allocations_for(const std::string& url, std::size_t tokens, std::size_t requests) {
  auto scenario = test::test_scenario();
  scenario.request.max_tokens = tokens;
  const std::vector<scenario::Phase> phases = {test::iterations_phase(requests, 1)};
  EngineConfig config;
  config.scenario = &scenario;
  config.base_url = url;
  std::size_t allocations = 0;
  {
    const llmd::test::CountAllocations counter;
    auto result = run_phases(config, phases);
    allocations = counter.count();
    EXPECT_TRUE(result && result->total.ok == requests);
  }
  return allocations;
}

TEST(EngineAllocation, AllocationsPerRequestDoNotGrowWithTokens) {
  auto sim_config = test::fast_sim_config(0.002);
  sim_config.pod.stamp_events = true;  // the timing-stamp comments must not allocate either
  test::SimFleet fleet(sim_config);
  const std::size_t requests = 20;
  allocations_for(fleet.url(), 4, requests);  // warm-up: libcurl's global state, DNS cache
  const std::size_t short_streams = allocations_for(fleet.url(), 4, requests);
  const std::size_t long_streams = allocations_for(fleet.url(), 400, requests);
  testing::Test::RecordProperty("allocations_4_tokens", static_cast<int>(short_streams));
  testing::Test::RecordProperty("allocations_400_tokens", static_cast<int>(long_streams));
  // 396 more tokens x 20 requests would be 7,920 allocations at one per token.
  EXPECT_LT(long_streams, short_streams + requests) << "short " << short_streams << ", long " << long_streams;
}

}  // namespace
}  // namespace llmd::engine
