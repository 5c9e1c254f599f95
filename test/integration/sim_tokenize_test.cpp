// The simulated pod's vLLM utility endpoints, spoken to directly and through the gateway:
// POST /tokenize and /detokenize in vLLM's shapes with the simulator's tokenizer, and POST
// /reset_prefix_cache (dev mode only, as vLLM with VLLM_SERVER_DEV_MODE=1): cache cleared, counters kept.
#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sim/tokenizer.hpp"
#include "support/http_client.hpp"
#include "support/sim_process.hpp"

using llmd::test::http_get;
using llmd::test::http_post;
using llmd::test::SimProcess;
using nlohmann::json;
using testing::HasSubstr;

namespace {

const std::string k_model = "meta-llama/Llama-3.2-3B-Instruct";

std::string completion(const std::string& prompt) { return json{{"model", k_model}, {"prompt", prompt}, {"max_tokens", 1}}.dump(); }

}  // namespace

TEST(SimTokenize, TokenizeAnswersInVllmsShapeWithTheSimulatorsTokenizer) {
  SimProcess sim({"--pods", "2", "--max-model-len", "4096", "--time-scale", "0.01"});
  const auto answer = http_post(sim.pod_url(0) + "/tokenize", json{{"model", k_model}, {"prompt", "p0 p1 abcdefghij"}}.dump());
  ASSERT_EQ(answer.status, 200) << answer.body;
  const auto body = json::parse(answer.body);
  EXPECT_EQ(body["count"], 4);  // "abcdefghij" is two pieces of at most 8 bytes
  EXPECT_EQ(body["max_model_len"], 4096);
  EXPECT_EQ(body["tokens"].get<std::vector<std::uint32_t>>(), llmd::sim::tokenize("p0 p1 abcdefghij"));
  EXPECT_TRUE(body["token_strs"].is_null());

  // Chat messages go through the chat template, as a chat request does: "<|user|> hi there" is 3 tokens.
  const auto chat = http_post(sim.gateway() + "/tokenize",
                              json{{"model", k_model}, {"messages", {{{"role", "user"}, {"content", "hi there"}}}}}.dump());
  ASSERT_EQ(chat.status, 200) << chat.body;
  EXPECT_EQ(json::parse(chat.body)["count"], 3);
}

TEST(SimTokenize, DetokenizeInvertsWhatAnyPodTokenizedThroughTheGateway) {
  SimProcess sim({"--pods", "3", "--time-scale", "0.01"});
  const auto tokens = json::parse(http_post(sim.pod_url(2) + "/tokenize",
                                            json{{"model", k_model}, {"prompt", "alpha beta gamma"}}.dump()).body)["tokens"];
  // Through the gateway (any pod: the fleet shares one vocabulary) and on another pod directly.
  for (const std::string& url : {sim.gateway(), sim.pod_url(0)}) {
    const auto answer = http_post(url + "/detokenize", json{{"model", k_model}, {"tokens", tokens}}.dump());
    ASSERT_EQ(answer.status, 200) << url << ": " << answer.body;
    EXPECT_EQ(json::parse(answer.body), (json{{"prompt", "alpha beta gamma"}})) << url;
  }
  const auto first_two = http_post(sim.pod_url(1) + "/detokenize",
                                   json{{"model", k_model}, {"tokens", {tokens[0], tokens[1]}}}.dump());
  EXPECT_EQ(json::parse(first_two.body)["prompt"], "alpha beta");
}

