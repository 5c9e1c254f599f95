// ProxySource and discovery through the real kubectl (found on PATH) against FakeKubeApi.
#include "kube/kube_sources.hpp"

#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kube/kube_test_support.hpp"
#include "scrape/cache_report.hpp"
#include "scrape/url_source.hpp"

namespace llmd::kube::test {
namespace {

using ::testing::HasSubstr;

class KubeProxy : public ::testing::Test {
 protected:
  void start(std::vector<FakePod> pods) {
    m_api = std::make_unique<FakeKubeApi>(std::move(pods));
    m_spec = fake_spec(*m_api, m_dir);
  }
  std::vector<scrape::PodScrape> proxy_scrape() {
    auto source = make_kubernetes_source(m_spec, fake_options());
    EXPECT_TRUE(source.has_value()) << (source ? "" : source.error());
    return source ? (*source)->scrape_all() : std::vector<scrape::PodScrape>{};
  }
  std::vector<scrape::PodScrape> direct_scrape(std::size_t pods) {
    std::vector<scrape::PodUrl> urls;
    for (std::size_t i = 0; i < pods; ++i) {
      urls.push_back({"decode-" + std::to_string(i), m_fleet.pod_url(i) + "/metrics"});
    }
    return scrape::UrlSource(urls).scrape_all();
  }
  std::size_t requests_containing(const std::string& text) const {
    const auto requests = m_api->requests();
    return static_cast<std::size_t>(std::count_if(requests.begin(), requests.end(), [&](const std::string& request) {
      return request.find(text) != std::string::npos;
    }));
  }

