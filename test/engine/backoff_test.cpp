#include "engine/backoff.hpp"

#include <gtest/gtest.h>

namespace llmd::engine {
namespace {

using namespace std::chrono_literals;

const auto k_now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT

TEST(RetryAfter, ParsesDeltaSecondsAndHttpDates) {
  EXPECT_EQ(parse_retry_after("2", k_now), std::chrono::nanoseconds(2s));
  EXPECT_EQ(parse_retry_after("  120 \r\n", k_now), std::chrono::nanoseconds(120s));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", k_now), std::chrono::nanoseconds(30s));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", k_now), std::chrono::nanoseconds(0));  // past
  EXPECT_FALSE(parse_retry_after("soon", k_now));
  EXPECT_FALSE(parse_retry_after("", k_now));
  EXPECT_FALSE(parse_retry_after("-5", k_now));
  EXPECT_GE(*parse_retry_after("99999999999999999999999", k_now), std::chrono::nanoseconds(24h));  // absurd: long
}

TEST(Backoff, ThrottledAnswersWaitForRetryAfterUpToTheCap) {
  scenario::Backoff policy;
  std::uint32_t streak = 0;
  auto decision = decide_backoff(policy, false, 429, "2", streak, k_now);
  EXPECT_EQ(decision.kind, BackoffKind::retry_after);
  EXPECT_EQ(decision.wait, 2s);
  EXPECT_EQ(decide_backoff(policy, false, 503, "3600", streak, k_now).wait, 60s);  // max_retry_after
  EXPECT_EQ(decide_backoff(policy, false, 200, "5", streak, k_now).kind, BackoffKind::none);  // only 429/503
  EXPECT_EQ(decide_backoff(policy, false, 429, "", streak, k_now).kind, BackoffKind::none);
  policy.retry_after = false;
  EXPECT_EQ(decide_backoff(policy, false, 429, "2", streak, k_now).kind, BackoffKind::none);
}

TEST(Backoff, ConnectFailuresBackOffExponentiallyToOneSecondAndAResponseResets) {
  scenario::Backoff policy;
  std::uint32_t streak = 0;
  std::vector<std::chrono::nanoseconds> waits;
  for (int i = 0; i < 9; ++i) {
    const auto decision = decide_backoff(policy, true, 0, "", streak, k_now);
    EXPECT_EQ(decision.kind, BackoffKind::connect_error);
    waits.push_back(decision.wait);
  }
  const std::vector<std::chrono::nanoseconds> expected = {10ms, 20ms, 40ms, 80ms, 160ms, 320ms, 640ms, 1s, 1s};
  EXPECT_EQ(waits, expected);
  EXPECT_EQ(decide_backoff(policy, false, 500, "", streak, k_now).kind, BackoffKind::none);
  EXPECT_EQ(streak, 0u);
  EXPECT_EQ(decide_backoff(policy, true, 0, "", streak, k_now).wait, 10ms);
  policy.connect_errors = false;
  EXPECT_EQ(decide_backoff(policy, true, 0, "", streak, k_now).kind, BackoffKind::none);
}

}  // namespace
}  // namespace llmd::engine
