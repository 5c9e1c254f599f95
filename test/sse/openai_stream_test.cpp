#include "sse/openai_stream.hpp"

#include <deque>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sse/sse_test_support.hpp"

namespace llmd::sse {
namespace {

// Storage for the finish reasons handed out by decode_checked(): a chunk's finish_reason views its
// decoder, which is gone when decode_checked returns (ASan: stack-use-after-return). A deque
// never moves its elements.
std::string_view keep(std::string text) {
  static std::deque<std::string> kept;
  kept.push_back(std::move(text));
  return kept.back();
}

// Decodes with the fast path and checks the nlohmann-only path classifies identically.
OpenAiChunk decode_checked(std::string_view data) {
  OpenAiStreamDecoder decoder;
  OpenAiChunk fast = decoder.decode(data);
  const std::string fast_reason(fast.finish_reason);
  OpenAiStreamDecoder slow_decoder;
  const OpenAiChunk slow = slow_decoder.decode_slow(data);
  EXPECT_EQ(fast.kind, slow.kind) << data;
  EXPECT_EQ(fast.text_bytes, slow.text_bytes) << data;
  EXPECT_EQ(fast.reasoning_bytes, slow.reasoning_bytes) << data;
  EXPECT_EQ(fast.choice_count, slow.choice_count) << data;
  EXPECT_EQ(fast_reason, slow.finish_reason) << data;
  EXPECT_EQ(fast.usage, slow.usage) << data;
  EXPECT_EQ(fast.error, slow.error) << data;
  EXPECT_EQ(fast.problem, slow.problem) << data;
  fast.finish_reason = keep(fast_reason);
  return fast;
}

TEST(OpenAiStreamDecoder, CompletionsTextIsContent) {
  const auto chunk = decode_checked(
      R"({"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,)"
      R"("text":" Hello","logprobs":null,"finish_reason":null,"stop_reason":null}],"usage":null})");
  EXPECT_EQ(chunk.kind, ChunkKind::content);
  EXPECT_EQ(chunk.text_bytes, 6u);
  EXPECT_EQ(chunk.choice_count, 1u);
  EXPECT_EQ(chunk.finish_reason, "");
  EXPECT_EQ(chunk.usage, std::nullopt);
}

TEST(OpenAiStreamDecoder, ChatRoleOnlyFirstDeltaIsNotAToken) {
  const auto role_only = decode_checked(
      R"({"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant"},"logprobs":null,"finish_reason":null}]})");
  EXPECT_EQ(role_only.kind, ChunkKind::empty_delta);
  EXPECT_EQ(role_only.text_bytes, 0u);
  const auto empty_content = decode_checked(R"({"choices":[{"delta":{"role":"assistant","content":""}}]})");
  EXPECT_EQ(empty_content.kind, ChunkKind::empty_delta);
  const auto content = decode_checked(R"({"choices":[{"delta":{"content":"Hi"},"finish_reason":null}]})");
  EXPECT_EQ(content.kind, ChunkKind::content);
  EXPECT_EQ(content.text_bytes, 2u);
}

TEST(OpenAiStreamDecoder, ReportsFinishReason) {
  const auto chunk = decode_checked(R"({"choices":[{"index":0,"delta":{},"finish_reason":"length"}],"usage":null})");
  EXPECT_EQ(chunk.kind, ChunkKind::empty_delta);
  EXPECT_EQ(chunk.finish_reason, "length");
}

TEST(OpenAiStreamDecoder, UsageOnlyLastChunkWithEmptyChoices) {
  const auto chunk = decode_checked(
      R"({"id":"x","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":15,)"
      R"("total_tokens":128,"completion_tokens":113,"prompt_tokens_details":{"cached_tokens":12}}})");
  EXPECT_EQ(chunk.kind, ChunkKind::usage_only);
  EXPECT_EQ(chunk.usage, (Usage{15, 113, 12}));
  EXPECT_EQ(decode_checked(R"({"choices":[],"usage":{"completion_tokens":3,"prompt_tokens":4,"prompt_tokens_details":null}})").usage,
            (Usage{4, 3, std::nullopt}));
  EXPECT_EQ(decode_checked(R"({"choices":[],"usage":null})").kind, ChunkKind::empty_delta);
}

TEST(OpenAiStreamDecoder, RecognisesDone) {
  EXPECT_EQ(decode_checked("[DONE]").kind, ChunkKind::done);
  EXPECT_EQ(decode_checked(" [DONE]\n").kind, ChunkKind::done);
  EXPECT_EQ(decode_checked("[DONE]x").kind, ChunkKind::malformed);
}

TEST(OpenAiStreamDecoder, InBandErrorInBothVllmShapes) {
  const auto nested = decode_checked(
      R"({"error":{"message":"Engine died","type":"InternalServerError","param":null,"code":500}})");
  EXPECT_EQ(nested.kind, ChunkKind::error);
  EXPECT_EQ(nested.error, (ApiError{500, "InternalServerError", "Engine died"}));
  const auto old_flat_inside = decode_checked(
      R"({"error":{"object":"error","message":"bad","type":"BadRequestError","param":null,"code":400}})");
  EXPECT_EQ(old_flat_inside.error, (ApiError{400, "BadRequestError", "bad"}));
}

// Found by the sse_openai fuzz target (corpus: case-chunk-with-message): a chunk carrying a
// top-level "message" member was content to the fast path and an error to nlohmann's path (which
// took any "message" for vLLM's flat error form). A payload with "choices" is a chunk; "message"
// alone, or "object":"error", is an error on both paths.
TEST(OpenAiStreamDecoder, MessageMemberBesideChoicesIsStillAChunk) {
  const auto chunk = decode_checked(
      R"({"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hi"}}],"message":{}})");
  EXPECT_EQ(chunk.kind, ChunkKind::content);
  EXPECT_EQ(chunk.text_bytes, 2u);
  const auto flat = decode_checked(R"({"message":"overloaded","type":"ServiceUnavailableError","code":503})");
  EXPECT_EQ(flat.kind, ChunkKind::error);
  EXPECT_EQ(flat.error, (ApiError{503, "ServiceUnavailableError", "overloaded"}));
  const auto with_usage = decode_checked(R"({"message":"bad","usage":{"prompt_tokens":1,"completion_tokens":2}})");
  EXPECT_EQ(with_usage.kind, ChunkKind::error);
  const auto object_error = decode_checked(R"({"object":"error","choices":[{"text":"a"}],"message":"m"})");
  EXPECT_EQ(object_error.kind, ChunkKind::error);
  EXPECT_EQ(decode_checked(R"({"object":"\u0065rror","choices":[]})").kind, ChunkKind::error);
  EXPECT_EQ(decode_checked(R"({"object":1,"choices":[{"text":"ab"}]})").text_bytes, 2u);
}

TEST(OpenAiStreamDecoder, TruncatedJsonIsMalformed) {
  const auto chunk = decode_checked(R"({"choices":[{"delta":{"content":"a"})");
  EXPECT_EQ(chunk.kind, ChunkKind::malformed);
  EXPECT_EQ(chunk.problem,
            "SSE data is not JSON ([json.exception.parse_error.101] parse error at line 1, column 37: syntax error while "
            "parsing object - unexpected end of input; expected '}'): "
            R"("{\"choices\":[{\"delta\":{\"content\":\"a\"}")");
}

TEST(OpenAiStreamDecoder, WrongShapesAreMalformedWithReason) {
  EXPECT_EQ(decode_checked(R"({"choices":{"text":"a"}})").problem,
            R"(SSE data is not an OpenAI stream chunk ("choices" is object, not an array): "{\"choices\":{\"text\":\"a\"}}")");
  EXPECT_EQ(decode_checked(R"({"id":"x"})").problem,
            R"(SSE data is not an OpenAI stream chunk (no "choices", "usage" or "error"): "{\"id\":\"x\"}")");
  EXPECT_EQ(decode_checked(R"([1])").problem,
            R"(SSE data is not an OpenAI stream chunk (the payload is array, not an object): "[1]")");
  EXPECT_EQ(decode_checked(R"({"choices":[{"text":5}]})").problem,
            R"(SSE data is not an OpenAI stream chunk ("text" is number, not a string): "{\"choices\":[{\"text\":5}]}")");
  EXPECT_EQ(decode_checked(R"({"choices":[],"usage":{"prompt_tokens":1}})").problem,
            R"(SSE data is not an OpenAI stream chunk ("usage" has no non-negative integer "completion_tokens"): )"
            R"("{\"choices\":[],\"usage\":{\"prompt_tokens\":1}}")");
}

TEST(OpenAiStreamDecoder, TokenCountsAbove1e15AreNoCountOnBothPaths) {
  // 2^64-1 from a broken server used to become -1 (then 0) output tokens.
  EXPECT_EQ(decode_checked(R"({"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":18446744073709551615}})").kind,
            ChunkKind::malformed);
  EXPECT_EQ(decode_checked(R"({"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":9999999999999999}})").kind,
            ChunkKind::malformed);
  EXPECT_EQ(decode_checked(R"({"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1000000000000000}})").usage,
            (Usage{1, 1'000'000'000'000'000, std::nullopt}));
  EXPECT_EQ(decode_checked(R"({"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":999999999999999}})").usage,
            (Usage{1, 999'999'999'999'999, std::nullopt}));
}

TEST(OpenAiStreamDecoder, MeasuresDecodedUtf8BytesOfEscapedText) {
  // é (2) \n (1) \" (1) \\ (1) \/ (1) U+1F600 as a surrogate pair (4) A (1) \u0041 (1)
  const auto escaped = decode_checked(R"({"choices":[{"delta":{"content":"\u00e9\n\"\\\/\ud83d\ude00A\u0041"}}]})");
  EXPECT_EQ(escaped.text_bytes, 12u);
  EXPECT_EQ(decode_checked(R"({"choices":[{"text":"\u20ac"}]})").text_bytes, 3u);
  EXPECT_EQ(decode_checked("{\"choices\":[{\"text\":\"\xC3\xA9\"}]}").text_bytes, 2u);  // raw é
  // A lone surrogate is invalid JSON for nlohmann, so both paths call it malformed.
  EXPECT_EQ(decode_checked(R"({"choices":[{"text":"\ud83d"}]})").kind, ChunkKind::malformed);
}

// Found by the sse_openai fuzz target (corpus: case-invalid-utf8): ill-formed UTF-8 inside a string
// is malformed on both paths, whatever else the payload holds; well-formed raw UTF-8 is text.
TEST(OpenAiStreamDecoder, IllFormedUtf8IsMalformedOnBothPaths) {
  EXPECT_EQ(decode_checked("{\"choices\":[{\"index\":0,\"text\":\"ok \xff\xfe\",\"finish_reason\":null}]}").kind,
            ChunkKind::malformed);
  EXPECT_EQ(decode_checked("{\"choices\":[{\"delta\":{\"content\":\"\xc3\x28\"}}],\"usage\":{\"prompt_tokens\":1.0,"
                           "\"completion_tokens\":2}}")
                .kind,
            ChunkKind::malformed);
  EXPECT_EQ(decode_checked("{\"choices\":[{\"text\":\"a\",\"logprobs\":{\"tokens\":[\"\xed\xa0\x80\"]}}]}").kind,
            ChunkKind::malformed);
  EXPECT_EQ(decode_checked("{\"choices\":[{\"text\":\"\xe2\x82\xac \xf0\x9f\x98\x80\"}]}").text_bytes, 8u);
}

// Found by the sse_openai fuzz target (corpus: seed-duplicate-keys-numbers): the fast path read
// every "choices" (and "text", "usage", ...) of a payload with duplicate keys, nlohmann only the
// last, so the two paths counted different text. A duplicate of a key the scanner reads now sends
// the payload to nlohmann, whose reading (the last one wins) decides.
TEST(OpenAiStreamDecoder, DuplicateKeysAreReadAsNlohmannReadsThem) {
  const auto choices = decode_checked(R"({"choices":[{"text":"a"}],"choices":[{"text":"bb"}]})");
  EXPECT_EQ(choices.text_bytes, 2u);
  EXPECT_EQ(choices.choice_count, 1u);
  EXPECT_EQ(decode_checked(R"({"choices":[{"text":"a","text":"bbb"}]})").text_bytes, 3u);
  EXPECT_EQ(decode_checked(R"({"choices":[{"delta":{"content":"a","content":null}}]})").kind, ChunkKind::empty_delta);
  EXPECT_EQ(decode_checked(R"({"choices":[{"delta":{"content":"a"},"delta":{"content":"bb"}}]})").text_bytes, 2u);
  EXPECT_EQ(decode_checked(R"({"choices":[{"text":"a","finish_reason":"stop","finish_reason":"length"}]})").finish_reason,
            "length");
  EXPECT_EQ(decode_checked(R"({"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2},"usage":null})").kind,
            ChunkKind::empty_delta);
  EXPECT_EQ(decode_checked(R"({"choices":[],"usage":{"prompt_tokens":1,"prompt_tokens":3,"completion_tokens":2}})").usage,
            (Usage{3, 2, std::nullopt}));
  EXPECT_EQ(decode_checked(R"({"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,)"
                           R"("prompt_tokens_details":{"cached_tokens":1,"cached_tokens":0}}})")
                .usage,
            (Usage{1, 2, 0}));
  EXPECT_EQ(decode_checked(R"({"choices":[{"delta":{"reasoning_content":"ab","reasoning":"c"}}]})").reasoning_bytes, 3u);
}