  TempDir m_dir;
  ScopedEnv m_cache_dir{"KUBECACHEDIR", m_dir.path() + "/cache"};  // never the user's ~/.kube/cache
  SimFleet m_fleet{3};
  std::unique_ptr<FakeKubeApi> m_api;
  scenario::KubernetesSpec m_spec;
};

// The per-pod deltas and totals of a report, without the sources (URLs differ by design).
nlohmann::json comparable(const scrape::CacheReport& report) {
  nlohmann::json json = scrape::to_json(report);
  for (auto& pod : json["pods"]) {
    pod.erase("source");
  }
  return json;
}

TEST_F(KubeProxy, DiscoveryAndProxyScrapeGiveTheSameReportAsADirectScrape) {
  start(fake_pods_for(m_fleet, 2));
  const auto before_proxy = scrape::snapshot_pods(proxy_scrape(), "");
  const auto before_direct = scrape::snapshot_pods(direct_scrape(2), "");
  send_completion(m_fleet.pod_url(0), 40);
  send_completion(m_fleet.pod_url(0), 40);
  send_completion(m_fleet.pod_url(1), 24);
  const auto after_proxy = scrape::snapshot_pods(proxy_scrape(), "");
  const auto after_direct = scrape::snapshot_pods(direct_scrape(2), "");

  const scrape::CacheReport proxy = scrape::compute_cache_report(before_proxy, after_proxy);
  const scrape::CacheReport direct = scrape::compute_cache_report(before_direct, after_direct);
  ASSERT_EQ(proxy.pods.size(), 2u);
  EXPECT_EQ(proxy.pods[0].source, "kubectl get --raw /api/v1/namespaces/llm-d/pods/decode-0:8200/proxy/metrics");
  EXPECT_GT(proxy.totals.queries, 0);
  EXPECT_GT(proxy.totals.hits, 0);  // the second identical prompt hit the cache
  EXPECT_EQ(comparable(proxy), comparable(direct));
  EXPECT_EQ(requests_containing("GET /api/v1/namespaces/llm-d/pods?labelSelector=llm-d.ai%2Frole%3Ddecode"), 2u);
}

// cache_state.reset through the API server: POST /reset_prefix_cache and a probe completion, each
// with `kubectl create --raw .../proxy/PATH -f FILE`, reach the pod (its cache cleared, counters kept).
TEST_F(KubeProxy, PostsThroughThePodProxyReachThePod) {
  start(fake_pods_for(m_fleet, 2));
  auto made = make_kubernetes_source(m_spec, fake_options());
  ASSERT_TRUE(made.has_value()) << made.error();
  auto* source = dynamic_cast<KubeSource*>(made->get());
  ASSERT_NE(source, nullptr);
  std::string prompt;
  for (int w = 0; w < 40; ++w) {
    prompt += "w" + std::to_string(w) + " ";
  }
  const std::string body = nlohmann::json{{"prompt", prompt}, {"max_tokens", 1}}.dump();
  for (int i = 0; i < 2; ++i) {
    auto answered = source->post_via_proxy(1, "/v1/completions", body);
    ASSERT_TRUE(answered.has_value()) << answered.error();
    ASSERT_EQ(answered->exit_code, 0) << answered->err;
    EXPECT_EQ(nlohmann::json::parse(answered->out)["usage"]["prompt_tokens"], 40);
  }
  auto reset = source->post_via_proxy(1, "/reset_prefix_cache", "");
  ASSERT_TRUE(reset.has_value()) << reset.error();
  EXPECT_EQ(reset->exit_code, 0) << reset->err;
  EXPECT_EQ(requests_containing("POST /api/v1/namespaces/llm-d/pods/decode-1:8200/proxy/reset_prefix_cache"), 1u);
  auto again = source->post_via_proxy(1, "/v1/completions", body);
  ASSERT_TRUE(again.has_value() && again->exit_code == 0);
  const auto after = scrape::snapshot_pods(source->scrape_all(), "");
  ASSERT_TRUE(after[1].snapshot.has_value());
  EXPECT_EQ(after[1].snapshot->queries, 120);  // counters kept across the reset
  EXPECT_EQ(after[1].snapshot->hits, 32);      // only the second request hit: the third came after the reset
  auto missing = source->post_via_proxy(0, "/no_such_endpoint", "");
  ASSERT_TRUE(missing.has_value());
  EXPECT_NE(missing->exit_code, 0);
  EXPECT_THAT(missing->err, HasSubstr("NotFound"));
}

TEST_F(KubeProxy, PodsAreListedAgainSoAReplacementIsNewAndTheOldOneVanished) {
  start(fake_pods_for(m_fleet, 2));
  auto source = make_kubernetes_source(m_spec, fake_options());
  ASSERT_TRUE(source.has_value()) << (source ? "" : source.error());
  const auto before = scrape::snapshot_pods((*source)->scrape_all(), "");
  ASSERT_EQ(before.size(), 2u);
  // During the run decode-1 is replaced by decode-1-x7k2p (a Deployment's new pod, backed here by
  // the fleet's third sim pod), which serves a request.
  m_api->remove_pod("decode-1");
  FakePod replacement = fake_pods_for(m_fleet, 3)[2];
  replacement.name = "decode-1-x7k2p";
  m_api->add_pod(replacement);
  send_completion(m_fleet.pod_url(2), 24);
  send_completion(m_fleet.pod_url(0), 24);
  const auto after = scrape::snapshot_pods((*source)->scrape_all(), "");
  ASSERT_EQ(after.size(), 2u);
  const scrape::CacheReport report = scrape::compute_cache_report(before, after);
  ASSERT_EQ(report.pods.size(), 3u);
  EXPECT_EQ(report.pods[0].pod, "decode-0");
  EXPECT_EQ(report.pods[0].status, scrape::PodStatus::ok);
  EXPECT_EQ(report.pods[1].pod, "decode-1");
  EXPECT_EQ(report.pods[1].status, scrape::PodStatus::vanished);
  EXPECT_EQ(report.pods[2].pod, "decode-1-x7k2p");
  EXPECT_EQ(report.pods[2].status, scrape::PodStatus::new_pod);
  EXPECT_GT(*report.pods[2].queries.delta, 0);
  EXPECT_EQ(report.totals.missing_pods, std::vector<std::string>{"decode-1 (vanished during the run)"});
  EXPECT_EQ(requests_containing("GET /api/v1/namespaces/llm-d/pods?labelSelector="), 2u);
}

TEST_F(KubeProxy, AFailedSecondListingIsAMissingPodNotASilentOne) {
  start(fake_pods_for(m_fleet, 1));
  auto source = make_kubernetes_source(m_spec, fake_options());
  ASSERT_TRUE(source.has_value()) << (source ? "" : source.error());
  (void)(*source)->scrape_all();
  m_api->remove_pod("decode-0");  // nothing matches any more: the listing is an error
  const auto after = (*source)->scrape_all();
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0].pod, "decode-0");  // still scraped through the previous list
  EXPECT_EQ(after[1].pod, "pod list (llm-d.ai/role=decode)");
  ASSERT_FALSE(after[1].text.has_value());
  EXPECT_THAT(after[1].text.error(), HasSubstr("listing the pods again failed: "));
}

