// A simulated vLLM pod spoken to directly: OpenAI request validation and vLLM's error shapes,
// streaming/non-streaming bodies, metrics flavors, caching off, fault injection.
#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "prom/text_parser.hpp"
#include "support/http_client.hpp"
#include "support/sim_process.hpp"

using llmd::test::http_get;
using llmd::test::http_post;
using llmd::test::SimProcess;
using nlohmann::json;
using testing::HasSubstr;

namespace {

const std::string k_model = "meta-llama/Llama-3.2-3B-Instruct";

std::vector<json> sse_events(const std::string& body) {
  std::vector<json> events;
  std::size_t at = 0;
  while ((at = body.find("data: ", at)) != std::string::npos) {
    const auto end = body.find("\n\n", at);
    const std::string data = body.substr(at + 6, end - at - 6);
    events.push_back(data == "[DONE]" ? json("[DONE]") : json::parse(data));
    at = end;
  }
  return events;
}

}  // namespace

TEST(SimPod, MalformedBodyGets400InVllmNestedErrorShape) {
  SimProcess sim({"--pods", "1", "--time-scale", "0.01"});
  auto result = http_post(sim.pod_url(0) + "/v1/completions", "{not json");
  ASSERT_EQ(result.status, 400);
  const auto body = json::parse(result.body);
  EXPECT_EQ(body["error"]["type"], "BadRequestError");
  EXPECT_EQ(body["error"]["code"], 400);
  EXPECT_TRUE(body["error"]["message"].is_string());
  auto wrong_type = http_post(sim.gateway() + "/v1/completions", R"({"model":"meta-llama/Llama-3.2-3B-Instruct","prompt":"x","max_tokens":"ten"})");
  ASSERT_EQ(wrong_type.status, 400) << "through the gateway too";
  EXPECT_EQ(json::parse(wrong_type.body)["error"]["param"], "max_tokens");
}

TEST(SimPod, V0FlavorUsesTheFlatPre0101ErrorShape) {
  SimProcess sim({"--pods", "1", "--metrics-flavor", "v0", "--time-scale", "0.01"});
  auto result = http_post(sim.pod_url(0) + "/v1/completions", R"({"model":"nope","prompt":"x"})");
  ASSERT_EQ(result.status, 404);
  const auto body = json::parse(result.body);
  EXPECT_EQ(body["object"], "error");
  EXPECT_EQ(body["type"], "NotFoundError");
  EXPECT_EQ(body["message"], "The model `nope` does not exist.");
}

TEST(SimPod, UnknownModelAndOverlongPromptAreRejectedLikeVllm) {
  SimProcess sim({"--pods", "1", "--max-model-len", "100", "--time-scale", "0.01"});
  auto unknown = http_post(sim.pod_url(0) + "/v1/completions", R"({"model":"gpt-4","prompt":"x"})");
  ASSERT_EQ(unknown.status, 404);
  EXPECT_EQ(json::parse(unknown.body)["error"]["message"], "The model `gpt-4` does not exist.");
  auto too_long = http_post(sim.pod_url(0) + "/v1/completions",
                            json{{"prompt", llmd::test::words(95)}, {"max_tokens", 10}}.dump());
  ASSERT_EQ(too_long.status, 400);
  EXPECT_EQ(json::parse(too_long.body)["error"]["message"],
            "This model's maximum context length is 100 tokens. However, you requested 105 tokens (95 in the messages, 10 "
            "in the completion). Please reduce the length of the messages or completion.");
}

