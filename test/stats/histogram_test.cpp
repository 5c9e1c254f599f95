#include "stats/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace llmd::stats {
namespace {

using nlohmann::json;

constexpr std::uint64_t k_ms_ns = 1'000'000;
constexpr std::uint64_t k_hour_ns = 3'600ULL * 1'000'000'000ULL;

// Exact nearest-rank percentile, p given in per-mille (999 = 99.9th) so the rank is integer
// arithmetic, independent of nearest_rank(): rank = max(1, ceil(per_mille * n / 1000)).
std::uint64_t exact_percentile(const std::vector<std::uint64_t>& sorted, std::uint64_t per_mille) {
  const std::uint64_t n = sorted.size();
  const std::uint64_t rank = std::max<std::uint64_t>(1, (per_mille * n + 999) / 1000);
  return sorted[rank - 1];
}

LogLinearHistogram record_all(const std::vector<std::uint64_t>& values) {
  LogLinearHistogram histogram;
  for (const std::uint64_t value : values) {
    histogram.record(value);
  }
  return histogram;
}

// Percentiles within the layout's bound (and the 1% requirement); count, min, max, sum exact.
void expect_accurate(const std::vector<std::uint64_t>& values) {
  const LogLinearHistogram histogram = record_all(values);
  std::vector<std::uint64_t> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  Uint128 sum = 0;
  for (const std::uint64_t value : values) {
    sum += value;
  }
  ASSERT_EQ(histogram.count(), values.size());
  EXPECT_EQ(histogram.min(), sorted.front());
  EXPECT_EQ(histogram.max(), sorted.back());
  EXPECT_TRUE(histogram.sum() == sum) << to_decimal_string(histogram.sum()) << " vs " << to_decimal_string(sum);
  EXPECT_DOUBLE_EQ(*histogram.mean(), static_cast<double>(sum) / static_cast<double>(values.size()));
  const double bound = histogram.layout().max_relative_error();
  ASSERT_LE(bound, 0.01);
  for (const std::uint64_t per_mille : {0, 1, 10, 100, 250, 500, 750, 900, 950, 990, 999, 1000}) {
    const double exact = static_cast<double>(exact_percentile(sorted, per_mille));
    const double reported = *histogram.percentile(static_cast<double>(per_mille) / 10.0);
    EXPECT_LE(std::abs(reported - exact) / exact, bound)
        << "p" << static_cast<double>(per_mille) / 10.0 << ": reported " << reported << ", exact " << exact;
  }
}

std::vector<std::uint64_t> generate(std::size_t n, const std::function<double(std::mt19937_64&)>& draw) {
  std::mt19937_64 rng(20240611);
  std::vector<std::uint64_t> values;
  values.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    values.push_back(static_cast<std::uint64_t>(std::max(1.0, std::round(draw(rng)))));
  }
  return values;
}

std::vector<std::uint64_t> log_normal_latencies(std::size_t n) {
  std::lognormal_distribution<double> latency(std::log(50.0 * k_ms_ns), 1.0);
  return generate(n, [&](std::mt19937_64& rng) { return latency(rng); });
}

// ---- layout ---------------------------------------------------------------------------------

TEST(HistogramLayout, DefaultLayoutCoversOneHourWithinOnePercent) {
  const HistogramLayout layout;
  EXPECT_EQ(layout.highest_value(), (std::uint64_t{1} << 42) - 1);
  EXPECT_GE(layout.highest_value(), k_hour_ns);
  EXPECT_EQ(layout.num_buckets(), 4608U);
  EXPECT_DOUBLE_EQ(layout.max_relative_error(), 1.0 / 256);
}

TEST(HistogramLayout, BucketIndexFollowsDocumentedExample) {
  const HistogramLayout layout{.sub_bucket_bits = 2, .lowest_value = 1, .max_value_bits = 5};
  for (std::uint64_t value = 0; value < 8; ++value) {
    EXPECT_EQ(layout.bucket_index(value), value);
  }
  EXPECT_EQ(layout.bucket_index(8), 8U);
  EXPECT_EQ(layout.bucket_index(9), 8U);
  EXPECT_EQ(layout.bucket_index(10), 9U);
  EXPECT_EQ(layout.bucket_index(15), 11U);
  EXPECT_EQ(layout.bucket_index(16), 12U);
  EXPECT_EQ(layout.bucket_index(19), 12U);
  EXPECT_EQ(layout.bucket_index(31), 15U);
  EXPECT_EQ(layout.num_buckets(), 16U);
  EXPECT_EQ(layout.bucket_lowest_value(13), 20U);
  EXPECT_EQ(layout.bucket_highest_value(13), 23U);
  EXPECT_DOUBLE_EQ(layout.bucket_midpoint(13), 21.5);
}

