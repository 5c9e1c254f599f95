// The routing report (run/routing.hpp) from hand-made attributions and cache reports: endpoint ->
// pod mapping, affinity percentiles, load imbalance, efficiency, and what it says it could not compute.
#include "run/routing.hpp"

#include <cmath>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/outcome.hpp"

using namespace llmd;
using testing::HasSubstr;

namespace {

void serve(engine::Attribution& into, std::string_view endpoint, std::string_view group, std::uint64_t times = 1,
           std::optional<std::int64_t> cached = std::nullopt) {
  for (std::uint64_t i = 0; i < times; ++i) {
    engine::TransferFacts facts;
    engine::Outcome outcome;
    outcome.ok = true;
    outcome.output_tokens = 4;
    outcome.cached_tokens = cached;
    engine::RequestTiming timing;
    timing.started = engine::Clock::now();
    timing.first_token = timing.started + std::chrono::milliseconds(20);
    timing.ended = timing.started + std::chrono::milliseconds(50);
    engine::record_attribution(into, endpoint.empty() ? "" : "x-gateway-destination-endpoint-served", endpoint, group,
                               facts, outcome, timing, engine::LoopKind::closed);
  }
}

scrape::PodCacheRow row(const std::string& pod, double hits, std::optional<double> requests) {
  scrape::PodCacheRow r;
  r.pod = pod;
  r.in_totals = true;
  r.unit = scrape::CounterUnit::tokens;
  r.hits.delta = hits;
  r.requests_success.delta = requests;
  return r;
}

const std::map<std::string, std::string> k_addresses = {
    {"pod-a", "10.0.0.1:8000"}, {"pod-b", "10.0.0.2:8000"}, {"pod-c", "10.0.0.3"}, {"pod-d", "[fd00::4]:8000"}};

}  // namespace

TEST(Routing, NearestRankPercentile) {
  EXPECT_EQ(run::nearest_rank({}, 10), std::nullopt);
  EXPECT_EQ(run::nearest_rank({0.5, 1.0, 0.25, 0.75}, 10), 0.25);
  EXPECT_EQ(run::nearest_rank({0.5, 1.0, 0.25, 0.75}, 50), 0.5);
  EXPECT_EQ(run::nearest_rank({0.5, 1.0, 0.25, 0.75}, 100), 1.0);
  EXPECT_EQ(run::nearest_rank({0.5}, 0), 0.5);
}

TEST(Routing, EndpointsMapToPodsByHostPortThenByAUniqueIpAndTheRestStayAsNamed) {
  engine::Attribution a;
  serve(a, "10.0.0.1:8000", "g");        // exact host:port
  serve(a, "10.0.0.3:8000", "g");        // Kubernetes podIP only
  serve(a, "[fd00::4]:8000", "g");       // IPv6
  serve(a, "10.9.9.9:8000", "g");        // nobody's
  run::RoutingInputs in;
  in.attribution = &a;
  in.pod_addresses = k_addresses;
  in.groups_expected = true;
  const auto r = run::compute_routing(in);
  std::vector<std::string> pods;
  for (const auto& p : r.pods) {
    pods.push_back(p.pod + (p.mapped ? "" : "?"));
  }
  EXPECT_THAT(pods, testing::ElementsAre("10.9.9.9:8000?", "pod-a", "pod-c", "pod-d"));
  EXPECT_EQ(r.unmapped, std::vector<std::string>{"10.9.9.9:8000"});
  EXPECT_THAT(r.not_computed, testing::Contains(HasSubstr("10.9.9.9:8000: no scraped pod has that address")));
}