// Found by the sse_openai fuzz target (corpus: seed-duplicate-keys-numbers): nlohmann refuses a
// number beyond a double (out_of_range.406, not a parse_error), which escaped decode_slow's catch and
// would have ended the run (std::terminate); the fast path skipped such numbers as fine.
TEST(OpenAiStreamDecoder, NumbersBeyondADoubleAreMalformedOnBothPathsWithoutThrowing) {
  const std::vector<std::string> hostile = {R"({"choices":[{"text":1e400}]})",
                                            R"({"choices":[{"text":"a","logprobs":{"x":-1e999}}]})",
                                            R"({"choices":[{"text":"a"}],"created":)" + std::string(400, '9') + "}"};
  for (const std::string& data : hostile) {
    OpenAiChunk chunk;
    ASSERT_NO_THROW(chunk = decode_checked(data)) << data;
    EXPECT_EQ(chunk.kind, ChunkKind::malformed) << data;
    EXPECT_THAT(chunk.problem, testing::HasSubstr("out_of_range.406")) << chunk.problem;
  }
  EXPECT_EQ(decode_checked(R"({"choices":[{"text":"a","logprobs":{"x":1e-400,"y":1.7e308}}]})").kind, ChunkKind::content);
}

// A payload nested deeper than util::JsonLimits allows (128) is malformed without being parsed
// (1 MiB of "[" would have taken nlohmann ~40 MB); the fast path gives up at 64 levels anyway.
TEST(OpenAiStreamDecoder, NestingDeeperThan128LevelsIsMalformed) {
  const std::string deep = std::string(R"({"choices":[{"text":"a","logprobs":)") + std::string(200, '[') +
                           std::string(200, ']') + "}]}";
  const auto chunk = decode_checked(deep);
  EXPECT_EQ(chunk.kind, ChunkKind::malformed);
  EXPECT_THAT(chunk.problem, testing::StartsWith("SSE data is nested deeper than 128 levels: \""));
  const std::string fine = std::string(R"({"choices":[{"text":"a","logprobs":)") + std::string(100, '[') +
                           std::string(100, ']') + "}]}";
  EXPECT_EQ(decode_checked(fine).kind, ChunkKind::content);  // the fast path gave up, nlohmann decided
}

