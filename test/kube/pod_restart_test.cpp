// restart_pods through the real kubectl (found on PATH) against FakeKubeApi: DELETE restarts the sim pod.
#include "kube/pod_restart.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kube/kube_test_support.hpp"
#include "scrape/snapshot.hpp"

namespace llmd::kube::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

class KubeRestart : public ::testing::Test {
 protected:
  TempDir m_dir;
  ScopedEnv m_cache_dir{"KUBECACHEDIR", m_dir.path() + "/cache"};
  SimFleet m_fleet{2};
};

RestartOptions fast_restart(std::vector<std::string>& progress) {
  RestartOptions options;
  options.poll_interval = 50ms;
  options.timeout = 60s;
  options.progress = [&progress](const std::string& line) { progress.push_back(line); };
  return options;
}

// Prefix-cache queries of every pod, via the proxy source.
std::vector<double> queries_by_pod(const scenario::KubernetesSpec& spec) {
  auto source = make_kubernetes_source(spec, fake_options());
  EXPECT_TRUE(source.has_value()) << (source ? "" : source.error());
  std::vector<double> queries;
  for (const auto& snapshot : scrape::snapshot_pods((*source)->scrape_all(), "")) {
    EXPECT_TRUE(snapshot.snapshot.has_value()) << (snapshot.snapshot ? "" : snapshot.snapshot.error());
    queries.push_back(snapshot.snapshot ? snapshot.snapshot->queries.value_or(-1) : -1);
  }
  return queries;
}

TEST_F(KubeRestart, DeletingThePodsResetsTheirCountersBeforeTheLoop) {
  FakeKubeApi api(fake_pods_for(m_fleet, 2));
  const scenario::KubernetesSpec spec = fake_spec(api, m_dir);
  send_completion(m_fleet.pod_url(0), 32);
  send_completion(m_fleet.pod_url(1), 32);
  const std::vector<double> before = queries_by_pod(spec);
  ASSERT_EQ(before.size(), 2u);
  EXPECT_GT(before[0], 0);
  EXPECT_GT(before[1], 0);

  std::vector<std::string> progress;
  auto summary = restart_pods(spec, fake_options(), fast_restart(progress));
  ASSERT_TRUE(summary.has_value()) << summary.error();
  EXPECT_EQ(summary->restarted, (std::vector<std::string>{"decode-0", "decode-1"}));
  EXPECT_EQ(summary->replacements, (std::vector<std::string>{"decode-0", "decode-1"}));
  EXPECT_EQ(api.pod("decode-0").deletions, 1);
  EXPECT_EQ(api.pod("decode-1").deletions, 1);
  ASSERT_GE(progress.size(), 2u);  // the first poll sees the replacements not Ready yet
  EXPECT_THAT(progress.front(), HasSubstr("restart: waiting for 2 replacement pods: 0 Ready, 0 answering /metrics, "
                                          "2 old or not Ready"));
  EXPECT_THAT(progress.back(), HasSubstr("2 Ready, 2 answering /metrics, 0 old or not Ready"));
  EXPECT_EQ(queries_by_pod(spec), (std::vector<double>{0, 0}));
}

TEST_F(KubeRestart, ReplacementsThatNeverAnswerTimeOutWithAMessageNamingTheSelection) {
  auto pods = fake_pods_for(m_fleet, 1);
  pods[0].metrics_port = 9090;  // nothing answers on 8200, 8001, 8000
  FakeKubeApi api(std::move(pods));
  const scenario::KubernetesSpec spec = fake_spec(api, m_dir);
  std::vector<std::string> progress;
  RestartOptions options = fast_restart(progress);
  options.timeout = 1s;
  options.poll_interval = 200ms;
  auto summary = restart_pods(spec, fake_options(), options);
  ASSERT_FALSE(summary.has_value());
  EXPECT_EQ(summary.error(),
            "pods matching selector \"llm-d.ai/role=decode\" in namespace \"llm-d\" did not come back "
            "within 1 s after restarting decode-0: 1 Ready, 0 answering /metrics, 0 old or not "
            "Ready; check `kubectl get pods -n llm-d -l llm-d.ai/role=decode`");
}

TEST_F(KubeRestart, WrongSelectorDeletesNothing) {
  FakeKubeApi api(fake_pods_for(m_fleet, 2));
  scenario::KubernetesSpec spec = fake_spec(api, m_dir);
  spec.selector = "app=nothing";
  std::vector<std::string> progress;
  auto summary = restart_pods(spec, fake_options(), fast_restart(progress));
  ASSERT_FALSE(summary.has_value());
  EXPECT_EQ(summary.error(),
            "no pods match selector \"app=nothing\" in namespace \"llm-d\": check the namespace and "
            "selector with `kubectl get pods -n llm-d -l app=nothing`");
  EXPECT_EQ(api.pod("decode-0").deletions, 0);
}

}  // namespace
}  // namespace llmd::kube::test

namespace llmd::kube::test {
namespace {

TEST_F(KubeRestart, RolloutRestartsTheOwningDeployment) {
  FakeKubeApi api(fake_pods_for(m_fleet, 2));  // both owned by ReplicaSet decode-5d8f9c
  api.add_deployment("decode", "decode-5d8f9c");
  const scenario::KubernetesSpec spec = fake_spec(api, m_dir);
  send_completion(m_fleet.pod_url(0), 32);
  std::vector<std::string> progress;
  RestartOptions options = fast_restart(progress);
  options.mode = RestartMode::rollout_deployment;
  auto summary = restart_pods(spec, fake_options(), options);
  ASSERT_TRUE(summary.has_value()) << summary.error();
  EXPECT_EQ(summary->restarted, (std::vector<std::string>{"deployment/decode"}));
  EXPECT_EQ(api.rollouts("decode"), 1);
  EXPECT_EQ(api.pod("decode-0").deletions, 0);
  EXPECT_EQ(queries_by_pod(spec), (std::vector<double>{0, 0}));
}

TEST_F(KubeRestart, RolloutNeedsADeploymentOwner) {
  auto pods = fake_pods_for(m_fleet, 1);
  pods[0].owner_kind = "StatefulSet";
  pods[0].owner_name = "decode";
  FakeKubeApi api(std::move(pods));
  std::vector<std::string> progress;
  RestartOptions options = fast_restart(progress);
  options.mode = RestartMode::rollout_deployment;
  auto summary = restart_pods(fake_spec(api, m_dir), fake_options(), options);
  ASSERT_FALSE(summary.has_value());
  EXPECT_EQ(
      summary.error(),
      "pod decode-0 is owned by StatefulSet/decode, not a Deployment's ReplicaSet: restart by deleting pods instead");
}

}  // namespace
}  // namespace llmd::kube::test
