#include "sim/openai_api.hpp"

#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using llmd::sim::Api;
using llmd::sim::ApiError;
using llmd::sim::ErrorFormat;
using llmd::sim::parse_generation_request;
using llmd::sim::PodSettings;
using llmd::sim::ResponseWriter;
using nlohmann::json;

namespace {

PodSettings settings() {
  PodSettings s;
  s.model = "m";
  s.max_model_len = 50;
  s.default_max_tokens = 7;
  return s;
}

ApiError error_of(Api api, const std::string& body) {
  auto parsed = parse_generation_request(api, body, settings());
  EXPECT_FALSE(parsed) << body;
  return parsed ? ApiError{} : parsed.error();
}

json event_json(const std::string& event) {
  EXPECT_EQ(event.rfind("data: ", 0), 0u);
  EXPECT_EQ(event.substr(event.size() - 2), "\n\n");
  return json::parse(event.substr(6, event.size() - 8));
}

}  // namespace

TEST(OpenAiApi, ParsesCompletionDefaultsAndOptions) {
  std::size_t tokens = 0;
  auto parsed = parse_generation_request(Api::completions, R"({"prompt":"a b c","stream":true,"stream_options":{"include_usage":true}})",
                                         settings(), &tokens);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->model, "m");
  EXPECT_EQ(parsed->max_tokens, 7u);
  EXPECT_TRUE(parsed->stream);
  EXPECT_TRUE(parsed->include_usage);
  EXPECT_EQ(tokens, 3u);
}

TEST(OpenAiApi, RendersChatMessagesThroughTheTemplate) {
  auto parsed = parse_generation_request(
      Api::chat, R"({"messages":[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"hi"}]}]})",
      settings());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->prompt_text, "<|system|> be brief <|user|> hi");
}

TEST(OpenAiApi, RejectsBadRequestsWithVllmMessages) {
  EXPECT_EQ(error_of(Api::completions, "[1,2]").message, "The request body must be a JSON object, got array.");
  EXPECT_EQ(error_of(Api::completions, R"({"prompt":"x","max_tokens":0})").message, "max_tokens must be at least 1, got 0.");
  EXPECT_EQ(error_of(Api::completions, R"({"prompt":"x","temperature":-1})").message, "temperature must be non-negative, got -1.");
  EXPECT_EQ(error_of(Api::completions, R"({"prompt":"x","stream_options":{"include_usage":true}})").message,
            "Stream options can only be defined when `stream=True`.");
  EXPECT_EQ(error_of(Api::completions, R"({"max_tokens":3})").param, "prompt");
  EXPECT_EQ(error_of(Api::chat, R"({"messages":[]})").param, "messages");
  EXPECT_EQ(error_of(Api::chat, R"({"messages":[{"content":"no role"}]})").message,
            "messages[0] must be an object with a string 'role'");
  const auto unknown = error_of(Api::completions, R"({"model":"other","prompt":"x"})");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.type, "NotFoundError");
  EXPECT_EQ(error_of(Api::completions, R"({"prompt":"x","max_tokens":50})").message,
            "This model's maximum context length is 50 tokens. However, you requested 51 tokens (1 in the messages, 50 in "
            "the completion). Please reduce the length of the messages or completion.");
}

TEST(OpenAiApi, AcceptsTokenIdPrompts) {
  std::size_t tokens = 0;
  auto parsed = parse_generation_request(Api::completions, R"({"prompt":[101,102,103,104]})", settings(), &tokens);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(tokens, 4u);
}

TEST(OpenAiApi, RendersBothVllmErrorFormats) {
  const ApiError error{404, "NotFoundError", "The model `x` does not exist.", "model"};
  const auto flat = json::parse(render_error(error, ErrorFormat::flat));
  EXPECT_EQ(flat, json::parse(R"({"object":"error","message":"The model `x` does not exist.","type":"NotFoundError","param":null,"code":404})"));
  const auto nested = json::parse(render_error(error, ErrorFormat::nested));
  EXPECT_EQ(nested, json::parse(R"({"error":{"message":"The model `x` does not exist.","type":"NotFoundError","param":"model","code":404}})"));
}

TEST(OpenAiApi, StreamChunksHaveTheShapesClientsParse) {
  auto request = parse_generation_request(Api::completions, R"({"prompt":"x"})", settings());
  ASSERT_TRUE(request);
  const ResponseWriter writer(*request, "cmpl-1", 1700000000);
  const auto token = event_json(writer.stream_token_chunk(" he said \"hi\"", nullptr));
  EXPECT_EQ(token["object"], "text_completion");
  EXPECT_EQ(token["choices"][0]["text"], " he said \"hi\"");
  EXPECT_TRUE(token["choices"][0]["finish_reason"].is_null());
  const auto last = event_json(writer.stream_token_chunk(" end", "length"));
  EXPECT_EQ(last["choices"][0]["finish_reason"], "length");
  const auto usage = event_json(writer.stream_usage_chunk(10, 3));
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"], json::parse(R"({"prompt_tokens":10,"total_tokens":13,"completion_tokens":3})"));
  // --prompt-tokens-details: vLLM's field order, details last.
  EXPECT_THAT(writer.stream_usage_chunk(10, 3, 8),
              testing::HasSubstr(R"("usage":{"prompt_tokens":10,"total_tokens":13,"completion_tokens":3,)"
                                 R"("prompt_tokens_details":{"cached_tokens":8}}})"));
  EXPECT_EQ(ResponseWriter::stream_done(), "data: [DONE]\n\n");

  auto chat = parse_generation_request(Api::chat, R"({"messages":[{"role":"user","content":"x"}]})", settings());
  ASSERT_TRUE(chat);
  const ResponseWriter chat_writer(*chat, "chatcmpl-1", 1700000000);
  const auto role = event_json(chat_writer.stream_role_chunk());
  EXPECT_EQ(role["object"], "chat.completion.chunk");
  EXPECT_EQ(role["choices"][0]["delta"]["role"], "assistant");
  const auto full = json::parse(chat_writer.full_response(" a b", "length", 4, 2));
  EXPECT_EQ(full["object"], "chat.completion");
  EXPECT_EQ(full["choices"][0]["message"]["content"], " a b");
  EXPECT_FALSE(full["usage"].contains("prompt_tokens_details"));
  EXPECT_EQ(json::parse(chat_writer.full_response(" a b", "length", 4, 2, 0))["usage"]["prompt_tokens_details"],
            json::parse(R"({"cached_tokens":0})"));
}

