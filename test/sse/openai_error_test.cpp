#include "sse/openai_error.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sse/sse_test_support.hpp"

namespace llmd::sse {
namespace {

using ::testing::StartsWith;

ApiError classify_fixture(std::string_view name) {
  auto error = classify_error_body(test::read_fixture("openai/" + std::string(name)));
  EXPECT_TRUE(error) << name << ": " << (error ? "" : error.error());
  return error ? *error : ApiError{};
}

TEST(ClassifyErrorBody, NestedFormatSinceV0101) {
  EXPECT_EQ(classify_fixture("vllm-NEWformat-400-max-context-pr22099.json"),
            (ApiError{400, "BadRequestError",
                      "This model's maximum context length is 32768 tokens. However, you requested 39197 tokens in the "
                      "messages, Please reduce the length of the messages. None"}));
  EXPECT_EQ(classify_fixture("vllm-NEWformat-404-unknown-model-UNATTRIBUTED.json"),
            (ApiError{404, "NotFoundError", "The model `does-not-exist-model` does not exist."}));
}

TEST(ClassifyErrorBody, FlatFormatBeforeV0101) {
  EXPECT_EQ(classify_fixture("vllm-OLDformat-400-max-context-issue12886.json"),
            (ApiError{400, "BadRequestError",
                      "This model's maximum context length is 2048 tokens. However, you requested 2723 tokens (1699 in "
                      "the messages, 1024 in the completion). Please reduce the length of the messages or completion."}));
  EXPECT_EQ(classify_fixture("vllm-OLDformat-404-unknown-model-issue3485.json"),
            (ApiError{404, "NotFoundError", "The model `Qwen1.5-14B-Chat-GPTQ-Int8` does not exist."}));
}

// Never throws: nlohmann's out_of_range.406 (a number beyond a double) is no parse_error and used to
// escape; a body nested deeper than 128 levels is refused before it is parsed.
TEST(ClassifyErrorBody, HostileBodiesAreErrorsNotExceptions) {
  util::Result<ApiError> error;
  ASSERT_NO_THROW(error = classify_error_body(R"({"error":{"message":"m","code":1e400}})"));
  ASSERT_FALSE(error);
  EXPECT_THAT(error.error(), StartsWith("error body is not JSON ([json.exception.out_of_range.406] number overflow"));
  error = classify_error_body(std::string(129, '[') + std::string(129, ']'));
  ASSERT_FALSE(error);
  EXPECT_THAT(error.error(), StartsWith("error body is nested deeper than 128 levels: \"[[[["));
}

TEST(ClassifyErrorBody, CodeMayBeMissingOrNotAStatus) {
  EXPECT_EQ(*classify_error_body(R"({"error":{"message":"slow down","code":"429"}})"), (ApiError{429, "", "slow down"}));
  EXPECT_EQ(*classify_error_body(R"({"error":{"message":"m","type":"t","code":"rate_limited"}})"),
            (ApiError{std::nullopt, "t", "m"}));
  EXPECT_EQ(*classify_error_body(R"({"object":"error","message":"m"})"), (ApiError{std::nullopt, "", "m"}));
  EXPECT_EQ(*classify_error_body(R"({"error":"plain text"})"), (ApiError{std::nullopt, "", "plain text"}));
}

TEST(ClassifyErrorBody, RejectsNonJsonBody) {
  const auto error = classify_error_body("<html>502 Bad Gateway</html>");
  ASSERT_FALSE(error);
  EXPECT_THAT(error.error(), StartsWith("error body is not JSON ([json.exception.parse_error.101]"));
  EXPECT_THAT(error.error(), testing::EndsWith(R"(: "<html>502 Bad Gateway</html>")"));
}

TEST(ClassifyErrorBody, RejectsJsonOfAnotherShape) {
  const auto error = classify_error_body(R"({"detail":"Not Found"})");
  ASSERT_FALSE(error);
  EXPECT_EQ(error.error(),
            R"(error body has no "error" member, no "object":"error" and no "message": "{\"detail\":\"Not Found\"}")");
}

}  // namespace
}  // namespace llmd::sse