TEST(OpenAiStreamDecoder, IgnoresDecoyTextKeysInsideLogprobs) {
  const auto completions = decode_checked(
      R"({"choices":[{"index":0,"logprobs":{"text_offset":[0],"tokens":["decoy"],"top_logprobs":[{"text":"decoy","content":"x"}],)"
      R"("text":"decoy text"},"text":"","finish_reason":null}],"text":"top-level decoy"})");
  EXPECT_EQ(completions.kind, ChunkKind::empty_delta);
  EXPECT_EQ(completions.text_bytes, 0u);
  const auto chat = decode_checked(
      R"({"choices":[{"logprobs":{"content":[{"token":"Hi","logprob":-0.25,"bytes":[72,105],)"
      R"("top_logprobs":[{"token":"Hello","content":"Hello","text":"Hello"}]}]},"delta":{"content":"Hi"}}]})");
  EXPECT_EQ(chat.kind, ChunkKind::content);
  EXPECT_EQ(chat.text_bytes, 2u);
}

TEST(OpenAiStreamDecoder, AcceptsWhitespaceAndAnyKeyOrder) {
  const auto chunk = decode_checked(
      "{ \"usage\" :\n{ \"completion_tokens\" : 7 ,\t\"prompt_tokens\":\r\n3 } ,\n"
      "  \"choices\" : [ { \"finish_reason\" : \"stop\" , \"delta\" : { \"content\" : \"ok\" } } ] ,\"id\":\"c\" }\n");
  EXPECT_EQ(chunk.kind, ChunkKind::content);
  EXPECT_EQ(chunk.text_bytes, 2u);
  EXPECT_EQ(chunk.finish_reason, "stop");
  EXPECT_EQ(chunk.usage, (Usage{3, 7, std::nullopt}));
}