// vLLM's get_max_tokens: a chat request without max_tokens / max_completion_tokens may generate up
// to max_model_len - prompt tokens; a completion keeps CompletionRequest's default (16 in vLLM,
// default_max_tokens here).
TEST(OpenAiApi, ChatWithoutMaxTokensGeneratesUpToTheContextLimit) {
  std::size_t tokens = 0;
  auto chat = parse_generation_request(Api::chat, R"({"messages":[{"role":"user","content":"a b c"}]})", settings(), &tokens);
  ASSERT_TRUE(chat);
  EXPECT_EQ(tokens, 4u);  // "<|user|> a b c"
  EXPECT_EQ(chat->max_tokens, 50u - 4u);
  auto capped = parse_generation_request(Api::chat, R"({"messages":[{"role":"user","content":"a"}],"max_completion_tokens":3})",
                                         settings());
  ASSERT_TRUE(capped);
  EXPECT_EQ(capped->max_tokens, 3u);
  auto completion = parse_generation_request(Api::completions, R"({"prompt":"a b c"})", settings());
  ASSERT_TRUE(completion);
  EXPECT_EQ(completion->max_tokens, 7u);
  std::string long_prompt;
  for (int i = 0; i < 50; ++i) {
    long_prompt += "w ";
  }
  const auto full = error_of(Api::chat, R"({"messages":[{"role":"user","content":")" + long_prompt + R"("}]})");
  EXPECT_EQ(full.status, 400);
  EXPECT_EQ(full.message,
            "This model's maximum context length is 50 tokens. However, you requested 51 tokens in the messages, Please "
            "reduce the length of the messages.");
}

// vLLM's completion chunks are dumped with exclude_unset=False: "usage":null on every token chunk,
// with or without stream_options.include_usage; the final usage chunk carries the figures. Chat
// chunks (exclude_unset=True) have no "usage" key.
TEST(OpenAiApi, CompletionChunksCarryUsageNullChatChunksDoNot) {
  for (const char* body : {R"({"prompt":"x","stream":true})", R"({"prompt":"x","stream":true,"stream_options":{"include_usage":true}})"}) {
    auto request = parse_generation_request(Api::completions, body, settings());
    ASSERT_TRUE(request);
    const ResponseWriter writer(*request, "cmpl-1", 1700000000);
    for (const char* reason : {static_cast<const char*>(nullptr), "length"}) {
      const auto chunk = event_json(writer.stream_token_chunk(" a", reason));
      ASSERT_TRUE(chunk.contains("usage")) << body;
      EXPECT_TRUE(chunk["usage"].is_null());
    }
    EXPECT_EQ(event_json(writer.stream_usage_chunk(1, 2))["usage"]["completion_tokens"], 2);
  }
  auto chat = parse_generation_request(Api::chat, R"({"messages":[{"role":"user","content":"x"}],"stream":true})", settings());
  ASSERT_TRUE(chat);
  const ResponseWriter chat_writer(*chat, "chatcmpl-1", 1700000000);
  EXPECT_FALSE(event_json(chat_writer.stream_token_chunk(" a", nullptr)).contains("usage"));
  EXPECT_FALSE(event_json(chat_writer.stream_role_chunk()).contains("usage"));
}

TEST(SimTokenizeApi, ParsesPromptOrMessagesAndRendersVllmsShapes) {
  const PodSettings settings;
  EXPECT_EQ(llmd::sim::parse_tokenize_request(R"({"model":"meta-llama/Llama-3.2-3B-Instruct","prompt":"a b"})", settings), "a b");
  EXPECT_EQ(llmd::sim::parse_tokenize_request(R"({"messages":[{"role":"user","content":"hi"}],"add_generation_prompt":true})",
                                              settings),
            "<|user|> hi");
  const auto unknown = llmd::sim::parse_tokenize_request(R"({"model":"other","prompt":"a"})", settings);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().status, 404);
  const auto bad = llmd::sim::parse_tokenize_request(R"({"prompt":["a"]})", settings);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().param, "prompt");
  EXPECT_EQ(json::parse(llmd::sim::render_tokenize_response({7, 8}, 100)),
            json::parse(R"({"count":2,"max_model_len":100,"tokens":[7,8],"token_strs":null})"));
  EXPECT_EQ(llmd::sim::parse_detokenize_request(R"({"tokens":[1,4294967295]})", settings),
            (std::vector<std::uint32_t>{1, 4294967295U}));
  const auto too_big = llmd::sim::parse_detokenize_request(R"({"tokens":[4294967296]})", settings);
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().param, "tokens");
  EXPECT_FALSE(llmd::sim::parse_detokenize_request(R"({"tokens":"1 2"})", settings));
  EXPECT_EQ(llmd::sim::render_detokenize_response("a \"b\""), R"({"prompt":"a \"b\""})");
}