TEST(SimPod, ChatStreamStartsWithARoleDeltaAndEndsWithUsageThenDone) {
  SimProcess sim({"--pods", "1", "--time-scale", "0.01"});
  json request = {{"model", k_model},
                  {"messages", json::array({json{{"role", "user"}, {"content", "hello there"}}})},
                  {"max_tokens", 3},
                  {"stream", true},
                  {"stream_options", {{"include_usage", true}}}};
  auto result = http_post(sim.pod_url(0) + "/v1/chat/completions", request.dump());
  ASSERT_EQ(result.status, 200);
  const auto events = sse_events(result.body);
  ASSERT_EQ(events.size(), 6u);  // role, 3 tokens, usage, [DONE]
  EXPECT_EQ(events[0]["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(events[0]["object"], "chat.completion.chunk");
  EXPECT_FALSE(events[1]["choices"][0]["delta"]["content"].get<std::string>().empty());
  EXPECT_EQ(events[3]["choices"][0]["finish_reason"], "length");
  EXPECT_TRUE(events[4]["choices"].empty());
  EXPECT_EQ(events[4]["usage"]["completion_tokens"], 3);
  EXPECT_EQ(events[4]["usage"]["prompt_tokens"], 3);  // "<|user|> hello there"
  EXPECT_EQ(events[5], "[DONE]");
}

// --prompt-tokens-details (vLLM --enable-prompt-tokens-details): usage carries the prompt tokens
// served from the prefix cache, the very tokens the pod adds to its hits counter. A 40-token prompt
// sent twice: 0 cached, then 32 (2 full blocks of 16; the last token is always recomputed).
TEST(SimPod, PromptTokensDetailsReportTheCachedTokensThePodCounts) {
  SimProcess sim({"--pods", "1", "--time-scale", "0.01", "--prompt-tokens-details"});
  const std::string stream = json{{"prompt", llmd::test::words(40)}, {"max_tokens", 2}, {"stream", true},
                                  {"stream_options", {{"include_usage", true}}}}.dump();
  std::vector<std::int64_t> cached;
  for (int i = 0; i < 2; ++i) {
    const auto events = sse_events(http_post(sim.pod_url(0) + "/v1/completions", stream).body);
    ASSERT_EQ(events.size(), 4u);  // 2 tokens, usage, [DONE]
    cached.push_back(events[2]["usage"]["prompt_tokens_details"]["cached_tokens"].get<std::int64_t>());
  }
  EXPECT_EQ(cached, (std::vector<std::int64_t>{0, 32}));
  const auto document = json::parse(
      http_post(sim.pod_url(0) + "/v1/completions", json{{"prompt", llmd::test::words(40)}, {"max_tokens", 2}}.dump()).body);
  EXPECT_EQ(document["usage"]["prompt_tokens_details"]["cached_tokens"], 32);
  EXPECT_EQ(sim.counters(0).hits_tokens, 64);

  SimProcess plain({"--pods", "1", "--time-scale", "0.01"});  // off by default, as in vLLM
  const auto events = sse_events(http_post(plain.pod_url(0) + "/v1/completions", stream).body);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_FALSE(events[2]["usage"].contains("prompt_tokens_details"));
}

TEST(SimPod, NonStreamingCompletionCarriesTextAndUsage) {
  SimProcess sim({"--pods", "1", "--time-scale", "0.01"});
  auto result = http_post(sim.pod_url(0) + "/v1/completions", R"({"prompt":"a b c d","max_tokens":4})");
  ASSERT_EQ(result.status, 200);
  const auto body = json::parse(result.body);
  EXPECT_EQ(body["object"], "text_completion");
  EXPECT_EQ(body["usage"]["prompt_tokens"], 4);
  EXPECT_EQ(body["usage"]["completion_tokens"], 4);
  EXPECT_EQ(body["choices"][0]["finish_reason"], "length");
  EXPECT_FALSE(body["choices"][0]["text"].get<std::string>().empty());
}

TEST(SimPod, ServesModelsHealthAndRejectsWrongMethods) {
  SimProcess sim({"--pods", "1", "--model", "my/model"});
  auto models = http_get(sim.pod_url(0) + "/v1/models");
  ASSERT_EQ(models.status, 200);
  EXPECT_EQ(json::parse(models.body)["data"][0]["id"], "my/model");
  EXPECT_EQ(http_get(sim.pod_url(0) + "/health").status, 200);
  EXPECT_EQ(http_get(sim.pod_url(0) + "/v1/completions").status, 405);
  EXPECT_EQ(http_get(sim.pod_url(0) + "/nope").status, 404);
}

TEST(SimPod, PrefixCachingOffKeepsCountersAtZeroAndSaysSoInCacheConfigInfo) {
  SimProcess sim({"--pods", "1", "--no-prefix-caching", "--time-scale", "0.01"});
  const std::string prompt = llmd::test::words(100);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(http_post(sim.pod_url(0) + "/v1/completions", json{{"prompt", prompt}, {"max_tokens", 1}}.dump()).status, 200);
  }
  const auto counters = sim.counters(0);
  EXPECT_EQ(counters.queries_tokens, 0);
  EXPECT_EQ(counters.hits_tokens, 0);
  EXPECT_EQ(counters.requests, 3);
  auto parsed = llmd::prom::parse_text(sim.metrics_text(0));
  ASSERT_TRUE(parsed);
  const auto info = parsed->samples("vllm:cache_config_info");
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(*info[0]->label("enable_prefix_caching"), "False");
}

TEST(SimPod, MetricsFlavorV010ExportsOldAndNewNamesWithEqualValues) {
  SimProcess sim({"--pods", "1", "--metrics-flavor", "v0.10", "--time-scale", "0.01"});
  const std::string prompt = llmd::test::words(64);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(http_post(sim.pod_url(0) + "/v1/completions", json{{"prompt", prompt}, {"max_tokens", 1}}.dump()).status, 200);
  }
  auto parsed = llmd::prom::parse_text(sim.metrics_text(0));
  ASSERT_TRUE(parsed);
  const auto old_hits = parsed->samples("vllm:gpu_prefix_cache_hits_total");
  const auto new_hits = parsed->samples("vllm:prefix_cache_hits_total");
  ASSERT_EQ(old_hits.size(), 1u);
  ASSERT_EQ(new_hits.size(), 1u);
  EXPECT_EQ(old_hits[0]->value, 48);  // 64 tokens: capped at 63 -> 3 whole blocks
  EXPECT_EQ(new_hits[0]->value, 48);
  EXPECT_EQ(parsed->samples("vllm:gpu_prefix_cache_queries_total")[0]->value, 128);
}