// ChunkTemplate / ChunkPrefix: after a chunk, the next one that equals it but for its text string is
// read by that string alone, and one that starts with the same bytes up to "choices" is scanned from
// there. Whatever the bytes, the chunk must come out exactly as from a fresh decoder.
TEST(OpenAiStreamDecoder, AChunkReadAfterASimilarOneDecodesAsAFreshOne) {
  const std::string start = R"({"id":"c-1","object":"chat.completion.chunk","created":1,"model":"m",)";
  const std::string message_start = R"({"message":"hi",)";
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {start + R"("choices":[{"index":0,"delta":{"content":"ab"},"finish_reason":null}]})",
       start + R"("choices":[{"index":0,"delta":{"content":"xyz"},"finish_reason":"stop"}]})"},
      {start + R"("choices":[{"text":"a"}]})", start + R"("choices":[{"text":"x"}],"choices":[]})"},  // duplicate
      {start + R"("choices":[{"text":"a"}]})", start + R"("choices":[{"text":"x")"},                 // truncated
      {start + R"("choices":[{"text":"a"}]})", start + R"("error":{"message":"boom","type":"x","code":500}})"},
      {start + R"("choices":[{"text":"a"}]})", start + R"("choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}})"},
      {start + R"("choices":[{"text":"a"}]})", start + R"("choices":[{"text":"a"}]} x)"},  // trailing bytes
      {start + R"("choices":[{"text":"a"}]})", start + R"( "choices" : [ {"text":"abc"} ] })"},
      {start + R"("choices":[{"text":"a"}]})", start + R"("usage":null,"choices":[{"text":"ab"}]})"},
      {start + R"("choices":[{"text":"a"}]})", start},  // only the start: nothing after it to resume on
      {start + R"("choices":[{"text":"a"}]})", start + "}"},
      {message_start + R"("choices":[{"text":"a"}]})", message_start + R"("usage":null})"},  // a flat error shape
      {message_start + R"("choices":[{"text":"a"}]})", message_start + R"("choices":[{"text":"bc"}]})"},
      {R"({"choices":[{"text":"a"}]})", R"({"choices":[{"text":"ab"}],"object":"error"})"},
      {R"({"usage":null,"choices":[{"text":"a"}]})", R"({"usage":null,"choices":[{"text":"ab"}]})"},
      // The same but for the text string (ChunkTemplate), and near misses.
      {R"({"choices":[{"text":"a","logprobs":null}]})", R"({"choices":[{"text":"\u00e9\n","logprobs":null}]})"},
      {R"({"choices":[{"text":"a","logprobs":null}]})", R"({"choices":[{"text":"","logprobs":null}]})"},
      {R"({"choices":[{"text":"a","logprobs":null}]})", R"({"choices":[{"text":"\x","logprobs":null}]})"},
      {R"({"choices":[{"text":"a","logprobs":null}]})", R"({"choices":[{"text":"a\"","logprobs":null}]})"},
      {R"({"choices":[{"text":"a","logprobs":null}]})", R"({"choices":[{"text":null,"logprobs":null}]})"},
      {R"({"choices":[{"text":"a","logprobs":null}]})", R"({"choices":[{"text":"abc","logprobs":null}],"x":1})"},
      {R"({"choices":[{"text":"a","logprobs":null}]})", R"({"choices":[{"text":"abc","logprobs":null}]} )"},
      {R"({"choices":[{"text":"a","logprobs":null}]})", R"({"choices":[{"text":"abc","logprobs":null}])"},
      {R"({"choices":[{"text":"a","logprobs":null}]})", R"({"choices":[{"text":"ab)" "\xff" R"(","logprobs":null}]})"},
      {R"({"choices":[{"text":"a","finish_reason":"stop"}]})", R"({"choices":[{"text":"abcd","finish_reason":"stop"}]})"},
      {R"({"choices":[{"finish_reason":"stop","text":"a"}]})", R"({"choices":[{"finish_reason":"stop","text":"abcd"}]})"},
      {R"({"choices":[{"text":"a"}],"usage":{"prompt_tokens":1,"completion_tokens":2}})",
       R"({"choices":[{"text":"abc"}],"usage":{"prompt_tokens":1,"completion_tokens":2}})"},
      {R"({"choices":[{"delta":{"reasoning_content":"ab"}}]})", R"({"choices":[{"delta":{"reasoning_content":"abc"}}]})"},
      {R"({"choices":[{"delta":{"content":"ab"}}]})", R"({"choices":[{"delta":{"content":"ab"}},{"delta":{"content":"c"}}]})"},
      {R"({"choices":[{"text":"a"},{"text":"b"}]})", R"({"choices":[{"text":"a"},{"text":"bcd"}]})"},
  };
  for (const auto& [first, second] : pairs) {
    SCOPED_TRACE(first + " then " + second);
    OpenAiStreamDecoder decoder;
    (void)decoder.decode(first);
    const OpenAiChunk resumed = decoder.decode(second);
    OpenAiStreamDecoder fresh_decoder;
    const OpenAiChunk fresh = fresh_decoder.decode(second);
    EXPECT_EQ(resumed.kind, fresh.kind);
    EXPECT_EQ(resumed.text_bytes, fresh.text_bytes);
    EXPECT_EQ(resumed.reasoning_bytes, fresh.reasoning_bytes);
    EXPECT_EQ(resumed.choice_count, fresh.choice_count);
    EXPECT_EQ(resumed.finish_reason, fresh.finish_reason);
    EXPECT_EQ(resumed.usage, fresh.usage);
    EXPECT_EQ(resumed.error, fresh.error);
    EXPECT_EQ(resumed.problem, fresh.problem);
  }
  OpenAiStreamDecoder decoder;  // and the resumed read itself: three chunks of one stream
  EXPECT_EQ(decoder.decode(pairs[0].first).text_bytes, 2u);
  const OpenAiChunk second = decoder.decode(pairs[0].second);
  EXPECT_EQ(second.text_bytes, 3u);
  EXPECT_EQ(second.finish_reason, "stop");
  EXPECT_EQ(decoder.decode(start + R"("choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}})").kind,
            ChunkKind::usage_only);
  EXPECT_EQ(decoder.tally().output_tokens(), 2);
}

