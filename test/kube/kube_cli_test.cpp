// `llmd-bench run` and `scrape` with Kubernetes flags: the real binary, the real kubectl, the
// fake API server in front of an in-process simulator fleet.
#include <signal.h>

#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kube/kube_test_support.hpp"
#include "support/child_process.hpp"

namespace llmd::kube::test {
namespace {

using ::testing::HasSubstr;

class KubeCli : public ::testing::Test {
 protected:
  KubeCli() : m_api(fake_pods_for(m_fleet, 3)), m_kubeconfig(m_api.write_kubeconfig(m_dir.path())) {}

  std::string scenario() {
    const std::string path = m_dir.path() + "/s.yaml";
    std::ofstream(path) << R"(
requests:
  prompt: {kind: shared-prefix, prefix_tokens: 100, suffix_tokens: 4}
  max_tokens: 2
load:
  - {name: loop, executor: iterations, iterations: 6, vus: 1}
thresholds:
  cache_hit_rate: [">=0.5"]
)";
    return path;
  }
  llmd::test::RunOutput run(std::vector<std::string> extra) {
    std::vector<std::string> argv = {LLMD_BENCH_BINARY, "run", scenario(), "--target", m_fleet.pod_url(0), "-q",
                                     "--kubeconfig", m_kubeconfig, "--out", "json=" + m_dir.path() + "/r.json"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return llmd::test::run_to_completion(argv, std::chrono::seconds(120));
  }

  TempDir m_dir;
  ScopedEnv m_cache_dir{"KUBECACHEDIR", m_dir.path() + "/cache"};
  SimFleet m_fleet{3};
  FakeKubeApi m_api;
  std::string m_kubeconfig;
};

TEST_F(KubeCli, RunDiscoversPodsAndScrapesThemThroughTheApiServerProxy) {
  auto out = run({"--namespace", "llm-d", "--via", "proxy"});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  const auto result = nlohmann::json::parse(std::ifstream(m_dir.path() + "/r.json"));
  ASSERT_EQ(result["cache"]["pods"].size(), 3u);
  EXPECT_EQ(result["cache"]["pods"][0]["pod"], "decode-0");
  EXPECT_EQ(result["cache"]["totals"]["queries_tokens"], 6 * 104);  // all traffic went to pod 0
  EXPECT_EQ(result["cache"]["totals"]["hits_tokens"], 5 * 96);
  EXPECT_EQ(result["cache"]["totals"]["max_share_pod"], "decode-0");
}

TEST_F(KubeCli, RestartPodsResetsCountersBeforeTheLoop) {
  send_completion(m_fleet.pod_url(0), 200);  // counters that a restart must clear
  auto out = run({"--namespace", "llm-d", "--restart-pods"});
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_THAT(out.err, HasSubstr("restart:"));
  const auto result = nlohmann::json::parse(std::ifstream(m_dir.path() + "/r.json"));
  EXPECT_EQ(result["cache"]["pods"][0]["queries_tokens"]["before"], 0) << "the pod was not restarted before the loop";
}

// sweep with --restart-pods: every step is a whole run, so the pods are restarted before every step (the
// README says so), each step's cache counters starting from the fresh pods.
TEST_F(KubeCli, SweepRestartsThePodsBeforeEveryStep) {
  const auto out = llmd::test::run_to_completion(
      {LLMD_BENCH_BINARY, "sweep", scenario(), "--target", m_fleet.pod_url(0), "--kubeconfig", m_kubeconfig,
       "--namespace", "llm-d", "--restart-pods", "--rates", "2,4", "--step-duration", "1s", "--out",
       "json=" + m_dir.path() + "/sweep.json"},
      std::chrono::seconds(120));
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  for (const char* pod : {"decode-0", "decode-1", "decode-2"}) {
    EXPECT_EQ(m_api.pod(pod).deletions, 2) << pod << " was not restarted once per step";
  }
  const auto result = nlohmann::json::parse(std::ifstream(m_dir.path() + "/sweep.json"));
  ASSERT_EQ(result["steps"].size(), 2u) << result.dump();
}

// Replacements that never become Ready: the restart wait used to ignore SIGINT/SIGTERM (Tekton's
// cancellation) until SIGKILL, with nothing written. SIGTERM now ends it: exit 130, the partial
// JSON says interrupted and that no request was sent.
TEST_F(KubeCli, SigtermDuringTheRestartWaitEndsTheRunWithAPartialReport) {
  m_api.set_not_ready_lists_after_delete(1'000'000);
  std::vector<std::string> argv = {LLMD_BENCH_BINARY, "run", scenario(), "--target", m_fleet.pod_url(0), "-q",
                                   "--kubeconfig", m_kubeconfig, "--namespace", "llm-d", "--restart-pods", "--out",
                                   "json=" + m_dir.path() + "/r.json"};
  llmd::test::ChildProcess child(argv);
  // Signal once the pod is deleted and the run has listed the pods at least once since (it is in the wait):
  // a fixed 1.5 s sleep sometimes signalled a run still starting up on a loaded machine.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto waiting = [this] {
    const auto pod = m_api.pod("decode-0");
    return pod.deletions >= 1 && pod.not_ready_lists < 1'000'000;
  };
  while (!waiting() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(waiting()) << "the run never reached the restart wait: " << child.stderr_text();
  child.send_signal(SIGTERM);
  const auto code = child.wait(std::chrono::seconds(20));
  ASSERT_TRUE(code.has_value()) << "still waiting 20 s after SIGTERM: " << child.stderr_text();
  EXPECT_EQ(*code, 130) << child.stdout_text() << child.stderr_text();
  const auto result = nlohmann::json::parse(std::ifstream(m_dir.path() + "/r.json"));
  EXPECT_EQ(result["verdict"], "interrupted");
  EXPECT_TRUE(result["run"].is_null());
  EXPECT_THAT(result["notes"].dump(), HasSubstr("interrupted (Ctrl-C / SIGTERM) while restarting the pods"));
  EXPECT_GE(m_api.pod("decode-0").deletions, 1);
}

TEST_F(KubeCli, AWrongNamespaceOrSelectorExits3NamingThem) {
  auto ns = run({"--namespace", "nowhere"});
  EXPECT_EQ(ns.exit_code, 3) << ns.out << ns.err;
  EXPECT_THAT(ns.out, HasSubstr("nowhere"));
  EXPECT_THAT(ns.out, HasSubstr("llm-d.ai/role=decode"));
  auto selector = llmd::test::run_to_completion({LLMD_BENCH_BINARY, "scrape", "--kubeconfig", m_kubeconfig, "--namespace",
                                                 "llm-d", "--selector", "app=none"},
                                                std::chrono::seconds(60));
  EXPECT_EQ(selector.exit_code, 3) << selector.out << selector.err;
  EXPECT_THAT(selector.err, HasSubstr("app=none"));
  auto via = run({"--namespace", "llm-d", "--via", "ssh"});
  EXPECT_EQ(via.exit_code, 2);
  EXPECT_THAT(via.err, HasSubstr("--via: unknown \"ssh\"; expected proxy or exec"));
}

}  // namespace
}  // namespace llmd::kube::test
