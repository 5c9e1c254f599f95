#include "run/pod_requests.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace llmd::run {
namespace {

using testing::HasSubstr;

engine::RunResult client(std::uint64_t ok, std::uint64_t cut = 0, std::uint64_t http_errors = 0,
                         std::uint64_t aborted = 0) {
  engine::RunResult run;
  run.total.ok = ok;
  run.total.failed = cut + http_errors;
  run.total.aborted = aborted;
  run.total.failures_by_class[static_cast<std::size_t>(engine::FailureClass::stream_cut)] = cut;
  run.total.failures_by_class[static_cast<std::size_t>(engine::FailureClass::http_status)] = http_errors;
  return run;
}

scrape::PodCacheRow pod(const std::string& name, double requests) {
  scrape::PodCacheRow row;
  row.pod = name;
  row.requests_success.delta = requests;
  row.in_totals = true;
  return row;
}

scrape::CacheReport pods(std::vector<scrape::PodCacheRow> rows) {
  scrape::CacheReport cache;
  for (const auto& row : rows) {
    cache.totals.requests_success += row.requests_success.delta.value_or(0);
  }
  cache.pods = std::move(rows);
  return cache;
}

TEST(PodRequests, EqualCountsSayNothing) {
  EXPECT_FALSE(reconcile_pod_requests(pods({pod("a", 30), pod("b", 10)}), client(40)));
}

TEST(PodRequests, MoreThanTheClientCausedIsDiagnosedWithTheLikelyCauses) {
  // 10 warm-up requests counted by a lagging source in a 40-request loop.
  const auto d = reconcile_pod_requests(pods({pod("a", 50)}), client(40));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->code, "pod_requests_mismatch");
  EXPECT_EQ(d->message,
            "the scraped pods finished 50 requests, the client at most 40 (40 succeeded, 0 failed or were cut after "
            "reaching a server): 10 more came from elsewhere, so the cache figures include traffic that was not "
            "measured");
  EXPECT_THAT(d->fix, HasSubstr("warm-up traffic counted in the measured window"));
}

TEST(PodRequests, RequestsTheClientCutOrSawFailMidStreamMayBeCountedByThePods) {
  // vLLM counts a request the client abandoned (finished_reason="abort"); an HTTP 404 never ran.
  EXPECT_FALSE(reconcile_pod_requests(pods({pod("a", 46)}), client(40, 4, 3, 2)));
  EXPECT_TRUE(reconcile_pod_requests(pods({pod("a", 47)}), client(40, 4, 3, 2)));
}

TEST(PodRequests, FewerWithoutAnyRestartWentOutsideTheScrapedSet) {
  const auto d = reconcile_pod_requests(pods({pod("a", 3), pod("b", 3)}), client(9));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->message, "9 requests succeeded but the scraped pods finished only 6: 3 went to pods outside the scraped set");
}

TEST(PodRequests, FewerAfterARestartBlamesTheRestartedPodNotPodsOutside) {
  auto restarted = pod("b", 4);
  restarted.reset = true;
  auto cache = pods({pod("a", 20), restarted});
  const auto d = reconcile_pod_requests(cache, client(176));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->message,
            "the scraped pods finished 24 requests, 152 fewer than the 176 the client saw succeed: the counts of b "
            "(restarted during the run: its requests before the restart are not counted) are incomplete, so the "
            "cache figures cover part of the run");
  EXPECT_THAT(d->message, testing::Not(HasSubstr("outside the scraped set")));
}

TEST(PodRequests, FewerWithAMissingPodNamesIt) {
  auto cache = pods({pod("a", 20)});
  cache.totals.missing_pods = {"b (scrape failed)"};
  const auto d = reconcile_pod_requests(cache, client(30));
  ASSERT_TRUE(d);
  EXPECT_THAT(d->message, HasSubstr("the counts of b (scrape failed) are incomplete"));
}

TEST(PodRequests, NoRequestCounterNoComparison) {
  scrape::PodCacheRow row;
  row.pod = "v0";
  EXPECT_FALSE(reconcile_pod_requests(pods({row}), client(10)));
  EXPECT_FALSE(reconcile_pod_requests(scrape::CacheReport{}, client(10)));
}

}  // namespace
}  // namespace llmd::run