TEST(HistogramLayout, BucketsTileTheRangeWithBoundedWidth) {
  for (const HistogramLayout& layout : {HistogramLayout{}, HistogramLayout{.sub_bucket_bits = 3, .max_value_bits = 64}}) {
    const double max_width_ratio = std::ldexp(1.0, -static_cast<int>(layout.sub_bucket_bits));
    for (std::size_t i = 0; i < layout.num_buckets(); ++i) {
      const std::uint64_t lowest = layout.bucket_lowest_value(i);
      const std::uint64_t highest = layout.bucket_highest_value(i);
      ASSERT_EQ(layout.bucket_index(lowest), i);
      ASSERT_EQ(layout.bucket_index(highest), i);
      if (i + 1 < layout.num_buckets()) {
        ASSERT_EQ(highest + 1, layout.bucket_lowest_value(i + 1)) << "bucket " << i;
      }
      if (highest > lowest) {  // width-1 buckets are exact
        ASSERT_LE(static_cast<double>(highest - lowest + 1) / static_cast<double>(lowest), max_width_ratio);
      }
    }
    EXPECT_EQ(layout.bucket_highest_value(layout.num_buckets() - 1), layout.highest_value());
  }
}

TEST(HistogramLayout, ValidateNamesTheBadField) {
  EXPECT_EQ(validate(HistogramLayout{.sub_bucket_bits = 0}).error(),
            "sub_bucket_bits: got 0, expected an integer in [1, 10]");
  EXPECT_EQ(validate(HistogramLayout{.sub_bucket_bits = 7, .max_value_bits = 7}).error(),
            "max_value_bits: got 7, expected an integer in [8, 64] (sub_bucket_bits + 1 .. 64)");
  EXPECT_EQ(validate(HistogramLayout{.sub_bucket_bits = 2, .lowest_value = 16, .max_value_bits = 4}).error(),
            "lowest_value: got 16, expected at most 15 (2^max_value_bits - 1)");
  EXPECT_TRUE(validate(HistogramLayout{.sub_bucket_bits = 10, .lowest_value = 0, .max_value_bits = 64}));
}

TEST(LogLinearHistogram, CreateRejectsInvalidLayout) {
  const auto created = LogLinearHistogram::create(HistogramLayout{.sub_bucket_bits = 11});
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error(), "invalid histogram layout: sub_bucket_bits: got 11, expected an integer in [1, 10]");
  EXPECT_TRUE(LogLinearHistogram::create(HistogramLayout{.sub_bucket_bits = 4, .lowest_value = 0}));
}

TEST(NearestRank, FollowsDocumentedDefinition) {
  EXPECT_EQ(nearest_rank(0, 10), 1U);
  EXPECT_EQ(nearest_rank(25, 4), 1U);
  EXPECT_EQ(nearest_rank(50, 4), 2U);
  EXPECT_EQ(nearest_rank(50, 5), 3U);
  EXPECT_EQ(nearest_rank(95, 20), 19U);
  EXPECT_EQ(nearest_rank(95, 1000), 950U);
  EXPECT_EQ(nearest_rank(99.9, 1000), 999U);
  EXPECT_EQ(nearest_rank(99.9, 1001), 1000U);
  EXPECT_EQ(nearest_rank(100, 7), 7U);
  EXPECT_EQ(nearest_rank(1e-9, 10), 1U);
  EXPECT_EQ(nearest_rank(-5, 10), 1U);
  EXPECT_EQ(nearest_rank(150, 10), 10U);
  EXPECT_EQ(nearest_rank(std::nan(""), 10), 1U);
}

// ---- accuracy against exact percentiles -------------------------------------------------------