TEST_F(KubeProxy, DescribesWhatItScrapes) {
  start(fake_pods_for(m_fleet, 2));
  auto source = make_kubernetes_source(m_spec, fake_options());
  ASSERT_TRUE(source.has_value()) << source.error();
  EXPECT_EQ((*source)->describe(),
            "kubectl API-server pod proxy scrape of 2 pods matching \"llm-d.ai/role=decode\" in namespace \"llm-d\", "
            "ports 8200, 8001, 8000, up to 4 in parallel, timeout 20 s per scrape");
}

TEST_F(KubeProxy, NotReadyPodIsReportedAndNotScraped) {
  auto pods = fake_pods_for(m_fleet, 3);
  pods[2].ready = false;
  start(std::move(pods));
  const auto scrapes = proxy_scrape();
  ASSERT_EQ(scrapes.size(), 3u);
  EXPECT_TRUE(scrapes[0].text.has_value());
  EXPECT_TRUE(scrapes[1].text.has_value());
  EXPECT_EQ(scrapes[2].pod, "decode-2");
  ASSERT_FALSE(scrapes[2].text.has_value());
  EXPECT_EQ(scrapes[2].text.error(),
            "pod decode-2 is not Ready (Running but not Ready (ContainersNotReady)): not "
            "scraped; see `kubectl describe pod decode-2 -n llm-d`");
  EXPECT_EQ(requests_containing("/pods/decode-2"), 0u);
}

TEST_F(KubeProxy, NoReadyPodIsAnErrorNamingEachPod) {
  auto pods = fake_pods_for(m_fleet, 2);
  pods[0].ready = false;
  pods[1].phase = "Pending";
  pods[1].ready = false;
  start(std::move(pods));
  auto source = make_kubernetes_source(m_spec, fake_options());
  ASSERT_FALSE(source.has_value());
  EXPECT_EQ(source.error(),
            "none of the 2 pods matching selector \"llm-d.ai/role=decode\" in namespace \"llm-d\" is "
            "Ready (decode-0: Running but not Ready (ContainersNotReady); decode-1: phase Pending): "
            "nothing to scrape");
}

TEST_F(KubeProxy, WrongNamespaceIsAnErrorNamingIt) {
  start(fake_pods_for(m_fleet, 2));
  m_spec.namespace_name = "llm-d-typo";
  auto source = make_kubernetes_source(m_spec, fake_options());
  ASSERT_FALSE(source.has_value());
  EXPECT_EQ(source.error(),
            "no pods match selector \"llm-d.ai/role=decode\" in namespace \"llm-d-typo\": check the "
            "namespace and selector with `kubectl get pods -n llm-d-typo -l llm-d.ai/role=decode`");
}

TEST_F(KubeProxy, WrongSelectorIsAnErrorNamingIt) {
  start(fake_pods_for(m_fleet, 2));
  m_spec.selector = "llm-d.ai/role=prefill";
  auto source = make_kubernetes_source(m_spec, fake_options());
  ASSERT_FALSE(source.has_value());
  EXPECT_EQ(source.error(),
            "no pods match selector \"llm-d.ai/role=prefill\" in namespace \"llm-d\": check the "
            "namespace and selector with `kubectl get pods -n llm-d -l llm-d.ai/role=prefill`");
}

