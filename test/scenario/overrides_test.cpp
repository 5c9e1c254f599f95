#include "scenario/overrides.hpp"

#include <gtest/gtest.h>

#include "scenario_test_support.hpp"

namespace llmd::scenario {
namespace {

using test::k_load;
using test::load_ok;

std::string apply_error(Scenario& scenario, const Overrides& overrides) {
  auto result = apply_overrides(scenario, overrides);
  EXPECT_FALSE(result);
  return result ? std::string() : result.error();
}

TEST(ScenarioOverrides, NothingSetChangesNothing) {
  Scenario scenario = load_ok(k_load);
  ASSERT_TRUE(apply_overrides(scenario, Overrides{}));
  EXPECT_EQ(scenario.target.base_url, "");
  EXPECT_DOUBLE_EQ(scenario.time_scale, 1.0);
}

TEST(ScenarioOverrides, FlagsReplaceFileValues) {
  Scenario scenario = load_ok(std::string(k_load) + "target:\n  base_url: http://file:80\n  host: file.example\n"
                                                    "model: from-file\napi: completions\ntime_scale: 0.5\n");
  Overrides overrides;
  overrides.target = "https://flag.example:8443/";
  overrides.host = "flag.example";
  overrides.model = "from-flag";
  overrides.api = "chat";
  overrides.api_key_env = "MY_TOKEN";
  overrides.insecure = true;
  overrides.time_scale = 0.01;
  overrides.max_tokens = 8;
  overrides.cache_urls = {"http://10.0.0.5:8000/metrics"};
  overrides.allow_missing_pods = 3;
  ASSERT_TRUE(apply_overrides(scenario, overrides));
  EXPECT_EQ(scenario.cache.allow_missing_pods, 3u);
  EXPECT_EQ(scenario.target.base_url, "https://flag.example:8443");
  EXPECT_EQ(scenario.target.where.file, "--target");
  overrides.target = "https://flag.example:8443/v1/";  // OpenAI's base_url convention
  ASSERT_TRUE(apply_overrides(scenario, overrides));
  EXPECT_EQ(scenario.target.base_url, "https://flag.example:8443");
  EXPECT_EQ(scenario.target.host, "flag.example");
  EXPECT_EQ(scenario.request.model, "from-flag");
  EXPECT_EQ(scenario.request.api, ApiKind::chat);
  EXPECT_EQ(scenario.target.api_key_env, "MY_TOKEN");
  EXPECT_TRUE(scenario.target.insecure);
  EXPECT_DOUBLE_EQ(scenario.time_scale, 0.01);
  EXPECT_EQ(scenario.request.max_tokens, 8u);
  EXPECT_EQ(scenario.cache.source, CacheSpec::Source::urls);
  EXPECT_EQ(scenario.cache.urls, (std::vector<std::string>{"http://10.0.0.5:8000/metrics"}));
  EXPECT_EQ(to_string(scenario.cache.where), "--cache-url");
}

TEST(ScenarioOverrides, ModelAlsoSetsTheEmbeddedSimulatorsModel) {
  Scenario scenario = load_ok(k_load);
  Overrides overrides;
  overrides.model = "tiny";
  ASSERT_TRUE(apply_overrides(scenario, overrides));
  EXPECT_EQ(scenario.sim.pod.model, "tiny");
}

TEST(ScenarioOverrides, ErrorsNameTheFlag) {
  Scenario scenario = load_ok(k_load);
  Overrides overrides;
  overrides.target = "gw:80";
  EXPECT_EQ(apply_error(scenario, overrides), "--target: expected an http:// or https:// URL with a host, got \"gw:80\"");
  overrides = Overrides{};
  overrides.host = "http://gw";
  EXPECT_EQ(apply_error(scenario, overrides),
            "--host: expected a host name with an optional :port (the Host header), got \"http://gw\"");
  overrides = Overrides{};
  overrides.api = "responses";
  EXPECT_EQ(apply_error(scenario, overrides), "--api: unknown api \"responses\"; expected one of completions, chat");
  overrides = Overrides{};
  overrides.time_scale = 0;
  EXPECT_EQ(apply_error(scenario, overrides), "--time-scale: must be >= 1e-06, got 0");
  overrides = Overrides{};
  overrides.max_tokens = 0;
  EXPECT_EQ(apply_error(scenario, overrides), "--max-tokens: must be >= 1, got 0");
  overrides = Overrides{};
  overrides.cache_urls = {"http://ok:1/metrics", "nope"};
  EXPECT_EQ(apply_error(scenario, overrides), "--cache-url: expected an http:// or https:// URL with a host, got \"nope\"");
  overrides = Overrides{};
  overrides.api_key_env = "sk-secret";
  const std::string error = apply_error(scenario, overrides);
  EXPECT_EQ(error.find("sk-secret"), std::string::npos);
  EXPECT_EQ(error, "--api-key-env: expected the NAME of an environment variable holding the token (letters, digits "
                   "and _, e.g. OPENAI_API_KEY), not the token itself; the value is not shown");
}

TEST(ScenarioOverrides, TargetWithoutCacheUrlsBreaksCacheThresholds) {
  Scenario scenario = load_ok(std::string(k_load) + "thresholds:\n  cache_hit_rate: [\">=0.9\"]\n");
  Overrides overrides;
  overrides.target = "http://gw:80";
  EXPECT_EQ(apply_error(scenario, overrides),
            "scenarios/x.yaml:6:20: thresholds.cache_hit_rate: \">=0.9\" needs per-pod metrics: list the pods' metrics "
            "URLs in cache.urls (or run against the embedded simulator)");
  overrides.cache_urls = {"http://10.0.0.5:8000/metrics"};
  Scenario again = load_ok(std::string(k_load) + "thresholds:\n  cache_hit_rate: [\">=0.9\"]\n");
  EXPECT_TRUE(apply_overrides(again, overrides));
}

}  // namespace
}  // namespace llmd::scenario
