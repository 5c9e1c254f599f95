#include "sim/router.hpp"

#include <array>

#include <gtest/gtest.h>

using llmd::sim::BlockHash;
using llmd::sim::RouteInput;
using llmd::sim::RoutePolicy;
using llmd::sim::Router;

namespace {

const Router::Clock::time_point k_t0{};

std::vector<BlockHash> blocks(std::initializer_list<BlockHash> hashes) { return hashes; }

}  // namespace

TEST(Router, PrefixSendsASharedPrefixToThePodThatHasIt) {
  Router router(RoutePolicy::prefix, 4, 1000, 60, 7);
  std::array<std::size_t, 4> load{0, 0, 0, 0};
  const auto first = router.choose({blocks({1, 2, 3}), ""}, load, k_t0);
  EXPECT_EQ(first.matched_blocks, 0u);
  for (int i = 0; i < 10; ++i) {
    const auto next = router.choose({blocks({1, 2, 3, static_cast<BlockHash>(100 + i)}), ""}, load, k_t0);
    EXPECT_EQ(next.pod, first.pod);
    EXPECT_EQ(next.matched_blocks, 3u);
  }
}

TEST(Router, PrefixPrefersTheLongestMatchThenTheLeastLoaded) {
  Router router(RoutePolicy::prefix, 3, 1000, 60, 7);
  std::array<std::size_t, 3> load{0, 5, 5};
  EXPECT_EQ(router.choose({blocks({1, 2}), ""}, load, k_t0).pod, 0u);  // no match: least loaded
  load = {5, 0, 5};
  EXPECT_EQ(router.choose({blocks({1, 9}), ""}, load, k_t0).pod, 0u);   // matches 1 block on pod 0 despite its load
  EXPECT_EQ(router.choose({blocks({7}), ""}, load, k_t0).pod, 1u);      // no match: least loaded
  load = {5, 5, 0};
  // Blocks {1} are on pods 0 (twice recorded); {1, 2} only on pod 0: the longer match wins.
  const auto decision = router.choose({blocks({1, 2, 3}), ""}, load, k_t0);
  EXPECT_EQ(decision.pod, 0u);
  EXPECT_EQ(decision.matched_blocks, 2u);
}

TEST(Router, PrefixIndexIsBoundedByItsCapacity) {
  Router router(RoutePolicy::prefix, 2, 3, 60, 7);
  std::array<std::size_t, 2> load{0, 0};
  router.choose({blocks({1, 2, 3, 4, 5}), ""}, load, k_t0);
  EXPECT_EQ(router.prefix_index_size(), 3u);
  // The oldest entries (1, 2) were evicted, so the prefix no longer matches from its start.
  EXPECT_EQ(router.choose({blocks({1, 2, 3}), ""}, load, k_t0).matched_blocks, 0u);
}

TEST(Router, SessionIsStickyUntilItsIdleTimeout) {
  Router router(RoutePolicy::session, 3, 1000, 10, 7);
  std::array<std::size_t, 3> load{2, 0, 1};
  EXPECT_EQ(router.choose({{}, "alice"}, load, k_t0).pod, 1u);
  load = {0, 9, 9};
  EXPECT_EQ(router.choose({{}, "alice"}, load, k_t0 + std::chrono::seconds(9)).pod, 1u);  // sticky despite load
  EXPECT_EQ(router.choose({{}, "bob"}, load, k_t0).pod, 0u);
  // Idle for more than 10 s since the last request: placed again by load.
  EXPECT_EQ(router.choose({{}, "alice"}, load, k_t0 + std::chrono::seconds(20)).pod, 0u);
  EXPECT_EQ(router.session_count(), 2u);
}

TEST(Router, RoundRobinCyclesAndLeastLoadedPicksTheMinimum) {
  Router round_robin(RoutePolicy::round_robin, 3, 10, 60, 7);
  std::array<std::size_t, 3> load{0, 0, 0};
  std::vector<std::size_t> order;
  for (int i = 0; i < 6; ++i) {
    order.push_back(round_robin.choose({}, load, k_t0).pod);
  }
  EXPECT_EQ(order, (std::vector<std::size_t>{0, 1, 2, 0, 1, 2}));
  Router least(RoutePolicy::least_loaded, 3, 10, 60, 7);
  load = {4, 1, 3};
  EXPECT_EQ(least.choose({}, load, k_t0).pod, 1u);
}

TEST(Router, RandomUsesEveryPodAndIsReproducibleForASeed) {
  Router a(RoutePolicy::random, 4, 10, 60, 42);
  Router b(RoutePolicy::random, 4, 10, 60, 42);
  std::array<std::size_t, 4> load{0, 0, 0, 0};
  std::array<int, 4> seen{};
  for (int i = 0; i < 200; ++i) {
    const auto pod = a.choose({}, load, k_t0).pod;
    EXPECT_EQ(pod, b.choose({}, load, k_t0).pod);
    ++seen[pod];
  }
  for (int count : seen) {
    EXPECT_GT(count, 20);
  }
}
