#include "sse/json_scanner.hpp"

#include <string>
#include <string_view>
#include <vector>

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

// nlohmann refuses numbers beyond a double (out_of_range.406): the scanner is unsure about them.
TEST(JsonCursor, RefusesNumbersBeyondADouble) {
  for (const std::string& text : {std::string("1e400"), std::string("-1E999"), std::string(400, '9'), "1" + std::string(309, '0') + ".5"}) {
    EXPECT_FALSE(skips_whole(text)) << text;
  }
  for (const std::string& text : {std::string("1.7e308"), std::string(300, '9'), std::string("-0e0"), std::string("5e-324")}) {
    EXPECT_TRUE(skips_whole(text)) << text;
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

// `count` copies of `text`.
std::string repeat(std::string_view text, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    out += text;
  }
  return out;
}

// read_string skips plain bytes eight at a time: a special byte ('"', '\\', a control byte) must be
// found at every offset of the word and of the tail, next to bytes that are nearly special
// (0x1f/0x20, 0x21/0x23, 0x5b/0x5d, 0x7f) and after well-formed UTF-8 of every length (its bytes
// >= 0x80 are checked one sequence at a time).
TEST(JsonCursor, FindsTheEndOfAStringAtEveryOffset) {
  const std::vector<std::string_view> fillers = {"a", " ", "\x21", "\x23", "\x5b", "\x5d", "\x7f", "~",
                                                 "\xc2\x80", "\xc3\xa9", "\xdf\xbf", "\xe2\x82\xac", "\xef\xbf\xbf",
                                                 "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf"};
  for (std::size_t length = 0; length < 40; ++length) {
    for (const std::string_view filler : fillers) {
      const std::string plain = std::string(length % 8, 'x') + repeat(filler, length);
      {
        const std::string json = "\"" + plain + "\"" + plain + "\"";  // the cursor keeps a view: name it
        JsonCursor cursor(json);
        JsonString text;
        ASSERT_TRUE(cursor.read_string(text)) << length;
        EXPECT_EQ(text.raw, plain);
        EXPECT_EQ(text.decoded_bytes, plain.size());
        EXPECT_FALSE(text.has_escapes);
        EXPECT_EQ(cursor.offset(), plain.size() + 2);
      }
      {
        const std::string json = "\"" + plain + "\\n" + plain + "\"";
        JsonCursor cursor(json);
        JsonString text;
        ASSERT_TRUE(cursor.read_string(text)) << length << " filler " << filler;
        EXPECT_EQ(text.decoded_bytes, 2 * plain.size() + 1);
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

// Found by the sse_openai fuzz target: raw bytes >= 0x80 were counted without a check, so
// {"choices":[{"text":"ok \xff"}]} was content on the fast path and malformed on nlohmann's (which
// rejects ill-formed UTF-8), and which one decided depended on the payload's other members.
TEST(JsonCursor, RefusesIllFormedUtf8AtEveryOffset) {
  const std::vector<std::string_view> ill_formed = {
      "\x80",              // a continuation byte without a lead
      "\xc0\xaf",          // overlong '/'
      "\xc3\x28",          // lead without its continuation
      "\xe0\x80\xaf",      // overlong 3-byte
      "\xed\xa0\x80",      // a UTF-16 surrogate
      "\xf4\x90\x80\x80",  // above U+10FFFF
      "\xf8\x88\x80\x80",  // 5-byte lead
      "\xff",
      "\xe2\x82",          // cut short by the closing quote
  };
  for (std::size_t offset = 0; offset < 17; ++offset) {
    for (const std::string_view bytes : ill_formed) {
      const std::string json = "\"" + std::string(offset, 'a') + std::string(bytes) + "\"";
      JsonCursor cursor(json);
      JsonString text;
      EXPECT_FALSE(cursor.read_string(text)) << "offset " << offset << ": " << json;
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
