// Tests lib/prom/counter_delta (kept with the scrape tests until test/prom lists it).
#include "prom/counter_delta.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace llmd::prom {
namespace {

constexpr double k_nan = std::numeric_limits<double>::quiet_NaN();
constexpr double k_inf = std::numeric_limits<double>::infinity();

TEST(CounterDelta, IncreaseIsAfterMinusBefore) {
  const CounterDelta delta = counter_delta(100.0, 350.0);
  EXPECT_EQ(delta.status, DeltaStatus::ok);
  ASSERT_TRUE(delta.delta);
  EXPECT_DOUBLE_EQ(*delta.delta, 250.0);
  EXPECT_TRUE(delta.counts());
}

TEST(CounterDelta, UnchangedCounterIsZeroNotMissing) {
  const CounterDelta delta = counter_delta(42.0, 42.0);
  EXPECT_EQ(delta.status, DeltaStatus::ok);
  ASSERT_TRUE(delta.delta);
  EXPECT_DOUBLE_EQ(*delta.delta, 0.0);
}

TEST(CounterDelta, CounterThatWentDownIsAResetCountedFromZero) {
  const CounterDelta delta = counter_delta(5000.0, 120.0);
  EXPECT_EQ(delta.status, DeltaStatus::reset);
  ASSERT_TRUE(delta.delta);
  EXPECT_DOUBLE_EQ(*delta.delta, 120.0);
}

TEST(CounterDelta, KnownRestartCountsFromZeroEvenWhenTheValueGrew) {
  const CounterDelta delta = counter_delta(100.0, 700.0, KnownRestart::yes);
  EXPECT_EQ(delta.status, DeltaStatus::reset);
  ASSERT_TRUE(delta.delta);
  EXPECT_DOUBLE_EQ(*delta.delta, 700.0);
}

TEST(CounterDelta, MissingBeforeMeansTheSeriesAppeared) {
  const CounterDelta delta = counter_delta(std::nullopt, 64.0);
  EXPECT_EQ(delta.status, DeltaStatus::appeared);
  ASSERT_TRUE(delta.delta);
  EXPECT_DOUBLE_EQ(*delta.delta, 64.0);
  EXPECT_EQ(to_string(delta.status), "new");
}

TEST(CounterDelta, MissingAfterMeansVanishedWithoutDelta) {
  const CounterDelta delta = counter_delta(64.0, std::nullopt);
  EXPECT_EQ(delta.status, DeltaStatus::vanished);
  EXPECT_FALSE(delta.delta);
  EXPECT_FALSE(delta.counts());
}

TEST(CounterDelta, MissingOnBothSidesIsAbsent) {
  const CounterDelta delta = counter_delta(std::nullopt, std::nullopt);
  EXPECT_EQ(delta.status, DeltaStatus::absent);
  EXPECT_FALSE(delta.delta);
}

TEST(CounterDelta, NaNOnEitherSideIsInvalid) {
  EXPECT_EQ(counter_delta(k_nan, 10.0).status, DeltaStatus::invalid);
  EXPECT_EQ(counter_delta(10.0, k_nan).status, DeltaStatus::invalid);
  EXPECT_EQ(counter_delta(std::nullopt, k_nan).status, DeltaStatus::invalid);
  EXPECT_FALSE(counter_delta(k_nan, 10.0).delta);
}

TEST(CounterDelta, InfiniteOrNegativeValuesAreInvalid) {
  EXPECT_EQ(counter_delta(1.0, k_inf).status, DeltaStatus::invalid);
  EXPECT_EQ(counter_delta(-1.0, 3.0).status, DeltaStatus::invalid);
  EXPECT_FALSE(counter_delta(1.0, k_inf).delta);
}

TEST(CounterDelta, StatusNamesAreStable) {
  EXPECT_EQ(to_string(DeltaStatus::ok), "ok");
  EXPECT_EQ(to_string(DeltaStatus::reset), "reset");
  EXPECT_EQ(to_string(DeltaStatus::vanished), "vanished");
  EXPECT_EQ(to_string(DeltaStatus::absent), "absent");
  EXPECT_EQ(to_string(DeltaStatus::invalid), "invalid");
}


// ---- per series ----

SeriesMap engines(std::optional<double> e0, std::optional<double> e1, double created0 = 1000, double created1 = 1000) {
  SeriesMap map;
  if (e0) map["engine=\"0\""] = {*e0, created0};
  if (e1) map["engine=\"1\""] = {*e1, created1};
  return map;
}

TEST(SeriesDelta, SumsEachSeriesIncrease) {
  const SeriesDelta d = series_delta(engines(100, 200), engines(150, 260));
  EXPECT_EQ(d.status, DeltaStatus::ok);
  ASSERT_TRUE(d.delta);
  EXPECT_DOUBLE_EQ(*d.delta, 50 + 60);
  EXPECT_TRUE(d.events.empty());
}

TEST(SeriesDelta, OneEngineThatWentDownCountsFromZeroWhileTheOtherKeepsItsGrowth) {
  // Sum before 1,000 + 900 = 1,900; after 1,500 + 120 = 1,620: summing first would call the whole pod
  // reset and report 1,620 (or, had the sum not dropped, undercount). Per series: 500 + 120.
  const SeriesDelta d = series_delta(engines(1000, 900), engines(1500, 120));
  EXPECT_EQ(d.status, DeltaStatus::reset);
  ASSERT_TRUE(d.delta);
  EXPECT_DOUBLE_EQ(*d.delta, 500 + 120);
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.events[0].series, "engine=\"1\"");
  EXPECT_EQ(d.events[0].status, DeltaStatus::reset);
  EXPECT_EQ(d.events[0].evidence, "went down from 900 to 120; counted from zero");
}

