#include "engine/request_builder.hpp"

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace llmd::engine {
namespace {

using nlohmann::json;

TEST(JoinUrl, AppendsTheEndpointToHostAndPathPrefix) {
  EXPECT_EQ(*join_url("http://gw:8080", "/v1/completions"), "http://gw:8080/v1/completions");
  EXPECT_EQ(*join_url("http://gw:8080/", "/v1/completions"), "http://gw:8080/v1/completions");
  EXPECT_EQ(*join_url("https://gw.example/llm//", "/v1/chat/completions"), "https://gw.example/llm/v1/chat/completions");
  EXPECT_EQ(*join_url("HTTP://[::1]:80", "/v1/completions"), "HTTP://[::1]:80/v1/completions");
}

TEST(JoinUrl, DoesNotDoubleAVersionSuffix) {
  EXPECT_EQ(*join_url("http://gw/v1", "/v1/completions"), "http://gw/v1/completions");
  EXPECT_EQ(*join_url("http://gw/ns/v1/", "/v1/chat/completions"), "http://gw/ns/v1/chat/completions");
  EXPECT_EQ(*join_url("http://gw/v10", "/v1/completions"), "http://gw/v10/v1/completions");
}

TEST(JoinUrl, RejectsUrlsItCannotUse) {
  EXPECT_EQ(join_url("gw:80", "/v1/completions").error(), "target.base_url: \"gw:80\" must start with http:// or https://");
  EXPECT_EQ(join_url("http://", "/v1/completions").error(), "target.base_url: \"http://\" has no host");
  EXPECT_EQ(join_url("http:///v1", "/v1/completions").error(), "target.base_url: \"http:///v1\" has no host");
  EXPECT_EQ(join_url("http://gw/?a=1", "/v1/completions").error(),
            "target.base_url: \"http://gw/?a=1\" must not have a query or fragment");
}

TEST(EndpointPath, FollowsTheApiKind) {
  EXPECT_EQ(endpoint_path(scenario::ApiKind::completions), "/v1/completions");
  EXPECT_EQ(endpoint_path(scenario::ApiKind::chat), "/v1/chat/completions");
}

TEST(BuildBody, StreamingCompletionAsksForUsage) {
  scenario::RequestSpec spec;
  spec.max_tokens = 32;
  Prompt prompt{"the river", nullptr, {}};
  std::string body;
  build_body(spec, "m1", prompt, body);
  EXPECT_EQ(json::parse(body), json::parse(R"({"model":"m1","prompt":"the river","max_tokens":32,"stream":true,
                                               "stream_options":{"include_usage":true}})"));
}

TEST(BuildBody, ChatWrapsTheTextAsOneUserMessage) {
  scenario::RequestSpec spec;
  spec.api = scenario::ApiKind::chat;
  spec.max_tokens = 4;
  spec.temperature = 0.5;
  spec.ignore_eos = true;
  spec.include_usage = false;
  Prompt prompt{"hi \"there\"", nullptr, {}};
  std::string body;
  build_body(spec, "", prompt, body);
  EXPECT_EQ(json::parse(body), json::parse(R"({"messages":[{"role":"user","content":"hi \"there\""}],"max_tokens":4,
                                               "temperature":0.5,"stream":true,"ignore_eos":true})"));
}

TEST(BuildBody, ChatDatasetMessagesAreSentVerbatimAndNonStreamHasNoStreamOptions) {
  scenario::RequestSpec spec;
  spec.api = scenario::ApiKind::chat;
  spec.stream = false;
  const json messages = json::parse(R"([{"role":"system","content":"be brief"},{"role":"user","content":"q"}])");
  Prompt prompt{"", &messages, {}};
  std::string body = "old content";
  build_body(spec, "m", prompt, body);
  EXPECT_EQ(json::parse(body), json::parse(R"({"model":"m","messages":[{"role":"system","content":"be brief"},
                                               {"role":"user","content":"q"}],"max_tokens":64,"stream":false})"));
}

