// `cache.source: kubernetes` in scenario files (load_checks.cpp).
#include <gtest/gtest.h>

#include "scenario/loader.hpp"
#include "scenario/scenario_test_support.hpp"

namespace llmd::scenario::test {
namespace {

std::string with(std::string_view extra) { return std::string(k_load) + std::string(extra); }

TEST(ScenarioCachePrometheus, ReadsItsKeysAndRequiresUrlAndMatcher) {
  const CacheSpec cache = load_ok(with("cache:\n  prometheus_url: http://prometheus:9090\n  matcher: 'namespace=\"llm-d\"'\n"
                                       "  scrape_interval: 15s\n"))
                              .cache;
  EXPECT_EQ(cache.source, CacheSpec::Source::prometheus);
  EXPECT_EQ(cache.prometheus.url, "http://prometheus:9090");
  EXPECT_EQ(cache.prometheus.matcher, "namespace=\"llm-d\"");
  EXPECT_EQ(cache.prometheus.pod_label, "pod");
  EXPECT_EQ(cache.prometheus.scrape_interval, std::chrono::seconds(15));
  const auto missing = load_error(with("cache: {source: prometheus, prometheus_url: \"http://p:9090\"}\n"));
  EXPECT_NE(missing.find("matcher"), std::string::npos) << missing;
}

// Authentication and TLS of the Prometheus URL (OpenShift thanos-querier): the NAME of the variable
// holding the token (never a token), insecure, and a CA file that must exist (its path named).
TEST(ScenarioCachePrometheus, ReadsTokenVariableInsecureAndCaFile) {
  const std::string base = "cache:\n  prometheus_url: https://thanos-querier.openshift-monitoring.svc:9091\n"
                           "  matcher: 'namespace=\"llm-d\"'\n";
  const CacheSpec defaults = load_ok(with(base)).cache;
  EXPECT_EQ(defaults.prometheus.bearer_token_env, "");
  EXPECT_FALSE(defaults.prometheus.insecure);
  EXPECT_EQ(defaults.prometheus.ca_file, "");
  const CacheSpec cache =
      load_ok(with(base + "  bearer_token_env: THANOS_TOKEN\n  insecure: true\n  ca_file: /etc/passwd\n")).cache;
  EXPECT_EQ(cache.prometheus.bearer_token_env, "THANOS_TOKEN");
  EXPECT_TRUE(cache.prometheus.insecure);
  EXPECT_EQ(cache.prometheus.ca_file, "/etc/passwd");
  const auto missing = load_error(with(base + "  ca_file: /nonexistent/service-ca.crt\n"));
  EXPECT_NE(missing.find("/nonexistent/service-ca.crt"), std::string::npos) << missing;
  EXPECT_NE(missing.find(":8:"), std::string::npos) << missing;  // file:line of the key
  const auto token = load_error(with(base + "  bearer_token_env: \"sha256~abc.def\"\n"));
  EXPECT_NE(token.find("expected the NAME of an environment variable"), std::string::npos) << token;
  EXPECT_EQ(token.find("sha256~abc.def"), std::string::npos) << token;  // a token pasted by mistake is not echoed
}

TEST(ScenarioCacheKubernetes, DefaultsMatchLlmdDecodePods) {
  const CacheSpec cache = load_ok(with("cache: {source: kubernetes}\n")).cache;
  EXPECT_EQ(cache.source, CacheSpec::Source::kubernetes);
  const KubernetesSpec& kube = cache.kubernetes;
  EXPECT_EQ(kube.namespace_name, "");
  EXPECT_EQ(kube.selector, "llm-d.ai/role=decode");
  EXPECT_EQ(kube.container, "vllm");
  EXPECT_EQ(kube.ports, (std::vector<std::uint16_t>{8200, 8001, 8000}));
  EXPECT_EQ(kube.via, KubernetesSpec::Via::proxy);
  EXPECT_EQ(kube.kubeconfig, "");
  EXPECT_EQ(kube.context, "");
  EXPECT_FALSE(kube.restart_pods);
}

TEST(ScenarioCacheKubernetes, ReadsEveryKey) {
  const CacheSpec cache =
      load_ok(with("cache:\n  source: kubernetes\n  namespace: llm-d\n  selector: app=vllm,tier!=canary\n"
                   "  container: server\n  ports: [8000]\n  via: exec\n  kubeconfig: /etc/kube/config\n"
                   "  context: prod\n  restart: true\n  scrape_timeout: 3s\n"))
          .cache;
  EXPECT_EQ(cache.source, CacheSpec::Source::kubernetes);
  const KubernetesSpec& kube = cache.kubernetes;
  EXPECT_EQ(kube.namespace_name, "llm-d");
  EXPECT_EQ(kube.selector, "app=vllm,tier!=canary");
  EXPECT_EQ(kube.container, "server");
  EXPECT_EQ(kube.ports, (std::vector<std::uint16_t>{8000}));
  EXPECT_EQ(kube.via, KubernetesSpec::Via::exec);
  EXPECT_EQ(kube.kubeconfig, "/etc/kube/config");
  EXPECT_EQ(kube.context, "prod");
  EXPECT_TRUE(kube.restart_pods);
  EXPECT_EQ(cache.scrape_timeout, std::chrono::seconds(3));
}

TEST(ScenarioCacheKubernetes, AKubernetesKeyImpliesTheSource) {
  const CacheSpec cache = load_ok(with("cache: {selector: app=vllm}\n")).cache;
  EXPECT_EQ(cache.source, CacheSpec::Source::kubernetes);
  EXPECT_EQ(cache.kubernetes.selector, "app=vllm");
}

TEST(ScenarioCacheKubernetes, Errors) {
  EXPECT_EQ(
      load_error(with("cache: {source: graphite}\n")),
      "scenarios/x.yaml:5:17: cache.source: unknown cache source \"graphite\"; expected one of auto, none, urls, "
      "files, kubernetes, prometheus");
  EXPECT_EQ(load_error(with("cache: {source: kubernetes, via: ssh}\n")),
            "scenarios/x.yaml:5:34: cache.via: unknown via \"ssh\"; expected one of proxy, exec");
  EXPECT_EQ(load_error(with("cache: {source: kubernetes, ports: []}\n")),
            "scenarios/x.yaml:5:36: cache.ports: must list at least one metrics port, e.g. [8200, 8001, 8000]");
  EXPECT_EQ(load_error(with("cache: {source: kubernetes, ports: [70000]}\n")),
            "scenarios/x.yaml:5:37: cache.ports[0]: must be <= 65535, got 70000");
  EXPECT_EQ(load_error(with("cache: {source: kubernetes, urls: [\"http://p:1/metrics\"]}\n")),
            "scenarios/x.yaml:5:29: cache: unknown key \"urls\" for cache source kubernetes; valid keys: source, "
            "model_filter, scrape_timeout, max_parallel_scrapes, allow_missing_pods, interval, namespace, selector, container, ports, via, "
            "kubeconfig, context, restart");
  EXPECT_EQ(load_error(with("cache: {source: kubernetes, restart: maybe}\n")),
            "scenarios/x.yaml:5:38: cache.restart: expected a boolean (true or false), got \"maybe\"");
}

}  // namespace
}  // namespace llmd::scenario::test
