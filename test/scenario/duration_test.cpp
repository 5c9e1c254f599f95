#include "util/duration.hpp"

#include <limits>

#include <gtest/gtest.h>

using namespace std::chrono_literals;
using llmd::util::format_duration;
using llmd::util::format_seconds;
using llmd::util::parse_duration;

TEST(ParseDuration, AcceptsEveryUnitAndCompounds) {
  EXPECT_EQ(*parse_duration("150ms"), 150ms);
  EXPECT_EQ(*parse_duration("2s"), 2s);
  EXPECT_EQ(*parse_duration("2m30s"), 150s);
  EXPECT_EQ(*parse_duration("1h"), 1h);
  EXPECT_EQ(*parse_duration("500us"), 500us);
  EXPECT_EQ(*parse_duration("500\xC2\xB5s"), 500us);
  EXPECT_EQ(*parse_duration("7ns"), 7ns);
  EXPECT_EQ(*parse_duration("1h30m"), 90min);
  EXPECT_EQ(*parse_duration("0s"), 0s);
}

TEST(ParseDuration, AcceptsFractions) {
  EXPECT_EQ(*parse_duration("1.5s"), 1500ms);
  EXPECT_EQ(*parse_duration(".5s"), 500ms);
  EXPECT_EQ(*parse_duration("0.25ms"), 250us);
}

TEST(ParseDuration, RejectsBareNumberAskingForAUnit) {
  auto result = parse_duration("120");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), "duration \"120\" has no unit; add one, e.g. \"120s\" or \"120ms\" (units: h, m, s, ms, us, ns)");
}

TEST(ParseDuration, RejectsTrailingNumberWithoutUnit) {
  auto result = parse_duration("2m30");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), "duration \"2m30\" ends in a number without a unit (\"30\"); add one (units: h, m, s, ms, us, ns)");
}

TEST(ParseDuration, RejectsUnknownUnit) {
  auto result = parse_duration("2sec");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), "duration \"2sec\" has an unknown unit \"sec\"; units: h, m, s, ms, us, ns");
  EXPECT_EQ(parse_duration("3d").error(), "duration \"3d\" has an unknown unit \"d\"; units: h, m, s, ms, us, ns");
}

TEST(ParseDuration, RejectsEmptyNegativeGarbageAndHuge) {
  EXPECT_EQ(parse_duration("").error(), "empty duration; expected a number and a unit, e.g. \"30s\", \"2m30s\" or \"150ms\"");
  EXPECT_EQ(parse_duration("-5s").error(), "duration \"-5s\" is negative");
  EXPECT_EQ(parse_duration("fast").error(),
            "invalid duration \"fast\"; expected a number and a unit, e.g. \"30s\", \"2m30s\" or \"150ms\" "
            "(units: h, m, s, ms, us, ns)");
  EXPECT_EQ(parse_duration("2 s").error(), "duration \"2 s\" has an unknown unit \" s\"; units: h, m, s, ms, us, ns");
  EXPECT_EQ(parse_duration("1000000h").error(), "duration \"1000000h\" is too long (at most 100 years)");
}

TEST(FormatDuration, ShortestExactForm) {
  EXPECT_EQ(format_duration(0s), "0s");
  EXPECT_EQ(format_duration(150ms), "150ms");
  EXPECT_EQ(format_duration(150s), "2m30s");
  EXPECT_EQ(format_duration(1h), "1h");
  EXPECT_EQ(format_duration(3605s), "1h5s");
  EXPECT_EQ(format_duration(1500ms), "1.5s");
  EXPECT_EQ(format_duration(250us), "250us");
  EXPECT_EQ(format_duration(1500us), "1.5ms");
  EXPECT_EQ(format_duration(7ns), "7ns");
}

TEST(FormatDuration, RoundTripsThroughParse) {
  for (std::chrono::nanoseconds d : {0ns, 1ns, 999ns, 1000ns, 1234567ns, 150000000000ns, 7199000000000ns, 3601001000000ns}) {
    EXPECT_EQ(*parse_duration(format_duration(d)), d) << format_duration(d);
  }
}

TEST(FormatSeconds, ThreeSignificantDigitsInTheNaturalUnit) {
  EXPECT_EQ(format_seconds(1.25), "1.25s");
  EXPECT_EQ(format_seconds(0.85), "850ms");
  EXPECT_EQ(format_seconds(0.00012), "120us");
  EXPECT_EQ(format_seconds(2), "2s");
  EXPECT_EQ(format_seconds(0), "0s");
  EXPECT_EQ(format_seconds(150), "2m30s");
  EXPECT_EQ(format_seconds(0.99999), "1s");
  EXPECT_EQ(format_seconds(-0.5), "-500ms");
}

// Found by the threshold_expr fuzz target (it evaluates thresholds against extreme observed values):
// a subnormal value threw std::out_of_range out of std::stod, and a value above 9.2e9 s overflowed
// the int64 nanoseconds given to format_duration (undefined behaviour).
TEST(FormatSeconds, AnyDoubleIsFormatted) {
  EXPECT_EQ(format_seconds(5e-324), "4.94e-315ns");
  EXPECT_EQ(format_seconds(-2.2e-308), "-2.2e-299ns");
  EXPECT_EQ(format_seconds(1e300), "1e+300s");
  EXPECT_EQ(format_seconds(std::numeric_limits<double>::max()), "1.8e+308s");
  EXPECT_EQ(format_seconds(9.1e9), "9.1e+09s");
  EXPECT_EQ(format_seconds(8.99e9), "2497222h13m20s");
  EXPECT_EQ(format_seconds(std::numeric_limits<double>::infinity()), "infs");
}

TEST(Duration, FormatsSecondsFixedForTheSummaryColumns) {
  EXPECT_EQ(llmd::util::format_seconds_fixed(1.25), "1.25s");
  EXPECT_EQ(llmd::util::format_seconds_fixed(0.0123), "12.30ms");
  EXPECT_EQ(llmd::util::format_seconds_fixed(0.00085), "850us");
  // A negative duration (none should reach a report) keeps its unit: "-2009454018us" was -2009 s.
  EXPECT_EQ(llmd::util::format_seconds_fixed(-2009.454018), "-2009.45s");
  EXPECT_EQ(llmd::util::format_seconds_fixed(-0.0123), "-12.30ms");
}