TEST_F(KubeProxy, EmptyNamespaceUsesTheContextsNamespace) {
  start(fake_pods_for(m_fleet, 2));
  m_spec.namespace_name.clear();
  const auto scrapes = proxy_scrape();
  ASSERT_EQ(scrapes.size(), 2u);
  EXPECT_TRUE(scrapes[0].text.has_value());
  EXPECT_EQ(requests_containing("GET /api/v1/namespaces/llm-d/pods?"), 1u);
}

TEST_F(KubeProxy, HonoursKubeconfigFromTheEnvironmentAndTheContextFlag) {
  start(fake_pods_for(m_fleet, 1));
  const ScopedEnv kubeconfig("KUBECONFIG", m_spec.kubeconfig);
  m_spec.kubeconfig.clear();
  m_spec.context = "fake";
  const auto scrapes = proxy_scrape();
  ASSERT_EQ(scrapes.size(), 1u);
  EXPECT_TRUE(scrapes[0].text.has_value());

  m_spec.context = "missing";
  auto source = make_kubernetes_source(m_spec, fake_options());
  ASSERT_FALSE(source.has_value());
  EXPECT_EQ(source.error(),
            "cannot list pods in namespace \"llm-d\": `" + g_kubectl + " --context=missing "
            "--namespace=llm-d get pods -o json -l llm-d.ai/role=decode` exited with 1: error: context "
            "\"missing\" does not exist");
}

TEST_F(KubeProxy, TriesPortsInOrderAndRemembersTheOneThatAnswered) {
  start(fake_pods_for(m_fleet, 1));
  m_spec.ports = {8001, 8200};
  auto made = make_kubernetes_source(m_spec, fake_options());
  ASSERT_TRUE(made.has_value()) << made.error();
  auto& source = dynamic_cast<KubeSource&>(**made);
  ASSERT_TRUE(source.scrape_all()[0].text.has_value());
  EXPECT_EQ(source.working_port(0), 8200);
  EXPECT_EQ(requests_containing("decode-0:8001/proxy"), 1u);
  ASSERT_TRUE(source.scrape_all()[0].text.has_value());
  EXPECT_EQ(requests_containing("decode-0:8001/proxy"), 1u);  // not tried again
  EXPECT_EQ(requests_containing("decode-0:8200/proxy"), 2u);
}

TEST_F(KubeProxy, NoAnsweringPortGivesKubectlsErrorForEachPort) {
  auto pods = fake_pods_for(m_fleet, 1);
  pods[0].metrics_port = 9090;
  start(std::move(pods));
  m_spec.ports = {8200, 8000};
  const auto scrapes = proxy_scrape();
  ASSERT_EQ(scrapes.size(), 1u);
  ASSERT_FALSE(scrapes[0].text.has_value());
  const std::string& error = scrapes[0].text.error();
  EXPECT_THAT(error, ::testing::StartsWith("pod decode-0 (kubectl get --raw "
                                           "/api/v1/namespaces/llm-d/pods/decode-0:8000/proxy/metrics): no metrics on "
                                           "ports 8200, 8000: port 8200: `" + g_kubectl + " --kubeconfig="));
  EXPECT_THAT(error, HasSubstr("--namespace=llm-d get --raw /api/v1/namespaces/llm-d/pods/decode-0:8200/proxy/metrics` "
                               "exited with 1: Error from server (ServiceUnavailable): error trying to reach service: "
                               "dial tcp 10.0.0.1:8200: connect: connection refused; port 8000: `"));
  EXPECT_THAT(error, ::testing::EndsWith(std::string(scrape::k_metrics_port_hint) + "; set cache.ports"));
}

}  // namespace
}  // namespace llmd::kube::test
