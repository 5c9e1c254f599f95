#include "util/json_text.hpp"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

namespace llmd::util {
namespace {

constexpr const char* k_fffd = "\xEF\xBF\xBD";

TEST(DumpJson, InvalidUtf8BecomesReplacementCharactersInsteadOfThrowing) {
  nlohmann::json value = {{"name", std::string("cache\xFFhit")}, {"labels", {std::string("\xC3\x28")}}};
  EXPECT_THROW((void)value.dump(), nlohmann::json::type_error);  // what used to abort the process
  std::string text;
  ASSERT_NO_THROW(text = dump_json(value));
  EXPECT_EQ(text, std::string(R"({"labels":[")") + k_fffd + R"(("],"name":"cache)" + k_fffd + R"(hit"})");
  EXPECT_EQ(nlohmann::json::parse(text)["name"], std::string("cache") + k_fffd + "hit");
  EXPECT_EQ(dump_json(nlohmann::json{{"a", 1}}, 2), "{\n  \"a\": 1\n}");
}

TEST(ValidUtf8, KeepsWellFormedTextAndReplacesEachBadByte) {
  EXPECT_EQ(valid_utf8("plain ascii"), "plain ascii");
  EXPECT_EQ(valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  EXPECT_EQ(valid_utf8("a\xFF" "b"), std::string("a") + k_fffd + "b");
  EXPECT_EQ(valid_utf8("\xC0\x80"), std::string(k_fffd) + k_fffd);                  // overlong NUL
  EXPECT_EQ(valid_utf8("\xE0\x80\xAF"), std::string(k_fffd) + k_fffd + k_fffd);      // overlong '/'
  EXPECT_EQ(valid_utf8("\xED\xA0\x80"), std::string(k_fffd) + k_fffd + k_fffd);      // UTF-16 surrogate
  EXPECT_EQ(valid_utf8("\xF4\x90\x80\x80"), std::string(k_fffd) + k_fffd + k_fffd + k_fffd);  // > U+10FFFF
  EXPECT_EQ(valid_utf8("\xE2\x82"), std::string(k_fffd) + k_fffd);                  // cut short
  EXPECT_EQ(valid_utf8("\xE2\x82x"), std::string(k_fffd) + k_fffd + "x");
  EXPECT_EQ(valid_utf8(std::string_view("a\0b", 3)), std::string("a\0b", 3));  // NUL is valid UTF-8
}

TEST(JsonNestingExceeds, CountsBracketsOutsideStrings) {
  EXPECT_FALSE(json_nesting_exceeds("", 0));
  EXPECT_FALSE(json_nesting_exceeds("1", 0));
  EXPECT_TRUE(json_nesting_exceeds("[]", 0));
  EXPECT_FALSE(json_nesting_exceeds("[[]]", 2));
  EXPECT_TRUE(json_nesting_exceeds("[{}]", 1));
  EXPECT_FALSE(json_nesting_exceeds("[][][][]", 1));                    // siblings do not add up
  EXPECT_FALSE(json_nesting_exceeds(R"({"a":"[[[[{{{{"})", 1));          // inside a string
  EXPECT_FALSE(json_nesting_exceeds(R"(["\"[[[[", "\\", "]"])", 1));   // escaped quotes and backslashes
  EXPECT_TRUE(json_nesting_exceeds(R"(["\\", [[]]])", 2));             // "\\" ends the string
  EXPECT_FALSE(json_nesting_exceeds("]]]][", 1));                       // not JSON: closers never go below 0
  EXPECT_TRUE(json_nesting_exceeds(std::string(16u << 20, '['), k_max_untrusted_json_depth));
}

}  // namespace
}  // namespace llmd::util