TEST(SimTokenize, BadTokenizerRequestsGetVllmsErrors) {
  SimProcess sim({"--pods", "1", "--time-scale", "0.01"});
  const auto unknown_model = http_post(sim.pod_url(0) + "/tokenize", R"({"model":"nope","prompt":"x"})");
  EXPECT_EQ(unknown_model.status, 404);
  EXPECT_EQ(json::parse(unknown_model.body)["error"]["type"], "NotFoundError");
  const auto no_prompt = http_post(sim.pod_url(0) + "/tokenize", json{{"model", k_model}}.dump());
  EXPECT_EQ(no_prompt.status, 400);
  EXPECT_EQ(json::parse(no_prompt.body)["error"]["param"], "prompt");
  const auto negative = http_post(sim.pod_url(0) + "/detokenize", json{{"model", k_model}, {"tokens", {-1}}}.dump());
  EXPECT_EQ(negative.status, 400);
  EXPECT_EQ(json::parse(negative.body)["error"]["param"], "tokens");
  const auto unknown_id = http_post(sim.pod_url(0) + "/detokenize", json{{"model", k_model}, {"tokens", {12345}}}.dump());
  EXPECT_EQ(unknown_id.status, 400);
  EXPECT_THAT(json::parse(unknown_id.body)["error"]["message"].get<std::string>(), HasSubstr("token id 12345 (tokens[0])"));
  EXPECT_EQ(http_get(sim.pod_url(0) + "/tokenize").status, 405);
}

TEST(SimTokenize, ResetClearsThePrefixCacheAndKeepsTheCounters) {
  SimProcess sim({"--pods", "1", "--time-scale", "0.01"});
  const std::string prompt = completion(llmd::test::words(40));  // 40 tokens: 2 full blocks of 16
  ASSERT_EQ(http_post(sim.pod_url(0) + "/v1/completions", prompt).status, 200);
  ASSERT_EQ(http_post(sim.pod_url(0) + "/v1/completions", prompt).status, 200);
  ASSERT_EQ(sim.counters(0).hits_tokens, 32) << "the second identical request hit its 2 full blocks";

  const auto reset = http_post(sim.pod_url(0) + "/reset_prefix_cache", "");
  EXPECT_EQ(reset.status, 200);
  EXPECT_EQ(reset.body, "");  // vLLM: Response(status_code=200), no body
  const auto kept = sim.counters(0);
  EXPECT_EQ(kept.queries_tokens, 80) << "counters keep counting across a reset, as vLLM's";
  EXPECT_EQ(kept.hits_tokens, 32);

  ASSERT_EQ(http_post(sim.pod_url(0) + "/v1/completions", prompt).status, 200);
  const auto after = sim.counters(0);
  EXPECT_EQ(after.queries_tokens, 120);
  EXPECT_EQ(after.hits_tokens, 32) << "the same request after the reset missed";
  EXPECT_EQ(http_get(sim.pod_url(0) + "/reset_prefix_cache").status, 405);
  // Not routed by the gateway: resets go to each pod directly (Envoy's empty 404).
  const auto through_gateway = http_post(sim.gateway() + "/reset_prefix_cache", "");
  EXPECT_EQ(through_gateway.status, 404);
  EXPECT_EQ(through_gateway.body, "");
}

TEST(SimTokenize, WithoutDevModeTheResetEndpointIs404LikeVllm) {
  SimProcess sim({"--pods", "1", "--no-dev-mode", "--time-scale", "0.01"});
  const std::string prompt = completion(llmd::test::words(40));
  ASSERT_EQ(http_post(sim.pod_url(0) + "/v1/completions", prompt).status, 200);
  const auto reset = http_post(sim.pod_url(0) + "/reset_prefix_cache", "");
  EXPECT_EQ(reset.status, 404);
  EXPECT_EQ(json::parse(reset.body), (json{{"detail", "Not Found"}}));
  ASSERT_EQ(http_post(sim.pod_url(0) + "/v1/completions", prompt).status, 200);
  EXPECT_EQ(sim.counters(0).hits_tokens, 32) << "nothing was reset";
  EXPECT_EQ(http_post(sim.pod_url(0) + "/tokenize", json{{"model", k_model}, {"prompt", "a"}}.dump()).status, 200)
      << "tokenize is served in either mode, as by vLLM";
}