TEST(LogLinearHistogram, UniformWithinErrorBound) {
  std::uniform_int_distribution<std::uint64_t> latency(k_ms_ns, 2 * k_ms_ns);
  expect_accurate(generate(100'000, [&](std::mt19937_64& rng) { return static_cast<double>(latency(rng)); }));
}

TEST(LogLinearHistogram, LogNormalWithinErrorBound) { expect_accurate(log_normal_latencies(100'000)); }

TEST(LogLinearHistogram, BimodalWithinErrorBound) {
  std::normal_distribution<double> cache_hit(5.0 * k_ms_ns, 0.5 * k_ms_ns);
  std::normal_distribution<double> cache_miss(500.0 * k_ms_ns, 50.0 * k_ms_ns);
  std::bernoulli_distribution is_hit(0.7);
  expect_accurate(generate(100'000, [&](std::mt19937_64& rng) { return is_hit(rng) ? cache_hit(rng) : cache_miss(rng); }));
}

TEST(LogLinearHistogram, ConstantIsExact) {
  const LogLinearHistogram histogram = record_all(std::vector<std::uint64_t>(10'000, 123'456'789));
  for (const double p : {0.0, 1.0, 50.0, 99.0, 99.9, 100.0}) {
    EXPECT_EQ(histogram.percentile(p), 123'456'789.0) << "p" << p;
  }
  EXPECT_EQ(histogram.mean(), 123'456'789.0);
}

TEST(LogLinearHistogram, HugeRangeOneNanosecondToOneHourWithinErrorBound) {
  std::uniform_real_distribution<double> exponent(0.0, std::log(static_cast<double>(k_hour_ns)));
  const auto values = generate(200'000, [&](std::mt19937_64& rng) { return std::exp(exponent(rng)); });
  expect_accurate(values);
  EXPECT_EQ(record_all(values).overflow_count(), 0U);
}

TEST(LogLinearHistogram, SmallIntegerCountsAreExact) {
  std::vector<std::uint64_t> tokens;
  for (std::uint64_t value = 1; value <= 200; ++value) {
    tokens.push_back(value);
  }
  const Summary summary = summarize(record_all(tokens));
  EXPECT_EQ(summary.count, 200U);
  EXPECT_EQ(summary.overflow_count, 0U);
  EXPECT_EQ(summary.min, 1U);
  EXPECT_EQ(summary.max, 200U);
  EXPECT_EQ(summary.mean, 100.5);
  EXPECT_EQ(summary.p50, 100.0);
  EXPECT_EQ(summary.p90, 180.0);
  EXPECT_EQ(summary.p95, 190.0);
  EXPECT_EQ(summary.p99, 198.0);
  EXPECT_EQ(summary.p999, 200.0);
}

TEST(LogLinearHistogram, PercentileOutsideZeroToHundredIsClamped) {
  const LogLinearHistogram histogram = record_all({7, 3'000'000, 9});
  EXPECT_EQ(histogram.percentile(-1), 7.0);
  EXPECT_EQ(histogram.percentile(250), 3'000'000.0);
}

// ---- empty, reset, record_n, overflow ---------------------------------------------------------

TEST(LogLinearHistogram, EmptyHasNoStatistics) {
  const LogLinearHistogram histogram;
  EXPECT_EQ(histogram.count(), 0U);
  EXPECT_EQ(histogram.min(), std::nullopt);
  EXPECT_EQ(histogram.max(), std::nullopt);
  EXPECT_EQ(histogram.mean(), std::nullopt);
  EXPECT_EQ(histogram.percentile(50), std::nullopt);
  EXPECT_EQ(histogram.percentile(100), std::nullopt);
  EXPECT_EQ(summarize(histogram), Summary{});
  EXPECT_EQ(summarize(histogram).p99, std::nullopt);
}

TEST(LogLinearHistogram, ResetForgetsEverythingButTheLayout) {
  auto histogram = *LogLinearHistogram::create(HistogramLayout{.sub_bucket_bits = 5});
  histogram.record(0);
  histogram.record(42);
  histogram.reset();
  EXPECT_EQ(histogram, *LogLinearHistogram::create(HistogramLayout{.sub_bucket_bits = 5}));
  EXPECT_EQ(histogram.percentile(50), std::nullopt);
}

// reset(), percentile(), merge() and to_json() visit only the buckets between the clamped min and
// max (occupied()): a histogram reused after reset() must equal a fresh one, whatever it held,
// out-of-range values (clamped into the end buckets) included.
TEST(LogLinearHistogram, AReusedHistogramEqualsAFreshOneWhateverItHeld) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> shape(0, 3);
  LogLinearHistogram reused;
  for (int round = 0; round < 300; ++round) {
    std::vector<std::uint64_t> values;
    const int n = static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      switch (shape(rng)) {
        case 0:
          values.push_back(0);  // below range: the bucket of lowest_value 1
          break;
        case 1:
          values.push_back(UINT64_MAX - rng() % 3);  // above range: the top bucket
          break;
        default:
          values.push_back(rng() >> (rng() % 64));  // anywhere in between
      }
    }
    reused.reset();
    for (const auto value : values) {
      reused.record(value);
    }
    const LogLinearHistogram fresh = record_all(values);
    ASSERT_EQ(reused, fresh) << "round " << round;
    ASSERT_EQ(summarize(reused), summarize(fresh)) << "round " << round;
    ASSERT_EQ(reused.to_json(), fresh.to_json()) << "round " << round;
    LogLinearHistogram merged;
    ASSERT_TRUE(merged.merge(reused));
    ASSERT_EQ(merged, fresh) << "round " << round;
    // The full scan, as before occupied(): the same non-empty buckets.
    std::uint64_t total = 0;
    for (const auto count : reused.bucket_counts()) {
      total += count;
    }
    ASSERT_EQ(total, reused.count()) << "round " << round;
  }
}

TEST(LogLinearHistogram, AHistogramReadFromJsonResetsToEmpty) {
  const LogLinearHistogram original = record_all({0, 5, 1'000, 77'000'000, UINT64_MAX});
  auto read = LogLinearHistogram::from_json(original.to_json());
  ASSERT_TRUE(read) << read.error();
  EXPECT_EQ(*read, original);
  read->reset();
  EXPECT_EQ(*read, LogLinearHistogram{});
}

TEST(LogLinearHistogram, RecordNEqualsRepeatedRecord) {
  LogLinearHistogram repeated;
  LogLinearHistogram batched;
  for (int i = 0; i < 3; ++i) {
    repeated.record(777'777);
  }
  batched.record_n(777'777, 3);
  batched.record_n(5, 0);
  EXPECT_EQ(batched, repeated);
  EXPECT_EQ(batched.min(), 777'777U);
}

TEST(LogLinearHistogram, ZeroIsCountedAsBelowRange) {
  LogLinearHistogram histogram;
  histogram.record(0);
  histogram.record_n(0, 4);
  histogram.record(10);
  EXPECT_EQ(histogram.count(), 6U);
  EXPECT_EQ(histogram.below_range_count(), 5U);
  EXPECT_EQ(histogram.above_range_count(), 0U);
  EXPECT_EQ(histogram.overflow_count(), 5U);
  EXPECT_EQ(histogram.min(), 0U);
  EXPECT_EQ(histogram.bucket_counts()[1], 5U);  // clamped into the bucket of lowest_value 1
  EXPECT_EQ(histogram.percentile(0), 0.0);
  EXPECT_EQ(histogram.percentile(50), 1.0);
  EXPECT_EQ(summarize(histogram).overflow_count, 5U);
}

TEST(LogLinearHistogram, ValuesAboveMaxAreCountedAsAboveRange) {
  LogLinearHistogram histogram;
  const std::uint64_t too_big = std::uint64_t{1} << 42;
  histogram.record(1'000);
  histogram.record(too_big);
  histogram.record(UINT64_MAX);
  EXPECT_EQ(histogram.above_range_count(), 2U);
  EXPECT_EQ(histogram.overflow_count(), 2U);
  EXPECT_EQ(histogram.bucket_counts().back(), 2U);  // clamped into the top bucket
  EXPECT_EQ(histogram.max(), UINT64_MAX);
  EXPECT_TRUE(histogram.sum() == Uint128{1'000} + too_big + UINT64_MAX);
  EXPECT_EQ(histogram.percentile(50), histogram.layout().bucket_midpoint(histogram.layout().num_buckets() - 1));
  EXPECT_EQ(histogram.percentile(100), static_cast<double>(UINT64_MAX));
}

// ---- merge --------------------------------------------------------------------------------------

TEST(LogLinearHistogram, MergeOfHalvesEqualsWhole) {
  std::vector<std::uint64_t> values = log_normal_latencies(50'000);
  values.push_back(0);
  values.push_back(UINT64_MAX);
  const std::vector<std::uint64_t> first(values.begin(), values.begin() + 20'000);
  const std::vector<std::uint64_t> second(values.begin() + 20'000, values.end());
  LogLinearHistogram merged = record_all(first);
  ASSERT_TRUE(merged.merge(record_all(second)));
  const LogLinearHistogram whole = record_all(values);
  EXPECT_TRUE(std::ranges::equal(merged.bucket_counts(), whole.bucket_counts()));
  EXPECT_EQ(merged, whole);
  EXPECT_EQ(summarize(merged), summarize(whole));

  LogLinearHistogram empty;
  ASSERT_TRUE(empty.merge(whole));
  EXPECT_EQ(empty, whole);
  ASSERT_TRUE(merged.merge(LogLinearHistogram{}));
  EXPECT_EQ(merged, whole);
}

TEST(LogLinearHistogram, MergeRejectsDifferentLayouts) {
  LogLinearHistogram histogram = record_all({1, 2, 3});
  const LogLinearHistogram before = histogram;
  const auto coarse = *LogLinearHistogram::create(HistogramLayout{.sub_bucket_bits = 6});
  const auto merged = histogram.merge(coarse);
  ASSERT_FALSE(merged);
  EXPECT_EQ(merged.error(),
            "cannot merge histograms with different layouts: {sub_bucket_bits=7, lowest_value=1, max_value_bits=42} "
            "vs {sub_bucket_bits=6, lowest_value=1, max_value_bits=42}");
  EXPECT_EQ(histogram, before);
}

// ---- JSON ---------------------------------------------------------------------------------------

TEST(LogLinearHistogramJson, WritesSparseVersionedForm) {
  const json written = record_all({5, 10, 1'000}).to_json();
  const json expected = json::parse(R"({
    "schema": "llmd-bench/histogram", "version": 1,
    "layout": {"sub_bucket_bits": 7, "lowest_value": 1, "max_value_bits": 42},
    "count": 3, "min": 5, "max": 1000, "sum": 1015, "below_range": 0, "above_range": 0,
    "buckets": [[5, 1], [10, 1], [506, 1]]})");
  EXPECT_EQ(written, expected) << written.dump();
}

TEST(LogLinearHistogramJson, RoundTripIsExact) {
  LogLinearHistogram histogram = record_all(log_normal_latencies(20'000));
  histogram.record(0);
  histogram.record(UINT64_MAX);
  const auto restored = LogLinearHistogram::from_json(json::parse(histogram.to_json().dump()));
  ASSERT_TRUE(restored) << restored.error();
  EXPECT_EQ(*restored, histogram);
  EXPECT_EQ(summarize(*restored), summarize(histogram));
}

TEST(LogLinearHistogramJson, RoundTripOfEmptyAndCustomLayout) {
  const auto empty = *LogLinearHistogram::create(HistogramLayout{.sub_bucket_bits = 3, .lowest_value = 0});
  const json written = empty.to_json();
  EXPECT_TRUE(written["min"].is_null());
  EXPECT_EQ(written["buckets"], json::array());
  const auto restored = LogLinearHistogram::from_json(written);
  ASSERT_TRUE(restored) << restored.error();
  EXPECT_EQ(*restored, empty);
}

TEST(LogLinearHistogramJson, SumAbove64BitsIsWrittenAsDecimalString) {
  LogLinearHistogram histogram;
  histogram.record_n(std::uint64_t{1} << 63, 4);
  const json written = histogram.to_json();
  EXPECT_EQ(written["sum"], "36893488147419103232");
  const auto restored = LogLinearHistogram::from_json(json::parse(written.dump()));
  ASSERT_TRUE(restored) << restored.error();
  EXPECT_EQ(*restored, histogram);
}

struct BadJsonCase {
  const char* name;
  std::function<void(json&)> mutate;
  const char* error;
};

// Applies each mutation to the JSON of {5, 10, 1000} and checks the exact error.
void expect_rejected(const std::vector<BadJsonCase>& cases) {
  const json valid = record_all({5, 10, 1'000}).to_json();
  for (const BadJsonCase& bad : cases) {
    json mutated = valid;
    bad.mutate(mutated);
    const auto parsed = LogLinearHistogram::from_json(mutated);
    ASSERT_FALSE(parsed) << bad.name;
    EXPECT_EQ(parsed.error(), bad.error) << bad.name;
  }
}

TEST(LogLinearHistogramJson, FromJsonRejectsBadHeaderOrLayout) {
  expect_rejected({
      {"version", [](json& j) { j["version"] = 2; }, "histogram JSON: version: got 2, expected 1"},
      {"schema", [](json& j) { j["schema"] = "foo"; },
       "histogram JSON: schema: got \"foo\", expected \"llmd-bench/histogram\""},
      {"no layout", [](json& j) { j.erase("layout"); }, "histogram JSON: layout: got nothing, expected an object"},
      {"sub bits", [](json& j) { j["layout"]["sub_bucket_bits"] = 0; },
       "histogram JSON: layout.sub_bucket_bits: got 0, expected an integer in [1, 10]"},
      {"max bits", [](json& j) { j["layout"]["max_value_bits"] = 65; },
       "histogram JSON: layout.max_value_bits: got 65, expected an integer in [8, 64] (sub_bucket_bits + 1 .. 64)"},
      {"layout type", [](json& j) { j["layout"]["lowest_value"] = "1"; },
       "histogram JSON: layout.lowest_value: got \"1\", expected a non-negative integer"},
  });
  EXPECT_EQ(LogLinearHistogram::from_json(json::array({1, 2})).error(),
            "histogram JSON: got [1,2], expected an object");
}

TEST(LogLinearHistogramJson, FromJsonRejectsBadBucketsOrTotals) {
  expect_rejected({
      {"negative bucket count", [](json& j) { j["buckets"][0][1] = -3; },
       "histogram JSON: buckets[0][1]: got -3, expected a non-negative integer"},
      {"negative count", [](json& j) { j["count"] = -1; },
       "histogram JSON: count: got -1, expected a non-negative integer"},
      {"count mismatch", [](json& j) { j["count"] = 4; },
       "histogram JSON: count: got 4, expected 3 (the sum of the bucket counts)"},
      {"index too big", [](json& j) { j["buckets"][2][0] = 4608; },
       "histogram JSON: buckets[2][0]: got 4608, expected a bucket index in [11, 4607] (increasing)"},
      {"index repeated", [](json& j) { j["buckets"][1][0] = 5; },
       "histogram JSON: buckets[1][0]: got 5, expected a bucket index in [6, 4607] (increasing)"},
      {"bucket shape", [](json& j) { j["buckets"][1] = json::array({10}); },
       "histogram JSON: buckets[1]: got [10], expected [bucket_index, count]"},
      {"min missing", [](json& j) { j.erase("min"); }, "histogram JSON: min: missing, expected a non-negative integer"},
      {"min null", [](json& j) { j["min"] = nullptr; },
       "histogram JSON: min: got null, expected an integer (count is 3)"},
      {"min bucket", [](json& j) { j["min"] = 6; },
       "histogram JSON: min: got 6, expected a value in the first non-empty bucket 5"},
      {"below range", [](json& j) { j["below_range"] = 1; },
       "histogram JSON: below_range: got 1, inconsistent with min 5 and count 3"},
      {"sum digits", [](json& j) { j["sum"] = "12x"; },
       "histogram JSON: sum: got \"12x\", expected a non-negative integer below 2^128"},
      {"sum range", [](json& j) { j["sum"] = 3; },
       "histogram JSON: sum: got 3, expected a value in [min * count, max * count]"},
  });
}

TEST(LogLinearHistogramJson, FromJsonRejectsStatisticsOnEmptyHistogram) {
  json written = LogLinearHistogram{}.to_json();
  written["max"] = 7;
  EXPECT_EQ(LogLinearHistogram::from_json(written).error(), "histogram JSON: max: got 7, expected null (count is 0)");
}

}  // namespace
}  // namespace llmd::stats