// The engine renders bodies from a BodyTemplate: it must equal build_body byte for byte for every
// kind of prompt text (plain ASCII takes the copy path, anything else nlohmann's serializer).
TEST(BodyTemplate, RendersExactlyWhatBuildBodyBuilds) {
  const std::vector<std::string> texts = {
      "", "the river", "hi \"there\"", "back\\slash", "tab\there", "line\nbreak", "caf\xc3\xa9 \xe2\x82\xac",
      "\x01\x1f control", "bad utf-8 \xff\xfe end", "~ and \x7f delete", std::string(5000, 'x') + "\"",
      "\x01llmd-bench\x02prompt\x03"};
  const json messages = json::parse(R"([{"role":"system","content":"be brief"},{"role":"user","content":"q"}])");
  for (const auto api : {scenario::ApiKind::completions, scenario::ApiKind::chat}) {
    for (const bool usage : {true, false}) {
      scenario::RequestSpec spec;
      spec.api = api;
      spec.include_usage = usage;
      spec.temperature = usage ? std::optional<double>(0.25) : std::nullopt;
      spec.ignore_eos = !usage;
      for (const std::string model : {"", "m1", "meta-llama/Llama-3.2-3B-Instruct"}) {
        const BodyTemplate body_template(spec, model);
        std::string rendered = "stale bytes that must go";
        std::string expected;
        for (const auto& text : texts) {
          const Prompt prompt{text, nullptr, {}};
          body_template.render(prompt, rendered);
          build_body(spec, model, prompt, expected);
          EXPECT_EQ(rendered, expected) << "text: " << json(text).dump(-1, ' ', false, json::error_handler_t::replace);
        }
        const Prompt dataset{"", &messages, {}};
        body_template.render(dataset, rendered);
        build_body(spec, model, dataset, expected);
        EXPECT_EQ(rendered, expected);
      }
    }
  }
}

// A model name holding the placeholder itself: the template cannot split and must still be right.
TEST(BodyTemplate, FallsBackWhenThePlaceholderIsAmbiguous) {
  scenario::RequestSpec spec;
  const std::string model = "\x01llmd-bench\x02prompt\x03";
  const BodyTemplate body_template(spec, model);
  std::string rendered;
  body_template.render(Prompt{"abc", nullptr, {}}, rendered);
  EXPECT_EQ(json::parse(rendered)["prompt"], "abc");
  EXPECT_EQ(json::parse(rendered)["model"], model);
}

TEST(BuildHeaderLines, OrdersFixedHeadersHostTokenAndExtras) {
  scenario::Target target;
  target.host = "llm.example.com";
  target.headers = {{"X-Team", "bench"}, {"X-Empty", ""}};
  auto lines = build_header_lines(target, "sekret", scenario::RequestSpec{});
  ASSERT_TRUE(lines) << lines.error();
  EXPECT_EQ(*lines, (std::vector<std::string>{"Content-Type: application/json", "Accept: text/event-stream", "Expect:",
                                              "Host: llm.example.com", "Authorization: Bearer sekret",
                                              "X-Team: bench", "X-Empty;"}));
}

TEST(BuildHeaderLines, NonStreamAcceptsJsonAndOmitsUnsetHeaders) {
  scenario::RequestSpec spec;
  spec.stream = false;
  auto lines = build_header_lines(scenario::Target{}, "", spec);
  ASSERT_TRUE(lines);
  EXPECT_EQ(*lines, (std::vector<std::string>{"Content-Type: application/json", "Accept: application/json", "Expect:"}));
}

TEST(BuildHeaderLines, RejectsHeaderInjectionWithoutPrintingTheToken) {
  const scenario::RequestSpec spec;
  scenario::Target target;
  target.headers = {{"X Bad", "v"}};
  EXPECT_EQ(build_header_lines(target, "", spec).error(), "target.headers: header name \"X Bad\" is not a valid HTTP token");
  target.headers = {{"X-Ok", "a\r\nEvil: 1"}};
  EXPECT_EQ(build_header_lines(target, "", spec).error(), "target.headers: the value of \"X-Ok\" contains a line break");
  target.headers.clear();
  target.api_key_env = "LLM_TOKEN";
  const auto error = build_header_lines(target, "abc\ndef", spec).error();
  EXPECT_EQ(error, "the bearer token (from $LLM_TOKEN) contains a line break");
  target.host = "a b";
  EXPECT_EQ(build_header_lines(target, "", spec).error(), "target.host: \"a b\" is not a valid Host header value");
}

TEST(HeaderList, HoldsTheLinesInOrder) {
  HeaderList list(std::vector<std::string>{"A: 1", "B: 2"});
  list.append("C: 3");
  std::vector<std::string> seen;
  for (curl_slist* node = list.get(); node != nullptr; node = node->next) {
    seen.emplace_back(node->data);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"A: 1", "B: 2", "C: 3"}));
  HeaderList moved = std::move(list);
  EXPECT_EQ(list.get(), nullptr);
  EXPECT_NE(moved.get(), nullptr);
}

}  // namespace
}  // namespace llmd::engine
