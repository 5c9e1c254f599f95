#include "util/instant.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace llmd::util {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

std::chrono::system_clock::time_point at(std::chrono::nanoseconds since_epoch) {
  return std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch));
}

// 2026-12-02T20:00:00Z (python3: calendar.timegm((2026, 12, 2, 20, 0, 0))).
constexpr std::chrono::seconds k_epoch_s{1'796'241'600};

TEST(Instant, ReadsRfc3339InUtcAndWithOffsetsAndFractions) {
  EXPECT_EQ(*parse_instant("2026-12-02T20:00:00Z"), at(k_epoch_s));
  EXPECT_EQ(*parse_instant("2026-12-02t20:00:00z"), at(k_epoch_s));
  EXPECT_EQ(*parse_instant("2026-12-02 20:00:00Z"), at(k_epoch_s));
  EXPECT_EQ(*parse_instant("2026-12-02T21:30:00+01:30"), at(k_epoch_s));
  EXPECT_EQ(*parse_instant("2026-12-02T15:00:00-05:00"), at(k_epoch_s));
  EXPECT_EQ(*parse_instant("2026-12-02T20:00:00.25Z"), at(k_epoch_s + 250ms));
  EXPECT_EQ(*parse_instant("2026-12-02T20:00:00.000000001Z"), at(k_epoch_s + 1ns));
  EXPECT_EQ(*parse_instant("1970-01-01T00:00:00Z"), at(0s));
  EXPECT_EQ(*parse_instant("2028-02-29T00:00:00Z"), at(std::chrono::seconds(1835395200)));  // leap day
}

TEST(Instant, ReadsUnixSeconds) {
  EXPECT_EQ(*parse_instant("1796241600"), at(k_epoch_s));
  EXPECT_EQ(*parse_instant("1796241600.5"), at(k_epoch_s + 500ms));
}

TEST(Instant, WritesWhatItReads) {
  const auto when = at(k_epoch_s + 123ms);
  EXPECT_EQ(format_rfc3339(when), "2026-12-02T20:00:00.123Z");
  EXPECT_EQ(*parse_instant(format_rfc3339(when)), when);
}

TEST(Instant, RefusesWhatIsNotAnInstantAndSaysWhatToWrite) {
  for (const char* bad : {"", "now", "+30s", "2026-12-02", "2026-12-02T20:00:00", "2026-13-02T20:00:00Z",
                          "2026-02-29T20:00:00Z", "2026-12-02T24:00:00Z", "2026-12-02T20:00:00.Z", "2026-12-02T20:00:00+1:00",
                          "1796241600.", "17962416x0", "-5", "99999999999999999999", "2026-12-02T20:00:00Z "}) {
    auto parsed = parse_instant(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_THAT(parsed.error(), HasSubstr("is not an instant: write RFC 3339")) << bad;
  }
}

}  // namespace
}  // namespace llmd::util