TEST(Routing, PrefixAwareRoutingGivesAffinityOneAndNoSwitches) {
  engine::Attribution a;
  for (int round = 0; round < 4; ++round) {
    serve(a, "10.0.0.1:8000", "group 0");
    serve(a, "10.0.0.2:8000", "group 1");
  }
  scrape::CacheReport cache;
  cache.pods = {row("pod-a", 100, 4), row("pod-b", 100, 4)};
  cache.totals.hit_rate = 0.75;
  run::IdealHitRate ideal;
  ideal.rate = 0.75;
  run::RoutingInputs in{&a, {"x-gateway-destination-endpoint-served"}, k_addresses, &cache, &ideal, 2.0, true};
  const auto r = run::compute_routing(in);
  ASSERT_EQ(r.groups.size(), 2u);
  EXPECT_EQ(r.affinity_p10, 1.0);
  EXPECT_EQ(r.affinity_min, 1.0);
  EXPECT_EQ(r.switches_total, 0u);
  EXPECT_EQ(r.sent_away, 0u);
  EXPECT_EQ(r.load_cv, 0.0);
  EXPECT_EQ(r.load_max_over_mean, 1.0);
  EXPECT_EQ(r.load_source, "served-by header");
  EXPECT_EQ(r.efficiency, 1.0);
  ASSERT_EQ(r.pods.size(), 2u);
  EXPECT_EQ(r.pods[0].requests, 4u);
  EXPECT_DOUBLE_EQ(*r.pods[0].output_tokens_per_s, 16.0 / 2.0);
  EXPECT_NEAR(*r.pods[0].ttft_p50_s, 0.020, 0.0002);
  EXPECT_TRUE(r.not_computed.empty()) << r.not_computed.front();
}

TEST(Routing, SpreadRoutingGivesLowAffinitySwitchesAndAnIdlePodCountsInTheImbalance) {
  engine::Attribution a;
  // group 0: a b a b (affinity 0.5, 3 switches, 2 sent away); group 1: a a a b (0.75, 1, 1).
  for (const char* e : {"10.0.0.1:8000", "10.0.0.2:8000", "10.0.0.1:8000", "10.0.0.2:8000"}) serve(a, e, "group 0");
  for (const char* e : {"10.0.0.1:8000", "10.0.0.1:8000", "10.0.0.1:8000", "10.0.0.2:8000"}) serve(a, e, "group 1");
  scrape::CacheReport cache;
  cache.pods = {row("pod-a", 0, 5), row("pod-b", 0, 3), row("pod-c", 0, 0)};  // pod-c served nothing
  cache.totals.hit_rate = 0.30;
  run::IdealHitRate ideal;
  ideal.rate = 0.60;
  run::RoutingInputs in{&a, {}, k_addresses, &cache, &ideal, 1.0, true};
  const auto r = run::compute_routing(in);
  ASSERT_EQ(r.groups.size(), 2u);
  EXPECT_EQ(r.groups[0].group, "group 0");  // worst first
  EXPECT_EQ(r.groups[0].affinity, 0.5);
  EXPECT_EQ(r.groups[0].switches, 3u);
  EXPECT_EQ(r.groups[0].sent_away, 2u);
  EXPECT_EQ(r.groups[0].pods, 2u);
  EXPECT_EQ(r.groups[1].affinity, 0.75);
  EXPECT_EQ(r.groups[1].top_pod, "pod-a");
  EXPECT_EQ(r.affinity_p10, 0.5);
  EXPECT_EQ(r.affinity_mean, 0.625);
  EXPECT_EQ(r.switches_total, 4u);
  EXPECT_EQ(r.sent_away, 3u);
  // requests per pod 5, 3, 0: mean 8/3, population stddev sqrt(((5-m)^2+(3-m)^2+m^2)/3).
  const double mean = 8.0 / 3;
  const double sd = std::sqrt(((5 - mean) * (5 - mean) + (3 - mean) * (3 - mean) + mean * mean) / 3);
  EXPECT_NEAR(*r.load_cv, sd / mean, 1e-12);
  EXPECT_NEAR(*r.load_max_over_mean, 5 / mean, 1e-12);
  EXPECT_DOUBLE_EQ(*r.efficiency, 0.5);
}

