#include "sse/json_scanner.hpp"

#include <string>

#include <gtest/gtest.h>

namespace llmd::sse {
namespace {

bool skips_whole(std::string_view text) {
  JsonCursor cursor(text);
  return cursor.skip_value() && cursor.at_end();
}

TEST(JsonCursor, SkipsValidValues) {
  for (const char* text : {"0", "-1.5e+3", "12E-2", "true", "false", "null", "\"a\\u0041\"", "[]", "{}",
                           " { \"a\" : [ 1 , { \"b\" : null } ] , \"c\":\"\" } "}) {
    EXPECT_TRUE(skips_whole(text)) << text;
  }
}

TEST(JsonCursor, RefusesInvalidValues) {
  for (const char* text : {"01", "-", "1.", "1e", ".5", "tru", "nul", "[1,]", "{\"a\"}", "{\"a\":1,}", "{a:1}",
                           "\"unterminated", "\"bad \\x escape\"", "[1 2]", "\"tab\there\""}) {
    EXPECT_FALSE(skips_whole(text)) << text;
  }
}

TEST(JsonCursor, GivesUpBeyondMaxDepth) {
  const int depth = JsonCursor::k_max_depth;
  EXPECT_TRUE(skips_whole(std::string(depth, '[') + std::string(depth, ']')));
  EXPECT_FALSE(skips_whole(std::string(depth + 1, '[') + std::string(depth + 1, ']')));
}

TEST(JsonCursor, ReadsStringRawAndDecodedLength) {
  JsonCursor cursor(R"( "a\"b\u00e9\ud83d\ude00" )");
  JsonString text;
  ASSERT_TRUE(cursor.read_string(text));
  EXPECT_EQ(text.raw, R"(a\"b\u00e9\ud83d\ude00)");
  EXPECT_EQ(text.decoded_bytes, 1u + 1u + 1u + 2u + 4u);
  EXPECT_TRUE(text.has_escapes);
  EXPECT_TRUE(cursor.at_end());
}

// read_string skips plain bytes eight at a time: a special byte ('"', '\\', a control byte) must be
// found at every offset of the word and of the tail, next to bytes that are nearly special
// (0x1f/0x20, 0x21/0x23, 0x5b/0x5d, 0x7f, 0x80.., 0xff).
TEST(JsonCursor, FindsTheEndOfAStringAtEveryOffset) {
  const std::string fillers = "a \x21\x23\x5b\x5d\x7f\x80\xa2\xdc\xff~";
  for (std::size_t length = 0; length < 40; ++length) {
    for (const char filler : fillers) {
      const std::string plain(length, filler);
      {
        const std::string json = "\"" + plain + "\"" + plain + "\"";  // the cursor keeps a view: name it
        JsonCursor cursor(json);
        JsonString text;
        ASSERT_TRUE(cursor.read_string(text)) << length;
        EXPECT_EQ(text.raw, plain);
        EXPECT_EQ(text.decoded_bytes, length);
        EXPECT_FALSE(text.has_escapes);
        EXPECT_EQ(cursor.offset(), length + 2);
      }
      {
        const std::string json = "\"" + plain + "\\n" + plain + "\"";
        JsonCursor cursor(json);
        JsonString text;
        ASSERT_TRUE(cursor.read_string(text)) << length << " filler " << int(filler);
        EXPECT_EQ(text.decoded_bytes, 2 * length + 1);
        EXPECT_TRUE(text.has_escapes);
      }
      for (const char control : {'\x00', '\x01', '\x1f', '\n'}) {
        const std::string json = "\"" + plain + std::string(1, control) + plain + "\"";
        JsonCursor cursor(json);
        JsonString text;
        EXPECT_FALSE(cursor.read_string(text)) << length << " control " << int(control);
      }
      const std::string json = "\"" + plain;
      JsonCursor unterminated(json);
      JsonString text;
      EXPECT_FALSE(unterminated.read_string(text)) << length;
    }
  }
}

TEST(JsonCursor, RefusesLoneSurrogates) {
  for (const char* text : {R"("\ud83d")", R"("\ud83dx")", R"("\ude00")", R"("\ud83d\u0041")"}) {
    JsonCursor cursor(text);
    JsonString ignored;
    EXPECT_FALSE(cursor.read_string(ignored)) << text;
  }
}

TEST(JsonCursor, ReadsOnlyPlainNonNegativeCounts) {
  std::int64_t value = -1;
  JsonCursor plain(" 113,");
  ASSERT_TRUE(plain.read_count(value));
  EXPECT_EQ(value, 113);
  EXPECT_TRUE(plain.consume(','));
  for (const char* text : {"-1", "1.0", "1e3", "007", "x", "123456789012345678901"}) {
    JsonCursor cursor(text);
    EXPECT_FALSE(cursor.read_count(value)) << text;
  }
}

}  // namespace
}  // namespace llmd::sse