TEST(OpenAiStreamDecoder, FallsBackForShapesTheScannerDoesNotTake) {
  EXPECT_EQ(decode_checked(R"({"ch\u006fices":[{"text":"ab"}]})").text_bytes, 2u);  // escaped key
  EXPECT_EQ(decode_checked(R"({"choices":[],"usage":{"prompt_tokens":15.0,"completion_tokens":2}})").usage,
            (Usage{15, 2, std::nullopt}));
  EXPECT_EQ(decode_checked(R"({"choices":[{"text":"x","finish_reason":"st\u006fp"}]})").finish_reason, "stop");
  EXPECT_EQ(decode_checked(R"({"choices":null,"usage":null})").kind, ChunkKind::empty_delta);
}

TEST(OpenAiStreamDecoder, CountsReasoningAsGeneratedText) {
  const auto chunk = decode_checked(R"({"choices":[{"delta":{"reasoning_content":"hmm","content":null}}]})");
  EXPECT_EQ(chunk.kind, ChunkKind::content);
  EXPECT_EQ(chunk.text_bytes, 0u);
  EXPECT_EQ(chunk.reasoning_bytes, 3u);
  EXPECT_EQ(decode_checked(R"({"choices":[{"delta":{"reasoning":"ok"}}]})").reasoning_bytes, 2u);
}

