// Per-request pod attribution (engine/attribution.hpp): which header names the endpoint, how a group's
// switches and requests sent away are counted, merging phases, and the bounds against a hostile gateway.
#include "engine/attribution.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/outcome.hpp"

using namespace llmd::engine;

namespace {

struct Request {
  TransferFacts facts;
  Outcome outcome;
  RequestTiming timing;
  Request(bool ok, std::int64_t ttft_ms, std::int64_t total_ms) {
    outcome.ok = ok;
    outcome.output_tokens = 10;
    const TimePoint start = Clock::now();
    timing.scheduled = start;
    timing.started = start;
    if (ok) {
      timing.first_token = start + std::chrono::milliseconds(ttft_ms);
    }
    timing.ended = start + std::chrono::milliseconds(total_ms);
  }
};

void serve(Attribution& into, std::string_view endpoint, std::string_view group, bool ok = true, std::int64_t ttft_ms = 10) {
  const Request request(ok, ttft_ms, ttft_ms * 3);
  record_attribution(into, endpoint.empty() ? "" : "x-served-by", endpoint, group, request.facts, request.outcome,
                     request.timing, LoopKind::closed);
}

}  // namespace

TEST(Attribution, EndpointIsTheFirstEntryOfACommaListTrimmed) {
  EXPECT_EQ(endpoint_of(" 10.0.0.5:8000\r\n"), "10.0.0.5:8000");
  EXPECT_EQ(endpoint_of("10.0.0.5:8000, 10.0.0.6:8000"), "10.0.0.5:8000");
  EXPECT_EQ(endpoint_of("[fd00::5]:8000,[fd00::6]:8000"), "[fd00::5]:8000");
  EXPECT_EQ(endpoint_of("  , 10.0.0.6:8000"), "");
  EXPECT_EQ(endpoint_of(""), "");
}

TEST(Attribution, UserHeadersComeFirstLowercasedThenTheBuiltInOnesWithoutRepeats) {
  const std::vector<std::string> user = {"X-Upstream", "X-Served-By"};
  EXPECT_EQ(served_by_header_names(user),
            (std::vector<std::string>{"x-upstream", "x-served-by", "x-gateway-destination-endpoint-served",
                                      "x-gateway-destination-endpoint"}));
  EXPECT_EQ(served_by_header_names({}),
            (std::vector<std::string>{"x-gateway-destination-endpoint-served", "x-gateway-destination-endpoint",
                                      "x-served-by"}));
}

TEST(Attribution, CountsPerEndpointAndFeedsOkRequestsOnlyIntoLatencies) {
  Attribution a;
  serve(a, "10.0.0.5:8000", "group 0", true, 10);
  serve(a, "10.0.0.5:8000", "group 0", false);
  serve(a, "", "group 0");
  EXPECT_EQ(a.attributed, 2u);
  EXPECT_EQ(a.unattributed, 1u);
  EXPECT_EQ(a.headers_seen.at("x-served-by"), 2u);
  const EndpointStats& e = a.endpoints.at("10.0.0.5:8000");
  EXPECT_EQ(e.ok, 1u);
  EXPECT_EQ(e.failed, 1u);
  EXPECT_EQ(e.output_tokens, 10u);
  EXPECT_EQ(e.ttft_ns.count(), 1u);
  EXPECT_NEAR(static_cast<double>(*e.ttft_ns.percentile(50)), 10e6, 10e6 * 0.01);
  EXPECT_EQ(e.http_req_duration_ns.count(), 1u);
  EXPECT_EQ(a.groups.at("group 0").requests, 2u);  // the unattributed request is in no group
}

TEST(Attribution, SwitchesCountConsecutiveMovesAndSentAwayCountsRequestsOffTheFirstPod) {
  Attribution a;
  for (const char* endpoint : {"a:1", "a:1", "b:1", "b:1", "a:1", "c:1"}) {
    serve(a, endpoint, "session 1");
  }
  const GroupStats& g = a.groups.at("session 1");
  EXPECT_EQ(g.requests, 6u);
  EXPECT_EQ(g.switches, 3u);   // a->b, b->a, a->c
  EXPECT_EQ(g.sent_away, 3u);  // b, b, c
  EXPECT_EQ(g.first_endpoint, "a:1");
  EXPECT_EQ(g.last_endpoint, "c:1");
  EXPECT_EQ(g.requests_by_endpoint.at("a:1"), 3u);
}

TEST(Attribution, RequestsWithoutAGroupAreAttributedButNotGrouped) {
  Attribution a;
  serve(a, "a:1", "");
  EXPECT_EQ(a.attributed, 1u);
  EXPECT_TRUE(a.groups.empty());
}

TEST(Attribution, MergingALaterPhaseCountsTheMoveBetweenPhasesAsASwitch) {
  Attribution first;
  serve(first, "a:1", "group 1");
  serve(first, "a:1", "group 1");
  Attribution second;
  serve(second, "b:1", "group 1");
  serve(second, "a:1", "group 1");
  serve(second, "b:1", "group 2");
  merge_attribution(first, second);
  const GroupStats& g = first.groups.at("group 1");
  EXPECT_EQ(g.requests, 4u);
  EXPECT_EQ(g.switches, 2u);  // a -> b at the boundary, b -> a inside the second phase
  EXPECT_EQ(g.sent_away, 1u); // the b request; the group's first pod stays a
  EXPECT_EQ(g.first_endpoint, "a:1");
  EXPECT_EQ(g.last_endpoint, "a:1");
  EXPECT_EQ(first.groups.at("group 2").first_endpoint, "b:1");
  EXPECT_EQ(first.attributed, 5u);
  EXPECT_EQ(first.endpoints.at("a:1").ok, 3u);
  EXPECT_EQ(first.endpoints.at("a:1").ttft_ns.count(), 3u);
}

TEST(Attribution, AHostileGatewayNamingANewEndpointPerRequestCannotGrowItPastTheBound) {
  Attribution a;
  for (std::size_t i = 0; i < k_max_endpoints + 10; ++i) {
    serve(a, "10.0." + std::to_string(i) + ":1", "");
  }
  EXPECT_EQ(a.endpoints.size(), k_max_endpoints);
  EXPECT_EQ(a.overflow_endpoints, 10u);
  EXPECT_EQ(a.attributed, k_max_endpoints + 10);
}
