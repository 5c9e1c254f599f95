// Goodput (scenario `slo:`, issue 17 item 1): engine::judge_slo on requests with known latencies,
// the goodput counters record_completion keeps, their exact merge, and the derived rates.
#include <array>
#include <vector>

#include <gtest/gtest.h>

#include "engine/outcome.hpp"

namespace llmd::engine {
namespace {

using namespace std::chrono_literals;

const TimePoint k_t0{std::chrono::seconds(100)};

// A request that started at k_t0 (closed loop): first token after `ttft`, ended after `e2e`.
RequestTiming timing_of(std::chrono::nanoseconds ttft, std::chrono::nanoseconds e2e) {
  RequestTiming timing;
  timing.scheduled = timing.started = k_t0;
  timing.first_byte = timing.first_event = timing.first_token = k_t0 + ttft;
  timing.ended = k_t0 + e2e;
  return timing;
}

scenario::Slo slo_of(std::optional<std::chrono::nanoseconds> ttft, std::optional<std::chrono::nanoseconds> itl,
                     std::optional<std::chrono::nanoseconds> tpot, std::optional<std::chrono::nanoseconds> e2e) {
  scenario::Slo slo;
  slo.ttft = ttft;
  slo.itl = itl;
  slo.tpot = tpot;
  slo.e2e = e2e;
  return slo;
}

TEST(NearestRankP95, IsTheCeil95PercentSmallest) {
  EXPECT_EQ(nearest_rank_p95(std::vector<std::uint64_t>{}), 0u);
  EXPECT_EQ(nearest_rank_p95(std::vector<std::uint64_t>{7}), 7u);
  // 20 values 1..20 (shuffled): rank ceil(19) = 19 -> 19.
  std::vector<std::uint64_t> twenty = {20, 3, 19, 1, 18, 2, 17, 4, 16, 5, 15, 6, 14, 7, 13, 8, 12, 9, 11, 10};
  EXPECT_EQ(nearest_rank_p95(twenty), 19u);
  // 21 values: rank ceil(19.95) = 20 -> 20; the input keeps its order (the histograms read it).
  twenty.push_back(21);
  const auto before = twenty;
  EXPECT_EQ(nearest_rank_p95(twenty), 20u);
  EXPECT_EQ(twenty, before);
  // 10 values: rank ceil(9.5) = 10 -> the max.
  EXPECT_EQ(nearest_rank_p95(std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 100}), 100u);
}

TEST(JudgeSlo, EachObjectiveIsMetAtItsLimitAndMissedAboveIt) {
  const auto slo = slo_of(2s, std::nullopt, std::nullopt, 30s);
  const std::vector<std::uint64_t> gaps;
  EXPECT_TRUE(judge_slo(slo, gaps, 10, timing_of(2s, 30s), k_t0).good());
  const auto late_first = judge_slo(slo, gaps, 10, timing_of(2s + 1ns, 10s), k_t0);
  EXPECT_TRUE(late_first.missed_ttft);
  EXPECT_FALSE(late_first.missed_e2e);
  EXPECT_FALSE(late_first.good());
  const auto long_request = judge_slo(slo, gaps, 10, timing_of(1s, 30s + 1ns), k_t0);
  EXPECT_FALSE(long_request.missed_ttft);
  EXPECT_TRUE(long_request.missed_e2e);
}

TEST(JudgeSlo, AnOpenLoopRequestIsJudgedFromItsScheduledTime) {
  const auto slo = slo_of(100ms, std::nullopt, std::nullopt, std::nullopt);
  auto timing = timing_of(60ms, 1s);
  timing.scheduled = k_t0 - 50ms;  // started 50 ms late: the user waited 110 ms for the first token
  EXPECT_FALSE(judge_slo(slo, {}, 5, timing, timing.started).missed_ttft);
  EXPECT_TRUE(judge_slo(slo, {}, 5, timing, timing.scheduled).missed_ttft);
}

TEST(JudgeSlo, NoFirstTokenMissesTheTtftObjective) {
  auto timing = timing_of(1ms, 5ms);
  timing.first_token = TimePoint{};
  EXPECT_TRUE(judge_slo(slo_of(2s, std::nullopt, std::nullopt, std::nullopt), {}, 0, timing, k_t0).missed_ttft);
  EXPECT_TRUE(judge_slo(slo_of(std::nullopt, std::nullopt, std::nullopt, 1s), {}, 0, timing, k_t0).good());
}

TEST(JudgeSlo, ItlJudgesTheRequestsOwnGapsByP95OrMax) {
  // 20 gaps: 19 of 10 ms and one stall of 500 ms. p95 (the 19th smallest) is 10 ms; max is 500 ms.
  std::vector<std::uint64_t> gaps(19, 10'000'000);
  gaps.insert(gaps.begin() + 7, 500'000'000);
  auto slo = slo_of(std::nullopt, 50ms, std::nullopt, std::nullopt);
  EXPECT_FALSE(judge_slo(slo, gaps, 21, timing_of(10ms, 1s), k_t0).missed_itl);
  slo.itl_stat = scenario::ItlStat::max;
  EXPECT_TRUE(judge_slo(slo, gaps, 21, timing_of(10ms, 1s), k_t0).missed_itl);
  // Two stalls in 20 gaps: the p95 is a stall.
  gaps[0] = 500'000'000;
  slo.itl_stat = scenario::ItlStat::p95;
  EXPECT_TRUE(judge_slo(slo, gaps, 21, timing_of(10ms, 1s), k_t0).missed_itl);
  // One token: no gap, nothing to judge.
  EXPECT_FALSE(judge_slo(slo, {}, 1, timing_of(10ms, 20ms), k_t0).missed_itl);
}

TEST(JudgeSlo, TpotIsTheMeanTimePerTokenAfterTheFirst) {
  const auto slo = slo_of(std::nullopt, std::nullopt, 20ms, std::nullopt);
  // 11 tokens, first at 100 ms, end at 300 ms: (300 - 100) / 10 = 20 ms.
  EXPECT_FALSE(judge_slo(slo, {}, 11, timing_of(100ms, 300ms), k_t0).missed_tpot);
  EXPECT_TRUE(judge_slo(slo, {}, 11, timing_of(100ms, 300ms + 10ns), k_t0).missed_tpot);
  EXPECT_FALSE(judge_slo(slo, {}, 1, timing_of(100ms, 10s), k_t0).missed_tpot);
}

sse::StreamTally tally_of(std::uint32_t content) {
  sse::StreamTally tally;
  tally.content_events = content;
  tally.events = content + 1;
  tally.done_seen = true;
  return tally;
}

TransferFacts facts_of(const sse::StreamTally& tally, long status = 200) {
  TransferFacts facts;
  facts.request_sent = true;
  facts.http_status = status;
  facts.content_type = "text/event-stream";
  facts.tally = &tally;
  return facts;
}

TEST(RecordCompletion, CountsGoodRequestsTheirTokensAndEachMissedObjective) {
  PhaseResult phase;
  phase.slo = slo_of(100ms, std::nullopt, std::nullopt, 1s);
  const auto tally = tally_of(8);
  const auto facts = facts_of(tally);
  const Outcome ok = classify(facts);
  ASSERT_TRUE(ok.ok);
  // Known latencies: good, good, late first token, too long, both.
  const std::array<std::pair<std::chrono::nanoseconds, std::chrono::nanoseconds>, 5> requests = {
      {{50ms, 500ms}, {100ms, 1s}, {150ms, 500ms}, {50ms, 2s}, {200ms, 3s}}};
  std::vector<bool> verdicts;
  for (const auto& [ttft, e2e] : requests) {
    verdicts.push_back(*record_completion(phase, facts, ok, timing_of(ttft, e2e), LoopKind::closed));
  }
  EXPECT_EQ(verdicts, (std::vector<bool>{true, true, false, false, false}));
  // A failed request is never good, and is not counted as missing an objective.
  const auto error_facts = facts_of(tally, 503);
  EXPECT_EQ(record_completion(phase, error_facts, classify(error_facts), timing_of(1ms, 2ms), LoopKind::closed), false);
  EXPECT_EQ(phase.goodput.good, 2u);
  EXPECT_EQ(phase.goodput.good_output_tokens, 16u);
  EXPECT_EQ(phase.goodput.missed_ttft, 2u);
  EXPECT_EQ(phase.goodput.missed_e2e, 2u);
  EXPECT_EQ(phase.goodput.missed_itl + phase.goodput.missed_tpot, 0u);
  phase.dropped = 2;
  phase.wall_duration = 4s;
  // good / (ok 5 + failed 1 + aborted 0 + dropped 2) = 2 / 8.
  EXPECT_DOUBLE_EQ(*good_fraction(phase), 0.25);
  EXPECT_DOUBLE_EQ(*goodput_per_second(phase), 0.5);
  EXPECT_DOUBLE_EQ(*good_output_tokens_per_second(phase), 4.0);

  PhaseResult merged;
  ASSERT_TRUE(merge_into(merged, phase));
  ASSERT_TRUE(merge_into(merged, phase));
  EXPECT_EQ(merged.slo, phase.slo);
  EXPECT_EQ(merged.goodput.good, 4u);
  EXPECT_EQ(merged.goodput.good_output_tokens, 32u);
  EXPECT_EQ(merged.goodput.missed_ttft, 4u);
  EXPECT_EQ(merged.goodput.missed_e2e, 4u);
}

TEST(RecordCompletion, WithoutAnSloNothingIsJudged) {
  PhaseResult phase;
  const auto tally = tally_of(3);
  const auto facts = facts_of(tally);
  EXPECT_EQ(record_completion(phase, facts, classify(facts), timing_of(1ms, 5ms), LoopKind::closed), std::nullopt);
  EXPECT_EQ(phase.goodput.good, 0u);
  phase.wall_duration = 1s;
  EXPECT_FALSE(good_fraction(phase));
  EXPECT_FALSE(goodput_per_second(phase));
  EXPECT_FALSE(good_output_tokens_per_second(phase));
}

}  // namespace
}  // namespace llmd::engine
