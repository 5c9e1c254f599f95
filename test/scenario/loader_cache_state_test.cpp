// `cache_state:` in scenario files (load_cache_state.cpp): its keys, and its rules against `cache`.
#include <gtest/gtest.h>

#include "scenario/loader.hpp"
#include "scenario/scenario_test_support.hpp"

namespace llmd::scenario::test {
namespace {

std::string with(std::string_view extra) { return std::string(k_load) + std::string(extra); }

TEST(ScenarioCacheState, DefaultsToNothingAndReadsEveryKey) {
  const CacheStateSpec none = load_ok(with("")).cache_state;
  EXPECT_EQ(none.reset, CacheStateSpec::Reset::none);
  EXPECT_FALSE(none.prime);
  EXPECT_FALSE(none.verify);
  EXPECT_FALSE(none.any());
  const CacheStateSpec all = load_ok(with("cache_state: {reset: api, prime: true, verify: true, block_size: 32}\n")).cache_state;
  EXPECT_EQ(all.reset, CacheStateSpec::Reset::api);
  EXPECT_TRUE(all.prime);
  EXPECT_TRUE(all.verify);
  EXPECT_EQ(all.block_size, 32u);
  EXPECT_EQ(all.where.line, 5);
}

TEST(ScenarioCacheState, BadKeysAndValuesNameTheFileLineAndTheChoices) {
  EXPECT_EQ(load_error(with("cache_state: {reset: flush}\n")),
            "scenarios/x.yaml:5:22: cache_state.reset: unknown reset \"flush\"; expected one of none, api, restart");
  const auto unknown = load_error(with("cache_state: {primed: true}\n"));
  EXPECT_NE(unknown.find("scenarios/x.yaml:5:"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("primed"), std::string::npos) << unknown;
  EXPECT_NE(load_error(with("cache_state: {prime: \"yes\"}\n")).find("cache_state.prime"), std::string::npos);
  EXPECT_NE(load_error(with("cache_state: {block_size: 0}\n")).find("must be >= 1"), std::string::npos);
  EXPECT_NE(load_error(with("cache_state: {pod_urls: [\"gw:80\"]}\n")).find("cache_state.pod_urls[0]"), std::string::npos);
}

TEST(ScenarioCacheState, RestartNeedsKubernetesAndTurnsOnThePodRestart) {
  const auto error = load_error(with("cache_state: {reset: restart}\n"));
  EXPECT_EQ(error, "scenarios/x.yaml:5:14: cache_state.reset: restart restarts the pods with kubectl and needs "
                   "cache.source: kubernetes; with direct pod URLs or the embedded simulator use reset: api");
  const Scenario s = load_ok(with("cache: {source: kubernetes, selector: app=vllm}\ncache_state: {reset: restart}\n"));
  EXPECT_TRUE(s.cache.kubernetes.restart_pods);
}

TEST(ScenarioCacheState, ResetAndVerifyNeedCountersReadDirectly) {
  const auto files = load_error(with("cache: {files: [/etc/hostname]}\ncache_state: {verify: true}\n"));
  EXPECT_NE(files.find("scenarios/x.yaml:6:14: cache_state.verify: true reads each pod's prefix-cache counters"),
            std::string::npos)
      << files;
  const auto target = load_error(with("target: {base_url: \"http://gw:80\"}\ncache_state: {reset: api}\n"));
  EXPECT_NE(target.find("cache_state.reset: api reads each pod's"), std::string::npos) << target;
  // With the pods' metrics URLs, or the embedded simulator, both load.
  load_ok(with("target: {base_url: \"http://gw:80\"}\ncache: {urls: [\"http://10.0.0.5:8000/metrics\"]}\n"
               "cache_state: {reset: api, verify: true}\n"));
  load_ok(with("cache_state: {reset: api, prime: true, verify: true}\n"));
  load_ok(with("target: {base_url: \"http://gw:80\"}\ncache_state: {prime: true}\n"));  // prime needs only the target
}

TEST(ScenarioCacheState, PodUrlsPairWithCacheUrlsOneForOne) {
  const std::string urls = "cache: {urls: [\"http://10.0.0.5:8200/metrics\", \"http://10.0.0.6:8200/metrics\"]}\n";
  const Scenario s = load_ok(with(urls + "cache_state: {reset: api, pod_urls: [\"http://10.0.0.5:8000\", \"http://10.0.0.6:8000\"]}\n"));
  EXPECT_EQ(s.cache_state.pod_urls.size(), 2u);
  const auto count = load_error(with(urls + "cache_state: {reset: api, pod_urls: [\"http://10.0.0.5:8000\"]}\n"));
  EXPECT_NE(count.find("cache_state.pod_urls lists 1 URLs but cache.urls lists 2"), std::string::npos) << count;
  const auto sim = load_error(with("cache_state: {reset: api, pod_urls: [\"http://10.0.0.5:8000\"]}\n"));
  EXPECT_NE(sim.find("cache_state.pod_urls pairs with cache.urls"), std::string::npos) << sim;
}

}  // namespace
}  // namespace llmd::scenario::test
