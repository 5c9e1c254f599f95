#include "sse/sse_parser.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sse/sse_test_support.hpp"

namespace llmd::sse {
namespace {

using test::first_split_difference;
using test::parse_in_pieces;
using test::parse_one_shot;
using test::RecordedEvent;
using test::Recording;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> data_of(const Recording& recording) {
  std::vector<std::string> data;
  for (const auto& event : recording.events) {
    data.push_back(event.data);
  }
  return data;
}

TEST(SseParser, DispatchesEventOnBlankLine) {
  const Recording r = parse_one_shot("data: hello\n\n");
  EXPECT_THAT(r.events, ElementsAre(RecordedEvent{"message", "hello", ""}));
  EXPECT_FALSE(r.event_pending);
  EXPECT_TRUE(r.error.empty());
}

TEST(SseParser, StripsExactlyOneSpaceAfterColon) {
  EXPECT_THAT(data_of(parse_one_shot("data:  two\n\ndata:none\n\n")), ElementsAre(" two", "none"));
}

TEST(SseParser, JoinsDataLinesWithNewline) {
  EXPECT_THAT(data_of(parse_one_shot("data: a\ndata:\ndata: b\n\n")), ElementsAre("a\n\nb"));
}

TEST(SseParser, DispatchesEmptyDataFieldButNotEventWithoutData) {
  const Recording r = parse_one_shot("event: ping\n\ndata\n\ndata:\n\n");
  EXPECT_THAT(r.events, ElementsAre(RecordedEvent{"message", "", ""}, RecordedEvent{"message", "", ""}));
}

TEST(SseParser, EventTypeAppliesToOneEventAndIdPersists) {
  const Recording r = parse_one_shot("event: update\nid: 42\ndata: x\n\ndata: y\n\nid\ndata: z\n\n");
  EXPECT_THAT(r.events, ElementsAre(RecordedEvent{"update", "x", "42"}, RecordedEvent{"message", "y", "42"},
                                    RecordedEvent{"message", "z", ""}));
}

TEST(SseParser, IgnoresIdContainingNulAndUnknownFields) {
  using namespace std::string_literals;
  const Recording r = parse_one_shot("id: 1\nid: a\0b\nfoo: bar\ndata: x\n\n"s);
  EXPECT_THAT(r.events, ElementsAre(RecordedEvent{"message", "x", "1"}));
}

TEST(SseParser, KeepsLastValidRetry) {
  Recording out;
  test::RecordingListener listener(out);
  SseParser parser(listener);
  EXPECT_EQ(parser.retry_ms(), std::nullopt);
  ASSERT_TRUE(parser.feed("retry: 3000\nretry: 3s\nretry:\n"));
  EXPECT_EQ(parser.retry_ms(), 3000u);
  EXPECT_THAT(out.events, IsEmpty());
}

TEST(SseParser, ReportsCommentsWithoutDispatching) {
  const Recording r = parse_one_shot(": ping\n:raw\n:\n\n");
  EXPECT_THAT(r.comments, ElementsAre("ping", "raw", ""));
  EXPECT_THAT(r.events, IsEmpty());
}

TEST(SseParser, CommentBetweenDataLinesDoesNotEndEvent) {
  const Recording r = parse_one_shot("data: a\n: server-ts=1700000000.5\ndata: b\n\n");
  EXPECT_THAT(r.comments, ElementsAre("server-ts=1700000000.5"));
  EXPECT_THAT(data_of(r), ElementsAre("a\nb"));
}

TEST(SseParser, TreatsCrLfCrAndLfAlike) {
  const std::string stream = ": c\nevent: e\ndata: a\ndata: b\n\ndata: c\n\n";
  const Recording lf = parse_one_shot(stream);
  ASSERT_THAT(data_of(lf), ElementsAre("a\nb", "c"));
  EXPECT_EQ(parse_one_shot(test::with_line_ends(stream, "\r\n")), lf);
  EXPECT_EQ(parse_one_shot(test::with_line_ends(stream, "\r")), lf);
}

TEST(SseParser, CrAtEndOfFeedAndLfAtStartOfNextAreOneLineEnd) {
  // Were the LF a second line end, it would be a blank line dispatching "a" alone.
  const Recording r = parse_in_pieces("data: a\r\ndata: b\r\n\r\n", {8});
  EXPECT_THAT(data_of(r), ElementsAre("a\nb"));
}

TEST(SseParser, CrFollowedByCrIsTwoLineEnds) {
  EXPECT_THAT(data_of(parse_in_pieces("data: a\r\rdata: b\r\r", {8})), ElementsAre("a", "b"));
  EXPECT_THAT(data_of(parse_one_shot("data: a\r\n\ndata: b\n\r\n")), ElementsAre("a", "b"));
}

TEST(SseParser, MixedStreamGivesSameResultForEverySplit) {
  const std::string stream =
      "\xEF\xBB\xBF: hello\r\nretry: 10\rid: 7\nevent: chunk\r\ndata: {\"a\":1}\r\ndata\r\n\r\n"
      "data: tail\r\rdata:  x\n:end\r\n\n";
  const Recording r = parse_one_shot(stream);
  EXPECT_THAT(r.events, ElementsAre(RecordedEvent{"chunk", "{\"a\":1}\n", "7"}, RecordedEvent{"message", "tail", "7"},
                                    RecordedEvent{"message", " x", "7"}));
  EXPECT_THAT(r.comments, ElementsAre("hello", "end"));
  EXPECT_EQ(first_split_difference(stream), "");
  EXPECT_EQ(first_split_difference(test::with_line_ends(stream, "\r")), "");
}

TEST(SseParser, SkipsOneLeadingBomOnly) {
  EXPECT_THAT(data_of(parse_one_shot("\xEF\xBB\xBF" "data: x\n\n")), ElementsAre("x"));
  EXPECT_EQ(first_split_difference("\xEF\xBB\xBF" "data: x\n\n"), "");
  // A second BOM is part of the field name "\xEF\xBB\xBF" "data", an unknown field: nothing dispatched.
  EXPECT_THAT(parse_one_shot("\xEF\xBB\xBF\xEF\xBB\xBF" "data: x\n\n").events, IsEmpty());
  // A BOM prefix that turns out not to be a BOM stays part of the line.
  const Recording r = parse_in_pieces("\xEF\xBB" "data: x\n", {1});
  EXPECT_THAT(r.events, IsEmpty());
  EXPECT_FALSE(r.event_pending);
}

TEST(SseParser, FinishReportsCleanEnd) {
  const Recording r = parse_one_shot("data: a\n\n");
  EXPECT_FALSE(r.event_pending);
  EXPECT_FALSE(r.line_pending);
}

TEST(SseParser, FinishReportsPendingEventCutBeforeBlankLine) {
  const Recording r = parse_one_shot("data: a\n\ndata: {\"b\":\ndata: 2}\n");
  EXPECT_THAT(data_of(r), ElementsAre("a"));
  EXPECT_TRUE(r.event_pending);
  EXPECT_FALSE(r.line_pending);
  EXPECT_EQ(r.pending_data, "{\"b\":\n2}");
}

TEST(SseParser, FinishReportsLineCutMidway) {
  const Recording r = parse_one_shot("data: a\n\ndata: [DO");
  EXPECT_FALSE(r.event_pending);
  EXPECT_TRUE(r.line_pending);
  EXPECT_EQ(r.pending_line, "data: [DO");
  EXPECT_TRUE(parse_one_shot("\xEF\xBB").line_pending);  // a stream cut inside its BOM
}

std::string too_large_message(std::size_t buffered, std::string_view start) {
  return "SSE event larger than max_event_bytes (32 bytes): " + std::to_string(buffered) +
         " bytes buffered without a blank line, starting \"" + std::string(start) + "\"";
}

TEST(SseParser, RejectsOneLineLargerThanMaxEventBytes) {
  const std::string line = "data: " + std::string(40, 'x');
  const Recording r = parse_one_shot(line + "\n\n", SseParserOptions{32});
  EXPECT_EQ(r.error, too_large_message(46, "data: " + std::string(34, 'x') + "..."));
  EXPECT_THAT(r.events, IsEmpty());
  // Unterminated, the same line fails too instead of being buffered.
  EXPECT_EQ(parse_one_shot(line, SseParserOptions{32}).error, too_large_message(46, "data: " + std::string(34, 'x') + "..."));
  EXPECT_EQ(parse_one_shot("data: " + std::string(26, 'x') + "\n\n", SseParserOptions{32}).error, "");
}

TEST(SseParser, RejectsManySmallDataLinesAddingUpPastTheLimit) {
  const Recording r = parse_one_shot("data: 0123456789\ndata: 0123456789\ndata: 0123456789\n\n", SseParserOptions{32});
  EXPECT_EQ(r.error, too_large_message(37, "0123456789\\x0a0123456789"));
}

TEST(SseParser, StaysFailedUntilReset) {
  Recording out;
  test::RecordingListener listener(out);
  SseParser parser(listener, SseParserOptions{8});
  const auto first = parser.feed("data: 123456789");
  ASSERT_FALSE(first);
  const auto second = parser.feed("\n\ndata: ok\n\n");
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), first.error());
  EXPECT_THAT(out.events, IsEmpty());
  parser.reset();
  ASSERT_TRUE(parser.feed("data: ok\n\n"));
  EXPECT_THAT(out.events, ElementsAre(RecordedEvent{"message", "ok", ""}));
}

TEST(SseParser, ResetStartsAFreshStream) {
  Recording out;
  test::RecordingListener listener(out);
  SseParser parser(listener);
  ASSERT_TRUE(parser.feed("id: 5\nretry: 9\nevent: e\ndata: stale\ndata: par"));
  parser.reset();
  EXPECT_TRUE(parser.finish().clean());
  EXPECT_EQ(parser.retry_ms(), std::nullopt);
  ASSERT_TRUE(parser.feed("\xEF\xBB\xBF" "data: fresh\n\n"));
  EXPECT_THAT(out.events, ElementsAre(RecordedEvent{"message", "fresh", ""}));
}

}  // namespace
}  // namespace llmd::sse
