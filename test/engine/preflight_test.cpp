// Model discovery and the preflight request (engine/preflight.hpp): the judgement as a pure
// function, then the real exchanges against the in-process simulator and canned servers.
#include "engine/preflight.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine_test_support.hpp"

namespace llmd::engine {
namespace {

using testing::AllOf;
using testing::HasSubstr;
using testing::Not;

using test::CannedServer;
using test::SimFleet;

const std::string k_sim_model = sim::PodSettings{}.model;

TargetAccess access_to(const scenario::Scenario& scenario, std::string url, std::string token = "") {
  return TargetAccess{&scenario, std::move(url), std::move(token)};
}

Exchange answered(long status, std::string body) {
  Exchange e;
  e.method = "POST";
  e.url = "http://gw:8080/v1/completions";
  e.http_status = status;
  e.body = std::move(body);
  e.outcome.ok = status >= 200 && status <= 299;
  e.outcome.failure = FailureClass::http_status;
  e.outcome.http_status = status;
  e.outcome.message = "HTTP " + std::to_string(status) + ": " + (e.body.empty() ? "(empty body)" : e.body);
  return e;
}

std::string canned_json(int status, const std::string& reason, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

}  // namespace

TEST(ModelList, ReadsTheIdsInOrder) {
  auto ids = parse_model_list(R"({"object":"list","data":[{"id":"a","object":"model"},{"id":"b"}]})");
  ASSERT_TRUE(ids) << ids.error();
  EXPECT_EQ(*ids, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(parse_model_list(R"({"data":[]})")->empty());
  EXPECT_THAT(parse_model_list("<html>").error(), HasSubstr("is not JSON"));
  EXPECT_THAT(parse_model_list(R"({"models":[]})").error(), HasSubstr("no \"data\" list"));
  EXPECT_THAT(parse_model_list(R"({"data":[{"name":"a"}]})").error(), HasSubstr("no \"id\" string"));
}

TEST(PreflightJudgement, ConfigurationErrorsStopTheRunServerErrorsDoNot) {
  scenario::Target target;
  EXPECT_TRUE(judge_preflight(answered(200, ""), target, "m").proceed);
  EXPECT_EQ(judge_preflight(answered(200, ""), target, "m").message, "");

  Exchange refused = answered(0, "");
  refused.outcome.failure = FailureClass::connect;
  refused.outcome.message = "Failed to connect to 127.0.0.1 port 1";
  const auto connect = judge_preflight(refused, target, "m");
  EXPECT_FALSE(connect.proceed);
  EXPECT_THAT(connect.message, AllOf(HasSubstr("POST http://gw:8080/v1/completions could not connect"),
                                     HasSubstr("port 1"), HasSubstr("--target")));
  EXPECT_THAT(connect.message, Not(HasSubstr("proxy")));
  refused.proxy_note = "; libcurl sent it through the proxy in $http_proxy (no_proxy does not exempt gw)";
  EXPECT_THAT(judge_preflight(refused, target, "m").message,
              HasSubstr("server is up; libcurl sent it through the proxy in $http_proxy (no_proxy does not exempt gw)"));

  target.api_key_env = "GW_TOKEN";
  const auto unauthorized = judge_preflight(answered(401, ""), target, "m");
  EXPECT_FALSE(unauthorized.proceed);
  EXPECT_THAT(unauthorized.message, HasSubstr("wrong or missing API key (api_key_env GW_TOKEN)"));
  target.api_key_env.clear();
  EXPECT_THAT(judge_preflight(answered(403, ""), target, "m").message, HasSubstr("no token was sent"));

  const auto no_route = judge_preflight(answered(404, ""), target, "m");
  EXPECT_FALSE(no_route.proceed);
  EXPECT_THAT(no_route.message, AllOf(HasSubstr("wrong Host?"), HasSubstr("empty body"),
                                      HasSubstr("\"gw:8080\" (from the URL")));
  target.host = "llm.example.com";
  EXPECT_THAT(judge_preflight(answered(404, ""), target, "m").message,
              HasSubstr("the Host header sent was \"llm.example.com\" (target.host / --host)"));

  const auto unknown = judge_preflight(answered(404, "The model `m` does not exist."), target, "m");
  EXPECT_FALSE(unknown.proceed);
  EXPECT_TRUE(unknown.needs_model_list);
  EXPECT_THAT(unknown.message, HasSubstr("does not serve model \"m\""));
  EXPECT_TRUE(judge_preflight(answered(400, "model not found in request body"), target, "").needs_model_list);
  const auto context = judge_preflight(
      answered(400, "This model's maximum context length is 50 tokens. However, you requested 51 tokens"), target, "m");
  EXPECT_FALSE(context.proceed);
  EXPECT_FALSE(context.needs_model_list) << "a context-length 400 is not an unknown model";
  EXPECT_THAT(context.message, HasSubstr("check `requests`"));

  for (long status : {500L, 503L, 429L}) {
    const auto measured = judge_preflight(answered(status, "busy"), target, "m");
    EXPECT_TRUE(measured.proceed) << status;
    EXPECT_THAT(measured.message, HasSubstr("measuring the target as it is")) << status;
  }
}

TEST(Preflight, DiscoversTheModelAndPassesAgainstTheSimulatorGateway) {
  SimFleet fleet(test::fast_sim_config());
  auto scenario = test::test_scenario();
  scenario.request.model.clear();
  const auto target = access_to(scenario, fleet.url());
  auto model = discover_model(target);
  ASSERT_TRUE(model) << model.error();
  EXPECT_EQ(*model, k_sim_model);
  auto checked = preflight(target, *model);
  ASSERT_TRUE(checked) << checked.error();
  EXPECT_EQ(*checked, "");
  fleet.stop();
  EXPECT_EQ(fleet.request_successes(), 1u) << "one preflight request, nothing else";
  EXPECT_LE(fleet.generation_tokens(), k_preflight_max_tokens);
}

TEST(Preflight, AnUnknownModelListsTheServedOnes) {
  SimFleet fleet(test::fast_sim_config());
  const auto scenario = test::test_scenario();
  auto checked = preflight(access_to(scenario, fleet.url()), "no-such-model");
  ASSERT_FALSE(checked);
  EXPECT_THAT(checked.error(), AllOf(HasSubstr("HTTP 404: The model `no-such-model` does not exist."),
                                     HasSubstr("/v1/models lists: " + k_sim_model),
                                     HasSubstr("set `model` in the scenario or --model")));
}

TEST(Preflight, AWrongHostIsNamed) {
  auto config = test::fast_sim_config();
  config.host = "llm-d.demo.local";
  SimFleet fleet(config);
  auto scenario = test::test_scenario();
  scenario.target.host = "wrong.example";
  auto checked = preflight(access_to(scenario, fleet.url()), k_sim_model);
  ASSERT_FALSE(checked);
  EXPECT_THAT(checked.error(), AllOf(HasSubstr("HTTP 404 with an empty body: wrong Host?"),
                                     HasSubstr("\"wrong.example\" (target.host / --host)")));
  scenario.target.host = "llm-d.demo.local";
  EXPECT_TRUE(preflight(access_to(scenario, fleet.url()), k_sim_model));
}

TEST(Preflight, ADeadPortFailsAtOnceWithOneAttempt) {
  const auto scenario = test::test_scenario();
  const std::string url = "http://127.0.0.1:" + std::to_string(test::closed_port());
  auto checked = preflight(access_to(scenario, url), k_sim_model);
  ASSERT_FALSE(checked);
  EXPECT_THAT(checked.error(), AllOf(HasSubstr("preflight: POST " + url + "/v1/completions could not connect"),
                                     HasSubstr("check --target")));
  auto discovered = discover_model(access_to(scenario, url));
  ASSERT_FALSE(discovered);
  EXPECT_THAT(discovered.error(), AllOf(HasSubstr("GET " + url + "/v1/models failed"),
                                        HasSubstr("set `model` in the scenario or --model")));
}

TEST(Preflight, SendsOneSmallRequestAndKeepsTheTokenOutOfMessages) {
  const std::string token = "sekrit-token-123";
  CannedServer unauthorized(canned_json(401, "Unauthorized", R"({"error":{"message":"invalid api key"}})"));
  auto scenario = test::test_scenario();
  scenario.target.api_key_env = "GW_TOKEN";
  auto checked = preflight(access_to(scenario, unauthorized.url(), token), k_sim_model);
  ASSERT_FALSE(checked);
  EXPECT_THAT(checked.error(), AllOf(HasSubstr("HTTP 401: invalid api key"),
                                     HasSubstr("wrong or missing API key (api_key_env GW_TOKEN)"), Not(HasSubstr(token))));
  EXPECT_EQ(unauthorized.requests(), 1u);
  const std::string request = unauthorized.last_request();
  EXPECT_THAT(request, AllOf(HasSubstr("POST /v1/completions"), HasSubstr("Authorization: Bearer " + token),
                             HasSubstr("\"max_tokens\":4"), HasSubstr(std::string(k_preflight_prompt)),
                             HasSubstr("\"model\":\"" + k_sim_model + "\""), HasSubstr("\"stream\":true")));

  CannedServer failing(canned_json(500, "Internal Server Error", R"({"error":{"message":"boom"}})"));
  auto measured = preflight(access_to(scenario, failing.url(), token), k_sim_model);
  ASSERT_TRUE(measured) << measured.error();
  EXPECT_THAT(*measured, AllOf(HasSubstr("HTTP 500: boom"), HasSubstr("measuring the target as it is")));
  EXPECT_EQ(failing.requests(), 1u) << "no retries";
}

TEST(Preflight, DiscoveryExplainsAnAnswerThatIsNoModelList) {
  const auto scenario = test::test_scenario();
  CannedServer not_found("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  auto missing = discover_model(access_to(scenario, not_found.url()));
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error(), AllOf(HasSubstr("GET " + not_found.url() + "/v1/models answered HTTP 404"),
                                     HasSubstr("set `model` in the scenario or --model")));
  CannedServer html("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 6\r\nConnection: close\r\n\r\n<html>");
  EXPECT_THAT(discover_model(access_to(scenario, html.url())).error(), HasSubstr("is not JSON"));
  CannedServer empty(canned_json(200, "OK", R"({"object":"list","data":[]})"));
  EXPECT_THAT(discover_model(access_to(scenario, empty.url())).error(), HasSubstr("/v1/models lists no model"));
  CannedServer listed(canned_json(200, "OK", R"({"object":"list","data":[{"id":"first"},{"id":"second"}]})"));
  EXPECT_EQ(*discover_model(access_to(scenario, listed.url() + "/v1/")), "first") << "an OpenAI-style base_url";
  EXPECT_THAT(listed.last_request(), HasSubstr("GET /v1/models HTTP/1.1"));
}

}  // namespace llmd::engine
