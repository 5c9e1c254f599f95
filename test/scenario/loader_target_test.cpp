// `target:`, `model:` and `api:`.
#include <string>

#include <gtest/gtest.h>

#include "scenario_test_support.hpp"

namespace llmd::scenario {
namespace {

using namespace std::chrono_literals;
using test::k_load;
using test::load_error;
using test::load_ok;

std::string with_target(std::string_view target_lines) { return std::string(k_load) + "target:\n" + std::string(target_lines); }

TEST(ScenarioTarget, DefaultsMeanEmbeddedSimulator) {
  const Scenario scenario = load_ok(k_load);
  EXPECT_EQ(scenario.target.base_url, "");
  EXPECT_FALSE(scenario.target.insecure);
  EXPECT_EQ(scenario.target.connect_timeout, 10s);
  EXPECT_EQ(scenario.target.request_timeout, 300s);
  EXPECT_EQ(scenario.request.api, ApiKind::completions);
  EXPECT_EQ(scenario.request.model, "");
}

TEST(ScenarioTarget, ReadsEveryKey) {
  const Scenario scenario = load_ok(with_target("  base_url: https://gw.llm-d.svc:8443/prefix/\n"
                                                "  host: llm.example.com\n"
                                                "  headers:\n"
                                                "    X-Tenant: blue\n"
                                                "    x-trace: \"1\"\n"
                                                "  api_key_env: OPENAI_API_KEY\n"
                                                "  insecure: true\n"
                                                "  http2: true\n"
                                                "  connect_timeout: 2s\n"
                                                "  request_timeout: 1m30s\n") +
                                    "model: meta-llama/Llama-3.2-1B\napi: chat\n");
  const Target& target = scenario.target;
  EXPECT_EQ(target.base_url, "https://gw.llm-d.svc:8443/prefix");  // trailing '/' dropped
  EXPECT_EQ(target.host, "llm.example.com");
  ASSERT_EQ(target.headers.size(), 2u);
  EXPECT_EQ(target.headers[0], (std::pair<std::string, std::string>{"X-Tenant", "blue"}));
  EXPECT_EQ(target.headers[1], (std::pair<std::string, std::string>{"x-trace", "1"}));
  EXPECT_EQ(target.api_key_env, "OPENAI_API_KEY");
  EXPECT_TRUE(target.insecure);
  EXPECT_TRUE(target.http2);
  EXPECT_EQ(target.connect_timeout, 2s);
  EXPECT_EQ(target.request_timeout, 90s);
  EXPECT_EQ(target.where.line, 6);
  EXPECT_EQ(scenario.request.model, "meta-llama/Llama-3.2-1B");
  EXPECT_EQ(scenario.request.api, ApiKind::chat);
}

TEST(ScenarioTarget, UnsetApiKeyEnvIsNotALoadError) {
  EXPECT_EQ(load_ok(with_target("  api_key_env: LLMD_TEST_SURELY_UNSET_VARIABLE\n")).target.api_key_env,
            "LLMD_TEST_SURELY_UNSET_VARIABLE");
}

TEST(ScenarioTarget, BaseUrlMustBeHttp) {
  EXPECT_EQ(load_error(with_target("  base_url: ftp://gw\n")),
            "scenarios/x.yaml:6:13: target.base_url: expected an http:// or https:// URL with a host, got \"ftp://gw\"");
  EXPECT_EQ(load_error(with_target("  base_url: gw.svc:80\n")),
            "scenarios/x.yaml:6:13: target.base_url: expected an http:// or https:// URL with a host, got \"gw.svc:80\"");
  EXPECT_EQ(load_error(with_target("  base_url: http://:80\n")),
            "scenarios/x.yaml:6:13: target.base_url: expected an http:// or https:// URL with a host, got \"http://:80\"");
  EXPECT_EQ(load_error(with_target("  base_url: http://\n")),
            "scenarios/x.yaml:6:13: target.base_url: expected an http:// or https:// URL with a host, got \"http://\"");
}

// OpenAI clients take a base_url ending in /v1; requests add /v1/... themselves, so it is dropped
// (once) and requests go to http://gw:8000/v1/completions, not /v1/v1/completions.
TEST(ScenarioTarget, BaseUrlEndingInV1IsTheOpenAiConventionAndIsNormalized) {
  for (const char* given : {"http://gw:8000/v1/", "http://gw:8000/v1", "http://gw:8000/", "http://gw:8000"}) {
    EXPECT_EQ(load_ok(with_target(std::string("  base_url: ") + given + "\n")).target.base_url, "http://gw:8000") << given;
  }
  EXPECT_EQ(load_ok(with_target("  base_url: https://gw/team-a/v1\n")).target.base_url, "https://gw/team-a");
  EXPECT_EQ(load_ok(with_target("  base_url: http://gw/v10\n")).target.base_url, "http://gw/v10");
}

TEST(ScenarioTarget, HostIsABareName) {
  EXPECT_EQ(load_error(with_target("  host: http://gw\n")),
            "scenarios/x.yaml:6:9: target.host: expected a host name with an optional :port (the Host header), got "
            "\"http://gw\"");
  EXPECT_EQ(load_ok(with_target("  host: gw.example:8080\n")).target.host, "gw.example:8080");
}

TEST(ScenarioTarget, HeadersRejectHostAuthorizationAndBadNames) {
  EXPECT_EQ(load_error(with_target("  headers:\n    Host: x\n")),
            "scenarios/x.yaml:7:5: target.headers: set the Host header with target.host, not in headers");
  EXPECT_EQ(load_error(with_target("  headers:\n    authorization: Bearer abc\n")),
            "scenarios/x.yaml:7:5: target.headers: do not put credentials in scenario files: name the environment "
            "variable holding the token in target.api_key_env (sent as \"Authorization: Bearer <token>\")");
  EXPECT_EQ(load_error(with_target("  headers:\n    \"bad header\": x\n")),
            "scenarios/x.yaml:7:5: target.headers: \"bad header\" is not a valid header name (letters, digits and "
            "!#$%&'*+-.^_`|~)");
  EXPECT_EQ(load_error(with_target("  headers:\n    X-A: \"a\\nb\"\n")),
            "scenarios/x.yaml:7:10: target.headers.X-A: a header value must not contain line breaks");
  EXPECT_EQ(load_error(with_target("  headers: [a]\n")),
            "scenarios/x.yaml:6:12: target.headers: expected a mapping, got a list");
  EXPECT_EQ(load_error(with_target("  headers:\n    X-A: [1]\n")),
            "scenarios/x.yaml:7:10: target.headers.X-A: expected a string, got a list");
}

TEST(ScenarioTarget, ApiKeyEnvMustBeANameAndIsNeverEchoed) {
  const std::string error = load_error(with_target("  api_key_env: sk-abc123secret\n"));
  EXPECT_EQ(error,
            "scenarios/x.yaml:6:16: target.api_key_env: expected the NAME of an environment variable holding the token "
            "(letters, digits and _, e.g. OPENAI_API_KEY), not the token itself; the value is not shown");
  EXPECT_EQ(error.find("sk-abc123secret"), std::string::npos);
  EXPECT_EQ(load_error(with_target("  api_key_env: 1TOKEN\n")).find("1TOKEN"), std::string::npos);
}

TEST(ScenarioTarget, TimeoutsMustBePositiveDurations) {
  EXPECT_EQ(load_error(with_target("  connect_timeout: 0ms\n")),
            "scenarios/x.yaml:6:20: target.connect_timeout: must be > 0, got \"0ms\"");
  EXPECT_EQ(load_error(with_target("  request_timeout: 300\n")),
            "scenarios/x.yaml:6:20: target.request_timeout: duration \"300\" has no unit; add one, e.g. \"300s\" or "
            "\"300ms\" (units: h, m, s, ms, us, ns)");
}

TEST(ScenarioTarget, UnknownKeyListsTargetKeys) {
  EXPECT_EQ(load_error(with_target("  url: http://gw\n")),
            "scenarios/x.yaml:6:3: target: unknown key \"url\"; valid keys: base_url, host, headers, api_key_env, "
            "insecure, http2, connect_timeout, request_timeout, backoff, preflight, served_by_header");
}

TEST(ScenarioTarget, UnknownApi) {
  EXPECT_EQ(load_error(std::string(k_load) + "api: chat-completions\n"),
            "scenarios/x.yaml:5:6: api: unknown api \"chat-completions\"; expected one of completions, chat");
}

TEST(ScenarioTarget, BackoffKeys) {
  const Scenario defaults = load_ok(k_load);
  EXPECT_TRUE(defaults.target.backoff.retry_after);
  EXPECT_EQ(defaults.target.backoff.max_retry_after, std::chrono::seconds(60));
  EXPECT_TRUE(defaults.target.backoff.connect_errors);
  const Scenario set = load_ok(std::string(k_load) +
                               "target: {backoff: {retry_after: false, max_retry_after: 5s, connect_errors: false}}\n");
  EXPECT_FALSE(set.target.backoff.retry_after);
  EXPECT_EQ(set.target.backoff.max_retry_after, std::chrono::seconds(5));
  EXPECT_FALSE(set.target.backoff.connect_errors);
  EXPECT_NE(load_error(std::string(k_load) + "target: {backoff: {retry: true}}\n").find("unknown key \"retry\""),
            std::string::npos);
}

}  // namespace
}  // namespace llmd::scenario
