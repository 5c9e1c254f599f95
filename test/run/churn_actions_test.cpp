// What a churn event does: delete_pod runs kubectl with argv (a fake kubectl on PATH records it),
// restart_pod needs an HTTP metrics URL (the real POST is covered by test/integration/churn_run_test.cpp).
#include "run/churn_actions.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/scratch_dir.hpp"

namespace llmd::run {
namespace {

using testing::HasSubstr;

TEST(UrlOrigin, KeepsSchemeAndAuthority) {
  EXPECT_EQ(url_origin("http://127.0.0.1:8001/metrics"), "http://127.0.0.1:8001");
  EXPECT_EQ(url_origin("https://pod.ns.svc:8443/a/b"), "https://pod.ns.svc:8443");
  EXPECT_EQ(url_origin("http://10.0.0.5:8000"), "http://10.0.0.5:8000");
  EXPECT_EQ(url_origin("/saved/pod-a.prom"), "");
}

// A fake kubectl first on PATH: it writes its arguments to DIR/args and prints `out` / exits `code`.
class FakeKubectl {
 public:
  FakeKubectl(const std::filesystem::path& dir, const std::string& body) : m_dir(dir), m_old_path(std::getenv("PATH")) {
    std::ofstream(dir / "kubectl") << "#!/bin/sh\necho \"$@\" > '" << (dir / "args").string() << "'\n" << body;
    std::filesystem::permissions(dir / "kubectl", std::filesystem::perms::owner_all);
    ::setenv("PATH", (dir.string() + ":" + m_old_path).c_str(), 1);
  }
  ~FakeKubectl() { ::setenv("PATH", m_old_path.c_str(), 1); }
  std::string args() const {
    std::ifstream in(m_dir / "args");
    std::string line;
    std::getline(in, line);
    return line;
  }

 private:
  std::filesystem::path m_dir;
  std::string m_old_path;
};

scenario::Scenario kube_scenario() {
  scenario::Scenario s;
  s.cache.source = scenario::CacheSpec::Source::kubernetes;
  s.cache.kubernetes.namespace_name = "llm";
  s.cache.kubernetes.context = "kind-a";
  return s;
}

TEST(EventAction, DeletePodRunsKubectlWithArgv) {
  const auto dir = llmd::test::scratch_dir();
  FakeKubectl kubectl(dir, "echo 'pod \"vllm-0; rm -rf x\" deleted'\n");
  const auto act = make_event_action(kube_scenario(), nullptr);
  const scenario::ChurnEvent event{std::chrono::seconds(1), scenario::ChurnEvent::Action::delete_pod, "vllm-0; rm -rf x", {}};
  const auto done = act(event, "");
  ASSERT_TRUE(done.has_value()) << done.error();
  EXPECT_THAT(*done, HasSubstr("deleted"));
  // One argv word per argument: the pod name is never split or interpreted by a shell.
  EXPECT_EQ(kubectl.args(), "--context=kind-a --namespace=llm delete pod vllm-0; rm -rf x --wait=false");
}

TEST(EventAction, DeletePodFailureCarriesKubectlsWords) {
  const auto dir = llmd::test::scratch_dir();
  FakeKubectl kubectl(dir, "echo 'Error from server (NotFound): pods \"gone\" not found' >&2\nexit 1\n");
  const auto act = make_event_action(kube_scenario(), nullptr);
  const auto done = act({std::chrono::seconds(1), scenario::ChurnEvent::Action::delete_pod, "gone", {}}, "");
  ASSERT_FALSE(done.has_value());
  EXPECT_THAT(done.error(), HasSubstr("exited with 1"));
  EXPECT_THAT(done.error(), HasSubstr("(NotFound): pods \"gone\" not found"));
}

TEST(EventAction, RestartPodNeedsAnHttpMetricsUrl) {
  const auto act = make_event_action(scenario::Scenario{}, nullptr);
  const auto done = act({std::chrono::seconds(1), scenario::ChurnEvent::Action::restart_pod, "pod-a", {}}, "/saved/pod-a.prom");
  ASSERT_FALSE(done.has_value());
  EXPECT_EQ(done.error(), "restart_pod pod-a: no HTTP metrics URL for this pod (its source is \"/saved/pod-a.prom\"); "
                          "restart_pod needs the embedded simulator or cache.urls");
}

TEST(EventAction, RestartPodWithNothingListeningSaysSo) {
  const auto act = make_event_action(scenario::Scenario{}, nullptr);
  const auto done = act({std::chrono::seconds(1), scenario::ChurnEvent::Action::restart_pod, "pod-a", {}},
                        "http://127.0.0.1:1/metrics");
  ASSERT_FALSE(done.has_value());
  EXPECT_THAT(done.error(), HasSubstr("POST http://127.0.0.1:1/admin/restart: no answer"));
}

}  // namespace
}  // namespace llmd::run