TEST(SimPod, ErrorRateOneAnswers500InVllmShape) {
  SimProcess sim({"--pods", "1", "--error-rate", "1", "--time-scale", "0.01"});
  auto result = http_post(sim.gateway() + "/v1/completions", R"({"model":"meta-llama/Llama-3.2-3B-Instruct","prompt":"x y","max_tokens":2})");
  ASSERT_EQ(result.status, 500);
  EXPECT_EQ(json::parse(result.body)["error"]["type"], "InternalServerError");
}

TEST(SimPod, AbortRateOneCutsEveryStreamBeforeDone) {
  SimProcess sim({"--pods", "1", "--abort-rate", "1", "--time-scale", "0.01"});
  for (int i = 0; i < 3; ++i) {
    auto result = http_post(sim.gateway() + "/v1/completions", R"({"model":"meta-llama/Llama-3.2-3B-Instruct","prompt":"x y","max_tokens":4,"stream":true})");
    EXPECT_EQ(result.status, 200);
    EXPECT_EQ(result.body.find("[DONE]"), std::string::npos) << result.body;
    EXPECT_FALSE(result.error.empty()) << "curl must see the cut (partial chunked body)";
  }
  auto parsed = llmd::prom::parse_text(sim.metrics_text(0));
  ASSERT_TRUE(parsed);
  double aborted = 0;
  for (const auto* sample : parsed->samples("vllm:request_success_total")) {
    if (*sample->label("finished_reason") == "abort") {
      aborted += sample->value;
    }
  }
  EXPECT_EQ(aborted, 3);
}

TEST(SimPod, StampEventsPutsASendTimeCommentBeforeEveryStreamedEvent) {
  SimProcess sim({"--pods", "1", "--stamp-events", "--time-scale", "0.01"});
  const std::string request = R"({"prompt":"x y","max_tokens":3,"stream":true,"stream_options":{"include_usage":true}})";
  auto result = http_post(sim.pod_url(0) + "/v1/completions", request);
  ASSERT_EQ(result.status, 200);
  // 3 tokens + usage + [DONE]: every event block starts with its stamp, then its data line.
  std::size_t blocks = 0;
  std::int64_t previous_ns = 0;
  std::size_t at = 0;
  while (at < result.body.size()) {
    const auto end = result.body.find("\n\n", at);
    ASSERT_NE(end, std::string::npos) << result.body;
    const std::string block = result.body.substr(at, end - at);
    ASSERT_EQ(block.rfind(": llmd-sent-ns=", 0), 0u) << block;
    const auto line_end = block.find('\n');
    ASSERT_NE(line_end, std::string::npos) << block;
    const std::int64_t sent_ns = std::stoll(block.substr(15, line_end - 15));
    EXPECT_GT(sent_ns, 0);
    EXPECT_GE(sent_ns, previous_ns) << "stamps follow the send order";
    previous_ns = sent_ns;
    EXPECT_EQ(block.compare(line_end + 1, 6, "data: "), 0) << block;
    ++blocks;
    at = end + 2;
  }
  EXPECT_EQ(blocks, 5u);
  EXPECT_EQ(sse_events(result.body).size(), 5u);
  EXPECT_EQ(sse_events(result.body).back(), "[DONE]");
}

TEST(SimPod, StreamsCarryNoStampsUnlessAskedTo) {
  SimProcess sim({"--pods", "1", "--time-scale", "0.01"});
  auto result = http_post(sim.pod_url(0) + "/v1/completions", R"({"prompt":"x y","max_tokens":3,"stream":true})");
  ASSERT_EQ(result.status, 200);
  EXPECT_EQ(result.body.find("llmd-sent-ns"), std::string::npos) << result.body;
  EXPECT_EQ(result.body.rfind("data: ", 0), 0u) << result.body;
}