TEST(OpenAiStreamDecoder, SumsTextOverChoices) {
  const auto chunk = decode_checked(R"({"choices":[{"index":0,"text":"ab"},{"index":1,"text":"cde","finish_reason":"length"}]})");
  EXPECT_EQ(chunk.choice_count, 2u);
  EXPECT_EQ(chunk.text_bytes, 5u);
  EXPECT_EQ(chunk.finish_reason, "length");
}

TEST(OpenAiStreamDecoder, TallyUsesLastUsageElseContentEvents) {
  OpenAiStreamDecoder decoder;
  for (const char* data : {R"({"choices":[{"delta":{"role":"assistant"}}]})", R"({"choices":[{"delta":{"content":"a"}}]})",
                           R"({"choices":[{"delta":{"content":"bc"}}]})", R"({"choices":[{"delta":{},"finish_reason":"stop"}]})"}) {
    decoder.decode(data);
  }
  EXPECT_EQ(decoder.tally().output_tokens(), 2);
  EXPECT_EQ(decoder.tally().text_bytes, 3u);
  EXPECT_EQ(decoder.tally().finish_reason, "stop");
  decoder.decode(R"({"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":4}})");
  decoder.decode("[DONE]");
  decoder.decode(R"({"choices":[{"text":"late"}]})");
  const StreamTally& tally = decoder.tally();
  EXPECT_EQ(tally.output_tokens(), 4);
  EXPECT_EQ(tally.events, 7u);
  EXPECT_EQ(tally.content_events, 3u);
  EXPECT_TRUE(tally.done_seen);
  EXPECT_EQ(tally.events_after_done, 1u);
  decoder.reset();
  EXPECT_EQ(decoder.tally().events, 0u);
  EXPECT_FALSE(decoder.tally().done_seen);
}

