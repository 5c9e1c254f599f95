#include "scenario/overrides.hpp"

#include <gtest/gtest.h>

#include "scenario_test_support.hpp"

namespace llmd::scenario {
namespace {

using namespace std::chrono_literals;
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
  overrides.threads = 0;
  EXPECT_EQ(apply_error(scenario, overrides), "--threads: must be >= 1, got 0");
  overrides.threads = 300;
  EXPECT_EQ(apply_error(scenario, overrides), "--threads: must be <= 256, got 300");
  overrides.threads = 3;
  ASSERT_TRUE(apply_overrides(scenario, overrides));
  EXPECT_EQ(scenario.engine.threads, 3u);
  EXPECT_EQ(to_string(scenario.engine.where), "--threads");
  overrides = Overrides{};
  overrides.coalesce = "1h";
  EXPECT_EQ(apply_error(scenario, overrides),
            "--coalesce: got \"1h\", expected auto, off or a duration in (0, 5ms] such as \"2ms\"; a pause is bounded "
            "by the loop's 5ms probe");
  overrides.coalesce = "off";
  ASSERT_TRUE(apply_overrides(scenario, overrides));
  EXPECT_EQ(scenario.engine.coalesce.mode, Coalesce::Mode::off);
  overrides.coalesce = "750us";
  ASSERT_TRUE(apply_overrides(scenario, overrides));
  EXPECT_EQ(scenario.engine.coalesce.window, 750us);
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

namespace llmd::scenario {
namespace {

constexpr std::string_view k_two_phases =
    "load:\n"
    "  - {name: first, executor: constant-vus, vus: 2, duration: 10s}\n"
    "  - {name: second, executor: constant-arrival-rate, rate: 5, duration: 10s}\n";

// --vus / --duration / --rate / --iterations change the FIRST measured phase only.
TEST(ScenarioOverridesLoad, AdHocFlagsChangeTheFirstPhaseOnly) {
  Scenario closed = test::load_ok(k_two_phases);
  Overrides overrides;
  overrides.vus = 7;
  overrides.duration = "1m30s";
  ASSERT_TRUE(apply_overrides(closed, overrides));
  EXPECT_EQ(closed.phases[0].vus, 7u);
  EXPECT_EQ(closed.phases[0].duration, std::chrono::seconds(90));
  EXPECT_EQ(closed.phases[1].duration, std::chrono::seconds(10));

  Scenario open = test::load_ok("load:\n  - {name: arrivals, executor: poisson, rate: 5, duration: 10s}\n");
  Overrides rate;
  rate.rate = 12.5;
  rate.duration = "2s";
  ASSERT_TRUE(apply_overrides(open, rate));
  EXPECT_DOUBLE_EQ(open.phases[0].rate_per_s, 12.5);
  EXPECT_EQ(open.phases[0].duration, std::chrono::seconds(2));

  Scenario fixed = test::load_ok("load:\n  - {name: fixed, executor: iterations, iterations: 4, vus: 1}\n");
  Overrides iterations;
  iterations.iterations = 40;
  iterations.vus = 3;
  ASSERT_TRUE(apply_overrides(fixed, iterations));
  EXPECT_EQ(fixed.phases[0].iterations, 40u);
  EXPECT_EQ(fixed.phases[0].vus, 3u);
}

// A flag the first phase's executor has no use for names the flag, the phase (file:line) and what fits.
TEST(ScenarioOverridesLoad, AFlagThatDoesNotFitTheExecutorIsAnError) {
  Scenario closed = test::load_ok(k_two_phases);
  Overrides rate;
  rate.rate = 10;
  EXPECT_EQ(apply_error(closed, rate),
            "--rate: does not fit phase \"first\" (" + std::string(test::k_file) +
                ":2:5), the first measured phase: its executor constant-vus takes --vus and --duration");
  Overrides iterations;
  iterations.iterations = 10;
  EXPECT_NE(apply_error(closed, iterations).find("--iterations: does not fit phase \"first\""), std::string::npos);
  Scenario open = test::load_ok("load:\n  - {name: arrivals, executor: poisson, rate: 5, duration: 10s}\n");
  Overrides vus;
  vus.vus = 3;
  EXPECT_NE(apply_error(open, vus).find("its executor poisson takes --rate and --duration"), std::string::npos);
  Scenario fixed = test::load_ok("load:\n  - {name: fixed, executor: iterations, iterations: 4, vus: 1}\n");
  Overrides duration;
  duration.duration = "5s";
  EXPECT_NE(apply_error(fixed, duration).find("--duration: does not fit phase \"fixed\""), std::string::npos);
  Scenario ramp = test::load_ok("load:\n  - {executor: ramping-vus, stages: [{duration: 1s, target: 2}]}\n");
  EXPECT_NE(apply_error(ramp, vus).find("its users follow `stages`"), std::string::npos);
}

TEST(ScenarioOverrides, PrometheusTokenEnvNeedsThePrometheusSource) {
  Scenario prometheus = test::load_ok(std::string(test::k_load) +
                                      "cache: {prometheus_url: \"http://p:9090\", matcher: 'job=\"x\"'}\n");
  Overrides token;
  token.prometheus_token_env = "THANOS_TOKEN";
  ASSERT_TRUE(apply_overrides(prometheus, token));
  EXPECT_EQ(prometheus.cache.prometheus.bearer_token_env, "THANOS_TOKEN");
  Overrides pasted;
  pasted.prometheus_token_env = "sha256~secret";
  const std::string error = apply_error(prometheus, pasted);
  EXPECT_NE(error.find("--prometheus-token-env: expected the NAME of an environment variable"), std::string::npos);
  EXPECT_EQ(error.find("sha256~secret"), std::string::npos);
  Scenario plain = test::load_ok(test::k_load);
  EXPECT_NE(apply_error(plain, token).find("--prometheus-token-env: the scenario's cache source is not prometheus"),
            std::string::npos);
}

TEST(ScenarioOverridesLoad, ValuesAreBoundedLikeTheFileKeys) {
  Scenario closed = test::load_ok(k_two_phases);
  Overrides zero;
  zero.vus = 0;
  EXPECT_EQ(apply_error(closed, zero), "--vus: must be >= 1, got 0");
  Overrides unitless;
  unitless.duration = "30";
  EXPECT_NE(apply_error(closed, unitless).find("--duration: "), std::string::npos);
  Overrides none;
  none.duration = "0s";
  EXPECT_NE(apply_error(closed, none).find("--duration: must be > 0s"), std::string::npos);
  Scenario open = test::load_ok("load:\n  - {name: arrivals, executor: poisson, rate: 5, duration: 10s}\n");
  Overrides fast;
  fast.rate = 1e9;
  EXPECT_EQ(apply_error(open, fast), "--rate: must be <= 100000, got 1000000000");
  Overrides negative;
  negative.rate = -1;
  EXPECT_EQ(apply_error(open, negative), "--rate: must be > 0 requests/s, got -1");
  // The whole scenario is re-checked: 50,000 + 60,000 VUs in overlapping phases are beyond the limit of
  // requests in flight.
  Scenario both = test::load_ok(
      "load:\n  - {executor: constant-vus, vus: 1, duration: 1s}\n"
      "  - {executor: constant-vus, vus: 60000, duration: 1s, start_time: 0s}\n");
  Overrides many;
  many.vus = 50000;
  EXPECT_FALSE(apply_overrides(both, many));
}

}  // namespace
}  // namespace llmd::scenario
