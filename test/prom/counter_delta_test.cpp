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

}  // namespace
}  // namespace llmd::prom