TEST(OpenAiStreamDecoder, TallyCountsErrorsAndMalformed) {
  OpenAiStreamDecoder decoder;
  decoder.decode(R"({"choices":[{"text":"a"}]})");
  decoder.decode(R"({"error":{"message":"first","type":"InternalServerError","code":500}})");
  decoder.decode(R"({"error":{"message":"second"}})");
  decoder.decode("{oops");
  EXPECT_EQ(decoder.tally().error_events, 2u);
  EXPECT_EQ(decoder.tally().malformed_events, 1u);
  EXPECT_EQ(decoder.tally().first_error, (ApiError{500, "InternalServerError", "first"}));
  EXPECT_FALSE(decoder.tally().done_seen);
}

// ---- recorded vLLM streams, fed at every split ----

struct DecodedEvent {
  ChunkKind kind = ChunkKind::malformed;
  std::size_t text_bytes = 0;
  std::string finish_reason;
  std::optional<Usage> usage;
  bool operator==(const DecodedEvent&) const = default;
};

struct DecodedStream {
  std::vector<DecodedEvent> events;
  std::optional<DecodedEvent> pending;  // the undispatched event at the cut, decoded
  std::int64_t output_tokens = 0;
  bool done_seen = false;
  bool operator==(const DecodedStream&) const = default;
};

DecodedEvent to_decoded(const OpenAiChunk& chunk) {
  return {chunk.kind, chunk.text_bytes, std::string(chunk.finish_reason), chunk.usage};
}

DecodedStream decode_recording(const test::Recording& recording) {
  OpenAiStreamDecoder decoder;
  DecodedStream out;
  for (const auto& event : recording.events) {
    out.events.push_back(to_decoded(decoder.decode(event.data)));
  }
  out.output_tokens = decoder.tally().output_tokens();
  out.done_seen = decoder.tally().done_seen;
  if (recording.event_pending) {
    out.pending = to_decoded(OpenAiStreamDecoder().decode(recording.pending_data));
  }
  return out;
}

TEST(OpenAiFixtures, EveryRecordedStreamDecodesTheSameAtEverySplit) {
  const auto fixtures = test::sse_fixtures();
  ASSERT_EQ(fixtures.size(), 3u);
  for (const auto& path : fixtures) {
    for (const char* line_end : {"\n", "\r\n", "\r"}) {
      const std::string stream = test::with_line_ends(test::read_file(path), line_end);
      SCOPED_TRACE(path.filename().string() + " with line ends " + (line_end[0] == '\n' ? "LF" : line_end[1] ? "CRLF" : "CR"));
      const DecodedStream expected = decode_recording(test::parse_one_shot(stream));
      ASSERT_FALSE(expected.events.empty());
      for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        ASSERT_EQ(decode_recording(test::parse_in_pieces(stream, {cut})), expected) << "split at byte " << cut;
      }
      ASSERT_EQ(decode_recording(test::parse_byte_by_byte(stream)), expected);
      ASSERT_EQ(test::first_split_difference(stream), "");
    }
  }
}

