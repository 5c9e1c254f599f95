// engine::SecondRecorder (per_second.hpp): the run second by second, and its JSON columns. The
// engine end to end: EngineSim.PerSecondSeriesAddsUpToThePhaseTotals (engine_sim_test.cpp).
#include <array>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "engine/per_second.hpp"

namespace llmd::engine {
namespace {

using namespace std::chrono_literals;

TEST(SecondRecorder, CountsStartsEndsTokensAndPeakInFlightPerSecond) {
  SecondRecorder recorder;
  recorder.on_start(100ms, 1);
  recorder.on_start(200ms, 2);
  recorder.on_end(900ms, 1, true, 10, 50'000'000, std::array<std::uint64_t, 2>{1000, 3000});
  recorder.on_end(1500ms, 0, false, 0, std::nullopt, {});
  const auto seconds = recorder.finish();
  ASSERT_EQ(seconds.size(), 2u);
  EXPECT_EQ(seconds[0].started, 2u);
  EXPECT_EQ(seconds[0].ok, 1u);
  EXPECT_EQ(seconds[0].failed, 0u);
  EXPECT_EQ(seconds[0].output_tokens, 10u);
  EXPECT_EQ(seconds[0].peak_in_flight, 2u);
  EXPECT_EQ(seconds[1].started, 0u);
  EXPECT_EQ(seconds[1].failed, 1u);
  EXPECT_EQ(seconds[1].peak_in_flight, 1u);  // the failed request was in flight until 1.5 s
}

TEST(SecondRecorder, PercentilesAreOfTheOkRequestsThatEndedInThatSecondOnly) {
  SecondRecorder recorder;
  for (std::uint64_t i = 1; i <= 100; ++i) {  // second 0: TTFT 1..100 ms
    recorder.on_start(1ms, 1);
    recorder.on_end(2ms, 0, true, 1, i * 1'000'000, {});
  }
  recorder.on_start(1100ms, 1);
  recorder.on_end(1200ms, 0, true, 1, 500'000'000, std::array<std::uint64_t, 1>{7'000'000});
  recorder.on_end(1300ms, 0, false, 0, std::nullopt, {});  // failed: no TTFT
  const auto seconds = recorder.finish();
  ASSERT_EQ(seconds.size(), 2u);
  ASSERT_TRUE(seconds[0].ttft_p50_ns && seconds[0].ttft_p95_ns);
  EXPECT_NEAR(*seconds[0].ttft_p50_ns, 50e6, 50e6 * 0.004);  // nearest rank, within the histogram's 0.39%
  EXPECT_NEAR(*seconds[0].ttft_p95_ns, 95e6, 95e6 * 0.004);
  EXPECT_FALSE(seconds[0].itl_p50_ns);  // no gaps in second 0
  ASSERT_TRUE(seconds[1].ttft_p50_ns);
  EXPECT_NEAR(*seconds[1].ttft_p50_ns, 500e6, 500e6 * 0.004);  // second 0's histogram was reset
  ASSERT_TRUE(seconds[1].itl_p95_ns);
  EXPECT_NEAR(*seconds[1].itl_p95_ns, 7e6, 7e6 * 0.004);
}

TEST(SecondRecorder, SecondsWithoutEventsHoldWhatWasInFlight) {
  SecondRecorder recorder;
  recorder.on_start(0ms, 1);
  recorder.on_start(10ms, 2);
  recorder.on_start(20ms, 3);
  recorder.on_end(3500ms, 2, true, 4, 1'000'000, {});
  const auto seconds = recorder.finish();
  ASSERT_EQ(seconds.size(), 4u);
  EXPECT_EQ(seconds[1].peak_in_flight, 3u);
  EXPECT_EQ(seconds[2].peak_in_flight, 3u);
  EXPECT_EQ(seconds[1].started + seconds[1].ok + seconds[1].failed, 0u);
  EXPECT_FALSE(seconds[2].ttft_p50_ns);
  EXPECT_EQ(seconds[3].peak_in_flight, 3u);
  EXPECT_EQ(seconds[3].ok, 1u);
}

TEST(SecondRecorder, EventsPastTheCapLandInTheLastSecond) {
  SecondRecorder recorder;
  recorder.on_start(std::chrono::seconds(k_max_seconds + 100), 1);
  recorder.on_end(std::chrono::seconds(k_max_seconds + 200), 0, true, 3, 1'000'000, {});
  const auto seconds = recorder.finish();
  ASSERT_EQ(seconds.size(), k_max_seconds);
  EXPECT_EQ(seconds.back().started, 1u);
  EXPECT_EQ(seconds.back().ok, 1u);
}

TEST(SecondRecorder, AnEmptyRunHasNoSeconds) {
  SecondRecorder recorder;
  EXPECT_TRUE(recorder.finish().empty());
  EXPECT_EQ(to_json(std::vector<SecondBucket>{})["ok"], nlohmann::json::array());
}

TEST(SecondRecorder, JsonHasOneEntryPerSecondInEveryColumnAndNullWithoutSamples) {
  SecondRecorder recorder;
  recorder.on_start(0ms, 1);
  recorder.on_end(2100ms, 0, true, 5, 2'000'000, std::array<std::uint64_t, 1>{1'000'000});
  const auto json = to_json(recorder.finish());
  EXPECT_EQ(json["bucket_seconds"], 1);
  for (const char* column : {"started", "ok", "failed", "output_tokens", "peak_in_flight", "ttft_p50_ns",
                             "ttft_p95_ns", "itl_p50_ns", "itl_p95_ns"}) {
    ASSERT_EQ(json[column].size(), 3u) << column;
  }
  EXPECT_EQ(json["started"], nlohmann::json({1, 0, 0}));
  EXPECT_EQ(json["ok"], nlohmann::json({0, 0, 1}));
  EXPECT_EQ(json["output_tokens"], nlohmann::json({0, 0, 5}));
  EXPECT_TRUE(json["ttft_p50_ns"][0].is_null());
  EXPECT_NEAR(json["ttft_p50_ns"][2].get<double>(), 2e6, 2e6 * 0.004);
}

}  // namespace
}  // namespace llmd::engine