TEST(Routing, WithoutAServedByHeaderItSaysWhatItCouldNotComputeAndInventsNothing) {
  engine::Attribution a;
  serve(a, "", "group 0", 6);
  scrape::CacheReport cache;
  cache.pods = {row("pod-a", 0, 6), row("pod-b", 0, 0)};
  cache.totals.hit_rate = 0.5;
  run::RoutingInputs in{&a, {"x-gateway-destination-endpoint-served", "x-served-by"}, k_addresses, &cache, nullptr, 1.0, true};
  const auto r = run::compute_routing(in);
  EXPECT_TRUE(r.pods.empty());
  EXPECT_TRUE(r.groups.empty());
  EXPECT_EQ(r.affinity_p10, std::nullopt);
  EXPECT_EQ(r.sent_away, std::nullopt);
  EXPECT_EQ(r.efficiency, std::nullopt);
  // The imbalance still comes from the pods' request counters: 6 and 0 -> cv 1, max/mean 2.
  EXPECT_EQ(r.load_source, "pods' vllm:request_success_total");
  EXPECT_DOUBLE_EQ(*r.load_cv, 1.0);
  EXPECT_DOUBLE_EQ(*r.load_max_over_mean, 2.0);
  ASSERT_GE(r.not_computed.size(), 3u);
  EXPECT_THAT(r.not_computed[0], HasSubstr("per-pod latency, errors and tokens/s: none of the 6 responses carried a "
                                           "served-by header (tried: x-gateway-destination-endpoint-served, x-served-by)"));
  EXPECT_THAT(r.not_computed[0], HasSubstr("%UPSTREAM_HOST%"));
  EXPECT_THAT(r.not_computed[1], HasSubstr("affinity, pod switches and requests sent away"));
  EXPECT_THAT(r.not_computed.back(), HasSubstr("routing efficiency: the workload's ideal hit rate is not known"));
  const auto j = run::to_json(r);
  EXPECT_TRUE(j["affinity"]["p10"].is_null());
  EXPECT_TRUE(j["efficiency"]["ratio"].is_null());
  EXPECT_EQ(j["unattributed"], 6);
}

TEST(Routing, NoCacheSourceAndNoCountersLeaveImbalanceAndEfficiencyUncomputed) {
  engine::Attribution a;
  serve(a, "", "", 2);
  run::RoutingInputs in{&a, {"x-served-by"}, {}, nullptr, nullptr, 1.0, false};
  const auto r = run::compute_routing(in);
  EXPECT_EQ(r.load_cv, std::nullopt);
  EXPECT_THAT(r.not_computed, testing::Contains(HasSubstr("load imbalance: no served-by header")));
  EXPECT_THAT(r.not_computed, testing::Contains(HasSubstr("routing efficiency: no cache source")));
}

TEST(Routing, PerPodCachedTokensAreComparedWithThatPodsScrapedHits) {
  engine::Attribution a;
  serve(a, "10.0.0.1:8000", "g", 2, 100);  // 200 cached tokens, pod's hits 200: agree
  serve(a, "10.0.0.2:8000", "g", 2, 100);  // 200 cached tokens, pod's hits 300: a finding
  scrape::CacheReport cache;
  cache.pods = {row("pod-a", 200, 2), row("pod-b", 300, 2)};
  run::RoutingInputs in{&a, {}, k_addresses, &cache, nullptr, 1.0, true};
  const auto r = run::compute_routing(in);
  ASSERT_EQ(r.cached_mismatches.size(), 1u);
  EXPECT_EQ(r.cached_mismatches[0].pod, "pod-b");
  EXPECT_EQ(r.cached_mismatches[0].client, 200u);
  EXPECT_EQ(r.cached_mismatches[0].hits, 300.0);
  EXPECT_EQ(r.pods[0].cached_tokens, 200u);
}
