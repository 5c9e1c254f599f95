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

// Depth counts brackets outside strings only (escaped quotes and backslashes included).
TEST(ParseJsonBounded, CountsDepthOutsideStrings) {
  const auto deeper_than = [](std::string_view text, std::size_t depth) {
    auto parsed = parse_json_bounded(text, JsonLimits{.max_depth = depth});
    return !parsed && parsed.error().starts_with("is nested deeper");
  };
  EXPECT_FALSE(deeper_than("1", 0));
  EXPECT_TRUE(deeper_than("[]", 0));
  EXPECT_FALSE(deeper_than("[[]]", 2));
  EXPECT_TRUE(deeper_than("[{}]", 1));
  EXPECT_FALSE(deeper_than("[[],[],[]]", 2));                      // siblings do not add up
  EXPECT_FALSE(deeper_than(R"({"a":"[[[[{{{{"})", 1));             // inside a string
  EXPECT_FALSE(deeper_than(R"(["\"[[[[", "\\", "]"])", 1));    // escaped quotes and backslashes
  EXPECT_TRUE(deeper_than(R"(["\\", [[]]])", 2));               // "\\" ends the string
}

}  // namespace
}  // namespace llmd::util

namespace llmd::util {
namespace {

TEST(ParseJsonBounded, ParsesOrdinaryDocuments) {
  auto parsed = parse_json_bounded(R"({"a":[1,2,{"b":"[[[ not nesting ]]]"}],"c":null})");
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ((*parsed)["a"][2]["b"], "[[[ not nesting ]]]");
}

TEST(ParseJsonBounded, RefusesDeepOrHugeDocumentsBeforeBuildingThem) {
  // 16 MB of "[[[[" took 1.28 GB as a DOM; refused after 129 bytes now.
  const std::string deep(16u << 20U, '[');
  auto parsed = parse_json_bounded(deep);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error(), "is nested deeper than 128 levels");
  EXPECT_TRUE(parse_json_bounded(std::string(128, '[') + std::string(128, ']')));
  std::string wide = "[0";
  for (int i = 0; i < 1000; ++i) {
    wide += ",0";
  }
  wide += "]";
  EXPECT_EQ(parse_json_bounded(wide, JsonLimits{64, 1000}).error(), "has more than 1000 values");
  EXPECT_TRUE(parse_json_bounded(wide, JsonLimits{64, 1002}));  // the array and its 1,001 elements
  EXPECT_EQ(parse_json_bounded(R"([[],[],{}])", JsonLimits{64, 3}).error(), "has more than 3 values");
}

TEST(ParseJsonBounded, MalformedTextAndNumberOverflowAreErrorsNotExceptions) {
  auto broken = parse_json_bounded("{\"a\":");
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().rfind("is not JSON (", 0), 0u) << broken.error();
  EXPECT_NO_THROW((void)parse_json_bounded("[1e99999]"));
  EXPECT_FALSE(parse_json_bounded("\xFF"));
}

}  // namespace
}  // namespace llmd::util

namespace llmd::util {
namespace {

TEST(JsonUint, AcceptsNonNegativeIntegersOnly) {
  EXPECT_EQ(json_uint(nlohmann::json(5)), 5u);
  EXPECT_EQ(json_uint(nlohmann::json(18446744073709551615ULL)), 18446744073709551615ULL);
  EXPECT_FALSE(json_uint(nlohmann::json(-1)));
  EXPECT_FALSE(json_uint(nlohmann::json(1.5)));
  EXPECT_FALSE(json_uint(nlohmann::json("7")));
}

TEST(CompactJsonWhitespace, DropsLayoutKeepsStringsAndKeepsTokensApart) {
  EXPECT_EQ(compact_json_whitespace("{\n  \"a b\": [\n    1,\n    2\n  ],\t\"c\" : \"x\\\" y\"\r\n}\n"),
            "{\"a b\":[1,2],\"c\":\"x\\\" y\"}");
  EXPECT_EQ(compact_json_whitespace("[1 2, true  false]"), "[1 2,true false]");  // stays invalid JSON
  EXPECT_EQ(compact_json_whitespace("  \"\\\\\"  "), "\"\\\\\"");  // an escaped backslash ends before the quote
  const nlohmann::json value = {{"h", {{"buckets", {{1, 2}, {3, 4}}}}}, {"s", "two  spaces"}};
  EXPECT_EQ(nlohmann::json::parse(compact_json_whitespace(value.dump(2))), value);
}

TEST(JsonExcerpt, CutsLongValuesTo60Characters) {
  EXPECT_EQ(json_excerpt(nlohmann::json("ok")), "\"ok\"");
  const std::string excerpt = json_excerpt(nlohmann::json(std::string(100, 'x')));
  EXPECT_EQ(excerpt.size(), 60u);
  EXPECT_TRUE(excerpt.ends_with("..."));
}

}  // namespace
}  // namespace llmd::util