// One decoder over a whole recorded stream (each chunk after the first resumed after the shared start,
// ChunkPrefix) reads every event as a fresh decoder reads it alone.
TEST(OpenAiFixtures, EveryEventOfARecordedStreamDecodesAsItDoesAlone) {
  for (const auto& path : test::sse_fixtures()) {
    SCOPED_TRACE(path.filename().string());
    const test::Recording recording = test::parse_one_shot(test::read_file(path));
    OpenAiStreamDecoder decoder;
    for (const auto& event : recording.events) {
      EXPECT_EQ(to_decoded(decoder.decode(event.data)), to_decoded(OpenAiStreamDecoder().decode(event.data))) << event.data;
    }
  }
}

DecodedStream decode_fixture(std::string_view name) {
  return decode_recording(test::parse_one_shot(test::read_fixture(std::string("openai/") + std::string(name))));
}

// The excerpts end with a single "\n": their last event is pending (undispatched) at the cut.
TEST(OpenAiFixtures, OmniTailEndsWithUsageOnlyChunkThenPendingDone) {
  const auto stream = decode_fixture("vllm-omni-chat-stream-include_usage-continuous-pr2313-TAIL-EXCERPT.sse");
  const Usage final_usage{15, 113, std::nullopt};
  EXPECT_EQ(stream.events, (std::vector<DecodedEvent>{{ChunkKind::content, 6, "", Usage{15, 111, std::nullopt}},
                                                      {ChunkKind::content, 1, "", Usage{15, 112, std::nullopt}},
                                                      {ChunkKind::empty_delta, 0, "stop", final_usage},
                                                      {ChunkKind::usage_only, 0, "", final_usage}}));
  EXPECT_EQ(stream.output_tokens, 113);
  EXPECT_FALSE(stream.done_seen);
  EXPECT_EQ(stream.pending, (DecodedEvent{ChunkKind::done, 0, "", std::nullopt}));
}

TEST(OpenAiFixtures, OmniHeadStartsWithEmptyRoleDeltaCarryingUsage) {
  const auto stream = decode_fixture("vllm-omni-chat-stream-include_usage-continuous-pr2313-HEAD-EXCERPT.sse");
  EXPECT_EQ(stream.events, (std::vector<DecodedEvent>{{ChunkKind::empty_delta, 0, "", Usage{15, 0, std::nullopt}}}));
  EXPECT_EQ(stream.pending, (DecodedEvent{ChunkKind::content, 1, "", Usage{15, 1, std::nullopt}}));
}

TEST(OpenAiFixtures, V05ChatStreamCountsContentEventsWithoutUsage) {
  const auto stream = decode_fixture("vllm-v0.5-chat-stream-issue6083-EXCERPT.sse");
  EXPECT_EQ(stream.events, (std::vector<DecodedEvent>{{ChunkKind::empty_delta, 0, "", std::nullopt},
                                                      {ChunkKind::content, 6, "", std::nullopt},
                                                      {ChunkKind::content, 6, "", std::nullopt},
                                                      {ChunkKind::content, 3, "", std::nullopt},
                                                      {ChunkKind::content, 6, "", std::nullopt}}));
  EXPECT_EQ(stream.output_tokens, 4);
  EXPECT_EQ(stream.pending, (DecodedEvent{ChunkKind::content, 9, "", std::nullopt}));
}

TEST(OpenAiFixtures, CompletedTailStreamEndsCleanlyWithDone) {
  const std::string stream =
      test::read_fixture("openai/vllm-omni-chat-stream-include_usage-continuous-pr2313-TAIL-EXCERPT.sse") + "\n";
  const test::Recording recording = test::parse_one_shot(stream);
  EXPECT_FALSE(recording.event_pending);
  EXPECT_FALSE(recording.line_pending);
  const DecodedStream decoded = decode_recording(recording);
  EXPECT_TRUE(decoded.done_seen);
  EXPECT_EQ(decoded.events.size(), 5u);
}

}  // namespace
}  // namespace llmd::sse