TEST(SeriesDelta, RecreatedSeriesIsAResetEvenWhenItsValueGrewAndOnlyThatSeriesCountsFromZero) {
  // Engine 1 restarted (new _created) and already passed its old value: 40,000 + 1,000 before; the
  // sum-then-_created rule took the whole after sum (40,100 + 1,200) as the increase: 40x too much.
  const SeriesDelta d = series_delta(engines(40000, 1000, 1000, 1000), engines(40100, 1200, 1000, 2000));
  EXPECT_EQ(d.status, DeltaStatus::reset);
  ASSERT_TRUE(d.delta);
  EXPECT_DOUBLE_EQ(*d.delta, 100 + 1200);
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.events[0].series, "engine=\"1\"");
  EXPECT_EQ(d.events[0].evidence, "_created changed (1000.000 -> 2000.000); counted from zero: 1200");
}

TEST(SeriesDelta, KnownRestartResetsEverySeries) {
  const SeriesDelta d = series_delta(engines(100, 200), engines(150, 260), KnownRestart::yes);
  EXPECT_EQ(d.status, DeltaStatus::reset);
  EXPECT_DOUBLE_EQ(*d.delta, 150 + 260);
  EXPECT_EQ(d.events.size(), 2u);
}

TEST(SeriesDelta, SeriesAppearingDuringTheRunCountsFromZeroAndIsNamed) {
  SeriesMap before = {{"finished_reason=\"stop\"", {10, std::nullopt}}};
  SeriesMap after = {{"finished_reason=\"stop\"", {14, std::nullopt}}, {"finished_reason=\"length\"", {3, std::nullopt}}};
  const SeriesDelta d = series_delta(before, after);
  EXPECT_EQ(d.status, DeltaStatus::ok);
  EXPECT_DOUBLE_EQ(*d.delta, 4 + 3);
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.events[0].status, DeltaStatus::appeared);
}

TEST(SeriesDelta, VanishedSeriesContributesNothingAndIsNamed) {
  const SeriesDelta d = series_delta(engines(100, 200), engines(150, std::nullopt));
  EXPECT_DOUBLE_EQ(*d.delta, 50);
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.events[0].status, DeltaStatus::vanished);
  EXPECT_EQ(d.events[0].series, "engine=\"1\"");
}

TEST(SeriesDelta, WholeCounterNewVanishedAbsentAndInvalid) {
  EXPECT_EQ(series_delta({}, engines(5, 6)).status, DeltaStatus::appeared);
  EXPECT_DOUBLE_EQ(*series_delta({}, engines(5, 6)).delta, 11);
  EXPECT_EQ(series_delta(engines(5, 6), {}).status, DeltaStatus::vanished);
  EXPECT_FALSE(series_delta(engines(5, 6), {}).delta);
  EXPECT_EQ(series_delta({}, {}).status, DeltaStatus::absent);
  const SeriesDelta invalid = series_delta(engines(5, 6), engines(7, k_nan));
  EXPECT_EQ(invalid.status, DeltaStatus::invalid);
  EXPECT_FALSE(invalid.delta);
}

}  // namespace
}  // namespace llmd::prom
