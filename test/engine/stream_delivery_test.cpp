#include "engine/stream_delivery.hpp"

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

namespace llmd::engine {
namespace {

constexpr std::uint64_t k_us = 1'000;
constexpr std::uint64_t k_ms = 1'000'000;

// `n` gaps of `gap_ns` each.
std::vector<std::uint64_t> gaps(std::size_t n, std::uint64_t gap_ns) { return std::vector<std::uint64_t>(n, gap_ns); }

TEST(JudgeDelivery, ShortStreamsAreNotJudged) {
  EXPECT_EQ(judge_delivery({}, 5 * k_ms, 5 * k_ms), Delivery::not_judged);
  EXPECT_EQ(judge_delivery(gaps(2, 0), 5 * k_ms, 5 * k_ms), Delivery::not_judged);  // 3 content events
  EXPECT_EQ(judge_delivery(gaps(3, 0), 5 * k_ms, 5 * k_ms), Delivery::at_end);       // 4: judged
}

// A server sending a token every 10 ms, or every 100 us (the simulator at --time-scale 0.01, as the
// tests run it), streams: its gaps are not near zero.
TEST(JudgeDelivery, RealTokenIntervalsAreStreamed) {
  EXPECT_EQ(judge_delivery(gaps(63, 10 * k_ms), 4 * k_ms, 634 * k_ms), Delivery::streamed);
  EXPECT_EQ(judge_delivery(gaps(63, 100 * k_us), 400 * k_us, 7 * k_ms), Delivery::streamed);
  // A loaded client reading two events of each pair at once: half the gaps are 0, the others
  // double: still not "more than half near zero".
  std::vector<std::uint64_t> pairs;
  for (int i = 0; i < 8; ++i) {
    pairs.push_back(0);
    pairs.push_back(200 * k_us);
  }
  EXPECT_EQ(judge_delivery(pairs, 400 * k_us, 2 * k_ms), Delivery::streamed);
}

// HAProxy 2.6 without `option http-no-delay`, 64 tokens 10 ms apart: ~20 events per burst, a
// burst every ~200 ms; TTFT 213 ms of 635 ms.
TEST(JudgeDelivery, BurstsEveryFewHundredMillisecondsAreBuffered) {
  std::vector<std::uint64_t> bursty;
  for (int burst = 0; burst < 3; ++burst) {
    auto quiet = gaps(20, 1 * k_us);
    bursty.insert(bursty.end(), quiet.begin(), quiet.end());
    bursty.push_back(200 * k_ms);
  }
  EXPECT_EQ(judge_delivery(bursty, 213 * k_ms, 635 * k_ms), Delivery::bursts);
}

// `http-response wait-for-body`: every event arrives in the last read, TTFT = end-to-end.
TEST(JudgeDelivery, EverythingAtTheEndIsBuffered) {
  EXPECT_EQ(judge_delivery(gaps(63, 0), 635 * k_ms, 635 * k_ms), Delivery::at_end);
  EXPECT_EQ(judge_delivery(gaps(31, 2 * k_us), 33 * k_ms, 33 * k_ms), Delivery::at_end);
}

// Near-zero gaps with an early first token and no long gap: a fast sender, not a held-back answer.
TEST(JudgeDelivery, FastTokensWithAnEarlyFirstTokenAreStreamed) {
  EXPECT_EQ(judge_delivery(gaps(10, 40 * k_us), 100 * k_us, 600 * k_us), Delivery::streamed);
}

TEST(JudgeDelivery, Names) {
  EXPECT_EQ(to_string(Delivery::bursts), "bursts");
  EXPECT_EQ(to_string(Delivery::at_end), "at_end");
  EXPECT_EQ(to_string(Delivery::streamed), "streamed");
}

}  // namespace
}  // namespace llmd::engine
